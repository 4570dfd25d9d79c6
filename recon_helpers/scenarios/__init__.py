"""The reconciliations the workbench offers, one module per scenario, behind one registry.

``recon_helpers.scenarios.courier_bill.check(...)`` builds a scenario's result object; the registry
(``templates/scenarios/*.yaml``, read by :mod:`.registry`) names each scenario's title, recipes,
inputs, runs and notebook. :mod:`.base` holds what every scenario's check shares.
"""
from __future__ import annotations

from recon_helpers.scenarios.registry import SINGLE_RUN, Scenario, list_scenarios, scenario, with_notebooks

__all__ = ["SINGLE_RUN", "Scenario", "list_scenarios", "scenario", "with_notebooks"]


def __getattr__(name: str):
    """``scenarios.courier_bill`` imports the scenario's module on first use."""
    import importlib
    import importlib.util

    if importlib.util.find_spec(f"{__name__}.{name}") is None:
        raise AttributeError(f"no scenario module {name!r}; the scenarios are {', '.join(s.name for s in list_scenarios())}")
    return importlib.import_module(f"{__name__}.{name}")
