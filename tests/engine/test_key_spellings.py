"""A waybill billed twice under two spellings is a duplicate charge, whatever spelling each line uses."""
from __future__ import annotations

import pytest

from recon_helpers.engine import match
from recon_helpers.engine.recipe import get_recipe, recipe_from_dict
from recon_helpers.testing import canonical_frame as table


def shipments(*waybills: str):
    n = len(waybills)
    return table("ship.csv", waybill_no=list(waybills), expected_fee=["10.00"] * n, chargeable_weight=["1.000"] * n)


def bill(*waybills: str):
    n = len(waybills)
    return table("bill.csv", waybill_no=list(waybills), amount=["10.00"] * n, billed_weight=["1.000"] * n)


def outcome(res) -> dict[tuple[str, int], str]:
    """(side, source_row) -> 'link' or the exception category."""
    out = {(r.side, int(r.source_row)): "link" for r in res.links.itertuples()}
    out.update({(r.side, int(r.source_row)): r.category for r in res.exceptions.itertuples()})
    return out


@pytest.mark.parametrize("first, second", [
    ("SF1001", "sf-1001"),     # the duplicate line is the noisy one
    ("sf 1001", "SF1001"),     # the duplicate line is the plain one
    ("sf-1001", " SF1001 "),   # both noisy
])
def test_second_charge_under_another_spelling_is_a_duplicate(first, second):
    res = match(shipments("SF1001", "SF2002"), bill(first, "SF2002", second), "courier_bill")
    got = outcome(res)
    bill_rows = [got[("right", 2)], got[("right", 4)]]
    assert sorted(bill_rows) == ["duplicate_on_right", "link"]
    assert "missing_on_left" not in got.values()
    assert got[("left", 2)] == got[("left", 3)] == "link"


def test_the_pair_spelled_alike_links_and_the_other_spelling_is_the_duplicate():
    res = match(shipments("SF1001"), bill("sf-1001", "SF1001"), "courier_bill")
    got = outcome(res)
    assert got[("right", 3)] == "link" and got[("right", 2)] == "duplicate_on_right"


def test_whatever_the_rule_order():
    data = get_recipe("courier_bill").model_dump(by_alias=True, exclude={"source"})
    data["rules"] = list(reversed(data["rules"]))
    flipped = recipe_from_dict(data)
    res = match(shipments("SF1001"), bill("SF1001", "sf-1001"), flipped)
    assert sorted(outcome(res).values()) == ["duplicate_on_right", "link", "link"]


def test_a_shipment_recorded_twice_under_two_spellings_is_a_duplicate_on_left():
    res = match(shipments("SF1001", "sf1001"), bill("SF1001"), "courier_bill")
    assert sorted(outcome(res).values()) == ["duplicate_on_left", "link", "link"]
