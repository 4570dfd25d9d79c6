"""A scenario notebook run with ``engine="spark"`` writes the same result tables as with DuckDB.

The smallest built-in scenario (courier_bill, one carrier, the demo month) runs under papermill twice;
its written links, exceptions and summary are compared. The notebook's kernel is a process of its own,
so it starts its own Spark JVM (once, for the whole notebook): this test does not start the test
session's one. That the Spark run did run on Spark is read from the Spark event log the kernel's session
writes (its jobs), since the result tables are meant to be the same.
"""
from __future__ import annotations

import csv
from pathlib import Path

import papermill
import pytest

from recon_helpers.scenarios import with_notebooks

pytestmark = pytest.mark.notebook


def _run(notebooks_dir: Path, demo_dir: Path, tmp_path: Path, engine: str) -> Path:
    entry = next(s for s in with_notebooks() if s.name == "courier_bill")
    out = tmp_path / engine
    papermill.execute_notebook(
        str(notebooks_dir / entry.notebook), str(tmp_path / f"courier_bill_{engine}.ipynb"),
        parameters={"period": "2026-10", "data_dir": str(demo_dir), "output_dir": str(out / "reports"),
                    "workspace": str(out / "workspace"), "engine": engine, **entry.run_parameters("sf")},
        kernel_name="python3", cwd=str(notebooks_dir), progress_bar=False)
    return out / "reports" / "2026-10" / "courier_bill" / "sf"


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return sorted(csv.DictReader(fh), key=lambda row: sorted(row.items()))


def test_the_courier_notebook_on_spark_writes_what_it_writes_on_duckdb(spark_can_run, notebooks_dir, demo_dir, tmp_path,
                                                                        monkeypatch):
    duck = _run(notebooks_dir, demo_dir, tmp_path, "duckdb")
    events = tmp_path / "spark-events"
    events.mkdir()
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--conf spark.eventLog.enabled=true --conf spark.eventLog.compress=false "
                                              f"--conf spark.eventLog.dir={events.as_uri()} pyspark-shell")
    on_spark = _run(notebooks_dir, demo_dir, tmp_path, "spark")
    log = "".join(p.read_text(encoding="utf-8", errors="replace") for p in events.rglob("*") if p.is_file())
    assert log.count('"Event":"SparkListenerJobStart"') > 10, "the spark run ran its statements as Spark jobs"
    assert (duck / "summary.json").read_text(encoding="utf-8") == (on_spark / "summary.json").read_text(encoding="utf-8")
    for table in ("links.csv", "exceptions.csv"):
        assert _rows(duck / table) == _rows(on_spark / table), table
    assert _rows(duck / "exceptions.csv"), "the demo month has courier discrepancies to compare"
