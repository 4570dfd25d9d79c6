"""The answer key: every discrepancy the demo injected, one CSV per scenario.

Columns ``scenario,category,key,key2,amount_diff,qty_diff,detail``. ``amount_diff`` is a decimal string,
positive when the right (second) source shows more than the left (first); for a row missing on one
side it is that row's amount with the sign of that rule (missing on the right: minus the left amount).
``qty_diff`` likewise for quantities. Rows are sorted by category, key, key2, so the files are stable.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from recon_helpers import export
from recon_helpers.demo.model import Month

SCENARIOS = ("courier_bill", "returns", "outbound", "collections", "customer_statement", "cashier", "ledger")
COLUMNS = ("scenario", "category", "key", "key2", "amount_diff", "qty_diff", "detail")


def fen_str(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


@dataclass(frozen=True)
class Discrepancy:
    scenario: str
    category: str
    key: str
    key2: str = ""
    amount_diff_fen: int | None = None
    qty_diff: int | None = None
    detail: str = ""

    def row(self) -> list[str]:
        return [self.scenario, self.category, self.key, self.key2,
                "" if self.amount_diff_fen is None else fen_str(self.amount_diff_fen),
                "" if self.qty_diff is None else str(self.qty_diff), self.detail]


class Truth:
    """Collects injected discrepancies and writes ``truth/<scenario>.csv``."""

    def __init__(self) -> None:
        self._items: list[Discrepancy] = []

    def add(self, scenario: str, category: str, key: str, key2: str = "", *, amount_diff_fen: int | None = None,
            qty_diff: int | None = None, detail: str = "") -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}")
        self._items.append(Discrepancy(scenario, category, str(key), str(key2),
                                       None if amount_diff_fen is None else int(amount_diff_fen),
                                       None if qty_diff is None else int(qty_diff), detail))

    def counts(self) -> dict[str, dict[str, int]]:
        """scenario -> category -> number of injected discrepancies (every scenario present)."""
        out: dict[str, dict[str, int]] = {s: {} for s in SCENARIOS}
        for d in self._items:
            out[d.scenario][d.category] = out[d.scenario].get(d.category, 0) + 1
        return {s: dict(sorted(c.items())) for s, c in out.items()}

    def write(self, month: Month) -> None:
        for scenario in SCENARIOS:
            rows = sorted((d for d in self._items if d.scenario == scenario),
                          key=lambda d: (d.category, d.key, d.key2, d.detail))
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(d.row() for d in rows)
            export.write_bytes(month.path(f"truth/{scenario}.csv"), buf.getvalue().encode("utf-8"))
