"""Do two checkouts of the engine give the same results? Runs both on the same inputs and compares files.

Why: a speed change must lose nothing (issue #10, item 4). Each checkout runs in its own process with
its own ``recon_helpers`` first on the path; every output file (links, exceptions, summary.json, any
other CSV or JSON a scenario writes) is compared with its lines sorted, so a change of row order is
not a difference but a changed value, a lost row or an extra row is.

Inputs: every scenario x run of the registry on a demo month (every built-in recipe the scenarios
use), and any benchmark workloads from ``workloads.py`` (matched with their recipe, as
``bench_match.py`` runs ours).

Run:  python benchmarks/same_results.py --base ../speed-base --demo /tmp/demo-month
          [--workloads courier,collections,ambiguity10 --rows 200000]
Prints one line per compared file and exits 1 when any differs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def run_demo(data: str, period: str, out: str) -> None:
    """(in the child; asserts it imports the checkout it was started for) Every scenario x run of the registry on the demo month, written under ``out``."""
    import importlib

    import recon_helpers
    from recon_helpers.scenarios import list_scenarios

    assert Path(recon_helpers.__file__).resolve().is_relative_to(Path(os.environ["PYTHONPATH"]).resolve())

    for entry in list_scenarios():
        module = importlib.import_module(f"recon_helpers.scenarios.{entry.name}")
        for run in entry.run_names():
            params = {entry.grid_parameter: run} if entry.grid_parameter else {}
            check = module.check(period=period, data_dir=data, **params)
            check.write(out)


def run_workload(data: str, recipe: str, out: str) -> None:
    """(in the child) One workload matched by its recipe, as the benchmark runs ours."""
    import pandas as pd
    import pyarrow.parquet as pq

    import recon_helpers
    from recon_helpers.engine import input_columns

    def read(side: str) -> pd.DataFrame:
        path = Path(data) / f"{side}.parquet"
        return pd.read_parquet(path, columns=input_columns(recipe, side, available=pq.read_schema(path).names),
                               dtype_backend="pyarrow")

    recon_helpers.match(read("left"), read("right"), recipe).write(out)


def in_child(root: Path, *args: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(root))
    subprocess.run([sys.executable, __file__, "--child", *args], env=env, check=True, cwd=root)


#: JSON keys that say when a file was written, not what it holds
WALL_CLOCK_KEYS = {"recorded_at"}


def _without_clock(value):
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k not in WALL_CLOCK_KEYS}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


def sorted_lines(path: Path) -> list[str]:
    if path.suffix == ".json":
        data = _without_clock(json.loads(path.read_text(encoding="utf-8")))
        return sorted(json.dumps(data, sort_keys=True, ensure_ascii=False).split(", "))
    return sorted(path.read_text(encoding="utf-8-sig").splitlines())


def compare(a: Path, b: Path) -> int:
    """Print one line per file under ``a`` or ``b``; return how many differ or are missing."""
    names = sorted({p.relative_to(a) for p in a.rglob("*") if p.suffix in (".csv", ".json")}
                   | {p.relative_to(b) for p in b.rglob("*") if p.suffix in (".csv", ".json")})
    bad = 0
    for name in names:
        pa_, pb = a / name, b / name
        if not pa_.exists() or not pb.exists():
            print(f"MISSING  {name} (only in {'base' if pa_.exists() else 'this'})")
            bad += 1
            continue
        la, lb = sorted_lines(pa_), sorted_lines(pb)
        if la == lb:
            print(f"same     {name} ({len(la)} lines)")
        else:
            only_a, only_b = sorted(set(la) - set(lb)), sorted(set(lb) - set(la))
            print(f"DIFFERS  {name}: {len(only_a)} lines only in base, {len(only_b)} only in this; "
                  f"e.g. base {only_a[:1]} this {only_b[:1]}")
            bad += 1
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", help="checkout of the engine to compare against (e.g. a git worktree)")
    ap.add_argument("--this", default=str(HERE.parent), help="checkout under test (default: this one)")
    ap.add_argument("--demo", help="demo month folder (recon demo --out DIR --period 2026-10 --seed 7)")
    ap.add_argument("--period", default="2026-10")
    ap.add_argument("--workloads", default="", help="comma-separated workloads.py names")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--out", help="folder for both outputs (default: a temporary folder)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        (run_demo if kind == "demo" else run_workload)(*rest)
        return
    if not args.base:
        ap.error("--base is required: the checkout to compare against (git worktree add --detach DIR main)")

    import workloads
    from bench_match import RECIPES  # only here: it puts this checkout first on the path, the children must not
    out = Path(args.out or tempfile.mkdtemp(prefix="same-results-"))
    bad = 0
    jobs = [("demo", args.demo)] if args.demo else []
    jobs += [(w, str(workloads.ensure(w, args.rows))) for w in filter(None, args.workloads.split(","))]
    for name, data in jobs:
        for label, root in (("base", Path(args.base).resolve()), ("this", Path(args.this).resolve())):
            target = out / name / label
            if name == "demo":
                in_child(root, "demo", data, args.period, str(target))
            else:
                in_child(root, "workload", data, RECIPES[name], str(target))
        print(f"--- {name} ---")
        bad += compare(out / name / "base", out / name / "this")
    print(f"{'no differences' if not bad else f'{bad} file(s) differ'} (outputs in {out})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
