"""What a fresh process pays before the engine does any work: import time, memory, first-call overhead.

Targets (issue #10): the engine's imports under 100 MiB, and the first call in a fresh process
(imports included) under 1 s of overhead. Each measurement runs in its own interpreter:

* ``import``: wall time of ``import recon_helpers.engine`` and the process's resident memory right after
  (``VmRSS``; the interpreter alone is subtracted and shown too);
* ``first call``: from before the import to the end of the first ``match`` + ``write`` of a small
  courier workload (1,000 shipments), minus the same call made again in that process: what the first
  call costs beyond the work itself.

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


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(data: str) -> None:
    base = rss_mib()
    start = time.perf_counter()
    import recon_helpers.engine  # noqa: F401
    imported = time.perf_counter()
    after_import = rss_mib()
    import pandas as pd

    import recon_helpers

    def call(out: str) -> None:
        left = pd.read_parquet(Path(data) / "left.parquet", dtype_backend="pyarrow")
        right = pd.read_parquet(Path(data) / "right.parquet", dtype_backend="pyarrow")
        recon_helpers.match(left, right, "courier_bill").write(out)

    with tempfile.TemporaryDirectory() as out:
        call(out)
        first = time.perf_counter()
        call(out)
        second = time.perf_counter()
    print(json.dumps({"import_s": imported - start, "interpreter_mib": base, "import_mib": after_import - base,
                      "first_call_s": first - start, "warm_call_s": second - first,
                      "overhead_s": (first - start) - (second - first)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    import workloads
    data = workloads.ensure("courier", 1000)
    runs = []
    for _ in range(args.repeat):
        done = subprocess.run([sys.executable, __file__, "--child", str(data)], check=True, capture_output=True, text=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median of {args.repeat} fresh processes:")
    print(f"  import recon_helpers.engine: {med['import_s']:.2f} s, +{med['import_mib']:.0f} MiB "
          f"(interpreter alone {med['interpreter_mib']:.0f} MiB)  target < 100 MiB")
    print(f"  first call (imports included): {med['first_call_s']:.2f} s, the same call warm {med['warm_call_s']:.2f} s, "
          f"overhead {med['overhead_s']:.2f} s  target < 1 s")


if __name__ == "__main__":
    main()
