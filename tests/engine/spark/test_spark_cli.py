"""`recon match --engine spark` and a notebook run with ``engine="spark"`` write what DuckDB writes."""
from __future__ import annotations

import json

import pandas as pd
import papermill

from recon_helpers import catalog
from recon_helpers.cli import EXIT_DIFFERENCES, main


def _rows(path) -> pd.DataFrame:
    frame = pd.read_parquet(path).astype("string").fillna("<null>")
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_recon_match_engine_spark_writes_the_same_parquet_and_summary(spark, demo_dir, tmp_path):
    args = ["match", "--left", str(demo_dir / "erp" / "erp_documents.csv"),
            "--right", str(demo_dir / "finance" / "gl_export.xlsx"), "--recipe", "ledger", "--format", "parquet"]
    assert main([*args, "--out", str(tmp_path / "duckdb")]) == EXIT_DIFFERENCES
    assert main([*args, "--out", str(tmp_path / "spark"), "--engine", "spark"]) == EXIT_DIFFERENCES
    for name in ("links.parquet", "exceptions.parquet"):
        pd.testing.assert_frame_equal(_rows(tmp_path / "duckdb" / name), _rows(tmp_path / "spark" / name), obj=name)
    duck, on_spark = (json.loads((tmp_path / e / "summary.json").read_text(encoding="utf-8")) for e in ("duckdb", "spark"))
    assert duck == on_spark and duck["exceptions"]


def test_the_ledger_notebook_runs_on_spark_and_lists_the_same_exceptions(spark, demo_dir, tmp_path):
    notebooks = catalog.notebooks_folder()
    for engine in ("duckdb", "spark"):
        papermill.execute_notebook(
            str(notebooks / "ledger.ipynb"), str(tmp_path / f"ledger_{engine}.ipynb"),
            parameters={"period": "2026-10", "data_dir": str(demo_dir), "output_dir": str(tmp_path / engine),
                        "engine": engine},
            kernel_name="python3", cwd=str(notebooks), progress_bar=False)
    written = {e: pd.read_csv(tmp_path / e / "2026-10" / "ledger" / "all" / "exceptions.csv", dtype=str,
                              keep_default_na=False, encoding="utf-8-sig") for e in ("duckdb", "spark")}
    assert len(written["duckdb"]) > 0
    pd.testing.assert_frame_equal(written["duckdb"], written["spark"])
