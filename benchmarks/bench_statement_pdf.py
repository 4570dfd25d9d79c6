"""Customer statement PDFs: one Chromium start per PDF against one browser for the whole month (issue #15).

    .venv/bin/python benchmarks/bench_statement_pdf.py                       # the demo month (20 customers)
    .venv/bin/python benchmarks/bench_statement_pdf.py --data data/demo --period 2026-10

Builds the month's customer-statement check, renders every customer's statement to HTML once, then in
the same run prints all of them to PDF both ways and reports seconds per PDF and the ratio:

* ``per_pdf``: :func:`recon_helpers.pdf.html_to_pdf` for each statement (a Chromium start each, the
  fallback path);
* ``one_browser``: :func:`recon_helpers.pdf.html_to_pdfs` (one Chromium driven by playwright).

The machine's own Chromium is used either way (``$RECON_CHROMIUM`` or the first on PATH). The demo
month is generated under benchmarks/data/ when ``--data`` is not given (gitignored).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def demo_month(period: str) -> Path:
    folder = HERE / "data" / f"statement-demo-{period}"
    if not (folder / "b2b").is_dir():
        subprocess.run([sys.executable, "-m", "recon_helpers.cli", "demo", "--out", str(folder), "--period", period,
                        "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a month's data folder (default: a generated demo month)")
    parser.add_argument("--period", default="2026-10", help="month, YYYY-MM")
    args = parser.parse_args()

    from recon_helpers.pdf import html_to_pdf, html_to_pdfs
    from recon_helpers.scenarios import customer_statement
    from recon_helpers.scenarios.customer_statement.statement import render_html

    data = args.data or demo_month(args.period)
    check = customer_statement.check(period=args.period, data_dir=str(data))
    codes = list(check.balances()["customer_id"])
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as scratch:
        folder = Path(scratch)
        pages = []
        for code in codes:
            html = folder / f"{code}.html"
            html.write_text(render_html(check.statement(code), check.header), encoding="utf-8")
            pages.append(html)
        started = time.perf_counter()
        for html in pages:
            html_to_pdf(html, folder / "per_pdf" / f"{html.stem}.pdf")
        per_pdf = (time.perf_counter() - started) / len(pages)
        started = time.perf_counter()
        html_to_pdfs([(html, folder / "one_browser" / f"{html.stem}.pdf") for html in pages])
        one_browser = (time.perf_counter() - started) / len(pages)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, {platform.platform()}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{len(pages)} statements of {args.period}")
    print(f"per_pdf      {per_pdf:6.3f} s per PDF (a Chromium start each)")
    print(f"one_browser  {one_browser:6.3f} s per PDF (one Chromium for all)")
    print(f"ratio        {per_pdf / one_browser:6.1f}x")


if __name__ == "__main__":
    main()
