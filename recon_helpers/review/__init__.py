"""Review: the person's part of a reconciliation, kept in a workspace so it survives every re-run.

* :mod:`.workspace` - one DuckDB file per workspace folder, shared safely by kernels and `recon report`;
* :mod:`.journal` - the append-only decisions journal (who, when, what, why, which rows), exported for audit;
* :mod:`.fingerprint`, :mod:`.items` - rows known by source and content, never position;
* :mod:`.state` - the queue after replaying the journal; stale decisions are shown, never applied;
* :mod:`.policy` - reason codes, who may use them, materiality (``templates/review/``);
* :mod:`.session` - every review action without widgets; :mod:`.app` - the widgets around it;
* :mod:`.learning` - remembered manual matches offered as suggestions; :mod:`.close` - period close,
  reopen and carry-forward (:mod:`.carry`).

In a notebook::

    recon.review.open(check, workspace=workspace)              # the app in JupyterLab, a summary under papermill
    applied = recon.review.apply_decisions(check, workspace)    # for a report: decided, stale, open (no writes)
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Workspace": ("recon_helpers.review.workspace", "Workspace"),
    "ReviewSession": ("recon_helpers.review.session", "ReviewSession"),
    "load_policy": ("recon_helpers.review.policy", "load_policy"),
    "open": ("recon_helpers.review.app", "open_review"),
    "ReviewApp": ("recon_helpers.review.app", "ReviewApp"),
    "ReviewSummary": ("recon_helpers.review.summary", "ReviewSummary"),
    "apply_decisions": ("recon_helpers.review.summary", "apply_decisions"),
    "close_period": ("recon_helpers.review.close", "close_period"),
    "reopen_period": ("recon_helpers.review.close", "reopen_period"),
    "export_journal": ("recon_helpers.review.journal", "export"),
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    """Import a public name on first use (widgets and DuckDB only when asked for)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'recon_helpers.review' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value
