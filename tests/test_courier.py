"""The courier scenario helpers on the demo month: fee disputes and the overcharge match the truth."""
from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from recon_helpers import courier, load, match, rates

FEE_CATEGORIES = ("rate_card_violation", "weight_mismatch")


def _truth(demo_dir, code: str) -> list[dict[str, str]]:
    with open(demo_dir / "truth" / "courier_bill.csv", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["key2"] == code]


@pytest.fixture(scope="module", params=["sf", "zto", "yto", "jdl"])
def checked(request, demo_dir):
    c = courier.carrier(request.param)
    shipments = courier.for_carrier(load(demo_dir / "erp" / "shipments.csv").table, c)
    bill = load(c.bill_path(demo_dir), template=c.bill_template).table
    card = rates.load_rate_card(c.rate_card_path(demo_dir))
    priced = rates.price(shipments, card)
    return request.param, priced, bill, card, match(priced, bill, "courier_bill")


def test_fee_differences_are_the_injected_ones_with_their_amounts(checked, demo_dir):
    code, priced, bill, card, result = checked
    table = courier.fee_differences(result, priced, bill, card)
    found = {(r.waybill_no, r.category): r.difference for r in table.itertuples()}
    want = {(t["key"], t["category"]): Decimal(t["amount_diff"]) for t in _truth(demo_dir, code)
            if t["category"] in FEE_CATEGORIES}
    assert want, "the demo injects fee disputes for every carrier"
    assert found == want
    # each line carries the rate card's own calculation, ending in the expected fee
    for row in table.itertuples():
        assert row.rate_card.endswith(f"= {row.expected_fee}")


def test_overcharge_is_what_we_should_not_pay(checked, demo_dir):
    code, priced, bill, card, result = checked
    should_not_pay = sum((Decimal(t["amount_diff"]) for t in _truth(demo_dir, code)
                          if t["category"] != "missing_on_right" and Decimal(t["amount_diff"]) > 0), Decimal("0"))
    assert courier.overcharge(result) == should_not_pay
    figures = courier.kpis(priced, bill, result)
    assert figures["Shipments 发货单数"] == len(priced) and figures["Bill lines 账单行数"] == len(bill)
