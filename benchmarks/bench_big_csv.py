"""Memory of `recon load` on big and hostile CSVs (issue #16 item 4: a 200 MB CSV under 1.5 GB).

    .venv/bin/python benchmarks/bench_big_csv.py              # 200 MB files (a few minutes)
    .venv/bin/python benchmarks/bench_big_csv.py --mb 20      # quick try
    .venv/bin/python benchmarks/bench_big_csv.py --mb 400 --files many_lines,quoted_newline

Files (generated under benchmarks/data/, gitignored; ERP shipments layout, UTF-8 with BOM):

* ``many_lines``  - about 2 million well-formed rows: the pyarrow fast path;
* ``irregular``   - the same rows with one GBK-encoded row in the middle, so the whole block is read
  by the row-by-row reader that rejects damaged lines one by one;
* ``quoted_newline`` - the same rows with one quoted cell running over two lines: read row by row;
* ``one_line``    - the header and then one 200 MB line without a line end (refused by the
  ``max_line_bytes`` limit, or by it being no CSV at all);
* ``cr_only``     - the many-line file with old-Mac CR line ends.

Each file is loaded by ``recon load FILE --out x.parquet`` in a fresh process under ``/usr/bin/time -v``;
the table shows wall time, the peak resident memory ("Maximum resident set size") and the exit code.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
HEADER = "运单号,快递公司,订单号,平台,发货时间,收件省份,重量(kg),长(cm),宽(cm),高(cm),件数,仓库"


def _row(i: int) -> str:
    return (f"SF{1234567890100 + i},顺丰速运,35123456789{i % 10**8:08d},淘宝,2026-10-{1 + i % 28:02d} 16:00:00,"
            f"上海,{i % 50 / 10 + 0.1:.2f},20,15,10,{1 + i % 3},杭州仓")


def make_files(mb: int, wanted: set[str] | None = None) -> dict[str, Path]:
    """Write the files (only those in ``wanted`` when given); name -> path."""
    DATA.mkdir(exist_ok=True)
    target = mb << 20
    rows = []
    size = 0
    i = 0
    while size < target:
        line = _row(i)
        rows.append(line)
        size += len(line.encode("utf-8")) + 1
        i += 1
    files = {}
    body = "\n".join(rows)
    want = wanted or {"many_lines", "irregular", "quoted_newline", "one_line", "cr_only"}
    many = DATA / f"big_many_lines_{mb}mb.csv"
    if "many_lines" in want:
        many.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n" + body + "\n").encode("utf-8"))
    files["many_lines"] = many
    middle = len(rows) // 2
    irregular = DATA / f"big_irregular_{mb}mb.csv"
    if "irregular" in want:
        with irregular.open("wb") as f:
            f.write(b"\xef\xbb\xbf" + (HEADER + "\n").encode("utf-8"))
            f.write(("\n".join(rows[:middle]) + "\n").encode("utf-8"))
            f.write((rows[middle] + "\n").encode("gbk"))
            f.write(("\n".join(rows[middle + 1:]) + "\n").encode("utf-8"))
    files["irregular"] = irregular
    quoted = DATA / f"big_quoted_newline_{mb}mb.csv"
    if "quoted_newline" in want:
        with quoted.open("wb") as f:
            f.write(b"\xef\xbb\xbf" + (HEADER + "\n").encode("utf-8"))
            f.write(("\n".join(rows[:middle]) + "\n").encode("utf-8"))
            f.write((rows[middle].replace(",杭州仓", ',"杭州仓\n二号库"') + "\n").encode("utf-8"))
            f.write(("\n".join(rows[middle + 1:]) + "\n").encode("utf-8"))
    files["quoted_newline"] = quoted
    one = DATA / f"big_one_line_{mb}mb.csv"
    if "one_line" in want:
        one.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n").encode("utf-8") + body.replace("\n", ",").encode("utf-8"))
    files["one_line"] = one
    cr = DATA / f"big_cr_only_{mb}mb.csv"
    if "cr_only" in want:
        cr.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\r" + body.replace("\n", "\r") + "\r").encode("utf-8"))
    files["cr_only"] = cr
    return files


def measure(path: Path) -> dict[str, object]:
    recon = Path(sys.executable).with_name("recon")
    with tempfile.TemporaryDirectory() as out:
        cmd = ["/usr/bin/time", "-v", str(recon), "load", str(path), "--out", str(Path(out) / "x.parquet")]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
        seconds = time.perf_counter() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    status = re.search(r"Exit status: (\d+)", proc.stderr)
    said = [line for line in proc.stdout.splitlines() + proc.stderr.splitlines()
            if line.startswith(("rows:", "error:"))]
    return {"seconds": seconds, "peak_mb": int(rss.group(1)) / 1024 if rss else None,
            "exit": int(status.group(1)) if status else proc.returncode, "said": (said or [""])[0][:110]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of each generated file in MiB")
    parser.add_argument("--files", default="", help="comma-separated subset of the files to load, e.g. "
                        "many_lines,quoted_newline (default: all)")
    args = parser.parse_args(argv)
    wanted = [f for f in args.files.split(",") if f] or ["many_lines", "irregular", "quoted_newline", "one_line",
                                                          "cr_only"]
    files = make_files(args.mb, set(wanted))
    print(f"{'file':<14} {'size MB':>8} {'seconds':>8} {'peak MB':>8} {'exit':>4} {'load':>5}  output")
    for name in wanted:
        path = files[name]
        load = os.getloadavg()[0]  # the machine is shared: say how busy it was
        r = measure(path)
        print(f"{name:<14} {path.stat().st_size / 2**20:>8.0f} {r['seconds']:>8.1f} {r['peak_mb']:>8.0f} "
              f"{r['exit']:>4} {load:>5.1f}  {r['said']}", flush=True)


if __name__ == "__main__":
    main()
