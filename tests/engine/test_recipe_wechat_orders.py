"""collections_wechat_orders: the WeChat Pay merchant 交易账单 as downloaded, against the shop's own order list."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

from recon_helpers.canonical import money
from recon_helpers.engine import match
from recon_helpers.sources import load

SAMPLES = Path(__file__).parents[1] / "samples"


def _orders(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": pd.array([r[0] for r in rows], dtype="string[pyarrow]"),
        "amount": money([r[1] for r in rows]),
        "txn_time": pd.to_datetime(["2026-10-09 10:00:00"] * len(rows)),
        "source_file": "orders.csv",
        "source_row": range(2, 2 + len(rows)),
    })


def test_payments_link_to_orders_and_each_difference_is_named():
    bill = load(SAMPLES / "wechat_merchant_trade_all.csv").table
    # the shop's list: the 60.00 order (as full-width digits, as some ERPs export), the 40.00 order
    # recorded as 45.00, and an order WeChat never saw
    orders = _orders([("５６２２３３４２５４８３９６５６４４８", "60.00"), ("5622334254839656449", "45.00"),
                      ("5622334254839656450", "12.00")])
    result = match(bill, orders, "collections_wechat_orders")

    links = result.links
    assert set(links["rule"]) == {"normalised_key"} and len(links) == 2  # the full-width id still links
    exc = result.exceptions.set_index(["side", "category"])
    assert exc.loc[("left", "amount_mismatch"), "key"] == "5622334254839656449"
    assert exc.loc[("right", "missing_on_left"), "key"] == "5622334254839656450"
    # the refund row (negative) is out of this recipe's scope, but still accounted for
    assert exc.loc[("left", "out_of_scope"), "amount"] == Decimal("-50.00")
    assert result.summary.rows == len(bill) + len(orders)
