"""Reconciliation workbench helpers (对账工作台).

The two verbs a notebook needs are re-exported here::

    import recon_helpers
    table, rejects, report = recon_helpers.load("data/demo/erp/shipments.csv")
    result = recon_helpers.match(left, right, "courier_bill")

They are imported lazily, on first use, so that ``import recon_helpers`` stays fast (no pandas,
DuckDB or pyarrow until they are needed) and keeps working while a module is still being written:
the error then names the missing module instead of breaking every import.

``recon_helpers.load`` and ``recon_helpers.match`` are also the names of submodules. Python binds a
submodule as an attribute of its package when it is first imported, which would replace the verb by
the module. The package therefore uses a small module subclass that keeps the verb: the function is
what ``recon_helpers.load`` means; ``from recon_helpers.load import LoadResult`` still works.
"""
from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

#: public name -> (module, attribute) imported on first access
_LAZY: dict[str, tuple[str, str]] = {
    "load": ("recon_helpers.load", "load"),
    "match": ("recon_helpers.match", "match"),
}

__all__ = ["__version__", *_LAZY]


class _Package(types.ModuleType):
    """The package module: keeps ``load``/``match`` bound to the verbs, not to their submodules."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            value = getattr(value, _LAZY[name][1])
        super().__setattr__(name, value)


def __getattr__(name: str) -> Any:
    """Import ``load``/``match`` on first access (PEP 562), so importing the package costs nothing."""
    if name not in _LAZY:
        raise AttributeError(f"module 'recon_helpers' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module_name), attribute)
    setattr(sys.modules[__name__], name, value)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


sys.modules[__name__].__class__ = _Package
