"""The matching workloads on Apache Spark (local[2]) beside embedded DuckDB, measured in one run (#17).

Same inputs (``workloads.py``, seeded Parquet), same recipes (``courier_bill``, ``collections_settlement_bank``),
same outputs (links, exceptions as Parquet, summary.json). Per workload and engine: wall time from reading
the inputs to the last file written, rows per second and rows per second per core; then the two
summaries are compared (they must be equal, or the run fails).

* DuckDB reads the Parquet into Arrow (only the recipe's columns) and matches in-process;
* Spark reads the same Parquet itself (``match(path, path, recipe, engine="spark")``: the rows never pass
  through the driver) on a ``local[2]`` session started before the clock (its start-up is printed apart).

Run:  .venv/bin/python benchmarks/bench_spark.py [--rows 1000000] [--workload courier|collections|all]
      [--master local[2]]   (--rows 20000 for a quick try; needs the [spark] extra and Java 17)
On a cluster: the same script under spark-submit (``--master`` left out: spark-submit's own is used), or
with SPARK_REMOTE=sc://host:15002 for Spark Connect; see benchmarks/README.md, section Spark.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

RECIPES = {"courier": "courier_bill", "collections": "collections_settlement_bank"}
OUT_DIR = HERE / "out" / "spark"


def _read_arrow(data: Path, recipe: str, side: str):
    import pyarrow.parquet as pq

    from recon_helpers.engine import input_columns

    path = data / f"{side}.parquet"
    return pq.read_table(path, columns=input_columns(recipe, side, available=pq.read_schema(path).names))


def run_duckdb(data: Path, recipe: str, out: Path) -> tuple[float, dict, int]:
    from recon_helpers.engine import match

    start = time.perf_counter()
    left, right = _read_arrow(data, recipe, "left"), _read_arrow(data, recipe, "right")
    result = match(left, right, recipe)
    result.write(out, format="parquet")
    seconds = time.perf_counter() - start
    rows = left.num_rows + right.num_rows
    summary = result.summary.to_dict()
    result.close()
    return seconds, summary, rows


def run_spark(data: Path, recipe: str, out: Path, spark) -> tuple[float, dict]:
    from recon_helpers.engine import input_columns, match

    start = time.perf_counter()
    frames = {}
    for side in ("left", "right"):
        frame = spark.read.parquet(str(data / f"{side}.parquet"))
        frames[side] = frame.select(*input_columns(recipe, side, available=frame.columns))
    result = match(frames["left"], frames["right"], recipe, engine="spark", spark=spark)
    result.write(out, format="parquet")
    seconds = time.perf_counter() - start
    summary = result.summary.to_dict()
    result.close()
    return seconds, summary


def _cores(master: str) -> int:
    if master.startswith("local[") and master[6:-1].isdigit():
        return int(master[6:-1])
    return os.cpu_count() or 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="left rows per workload")
    parser.add_argument("--workload", choices=[*RECIPES, "all"], default="all")
    parser.add_argument("--master", default=None, help="Spark master [default: SPARK_REMOTE, spark-submit's, else local[2]]")
    args = parser.parse_args()

    import workloads

    from recon_helpers.engine.backends.spark_backend import spark_session

    started = time.perf_counter()
    spark = spark_session(master=args.master)
    spark.sparkContext.setLogLevel("ERROR")
    session_seconds = time.perf_counter() - started
    master = spark.conf.get("spark.master", "remote")
    cores = _cores(master)
    load = os.getloadavg()
    print(f"# {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"Spark {spark.version} master {master}; session start {session_seconds:.1f} s; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    rows_out = []
    for name in RECIPES if args.workload == "all" else [args.workload]:
        data = workloads.ensure(name, args.rows)
        recipe = RECIPES[name]
        duck_s, duck_summary, n = run_duckdb(data, recipe, OUT_DIR / f"{name}_{args.rows}" / "duckdb")
        spark_s, spark_summary = run_spark(data, recipe, OUT_DIR / f"{name}_{args.rows}" / "spark", spark)
        same = duck_summary == spark_summary
        row = {"workload": name, "rows": n, "duckdb_s": round(duck_s, 1), "spark_s": round(spark_s, 1),
               "slower": round(spark_s / duck_s, 1), "spark_rows_per_s_per_core": round(n / spark_s / cores),
               "duckdb_rows_per_s_per_core": round(n / duck_s / (os.cpu_count() or 1)), "same_summary": same}
        rows_out.append(row)
        print(json.dumps(row), flush=True)
        if not same:
            raise SystemExit(f"{name}: the Spark summary differs from DuckDB's:\n{duck_summary}\n{spark_summary}")
    load = os.getloadavg()
    print(f"# load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
