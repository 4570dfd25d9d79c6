"""The notebooks run end to end under papermill on the small demo month and find what was injected.

(`pytest --nbval-lax notebooks/` would need the demo data at ../data/demo; these tests run the
same notebooks with papermill against the session's demo fixture instead.)
"""
from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import papermill
import pytest

from recon_helpers import report

pytestmark = pytest.mark.notebook

CARRIERS = ("sf", "zto", "yto", "jdl")


def truth_keys(demo_dir: Path, scenario: str, category: str, key2: str) -> set[str]:
    with (demo_dir / "truth" / f"{scenario}.csv").open(encoding="utf-8", newline="") as fh:
        return {row["key"] for row in csv.DictReader(fh) if row["category"] == category and row["key2"] == key2}


def written_keys(exceptions_csv: Path, category: str, side: str) -> set[str]:
    with exceptions_csv.open(encoding="utf-8-sig", newline="") as fh:
        return {row["key"] for row in csv.DictReader(fh) if row["category"] == category and row["side"] == side}


def test_every_notebook_has_a_documented_parameters_cell(notebooks_dir):
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        params = report.declared_parameters(path)
        assert {"period", "data_dir"} <= params.keys(), path.name
        assert all(p["help"] for p in params.values()), f"{path.name}: write each parameter as `name: type = default  # help`"


def test_notebooks_are_committed_without_outputs(notebooks_dir):
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code"), path.name


@pytest.mark.parametrize("carrier", CARRIERS)
def test_courier_notebook_lists_exactly_the_injected_waybills(carrier, demo_dir, notebooks_dir, tmp_path):
    out = tmp_path / "reports"
    executed = tmp_path / f"courier_bill_{carrier}.ipynb"
    papermill.execute_notebook(
        str(notebooks_dir / "courier_bill.ipynb"),
        str(executed),
        parameters={"period": "2026-10", "data_dir": str(demo_dir), "carrier": carrier, "output_dir": str(out)},
        kernel_name="python3",
        cwd=str(notebooks_dir),
        progress_bar=False,
    )
    written = out / "2026-10" / "courier_bill"
    exceptions = written / "exceptions.csv"
    assert exceptions.is_file() and (written / "links.csv").is_file() and (written / "summary.json").is_file()

    unbilled = truth_keys(demo_dir, "courier_bill", "missing_on_right", carrier)
    unshipped = truth_keys(demo_dir, "courier_bill", "missing_on_left", carrier)
    doubled = truth_keys(demo_dir, "courier_bill", "duplicate_on_right", carrier)
    assert unbilled and unshipped and doubled, "the demo injects each problem for every carrier"
    assert written_keys(exceptions, "missing_on_right", "left") == unbilled
    assert written_keys(exceptions, "missing_on_left", "right") == unshipped
    assert written_keys(exceptions, "duplicate_on_right", "right") == doubled

    nb = nbformat.read(str(executed), as_version=4)
    figures = {k["label"]: k["value"] for k in report.read_kpis(nb)}
    assert figures["Shipments 发货单数"] > 0 and figures["Bill lines 账单行数"] > 0
