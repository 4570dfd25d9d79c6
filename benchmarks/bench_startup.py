"""What a fresh process pays before the engine does any work: import time, memory, first-call overhead.

Targets (issue #10): the engine's imports under 100 MiB, and the first call in a fresh process
(imports included) under 1 s of overhead. Each measurement runs in its own interpreter:

* ``import``: wall time of ``import recon_helpers.engine`` and the process's resident memory right after
  (``VmRSS``; the interpreter alone is subtracted and shown too);
* ``first call``: from before the import to the end of the first ``match`` + ``write`` of a small
  courier workload (1,000 shipments), minus the same call made again in that process: what the first
  call costs beyond the work itself. Measured three ways, each in its own processes: with the inputs
  read into pandas (``pd.read_parquet``, what a notebook does); with the Parquet paths given to
  ``match`` (the engine needs no pandas for it, but pyarrow imports an installed pandas on its first
  ``pa.array`` / ``pa.scalar`` / ``to_numpy``, which the last column says); and the same with
  ``import pandas`` blocked, as where pandas is not installed: what the match costs without pandas.

Run:  PYTHONPATH=. python benchmarks/bench_startup.py [--repeat 5]   (median of the runs)
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


#: how the first call is given its inputs
INPUTS = {"pandas": "pandas frames (pd.read_parquet)", "parquet": "Parquet paths",
          "no-pandas": "Parquet paths, import pandas blocked"}


class _NoPandas:
    """A meta path finder that makes ``import pandas`` fail, as where pandas is not installed."""

    def find_spec(self, name: str, path=None, target=None):
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by bench_startup)", name=name)
        return None


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(data: str, inputs: str) -> None:
    if inputs == "no-pandas":
        sys.meta_path.insert(0, _NoPandas())
    base = rss_mib()
    start = time.perf_counter()
    import recon_helpers.engine  # noqa: F401
    imported = time.perf_counter()
    after_import = rss_mib()
    pandas_at_import = "pandas" in sys.modules

    import recon_helpers

    def call(out: str) -> None:
        left, right = Path(data) / "left.parquet", Path(data) / "right.parquet"
        if inputs == "pandas":
            import pandas as pd

            left, right = (pd.read_parquet(p, dtype_backend="pyarrow") for p in (left, right))
        recon_helpers.match(left, right, "courier_bill").write(out)

    with tempfile.TemporaryDirectory() as out:
        call(out)
        first = time.perf_counter()
        after_first = rss_mib()
        call(out)
        second = time.perf_counter()
    print(json.dumps({"import_s": imported - start, "interpreter_mib": base, "import_mib": after_import - base,
                      "pandas_at_import": pandas_at_import, "first_call_mib": after_first - base,
                      "pandas_after_call": "pandas" in sys.modules,
                      "first_call_s": first - start, "warm_call_s": second - first,
                      "overhead_s": (first - start) - (second - first)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--inputs", choices=INPUTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.inputs)
        return
    import workloads
    data = workloads.ensure("courier", 1000)
    runs: dict[str, list[dict]] = {inputs: [] for inputs in INPUTS}
    failed: dict[str, str] = {}
    for _ in range(args.repeat):  # the kinds alternate, so all see the same load
        for inputs in INPUTS:
            done = subprocess.run([sys.executable, __file__, "--child", str(data), "--inputs", inputs],
                                  capture_output=True, text=True)
            if done.returncode:  # e.g. an engine that imports pandas, with pandas blocked
                failed[inputs] = (done.stderr.strip().splitlines() or ["no output"])[-1]
                continue
            runs[inputs].append(json.loads(done.stdout.strip().splitlines()[-1]))
    med = {inputs: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for inputs, rs in runs.items() if rs}
    every = [r for rs in runs.values() for r in rs]
    imp = {k: statistics.median(r[k] for r in every) for k in ("import_s", "import_mib", "interpreter_mib")}
    print(f"median of {args.repeat} fresh processes per kind of input:")
    print(f"  import recon_helpers.engine: {imp['import_s']:.2f} s, +{imp['import_mib']:.0f} MiB "
          f"(interpreter alone {imp['interpreter_mib']:.0f} MiB)  target < 100 MiB; "
          f"pandas imported: {_yes(r['pandas_at_import'] for r in every)}")
    for inputs, label in INPUTS.items():
        if inputs in failed:
            print(f"  first call, {label}: failed ({failed[inputs]})")
            continue
        m = med[inputs]
        print(f"  first call, {label}: {m['first_call_s']:.2f} s, the same call warm {m['warm_call_s']:.2f} s, "
              f"overhead {m['overhead_s']:.2f} s  target < 1 s; +{m['first_call_mib']:.0f} MiB after it, "
              f"pandas imported: {_yes(r['pandas_after_call'] for r in runs[inputs])}")


def _yes(flags) -> str:
    flags = list(flags)
    return "yes" if all(flags) else "no" if not any(flags) else f"in {sum(flags)} of {len(flags)}"


if __name__ == "__main__":
    main()
