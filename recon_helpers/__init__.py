"""Reconciliation workbench helpers (对账工作台).

What a notebook author needs, one import away::

    import recon_helpers as recon
    loaded = recon.load("data/demo/erp/shipments.csv")          # table, rejects, report
    result = recon.match(left, right, "courier_bill")
    check = recon.scenarios.courier_bill.check(period="2026-10", data_dir="data/demo", carrier="sf")

Everything is imported on first use (PEP 562), so ``import recon_helpers`` stays cheap: no pandas,
DuckDB or pyarrow until a verb is called. The package is layered - core (errors, canonical, periods,
catalog, export, testing) < sources < engine < scenarios < review < demo < report < cli - and a layer only
imports from the layers below it (``tests/test_layers.py`` enforces it).
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> (module, attribute or None for the module itself), imported on first access
_LAZY: dict[str, tuple[str, str | None]] = {
    "load": ("recon_helpers.sources.loading", "load"),
    "match": ("recon_helpers.engine.cascade", "match"),
    "use_engine": ("recon_helpers.engine.backends", "use_engine"),
    "Period": ("recon_helpers.periods", "Period"),
    "check_parameters": ("recon_helpers.parameters", "check_parameters"),
    "ReconError": ("recon_helpers.errors", "ReconError"),
    "scenarios": ("recon_helpers.scenarios", None),
    "report": ("recon_helpers.report", None),
    "review": ("recon_helpers.review", None),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    """Import a public name on first access."""
    if name not in _LAZY:
        raise AttributeError(f"module 'recon_helpers' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
