"""Where one match's time goes: ``match`` and ``result.write`` timed apart, and the slowest SQL statements.

Why beside ``bench_match.py``: that one times the whole recipe against the peers; this one says which
phase and which statements to work on (issue #10: "the profile shows where the time goes"). It runs
ours only, in this process, on the workloads ``bench_match.py`` generated under ``benchmarks/data/``.
Statement times are wall time inside the back-end's ``run`` / ``arrow`` / ``scalar``; the CSV writer's
own ``COPY`` is outside them, so ``write`` minus its statements is mostly the writing of the files.

Run:  PYTHONPATH=. .venv/bin/python benchmarks/bench_phases.py courier [--rows 1000000] [--top 20] [--profile]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECIPES = {"courier": "courier_bill", "collections": "collections_settlement_bank",
           "ambiguity1": "store_settlement_bank", "ambiguity10": "store_settlement_bank",
           "ambiguity30": "store_settlement_bank"}


def timed_backend(times: list[tuple[float, str]]) -> None:
    """Wrap the DuckDB back-end's statement methods so each statement's wall time lands in ``times``
    (also ``create_table``, ``create_tables`` and ``compact``: the compressed store's tables, the
    input rows created side by side, and the checkpoints, which run their own statements)."""
    from recon_helpers.engine.backends import duckdb_backend

    for name in ("run", "arrow", "scalar", "create_table", "create_tables", "compact"):
        original = getattr(duckdb_backend.DuckDBBackend, name)

        def wrapped(self, *args, _original=original, _name=name, **kwargs):
            start = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                said = (" ".join(" ".join(str(a).split()) for a in args) if _name != "create_tables"
                        else ", ".join(job[0] for job in args[0]))  # the tables, not their Arrow inputs
                times.append((time.perf_counter() - start, said if _name in ("run", "arrow", "scalar")
                              else f"[{_name}] {said}".strip()))

        setattr(duckdb_backend.DuckDBBackend, name, wrapped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(RECIPES))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--top", type=int, default=20, help="slowest statements to print")
    parser.add_argument("--profile", action="store_true", help="also a cProfile of match (cumulative)")
    parser.add_argument("--cpu", action="store_true",
                        help="also the process's CPU seconds of match and write (steadier than wall time on a shared machine)")
    args = parser.parse_args()
    data = HERE / "data" / f"{args.workload}_{args.rows}"
    if not (data / "left.parquet").exists():
        raise SystemExit(f"{data} has no inputs: run bench_match.py --rows {args.rows} --workload {args.workload} first")

    import duckdb  # noqa: F401  - imports are not part of the timed work, as in bench_match.py
    import pyarrow  # noqa: F401

    import recon_helpers
    import recon_helpers.engine.cascade  # noqa: F401

    times: list[tuple[float, str]] = []
    timed_backend(times)
    profiler = None
    if args.profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    cpu0 = time.process_time()
    start = time.perf_counter()
    result = recon_helpers.match(data / "left.parquet", data / "right.parquet", RECIPES[args.workload])
    matched, cpu1 = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.disable()
    in_match = len(times)
    out = Path(tempfile.mkdtemp(prefix="bench-phases-"))
    try:
        result.write(out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    written, cpu2 = time.perf_counter(), time.process_time()
    sql_match = sum(t for t, _ in times[:in_match])
    sql_write = sum(t for t, _ in times[in_match:])
    print(f"{args.workload} {args.rows:,} rows, load {os.getloadavg()[0]:.1f}: match {matched - start:.2f} s "
          f"(statements {sql_match:.2f} s), write {written - matched:.2f} s (statements {sql_write:.2f} s), "
          f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB, {len(times)} statements")
    if args.cpu:
        print(f"CPU seconds: match {cpu1 - cpu0:.2f}, write {cpu2 - cpu1:.2f}")
    for seconds, sql in sorted(times, reverse=True)[:args.top]:
        print(f"{seconds:7.3f}  {sql[:200]}")
    if profiler is not None:
        import pstats
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
