"""The logistics notebooks reconcile a week and a day as well as a month (日对账 / 周对账 / 月对账).

Each scenario whose registry entry declares the ``week`` and ``day`` cycles runs under papermill for an
ISO week that spans two months (2026-W44: 26 October to 1 November) and for one day, on the demo month.
Its exceptions.csv lands in the cycle's own folder, holds what the scenario finds for that cycle, and
every finding is a discrepancy the demo injected (a shorter cycle never invents one: rows just
outside it are timing, not missing).
"""
from __future__ import annotations

import csv
import importlib

import papermill
import pytest

from recon_helpers.scenarios import SINGLE_RUN, with_notebooks
from recon_helpers.testing import truth_rows

pytestmark = pytest.mark.notebook

CYCLES = {"week": "2026-W44", "day": "2026-10-15"}
RUNS = [(s.name, kind, period) for s in with_notebooks() for kind, period in CYCLES.items() if kind in s.cycles]


def _pairs(rows) -> set[tuple[str, str]]:
    return {(str(c), str(k)) for c, k in rows if c != "out_of_scope"}


def test_the_logistics_entries_declare_every_cycle():
    declared = {s.name: s.cycles for s in with_notebooks()}
    for name in ("courier_bill", "returns", "outbound"):
        assert set(declared[name]) == {"month", "week", "day"}, name
    assert all(s.cycles == ["month"] for s in with_notebooks() if s.name not in ("courier_bill", "returns", "outbound"))


@pytest.mark.parametrize("name, kind, period", RUNS, ids=[f"{n}-{k}" for n, k, _ in RUNS])
def test_a_week_and_a_day_run_under_papermill(name, kind, period, demo_dir, notebooks_dir, tmp_path):
    entry = next(s for s in with_notebooks() if s.name == name)
    run = entry.run_names()[0]
    out = tmp_path / "reports"
    papermill.execute_notebook(
        str(notebooks_dir / entry.notebook), str(tmp_path / f"{name}_{kind}.ipynb"),
        parameters={"period": period, "data_dir": str(demo_dir), "output_dir": str(out), **entry.run_parameters(run)},
        kernel_name="python3", cwd=str(notebooks_dir), progress_bar=False)
    written = out / period / name / run / "exceptions.csv"
    with written.open(encoding="utf-8-sig", newline="") as fh:
        in_csv = _pairs((r["category"], r["key"]) for r in csv.DictReader(fh))

    module = importlib.import_module(f"recon_helpers.scenarios.{name}")
    check = module.check(period=period, data_dir=demo_dir, **entry.run_parameters(run))
    assert str(check.period) == period
    table = check.exception_table
    assert in_csv == _pairs(zip(table["category"], table["key"]))

    truth = {(t["category"], t["key"]) for t in truth_rows(demo_dir, name) if run == SINGLE_RUN or t["key2"] == run}
    assert in_csv <= truth, sorted(in_csv - truth)
    if kind == "week":
        assert in_csv, "the demo injects discrepancies in the last week of the month"
