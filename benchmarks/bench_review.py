"""How the review scales: a queue of tens of thousands of exceptions and a long journal.

Builds a stand-in check with ``--rows`` exceptions on each side (loaded rows included, so fingerprints
are computed the real way), appends ``--decisions`` journal entries to a fresh workspace, then times
what a reviewer waits for: opening the session (fingerprints + replay), one filtered queue, one
decision (journal write + replay) and a full app refresh (grid + chart). Reproduce with:

    .venv/bin/python benchmarks/bench_review.py --rows 25000 --decisions 2000
"""
from __future__ import annotations

import argparse
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from recon_helpers.canonical import MONEY_DTYPE
from recon_helpers.periods import Period
from recon_helpers.review import journal
from recon_helpers.review.app import ReviewApp
from recon_helpers.review.journal import Decision, RowRef
from recon_helpers.review.session import ReviewSession
from recon_helpers.review.workspace import Workspace


def stand_in_check(rows: int, folder: Path) -> SimpleNamespace:
    """What ReviewSession reads of a check: scenario name, run, period, data folder, labels, inputs, exceptions."""
    sides = []
    tables = {}
    for side, name, category in (("left", "erp/shipments.csv", "missing_on_right"), ("right", "courier/bill.xlsx", "missing_on_left")):
        path = str(folder / name)
        keys = [f"SF{side[0]}{n:09d}" for n in range(rows)]
        amounts = pd.array([f"{10 + n % 90}.{n % 100:02d}" for n in range(rows)], dtype=MONEY_DTYPE)
        table = pd.DataFrame({"waybill_no": keys, "amount": amounts,
                              "txn_time": pd.Timestamp("2026-10-01") + pd.to_timedelta([n % 31 for n in range(rows)], unit="D"),
                              "counterparty": ["顺丰速运" if n % 3 else "中通快递" for n in range(rows)],
                              "source_file": path, "source_row": range(2, rows + 2)})
        tables[side] = SimpleNamespace(table=table)
        sides.append(pd.DataFrame({"side": side, "source_file": path, "source_row": table["source_row"], "key": keys,
                                   "amount": amounts, "category": category, "detail": "no row on the other side",
                                   "candidates": "", "group_id": None, "rule": None}))
    exceptions = pd.concat(sides, ignore_index=True)
    return SimpleNamespace(scenario=SimpleNamespace(name="bench"), run="all", period=Period.parse("2026-10"),
                           data_dir=folder, labels={}, inputs=tables, result=SimpleNamespace(exceptions=exceptions))


def timed(label: str, call):
    start = time.perf_counter()
    value = call()
    print(f"{label:<44} {time.perf_counter() - start:8.2f} s")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=25_000, help="exceptions per side")
    parser.add_argument("--decisions", type=int, default=2_000, help="journal entries written before the session opens")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        check = stand_in_check(args.rows, folder / "data")
        ws = Workspace(folder / "ws")
        first = timed(f"open session, {2 * args.rows:,} exceptions, empty journal", lambda: ReviewSession(check, ws, actor="bench"))
        items = first.items
        entries = [Decision("comment", "bench", "2026-10", "bench", "all", note=f"n{n}",
                            rows=(RowRef.of(items.iloc[n % len(items)]),)) for n in range(args.decisions)]
        timed(f"append {args.decisions:,} decisions (one transaction)", lambda: journal.append(ws, entries))
        session = timed(f"open session again, replaying {args.decisions:,} decisions", lambda: ReviewSession(check, ws, actor="bench"))
        timed("filtered queue (counterparty + amount range)",
              lambda: session.queue(counterparty="中通", min_amount=Decimal("20"), max_amount=Decimal("40")))
        left = session.queue(side="left").iloc[0]
        timed("one write-off (journal write + replay)",
              lambda: session.write_off([left.fingerprint], reason_code="carrier_claim"))
        app = timed("build the app (grid + chart)", lambda: ReviewApp(session))
        timed("app refresh after a filter change", lambda: setattr(app.side, "value", "right"))
        print(f"grid rows shown: {len(app.grid.df):,}")


if __name__ == "__main__":
    main()
