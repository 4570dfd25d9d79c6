"""What can go wrong in review: a busy or too-new workspace, a refused decision, a closed period.

All are :class:`~recon_helpers.errors.ReconError` subclasses, so the CLI prints them as one line and exits 2,
and the review app shows the same message in its status line instead of a traceback.
"""
from __future__ import annotations

from pathlib import Path

from recon_helpers.errors import ReconError


class WorkspaceError(ReconError):
    """The workspace file cannot be used (busy, made by a newer workbench, unreadable)."""

    code = "workspace"
    category = "run"

    def __init__(self, message: str, *, path: str | Path):
        self.path = str(path)
        super().__init__(f"workspace {self.path}: {message}")


class WorkspaceBusyError(WorkspaceError):
    """Another kernel or `recon report` held the workspace longer than we were willing to wait."""

    code = "workspace_busy"


class DecisionRefused(ReconError):
    """A review action that would break a rule (non-zero difference, reason code not allowed, ...)."""

    code = "decision_refused"
    category = "usage"


class PeriodClosedError(DecisionRefused):
    """The period is closed: its decisions are frozen until someone reopens it."""

    code = "period_closed"


class CloseRefused(DecisionRefused):
    """A period cannot be closed while unexplained exceptions above materiality remain; keeps them."""

    code = "close_refused"

    def __init__(self, message: str, *, unexplained: object = None):
        self.unexplained = unexplained
        super().__init__(message)
