"""A big month end to end: ``recon demo --orders 200000`` then ``recon report`` on it (issue #15 item 6).

    .venv/bin/python benchmarks/bench_report.py                   # 200,000 orders, every notebook, --jobs 2
    .venv/bin/python benchmarks/bench_report.py --orders 20000    # quick try
    .venv/bin/python benchmarks/bench_report.py --only courier_bill

Target: the whole report (every scenario x run) in under 10 minutes and under 4 GiB on 2 cores.
Time is the wall clock of the ``recon report`` process; peak memory is the largest resident set of
that process and all its children together (the worker processes and their kernels), sampled every
0.2 s with psutil, printed two ways: the sum of resident sets (RSS: each process's shared libraries and
shared pages counted once per process, so it overstates) and the sum of proportional set sizes (PSS:
each shared page split between the processes that map it, what the tree really takes; Linux only),
with the processes that held most at the PSS peak. Per-run seconds come from the report's own manifest.json. The demo month and the
report are written under benchmarks/data/ and benchmarks/out/ (gitignored). ``recon report`` starts the
runs longest first as the last report in that folder timed them: the first run into a fresh folder
keeps the plan order, so run twice and record the second.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
RECON = [sys.executable, "-m", "recon_helpers.cli"]


def tree_memory(proc: psutil.Process) -> tuple[int, int, list[tuple[str, int]]]:
    """Resident memory of a process and all its descendants: (sum of RSS, sum of PSS, each process's PSS
    with a short name), in bytes; zeros once it has gone. PSS falls back to RSS where the system has none."""
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0, []
    rss = pss = 0
    each = []
    for p in procs:
        try:
            info = p.memory_full_info()
            name = " ".join(p.cmdline()[1:3])[-60:] or p.name()
        except psutil.Error:
            continue
        share = getattr(info, "pss", info.rss)
        rss, pss = rss + info.rss, pss + share
        each.append((name, share))
    return rss, pss, each


def run_measured(args: list[str]) -> tuple[int, float, int, int, list[tuple[str, int]]]:
    """Run a command; return its exit code, wall seconds, peak RSS and peak PSS of its process tree, and
    the processes at the PSS peak."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watched, peak_rss, peak_pss, at_peak = psutil.Process(child.pid), 0, 0, []
    while child.poll() is None:
        rss, pss, each = tree_memory(watched)
        peak_rss = max(peak_rss, rss)
        if pss > peak_pss:
            peak_pss, at_peak = pss, each
        time.sleep(0.2)
    stderr = child.stderr.read() if child.stderr else ""
    if child.returncode not in (0, 1):
        print(stderr, file=sys.stderr)
    return child.returncode, time.perf_counter() - started, peak_rss, peak_pss, at_peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--period", default="2026-10")
    parser.add_argument("--only", action="append", default=[])
    opts = parser.parse_args()

    data, out = HERE / "data" / f"demo_{opts.orders}", HERE / "out" / f"report_{opts.orders}"
    if not (data / "truth").is_dir():
        code, seconds, *_ = run_measured([*RECON, "demo", "--out", str(data), "--period", opts.period, "--orders", str(opts.orders)])
        print(f"demo month: {opts.orders:,} orders in {seconds:.0f} s (exit {code})")
    only = [arg for name in opts.only for arg in ("--only", name)]
    code, seconds, peak, peak_pss, at_peak = run_measured([*RECON, "report", "--period", opts.period, "--data", str(data), "--out", str(out),
                                        "--jobs", str(opts.jobs), *only])
    manifest = json.loads((out / opts.period / "manifest.json").read_text(encoding="utf-8"))
    print(f"\nrecon report, {opts.orders:,} orders, --jobs {opts.jobs}, {os.cpu_count()} cores, "
          f"{platform.python_version()} on {platform.machine()} (exit {code})")
    print(f"{'run':<28}{'status':<8}{'seconds':>9}")
    for n in manifest["notebooks"]:
        label = n["name"] if n["run"] == "all" else f"{n['name']} {n['run']}"
        print(f"{label:<28}{n['status']:<8}{n['seconds']:>9.1f}")
    print(f"{'total (wall clock)':<36}{seconds:>9.1f}")
    print(f"peak memory (process tree): {peak / 2**30:.2f} GiB as the sum of RSS, {peak_pss / 2**30:.2f} GiB as the sum of PSS")
    print("at the PSS peak: " + ", ".join(f"{name} {share / 2**20:,.0f} MiB"
                                          for name, share in sorted(at_peak, key=lambda x: -x[1])[:6]))
    largest = max((p.stat().st_size for p in (out / opts.period).rglob("*.html")), default=0)
    print(f"largest page: {largest / 2**20:.1f} MiB")
    return 0 if seconds < 600 and peak_pss < 4 * 2**30 and largest < 10 * 2**20 else 1


if __name__ == "__main__":
    sys.exit(main())
