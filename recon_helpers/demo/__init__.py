"""A deterministic demo month for the workbench: every download a shop's finance team reconciles.

``generate(out_dir, period="2026-10", seed=7, orders=2000)`` writes a month of a small home-goods
shop (栖木家居) that sells on Taobao/Tmall, JD, Pinduoduo and Douyin, ships with SF, ZTO, YTO and JD
Logistics, is paid through platform settlements, Alipay and WeChat Pay into its bank account, and
sells to ~20 business customers on credit. Files look like the real exports (encodings, preambles,
footers, id quirks; see templates/sources/FORMATS.md and the demo data contract in recon_helpers/demo),
and ``truth/<scenario>.csv`` lists every injected discrepancy, so a matcher can be scored exactly.

Same arguments -> byte-identical files: random streams come from the seed, times from the period,
XLSX/ZIP entries carry fixed dates. Modules: :mod:`.model` (orders and parcels), :mod:`.shop`
(order exports), :mod:`.returns`, :mod:`.logistics` (shipments, outbound, courier bills),
:mod:`.money_flows` (settlements, Alipay, WeChat, bank), :mod:`.b2b`, :mod:`.office` (cashier,
ledger), :mod:`.truth`, :mod:`.writers`.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from recon_helpers.errors import UsageError
from recon_helpers.periods import Period

__all__ = ["DemoSummary", "generate"]


@dataclass
class DemoSummary:
    """What :func:`generate` wrote: files relative to ``out_dir`` (sorted) and truth counts."""

    out_dir: Path
    period: str
    seed: int
    orders: int = 0
    files: list[str] = field(default_factory=list)
    truth_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{s}</td><td>{', '.join(f'{c} {n}' for c, n in cats.items()) or '-'}</td></tr>"
            for s, cats in self.truth_counts.items()
        )
        return (f"<p>Demo month {self.period} (seed {self.seed}, {self.orders:,} orders): {len(self.files)} files "
                f"in <code>{self.out_dir}</code></p><table><tr><th>scenario</th><th>injected</th></tr>{rows}</table>")


def generate(out_dir: str | Path, *, period: str = "2026-10", seed: int = 7, orders: int = 2000) -> DemoSummary:
    """Write the demo month into ``out_dir`` and return what was written.

    Parameters
    ----------
    out_dir
        Folder to write into (created if missing; files of the same names are replaced).
    period
        The month, ``YYYY-MM``.
    seed
        Random seed; the same seed, period and orders give byte-identical files.
    orders
        Shop orders in the month (the other sources scale with it); at least 50.

    Raises
    ------
    PeriodError
        ``period`` is not a month.
    UsageError
        ``out_dir`` cannot be created or written, or ``orders`` is too small.
    """
    month_period = Period.parse(period)
    if int(orders) < 50:
        raise UsageError(f"orders={orders} is too few for a demo month: use at least 50 (default 2000)")
    out = Path(out_dir)
    _check_writable(out)

    from recon_helpers.demo import b2b, logistics, money_flows, office, returns, shop
    from recon_helpers.demo.model import Month, build_orders
    from recon_helpers.demo.truth import Truth

    month = Month(period=month_period, seed=int(seed), orders=int(orders), out_dir=out)
    truth = Truth()
    try:
        the_shop = build_orders(month)
        requests = returns.build_returns(month, the_shop)
        refunds = returns.refunds_of(requests)
        shop.write_orders(month, the_shop, refunded=refunds.order_indexes)
        returns.write_returns(month, requests, truth)
        logistics.write_shipments(month, the_shop)
        cancelled = logistics.write_outbound(month, the_shop, truth)
        logistics.write_courier_bills(month, the_shop, truth, returns=requests, cancelled=cancelled)
        customer_credits = b2b.write_b2b(month, truth)
        cash_deposits = office.write_cashier(month, truth)
        office.write_ledger(month, truth)
        money_flows.write_money(month, the_shop, refunds, customer_credits, truth, cash_deposits=cash_deposits)
        truth.write(month)
    except OSError as exc:
        raise UsageError(f"cannot write the demo to {out}: {exc.strerror or exc}; choose another --out folder") from None
    return DemoSummary(out_dir=out, period=str(month_period), seed=int(seed), orders=int(orders),
                       files=sorted(month.written), truth_counts=truth.counts())


def _check_writable(out: Path) -> None:
    """Fail early, with a message a person can act on, when ``out`` cannot hold the demo."""
    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"cannot write the demo to {out}: it is a file, not a folder; choose another --out folder")
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".recon-demo-", delete=False)
        probe.close()
        os.unlink(probe.name)
    except UsageError:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"cannot write the demo to {out}: {reason}; choose another --out folder") from None
