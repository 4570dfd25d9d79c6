"""Typed units: money is decimal yuan (fen converted exactly when declared), measures at their own precision."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from recon_helpers.engine import match
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.errors import MatchInputError, RecipeError
from recon_helpers.testing import canonical_frame as table

SHIP = {"kind": "shipment", "label": "发货记录"}
BILL = {"kind": "courier_bill_line", "label": "快递账单"}


def recipe(**parts):
    base = {"name": "units", "left": SHIP, "right": BILL, "key": "waybill_no",
            "amount": {"left": "expected_fee", "right": "amount"}, "rules": [{"name": "k", "type": "exact_key"}]}
    return recipe_from_dict({**base, **parts}, source="<test>")


def with_int_column(frame: pd.DataFrame, column: str, values: list[int]) -> pd.DataFrame:
    return frame.assign(**{column: pd.array(values, dtype="int64[pyarrow]")})


def test_integer_money_is_refused_with_how_to_declare_its_unit():
    left = table("ship.csv", waybill_no=["SF1"], expected_fee=["12.50"])
    right = with_int_column(table("bill.csv", waybill_no=["SF1"]), "amount", [1250])
    with pytest.raises(MatchInputError) as err:
        match(left, right, recipe())
    assert "units: {right: {amount: fen}}" in str(err.value) and "whole numbers" in str(err.value)


def test_money_in_fen_is_converted_exactly_when_declared():
    left = table("ship.csv", waybill_no=["SF1", "SF2"], expected_fee=["12.50", "8.00"])
    right = with_int_column(table("bill.csv", waybill_no=["SF1", "SF2"]), "amount", [1250, 801])
    res = match(left, right, recipe(units={"right": {"amount": "fen"}}, compare=[
        {"name": "fee", "left": "expected_fee", "right": "amount", "abs_tol": "0.00", "category": "rate_card_violation"}],
        categories={"rate_card_violation": "billed fee differs"}))
    assert res.summary.sides["right"].total == Decimal("20.51")
    exc = res.exceptions
    assert set(exc["key"]) == {"SF2"} and "diff +0.01" in exc["detail"].iloc[0]
    assert list(res.links["amount"]) == [Decimal("12.50"), Decimal("12.50")]


def weight_case(tolerance: str):
    left = table("ship.csv", waybill_no=["SF1", "SF2"], expected_fee=["10.00", "10.00"],
                 chargeable_weight=["1.000", "1.000"])
    right = table("bill.csv", waybill_no=["SF1", "SF2"], amount=["10.00", "10.00"], billed_weight=["1.004", "1.011"])
    return match(left, right, recipe(compare=[
        {"name": "weight", "left": "chargeable_weight", "right": "billed_weight", "abs_tol": tolerance,
         "category": "weight_mismatch"}], categories={"weight_mismatch": "heavier"}))


@pytest.mark.parametrize("tolerance", ["10 g", "0.010"])
def test_a_weight_is_compared_at_its_own_precision(tolerance):
    res = weight_case(tolerance)
    linked = res.links[res.links["side"] == "left"]
    assert list(linked["key"]) == ["SF1"]
    assert linked["diff_weight"].iloc[0] == Decimal("0.004")       # not 0.00 as money would show
    exc = res.exceptions
    assert set(exc["key"]) == {"SF2"} and set(exc["category"]) == {"weight_mismatch"}
    assert "diff +0.011 kg" in exc["detail"].iloc[0]
    assert linked["status"].iloc[0] == "within_tolerance"


def test_weights_in_grams_are_converted_to_kg():
    left = table("ship.csv", waybill_no=["SF1"], expected_fee=["10.00"], chargeable_weight=["1.000"])
    right = with_int_column(table("bill.csv", waybill_no=["SF1"], amount=["10.00"]), "billed_weight", [1004])
    res = match(left, right, recipe(units={"right": {"billed_weight": "g"}}, compare=[
        {"name": "weight", "left": "chargeable_weight", "right": "billed_weight", "abs_tol": "10 g"}]))
    assert res.links["diff_weight"].iloc[0] == Decimal("0.004")


def test_a_value_finer_than_the_precision_names_file_row_and_column():
    left = table("ship.csv", waybill_no=["SF1", "SF2"], expected_fee=["10.00", "10.00"])
    right = table("bill.csv", waybill_no=["SF1", "SF2"]).assign(
        amount=pd.array([Decimal("1000"), Decimal("1000.5")], dtype=pd.ArrowDtype(__import__("pyarrow").decimal128(10, 1))))
    with pytest.raises(MatchInputError, match=r"bill.csv, row 3, column amount: declared in fen .* finer"):
        match(left, right, recipe(units={"right": {"amount": "fen"}}))


@pytest.mark.parametrize("parts, phrase", [
    ({"units": {"right": {"amount": "g"}}}, "column amount holds money but unit 'g' is a weight unit"),
    ({"units": {"right": {"amount": "furlong"}}}, "unknown unit 'furlong'"),
    ({"compare": [{"name": "w", "left": "chargeable_weight", "right": "amount", "abs_tol": "0"}]},
     "a compare needs two columns of the same kind"),
    ({"compare": [{"name": "fee", "left": "expected_fee", "right": "amount", "abs_tol": "10 g"}]},
     "abs_tol is in g (weight) but the columns hold money"),
])
def test_a_unit_mismatch_is_a_recipe_error(parts, phrase):
    with pytest.raises(RecipeError) as err:
        recipe(**parts)
    assert phrase in str(err.value)


def test_a_weight_in_whole_numbers_without_a_unit_is_refused():
    left = table("ship.csv", waybill_no=["SF1"], expected_fee=["10.00"], chargeable_weight=["1.000"])
    right = with_int_column(table("bill.csv", waybill_no=["SF1"], amount=["10.00"]), "billed_weight", [1004])
    with pytest.raises(MatchInputError, match=r"billed_weight holds whole numbers.*units: \{right: \{billed_weight: g\}\}"):
        match(left, right, recipe(compare=[{"name": "weight", "left": "chargeable_weight", "right": "billed_weight",
                                            "abs_tol": "10 g"}]))
