"""One row per difference, with the money at stake: what a manager reads before the row lists."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from recon_helpers.canonical import money
from recon_helpers.engine import explain
from recon_helpers.report import charts


def _exceptions() -> pd.DataFrame:
    # a disputed fee (pair, group 7), a bill line nobody shipped, a shipment not billed, a double charge
    return pd.DataFrame({
        "side": ["left", "right", "right", "left", "right"],
        "key": ["W1", "W1", "W2", "W3", "W4"],
        "amount": money(["15.00", "25.00", "20.00", "24.00", "18.00"]),
        "category": ["rate_card_violation", "rate_card_violation", "missing_on_left", "missing_on_right",
                     "duplicate_on_right"],
        "group_id": [7, 7, None, None, 12],
    })


def test_a_disputed_pair_is_one_difference_of_right_minus_left():
    diffs = explain.differences(_exceptions())
    assert len(diffs) == 4
    fee = diffs[diffs["category"] == "rate_card_violation"].iloc[0]
    assert (fee["left_amount"], fee["right_amount"], fee["difference"], fee["rows"]) == (
        Decimal("15.00"), Decimal("25.00"), Decimal("10.00"), 2)
    missing_right = diffs[diffs["category"] == "missing_on_right"].iloc[0]
    assert missing_right["difference"] == Decimal("-24.00")


def test_by_category_counts_differences_not_rows_and_sums_exactly():
    per = explain.by_category(_exceptions()).set_index("category")
    assert per.loc["rate_card_violation", "differences"] == 1
    assert per["difference"].sum() == Decimal("24.00")  # +10 +20 -24 +18


def test_charts_draw_differences_not_rows():
    fig = charts.exceptions_by_category(_exceptions())
    assert sorted(fig.data[0].y.tolist()) == [1, 1, 1, 1]
    fig = charts.amounts_by_category(_exceptions())
    assert sorted(fig.data[0].y.tolist()) == [-24.0, 10.0, 18.0, 20.0]


def test_no_exceptions_gives_an_empty_table():
    empty = _exceptions().iloc[0:0]
    assert explain.differences(empty).empty
    assert explain.by_category(empty).empty
