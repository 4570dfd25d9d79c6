"""The courier_bill scenario's check object on the demo month: every list matches the truth, per carrier."""
from __future__ import annotations

from decimal import Decimal

import pytest

from recon_helpers.errors import UsageError
from recon_helpers.scenarios import courier_bill
from recon_helpers.testing import truth_rows

FEE_CATEGORIES = ("rate_card_violation", "weight_mismatch")


def _truth(demo_dir, code: str) -> list[dict[str, str]]:
    return [row for row in truth_rows(demo_dir, "courier_bill") if row["key2"] == code]


@pytest.fixture(scope="module", params=["sf", "zto", "yto", "jdl"])
def check(request, demo_dir):
    return courier_bill.check(period="2026-10", data_dir=demo_dir, carrier=request.param)


def test_the_lists_hold_exactly_the_injected_waybills(check, demo_dir):
    truth = _truth(demo_dir, check.run)
    want = {cat: {t["key"] for t in truth if t["category"] == cat}
            for cat in ("missing_on_right", "missing_on_left", "duplicate_on_right")}
    assert all(want.values()), "the demo injects each problem for every carrier"
    assert set(check.shipped_not_billed()["waybill_no"]) == want["missing_on_right"]
    assert set(check.billed_not_shipped()["waybill_no"]) == want["missing_on_left"]
    assert set(check.charged_twice()["waybill_no"]) == want["duplicate_on_right"]


def test_fee_differences_are_the_injected_ones_with_their_amounts(check, demo_dir):
    table = check.fee_differences()
    found = {(r.waybill_no, r.category): r.difference for r in table.itertuples()}
    want = {(t["key"], t["category"]): Decimal(t["amount_diff"]) for t in _truth(demo_dir, check.run)
            if t["category"] in FEE_CATEGORIES}
    assert want, "the demo injects fee disputes for every carrier"
    assert found == want
    # each line carries the rate card's own calculation, ending in the expected fee
    for row in table.itertuples():
        assert row.rate_card.endswith(f"= {row.expected_fee}")


def test_overcharge_is_what_we_should_not_pay(check, demo_dir):
    should_not_pay = sum((Decimal(t["amount_diff"]) for t in _truth(demo_dir, check.run)
                          if t["category"] != "missing_on_right" and Decimal(t["amount_diff"]) > 0), Decimal("0"))
    assert check.overcharge() == should_not_pay
    figures = check.kpis()
    assert figures["Shipments 发货单数"] == len(check.priced) and figures["Bill lines 账单行数"] == len(check.bill)


def test_only_shipments_of_the_run_carrier_are_priced(check):
    assert set(check.priced["carrier"].astype(str)) <= set(check.carrier.aliases)
    assert check.card.carrier == check.run


def test_each_carrier_writes_into_its_own_folder(check, tmp_path):
    written = check.write(tmp_path)
    assert written["exceptions"] == tmp_path / "2026-10" / "courier_bill" / check.run / "exceptions.csv"
    assert written["exceptions"].read_bytes().startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM so Excel shows Chinese"


def test_scenario_labels_word_the_categories_for_this_scenario(check):
    assert check.labels["missing_on_right"] == "shipped, not billed 已发未计费"
    assert check.labels["amount_mismatch"] == "amount mismatch 金额不符"  # engine label where the scenario says nothing


def test_an_unknown_carrier_is_a_usage_error(demo_dir):
    with pytest.raises(UsageError, match="carrier 'dhl' is unknown for scenario courier_bill: use one of sf, zto, yto, jdl"):
        courier_bill.check(period="2026-10", data_dir=demo_dir, carrier="dhl")
