"""A separate process that appends decisions to a workspace, for the concurrency and crash tests.

``python journal_writer.py WORKSPACE NAME COUNT``: appends COUNT decisions as NAME, each with two rows,
and prints each decision id on its own line once it has committed (so a test knows what must survive).
"""
from __future__ import annotations

import sys
from decimal import Decimal

from recon_helpers.review import journal
from recon_helpers.review.journal import Decision, RowRef
from recon_helpers.review.workspace import Workspace


def main(folder: str, name: str, count: int) -> None:
    ws = Workspace(folder, timeout=60)
    for n in range(count):
        rows = (RowRef(f"{name}-{n}-L", side="left", key=f"K{n}", amount=Decimal("10.00")),
                RowRef(f"{name}-{n}-R", side="right", key=f"K{n}", amount=Decimal("10.00")))
        (d,) = journal.append(ws, [Decision("match", name, "2026-10", "courier_bill", "sf", rows=rows,
                                            amount=Decimal("0.00"), note=f"{name} #{n}")])
        print(d.decision_id, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
