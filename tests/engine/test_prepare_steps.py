"""Prepare steps and key normalisations a recipe writer needs, exact and validated with useful errors."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from recon_helpers.engine import match, prepare
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.errors import MatchInputError, RecipeError
from recon_helpers.testing import canonical_frame as table

SETTLE = {"kind": "settlement", "label": "平台结算"}
BANK = {"kind": "bank_txn", "label": "银行流水"}


def recipe(left_steps=(), right_steps=(), **parts):
    base = {"name": "prep", "left": SETTLE, "right": BANK, "amount": "amount", "date": "txn_time",
            "rules": [{"name": "one", "type": "amount_date", "days": 1, "prefer": "none"}],
            "prepare": {"left": list(left_steps), "right": list(right_steps)}}
    return recipe_from_dict({**base, **parts}, source="<test>")


def test_net_is_amount_minus_fee_exactly_and_matches_the_credit():
    left = table("s.csv", gross_amount=["100.10", "50.00"], fee=["0.60", None], txn_time=["10-01", "10-01"])
    right = table("b.csv", amount=["99.50", "50.00"], txn_time=["10-02", "10-02"])
    steps = [{"compute": {"column": "amount", "plus": ["gross_amount"], "minus": ["fee"], "empty": "zero"}}]
    prepared = prepare(left, recipe(steps), "left")
    assert list(prepared["amount"]) == [Decimal("99.50"), Decimal("50.00")]
    assert str(prepared["amount"].dtype) == "decimal128(18, 2)[pyarrow]"
    res = match(left, right, recipe(steps))
    assert res.summary.matched_rows == 4


def test_an_empty_input_leaves_the_result_empty_unless_said_otherwise():
    left = table("s.csv", gross_amount=["10.00"], fee=[None])
    out = prepare(left, recipe([{"compute": {"column": "net", "plus": ["gross_amount"], "minus": ["fee"]}}]), "left")
    assert out["net"].isna().all()


def test_sums_of_several_columns_and_a_sign_flip():
    left = table("s.csv", amount=["-10.00"], freight=["2.50"], surcharge=["0.25"])
    steps = [{"compute": {"column": "charges", "plus": ["freight", "surcharge"]}},
             {"compute": {"column": "amount", "minus": ["amount"]}}]
    out = prepare(left, recipe(steps), "left")
    assert out["charges"].iloc[0] == Decimal("2.75") and out["amount"].iloc[0] == Decimal("10.00")


def test_money_and_weights_are_never_added():
    left = table("s.csv", amount=["10.00"], weight=["1.000"])
    with pytest.raises(MatchInputError, match=r"prepare.left\[0\]: compute x: amount .*weight .*cannot be added"):
        prepare(left, recipe([{"compute": {"column": "x", "plus": ["amount", "weight"]}}]), "left")


def test_extract_keeps_the_capture_group():
    left = table("s.csv", memo=["订单号:123456789012345678 已结算", "无单号", "订单号 111 和 订单号 222"])
    out = prepare(left, recipe([{"extract": {"column": "order_id", "from": "memo", "pattern": r"订单号[:：]?\s*(\d+)"}}]),
                  "left")
    assert out["order_id"].iloc[0] == "123456789012345678"
    assert out["order_id"].isna().iloc[1] and out["order_id"].isna().iloc[2]  # none, or two different: neither


def test_extract_by_group_name_and_whole_match():
    left = table("s.csv", memo=["ref INV-0042 paid"])
    named = prepare(left, recipe([{"extract": {"column": "invoice_no", "from": "memo",
                                               "pattern": r"INV-(?P<no>\d+)", "group": "no"}}]), "left")
    whole = prepare(left, recipe([{"extract": {"column": "invoice_no", "from": "memo", "pattern": r"INV-\d+"}}]), "left")
    assert named["invoice_no"].iloc[0] == "0042" and whole["invoice_no"].iloc[0] == "INV-0042"


def test_a_constant_and_a_small_mapping_table():
    left = table("s.csv", channel=["支付宝", "微信", "银联"])
    steps = [{"constant": {"column": "currency", "value": "CNY"}},
             {"map": {"column": "payer", "from": "channel", "values": {"支付宝": "alipay", "微信": "wechat"},
                      "default": "other"}}]
    out = prepare(left, recipe(steps), "left")
    assert list(out["currency"]) == ["CNY"] * 3 and list(out["payer"]) == ["alipay", "wechat", "other"]


@pytest.mark.parametrize("step, phrase", [
    ({"extract": {"column": "x", "from": "memo", "pattern": "(a"}}, "is not a valid regular expression"),
    ({"extract": {"column": "x", "from": "memo", "pattern": "(a)", "group": 2}}, "group 2 does not exist"),
    ({"compute": {"column": "x"}}, "name the columns to add (plus) and/or subtract (minus), e.g."),
    ({"subtract": {"column": "x"}}, "must be one of derive, extract, coalesce, concat, sum_by, compute, constant, map"),
    ({"compute": {"column": "x", "plus": ["a"], "times": ["b"]}},
     "compute.times: Extra inputs are not permitted; fix the recipe file. compute takes column, plus, minus, empty, e.g. {compute: {column: net"),
])
def test_a_broken_step_names_itself_and_says_what_is_allowed(step, phrase):
    with pytest.raises(RecipeError) as err:
        recipe([step])
    assert phrase in str(err.value) and "prepare" in str(err.value)


# --- key normalisation as data -----------------------------------------------------------------------
def key_recipe(steps):
    return recipe_from_dict({"name": "keys", "left": SETTLE, "right": BANK, "key": "order_id", "amount": "amount",
                             "normalise": {"order_id": steps},
                             "rules": [{"name": "n", "type": "normalised_key"}]}, source="<test>")


@pytest.mark.parametrize("steps, bill_key", [
    ([{"keep": "A-Z0-9"}], "JD#12·34"),
    (["upper", {"keep": "A-Z0-9"}], "jd 12-34"),
    ([{"remove": "#· -"}], "JD#12 34"),
    ([{"replace": {"pattern": "^NO\\.?", "with": ""}}], "NO.JD1234"),
])
def test_key_normalisations_written_as_data(steps, bill_key):
    left = table("s.csv", order_id=["JD1234"], amount=["5.00"])
    right = table("b.csv", order_id=[bill_key], amount=["5.00"])
    assert match(left, right, key_recipe(steps)).summary.matched_rows == 2


@pytest.mark.parametrize("step, phrase", [
    ({"keep": "[A-Z]"}, "without brackets, e.g. {keep: 'A-Z0-9'}"),
    ({"replace": {"pattern": "(?<=x)y", "with": ""}}, "look-around or a back-reference"),
    ({"replace": {"pattern": "x"}}, "replace takes {pattern: REGEX, with: TEXT}"),
    ({"squash": "x"}, "a step written as a mapping must be one of"),
])
def test_a_broken_normalisation_is_refused_with_an_example(step, phrase):
    with pytest.raises(RecipeError) as err:
        key_recipe([step])
    assert phrase in str(err.value) and "normalise.order_id[0]" in str(err.value)


def test_keep_only_a_to_z_and_digits_does_not_join_what_differs():
    left = table("s.csv", order_id=["JD1234", "JD1235"], amount=["5.00", "6.00"])
    right = table("b.csv", order_id=["jd1234"], amount=["5.00"])   # lower case is not A-Z: stays apart
    res = match(left, right, key_recipe([{"keep": "A-Z0-9"}]))
    assert res.summary.matched_rows == 0
    assert isinstance(res.exceptions, pd.DataFrame)
