"""Every registered scenario's notebook runs under papermill on the small demo month, once per run of its
grid, and its result tables hold exactly the discrepancies the demo injected for that run.

The test is parametrised over the registry (templates/scenarios/*.yaml): a new scenario is tested by
adding its entry and its notebook.
"""
from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import papermill
import pytest

from recon_helpers import report
from recon_helpers.scenarios import SINGLE_RUN, list_scenarios, with_notebooks
from recon_helpers.testing import truth_rows

pytestmark = pytest.mark.notebook

RUNS = [(s.name, run) for s in with_notebooks() for run in s.run_names()]


def found_pairs(exceptions_csv: Path) -> set[tuple[str, str]]:
    with exceptions_csv.open(encoding="utf-8-sig", newline="") as fh:
        return {(row["category"], row["key"]) for row in csv.DictReader(fh) if row["category"] != "out_of_scope"}


def test_every_scenario_has_one_name_for_its_notebook_recipe_and_truth(notebooks_dir, repo_root):
    for entry in list_scenarios():
        if entry.notebook:
            assert entry.notebook == f"{entry.name}.ipynb" and (notebooks_dir / entry.notebook).is_file()
        assert entry.name in entry.recipes or all(r.startswith(f"{entry.name}_") for r in entry.recipes), entry.name
        assert entry.truth == f"truth/{entry.name}.csv"
    assert ("courier_bill", "jdl") in RUNS


def test_every_notebook_has_a_documented_parameters_cell(notebooks_dir):
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        params = report.declared_parameters(path)
        assert {"period", "data_dir", "output_dir"} <= params.keys(), path.name
        assert all(p["help"] for p in params.values()), f"{path.name}: write each parameter as `name: type = default  # help`"


def test_notebooks_are_committed_without_outputs(notebooks_dir):
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code"), path.name


@pytest.mark.parametrize("name, run", RUNS, ids=[f"{n}-{r}" for n, r in RUNS])
def test_notebook_lists_exactly_the_injected_discrepancies(name, run, demo_dir, notebooks_dir, tmp_path):
    entry = next(s for s in with_notebooks() if s.name == name)
    out = tmp_path / "reports"
    executed = tmp_path / f"{name}_{run}.ipynb"
    papermill.execute_notebook(
        str(notebooks_dir / entry.notebook), str(executed),
        parameters={"period": "2026-10", "data_dir": str(demo_dir), "output_dir": str(out), **entry.run_parameters(run)},
        kernel_name="python3", cwd=str(notebooks_dir), progress_bar=False,
    )
    written = out / "2026-10" / name / run
    assert all((written / f).is_file() for f in ("links.csv", "exceptions.csv", "summary.json"))

    # a run's truth rows: key2 = the run, or any of the run's ``truth_keys`` (collections/taobao: taobao, alipay)
    keys = set(entry.run_settings(run).get("truth_keys", [run])) if run != SINGLE_RUN else set()
    truth = [t for t in truth_rows(demo_dir, name) if run == SINGLE_RUN or t["key2"] in keys]
    assert truth, "the demo injects discrepancies for every run"
    assert found_pairs(written / "exceptions.csv") == {(t["category"], t["key"]) for t in truth}

    figures = report.read_kpis(nbformat.read(str(executed), as_version=4))
    assert figures and all(f["display"] for f in figures)
