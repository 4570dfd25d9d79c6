"""Links and exceptions carry the rows' own ids the recipe names, so joining back is one merge."""
from __future__ import annotations

import pandas as pd
import pytest

from recon_helpers.engine import match
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.errors import MatchInputError, RecipeError
from recon_helpers.testing import canonical_frame as table

SETTLE = {"kind": "settlement", "label": "平台结算"}
BANK = {"kind": "bank_txn", "label": "银行流水"}


def recipe(**parts):
    base = {"name": "ids", "left": SETTLE, "right": BANK, "amount": "amount", "date": "txn_time",
            "ids": {"left": ["order_id", "sub_order_id"], "right": ["txn_id"]},
            "rules": [{"name": "one", "type": "amount_date", "days": 1, "prefer": "none"}]}
    return recipe_from_dict({**base, **parts}, source="<test>")


def tables():
    left = table("s.csv", order_id=["O1", "O2"], sub_order_id=["O1-a", "O2-a"], amount=["10.00", "20.00"],
                 txn_time=["10-01", "10-01"])
    right = table("b.csv", txn_id=["B77", "B78"], amount=["10.00", "30.00"], txn_time=["10-02", "10-02"])
    return left, right


def test_links_and_exceptions_carry_each_sides_ids(tmp_path):
    left, right = tables()
    res = match(left, right, recipe())
    links = res.links
    assert list(links.columns[-3:]) == ["order_id", "sub_order_id", "txn_id"]
    by_side = {r.side: r for r in links.itertuples()}
    assert (by_side["left"].order_id, by_side["left"].sub_order_id) == ("O1", "O1-a")
    assert by_side["right"].txn_id == "B77" and pd.isna(by_side["right"].order_id)
    exc = res.exceptions.set_index("side")
    assert exc.loc["left", "order_id"] == "O2" and exc.loc["right", "txn_id"] == "B78"
    # joining back to the user's table is one merge on the id
    back = left.merge(res.exceptions[res.exceptions["side"] == "left"], on="order_id")
    assert list(back["category"]) == ["missing_on_right"]
    paths = res.write(tmp_path)
    written = pd.read_csv(paths["exceptions"], encoding="utf-8-sig", dtype=str)
    assert {"order_id", "sub_order_id", "txn_id"} <= set(written.columns)
    assert set(written["txn_id"].dropna()) == {"B78"}


def test_without_ids_the_columns_stay_as_they_were():
    left, right = tables()
    res = match(left, right, recipe(ids={}))
    assert list(res.links.columns) == ["group_id", "side", "source_file", "source_row", "key", "amount", "rule",
                                       "status", "score", "diff_amount"]


def test_a_missing_id_column_is_listed_with_the_others():
    left, right = tables()
    with pytest.raises(MatchInputError, match=r"right table .* lacks columns doc_no needed by ids"):
        match(left, right, recipe(ids={"right": ["doc_no"]}))


def test_an_id_named_like_a_result_column_is_refused():
    with pytest.raises(RecipeError, match=r"ids: 'amount' is also a column of the results"):
        recipe(ids={"left": ["amount"]})
