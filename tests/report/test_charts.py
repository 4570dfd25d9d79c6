"""Charts read as counts and money: a count axis never shows half a difference."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from recon_helpers.report import charts


class Result:
    def __init__(self, exceptions: pd.DataFrame):
        self.exceptions = exceptions


def test_a_few_differences_tick_at_whole_numbers():
    exceptions = pd.DataFrame({"category": ["missing_on_left"] * 3 + ["amount_mismatch"],
                               "side": ["right"] * 4, "amount": [Decimal(a) for a in ("1.00", "2.00", "3.00", "4.00")],
                               "group_id": [None, None, None, None], "key": list("ABCD")})
    fig = charts.exceptions_by_category(Result(exceptions))
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.tickformat == ",d"
    assert sorted(fig.data[0].y) == [1, 3]


def test_long_category_names_get_room_below_the_chart():
    exceptions = pd.DataFrame({"category": ["missing_on_left", "amount_mismatch"], "side": ["right", "right"],
                               "amount": [Decimal("1.00"), Decimal("2.00")], "group_id": [None, None], "key": ["A", "B"]})
    fig = charts.exceptions_by_category(Result(exceptions), labels={"missing_on_left": "shipped, never picked up 已出库未揽收" * 2})
    assert fig.layout.xaxis.automargin is True
