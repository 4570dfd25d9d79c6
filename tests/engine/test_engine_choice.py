"""Choosing the engine: the notebooks' ``engine`` parameter and ``use_engine`` reach ``match``; a wrong
name is refused with the choices. (The Spark runs themselves are in tests/engine/spark/.)"""
from __future__ import annotations

import papermill
import pytest

from recon_helpers import catalog, report
from recon_helpers.engine import match
from recon_helpers.engine.backends import default_engine, use_engine
from recon_helpers.errors import UsageError
from recon_helpers.testing import canonical_frame


def test_every_notebook_declares_the_engine_parameter():
    for path in sorted(catalog.notebooks_folder().glob("*.ipynb")):
        params = report.declared_parameters(path)
        assert params["engine"]["default"] in ('"duckdb"', "duckdb"), path.name


def test_an_unknown_engine_is_refused_naming_the_choices():
    left = canonical_frame("l.csv", txn_id=["A"], amount=["1.00"])
    with pytest.raises(UsageError, match="unknown engine 'postgres'; use one of duckdb, spark"):
        match(left, left, "collections_settlement_bank", engine="postgres")
    with pytest.raises(UsageError, match="unknown engine"):
        use_engine("postgres")
    assert default_engine() == ("duckdb", None)


def test_the_notebook_engine_parameter_reaches_use_engine(demo_dir, tmp_path):
    notebooks = catalog.notebooks_folder()
    with pytest.raises(papermill.PapermillExecutionError, match="unknown engine 'nope'"):
        papermill.execute_notebook(
            str(notebooks / "ledger.ipynb"), str(tmp_path / "ledger.ipynb"),
            parameters={"period": "2026-10", "data_dir": str(demo_dir), "output_dir": str(tmp_path / "out"),
                        "engine": "nope"},
            kernel_name="python3", cwd=str(notebooks), progress_bar=False)
