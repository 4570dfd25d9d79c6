"""Three-way matching: return request -> courier return waybill -> warehouse receipt (returns)."""
from __future__ import annotations

from recon_helpers.engine import match
from recon_helpers.testing import canonical_frame as table


def by_row(res) -> dict[tuple[str, int], str]:
    return {(r.side, int(r.source_row)): r.category for r in res.exceptions.itertuples()}


def test_returns_three_way_complete_missing_receipt_qty_mismatch_and_orphans():
    requests = table("platform/return_requests.csv", refund_id=["R1", "R2", "R3", "R4"], qty=[1, 2, 1, 1])
    waybills = table("courier/return_waybills.csv", refund_id=["R1", "R2", "R3", "R9"],
                     waybill_no=["YT1", "YT2", "YT3", "YT9"])
    receipts = table("wms/return_receipts.xlsx", waybill_no=["yt1", "YT2", "YT8", "YT9"], qty=[1, 1, 1, 1])
    res = match(requests, waybills, "returns", third=receipts)

    # R1: request, waybill and receipt (waybill number normalised) -> one link group of three rows
    assert len(res.links) == 3 and set(res.links["side"]) == {"left", "right", "third"}
    assert res.links["group_id"].nunique() == 1

    cats = by_row(res)
    # R2: received 1 of 2 -> the whole group is a qty_mismatch, sharing a group id
    assert {cats[("left", 3)], cats[("right", 3)], cats[("third", 3)]} == {"qty_mismatch"}
    r2 = res.exceptions[res.exceptions["category"] == "qty_mismatch"]
    assert r2["group_id"].nunique() == 1
    assert "退货申请 2, 退货入库 1, diff -1" in r2["detail"].iloc[0]
    # R3: waybill delivered, no warehouse receipt (recipe names missing_on_third "not_received")
    assert cats[("left", 4)] == cats[("right", 4)] == "not_received"
    # R4: request without a return waybill (missing_on_right named "missing_waybill")
    assert cats[("left", 5)] == "missing_waybill"
    # R9: waybill + receipt without a request: both missing_on_left, grouped together
    assert cats[("right", 5)] == cats[("third", 5)] == "missing_on_left"
    orphan = res.exceptions[res.exceptions["category"] == "missing_on_left"]
    assert orphan["group_id"].nunique() == 1 and orphan["group_id"].notna().all()
    # YT8: a receipt whose waybill the courier does not know
    assert cats[("third", 4)] == "missing_waybill"

    s = res.summary
    assert {side: x.rows for side, x in s.sides.items()} == {"left": 4, "right": 4, "third": 4}
    assert s.matched_rows == 3


def test_a_second_receipt_for_the_same_waybill_is_duplicate_on_third():
    requests = table("req", refund_id=["R1"], qty=[1])
    waybills = table("wb", refund_id=["R1"], waybill_no=["YT1"])
    receipts = table("rc", waybill_no=["YT1", "YT1"], qty=[1, 1])
    res = match(requests, waybills, "returns", third=receipts)
    assert len(res.links) == 3
    assert by_row(res) == {("third", 3): "duplicate_on_third"}
