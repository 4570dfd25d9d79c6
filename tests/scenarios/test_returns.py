"""The returns scenario: on the demo month every list holds exactly the injected returns, and on tiny
hand-made files each kind of problem gets its own category."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from recon_helpers.engine import match
from recon_helpers.scenarios import returns, scenario
from recon_helpers.scenarios.returns import cases
from recon_helpers.testing import canonical_frame, truth_rows


@pytest.fixture(scope="module")
def check(demo_dir):
    return returns.check(period="2026-10", data_dir=demo_dir)


def _truth(demo_dir, category: str) -> dict[str, dict[str, str]]:
    return {t["key"]: t for t in truth_rows(demo_dir, "returns") if t["category"] == category}


LISTS = {"status_mismatch": "refunded_not_received", "missing_waybill": "not_shipped_back",
         "not_received": "not_received", "qty_mismatch": "quantity_differences", "damaged": "damaged"}


@pytest.mark.parametrize("category, method", LISTS.items())
def test_each_list_holds_exactly_the_injected_returns(check, demo_dir, category, method):
    want = _truth(demo_dir, category)
    assert want, f"the demo injects {category}"
    assert set(getattr(check, method)()["refund_id"]) == set(want)


def test_nothing_else_is_a_problem(check, demo_dir):
    found = {(r.category, r.key) for r in check.problems().itertuples()}
    assert found == {(t["category"], t["key"]) for t in truth_rows(demo_dir, "returns")}
    assert check.not_requested().empty and check.received_not_refunded().empty


def test_refunds_paid_for_goods_not_received_carry_the_refund(check, demo_dir):
    want = {k: -Decimal(t["amount_diff"]) for k, t in _truth(demo_dir, "status_mismatch").items()}
    got = dict(zip(check.refunded_not_received()["refund_id"], check.refunded_not_received()["refund_amount"]))
    assert got == want
    assert check.kpis()["Refunded, not received 已退款未入库"] == sum(want.values())


def test_quantity_differences_are_received_minus_requested(check, demo_dir):
    want = {k: int(t["qty_diff"]) for k, t in _truth(demo_dir, "qty_mismatch").items()}
    table = check.quantity_differences()
    assert {r.refund_id: int(r.received_qty) - int(r.qty) for r in table.itertuples()} == want


def test_a_return_in_transit_is_open_not_a_difference(check):
    transit = check.cases[check.cases["category"] == cases.IN_TRANSIT]
    assert len(transit) >= 1 and set(transit["waybill_status"]) == {"运输中"}
    follow = check.follow_up()
    assert set(transit["key"]) <= set(follow["refund_id"])
    # every open return is on the follow-up list, once, and the age buckets add up to it
    assert len(follow) == len(check.open_returns()) == follow["refund_id"].nunique()
    assert check.open_by_age()["returns"].sum() == len(follow)
    assert list(check.open_by_age()["age_days"]) == ["0-7", "8-15", "16-30", ">30"]


def test_every_input_row_is_linked_or_listed_exactly_once(check):
    clean_groups = set(check.cases.loc[check.cases["category"].isna(), "case"])
    linked = check.result.links[check.result.links["group_id"].isin(clean_groups)]
    listed = check.exception_table
    seen = list(zip(linked["side"], linked["source_row"])) + list(zip(listed["side"], listed["source_row"]))
    everything = [(side, row) for side, name in (("left", "requests"), ("right", "waybills"), ("third", "receipts"))
                  for row in check.inputs[name].table["source_row"]]
    assert sorted(seen) == sorted(everything)


def test_written_exceptions_are_the_refined_ones(check, tmp_path):
    written = check.write(tmp_path)
    table = pd.read_csv(written["exceptions"], dtype=str, encoding="utf-8-sig")
    assert set(table["category"]) == set(check.exception_table["category"])
    assert len(table) == len(check.exception_table)


# --- hand-made returns: one of each problem ---------------------------------------------------------
def _classified(requests: pd.DataFrame, waybills: pd.DataFrame, receipts: pd.DataFrame) -> dict[str, str]:
    result = match(requests, waybills, "returns", third=receipts)
    table = cases.assemble(result, requests, waybills, receipts)
    table["category"] = cases.classify(table, scenario("returns").settings)
    return {k: (None if pd.isna(c) else c) for k, c in zip(table["key"], table["category"])}


def test_hand_made_returns_get_their_category():
    requests = canonical_frame(
        "requests.csv", refund_id=["R1", "R2", "R3", "R4", "R5", "R6", "R7"],
        sku=["A", "A", "A", "A", "A", "A", "A"], qty=[1, 1, 2, 1, 1, 1, 1],
        refund_amount=["10.00", "20.00", "30.00", "40.00", "50.00", "60.00", "70.00"],
        txn_time=["10-01"] * 7,
        status=["退款成功", "待商家收货", "退款成功", "退款成功", "待商家收货", "退款关闭", "退款成功"],
        waybill_no=["W1", "W2", "W3", "W4", "W5", "", "W7"])
    waybills = canonical_frame(
        "waybills.csv", waybill_no=["W1", "W2", "W3", "W4", "W5", "W8", "W7"],
        refund_id=["R1", "R2", "R3", "R4", "R5", "R8", "R7"],
        status=["已签收", "已签收", "已签收", "已签收", "运输中", "已签收", "已签收"])
    receipts = canonical_frame(
        "receipts.csv", waybill_no=["W1", "W2", "W3", "W4", "W9"], refund_id=["R1", "R2", "R3", "R4", ""],
        sku=["A", "A", "A", "B", "A"], qty=[1, 1, 2, 1, 1], condition=["完好", "完好", "破损", "完好", "完好"])
    got = _classified(requests, waybills, receipts)
    assert got == {
        "R1": None,                       # complete: received in good order and refunded
        "R2": "received_not_refunded",    # back in good order, refund still open
        "R3": "damaged",
        "R4": "sku_mismatch",
        "R5": cases.IN_TRANSIT,           # on its way: open, not a difference
        "R6": None,                       # withdrawn by the buyer, nothing sent
        "R7": "status_mismatch",          # refunded, signed for, not in the warehouse
        "R8": "waybill_without_request",
        "W9": "received_not_requested",
    }


def test_age_buckets_have_hand_worked_edges():
    days = pd.Series([0, 7, 8, 15, 16, 30, 31, 200], dtype="Int64")
    assert list(cases.age_bucket(days, [7, 15, 30])) == ["0-7", "0-7", "8-15", "8-15", "16-30", "16-30", ">30", ">30"]


# --- week and day cycles ----------------------------------------------------------------------------
WEEKS = ["2026-W40", "2026-W41", "2026-W42", "2026-W43", "2026-W44"]   # 28 Sep to 1 Nov


def test_the_weeks_of_a_month_find_its_problems_and_nothing_else(demo_dir):
    truth = {(t["category"], t["key"]) for t in truth_rows(demo_dir, "returns")}
    found = set()
    for week in WEEKS:
        run = returns.check(period=week, data_dir=demo_dir)
        assert str(run.period) == week
        problems = {(r.category, r.key) for r in run.problems().itertuples()}
        assert problems <= truth, week
        found |= problems
    assert found == truth


def test_a_return_signed_for_at_the_end_of_a_cycle_is_open_not_missing(demo_dir):
    month = returns.check(period="2026-10", data_dir=demo_dir)
    received = month.cases[month.cases["has_receipt"] & month.cases["category"].isna()]
    case = received.iloc[0]
    signed = pd.Timestamp(case["signed_date"]).date()
    run = returns.check(period=signed.isoformat(), data_dir=demo_dir)        # the day it was signed for
    row = run.cases[run.cases["key"] == case["key"]]
    assert len(row) == 1, "requested that day or carried in: the request is in the day's run"
    category = row["category"].iloc[0]
    assert pd.isna(category) or category == cases.IN_TRANSIT, category


def test_ages_count_to_the_end_of_the_cycle(demo_dir):
    run = returns.check(period="2026-W43", data_dir=demo_dir)   # ends Sunday 25 October
    open_ = run.open_returns()
    asked = open_[open_["has_request"]]
    assert len(asked) >= 3
    expected = (pd.Timestamp("2026-10-26") - pd.to_datetime(asked["request_time"].astype("datetime64[s]"))).dt.days
    assert [int(a) for a in asked["age_days"]] == [int(e) for e in expected]


def test_return_shipping_charged_on_the_courier_bills(check, demo_dir):
    waybills = set(check.cases.loc[check.cases["has_waybill"], "waybill_no"])
    want = {t["key"]: Decimal(t["amount_diff"]) for t in truth_rows(demo_dir, "courier_bill")
            if t["category"] == "return_billed_as_outbound" and t["key"] in waybills}
    assert want, "the demo bills some return waybills"
    charged = check.return_shipping_charged()
    assert dict(zip(charged["waybill_no"], charged["amount"])) == want
    assert set(charged["refund_id"]) <= set(check.cases["key"])
    assert check.kpis()["Return shipping charged 退货运费"] == sum(want.values())
