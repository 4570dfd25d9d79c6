"""`recon match --engine spark` writes what DuckDB writes (the notebooks' ``engine`` parameter reaches the
same ``use_engine`` call: tests/engine/test_engine_choice.py, without starting Spark in a kernel)."""
from __future__ import annotations

import json

import pandas as pd

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
