"""The scenario registry: one entry per reconciliation, one name used everywhere.

An entry is a YAML file ``templates/scenarios/<name>.yaml``; ``<name>`` is also the name of the
scenario's module (``recon_helpers.scenarios.<name>``), its notebook (``notebooks/<name>.ipynb``), its
recipe(s), its truth file in the demo month, its output folder and its tests. An entry says:

* ``title`` (zh, en) and a one-line ``description`` for the index;
* ``notebook``: the report notebook (omitted while a scenario has none yet);
* ``recipes``: the recipes it runs; ``truth``: the demo month's truth file;
* ``inputs``: label -> file in the data folder, with ``{placeholders}`` filled from the run;
* ``grid``: parameter -> values, one run per value (``courier_bill``: one per carrier); an entry
  without a grid has the single run :data:`SINGLE_RUN`; ``runs``: per run value, what else it needs;
* ``labels``: how the exception categories read in this scenario;
* ``cycles``: the periods its notebook reconciles (``month``, ``week``, ``day``: 月对账 / 周对账 /
  日对账, see :mod:`recon_helpers.cycles`); ``month`` when omitted, the cycle ``recon report`` runs;
* ``settings``: the words and limits its rules need (status words, age buckets, promised times),
  so that a shop changes them in the entry, not in code.

``recon report`` runs every entry with a notebook, once per run, into
``<out>/<period>/<scenario>/<run>/``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from recon_helpers import catalog
from recon_helpers.catalog import StrictModel
from recon_helpers.errors import TemplateError, UsageError

#: the run name of a scenario without a grid
SINGLE_RUN = "all"


class Title(StrictModel):
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} {self.en}"


class Scenario(StrictModel):
    """One registry entry (see the module docstring)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Title
    description: str = ""
    notebook: str | None = None
    recipes: list[str] = Field(min_length=1)
    truth: str | None = None
    inputs: dict[str, str] = Field(default_factory=dict)
    grid: dict[str, list[str]] = Field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    cycles: list[Literal["month", "week", "day"]] = Field(default_factory=lambda: ["month"], min_length=1)

    @field_validator("grid")
    @classmethod
    def _one_grid_parameter(cls, grid: dict[str, list[str]]) -> dict[str, list[str]]:
        if len(grid) > 1:
            raise ValueError("give one grid parameter (e.g. carrier: [sf, zto]); several are not supported yet")
        for name, values in grid.items():
            if not values or len(set(values)) != len(values):
                raise ValueError(f"grid {name!r} needs distinct values")
        return grid

    # -- runs -----------------------------------------------------------------------------------
    @property
    def grid_parameter(self) -> str | None:
        return next(iter(self.grid), None)

    def run_names(self) -> list[str]:
        """The runs of this scenario: one per grid value, or :data:`SINGLE_RUN`."""
        name = self.grid_parameter
        return list(self.grid[name]) if name else [SINGLE_RUN]

    def run_parameters(self, run: str) -> dict[str, str]:
        """The notebook parameters that select ``run`` (``{"carrier": "zto"}``; ``{}`` without a grid)."""
        name = self.grid_parameter
        if name is None:
            if run != SINGLE_RUN:
                raise UsageError(f"scenario {self.name} has a single run ({SINGLE_RUN!r}), not {run!r}")
            return {}
        value = str(run).strip().lower()
        if value not in self.grid[name]:
            raise UsageError(f"{name} {run!r} is unknown for scenario {self.name}: use one of {', '.join(self.grid[name])}")
        return {name: value}

    def run_settings(self, run: str) -> dict[str, Any]:
        """Everything a run knows: its grid parameter and its ``runs:`` entry."""
        return {**self.run_parameters(run), **self.runs.get(str(run).strip().lower(), {})}

    def input_path(self, label: str, data_dir: str | Path, run: str = SINGLE_RUN) -> Path:
        """The file ``label`` of ``run`` inside ``data_dir`` (placeholders filled from the run)."""
        if label not in self.inputs:
            raise UsageError(f"scenario {self.name} has no input {label!r}; its inputs: {', '.join(self.inputs)}")
        return Path(data_dir) / self.inputs[label].format(**self.run_settings(run))

    def output_folder(self, output_dir: str | Path, period: str, run: str = SINGLE_RUN) -> Path:
        """``<output_dir>/<period>/<scenario>/<run>/`` (created): where a run's tables and pages land."""
        folder = Path(output_dir) / str(period) / self.name / str(run)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def label(self) -> str:
        return str(self.title)


def read_scenario(path: Path) -> Scenario:
    """One registry entry file, validated."""
    return catalog.read_entry(path, Scenario, what="scenario entry", keys="name:, title:, recipes: ...")


#: every scenario (templates/scenarios/*.yaml)
SCENARIOS: catalog.Shelf[Scenario] = catalog.Shelf("scenarios", read=read_scenario, name_of=lambda s: s.name,
                                                   noun="scenario")


def scenario(name: str) -> Scenario:
    """The registry entry of a scenario by name (courier_bill, returns, outbound, ...)."""
    if catalog.looks_like_path(name):
        raise UsageError(f"scenario {name!r}: give a scenario name, e.g. courier_bill")
    try:
        return SCENARIOS.get(name)
    except TemplateError as exc:
        raise UsageError(str(exc)) from None


def list_scenarios() -> list[Scenario]:
    """Every registered scenario, sorted by name."""
    return SCENARIOS.all()


def with_notebooks() -> list[Scenario]:
    """The scenarios that have a report notebook, i.e. those ``recon report`` runs."""
    return [s for s in list_scenarios() if s.notebook]
