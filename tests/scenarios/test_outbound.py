"""The outbound scenario: on the demo month every list holds exactly the orders the truth names, and the
rules the recipe cannot express (promised hours, closed orders, SKU lines, parcels) on hand-worked rows."""
from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pandas as pd
import pytest

from recon_helpers import cycles
from recon_helpers.errors import UsageError
from recon_helpers.scenarios import outbound, scenario
from recon_helpers.scenarios.outbound import rules
from recon_helpers.testing import canonical_frame, truth_rows

SETTINGS = scenario("outbound").settings


@pytest.fixture(scope="module")
def check(demo_dir):
    return outbound.check(period="2026-10", data_dir=demo_dir)


def _truth(demo_dir, category: str) -> dict[str, dict[str, str]]:
    return {t["key"]: t for t in truth_rows(demo_dir, "outbound") if t["category"] == category}


LISTS = {"missing_on_right": "paid_not_shipped", "missing_on_left": "shipped_without_order",
         "qty_mismatch": "quantity_differences", "status_mismatch": "shipped_after_cancellation",
         "shipped_late": "shipped_late"}


@pytest.mark.parametrize("category, method", LISTS.items())
def test_each_list_holds_exactly_the_orders_of_the_truth(check, demo_dir, category, method):
    want = _truth(demo_dir, category)
    if category != "shipped_late":
        assert want, f"the demo injects {category}"
    assert set(getattr(check, method)()["order_id"]) == set(want)


def test_nothing_else_needs_action(check, demo_dir):
    found = {(r.category, r.key) for r in check.problems().itertuples()}
    assert found == {(t["category"], t["key"]) for t in truth_rows(demo_dir, "outbound")}
    assert check.sku_differences().empty


def test_quantity_differences_are_shipped_minus_ordered(check, demo_dir):
    want = {k: int(t["qty_diff"]) for k, t in _truth(demo_dir, "qty_mismatch").items()}
    table = check.quantity_differences()
    assert dict(zip(table["order_id"], table["difference"].astype(int))) == want
    assert list(table["partial"]) == [d < 0 for d in table["difference"]]


def test_closed_orders_never_sent_to_the_warehouse_are_not_missing(check):
    idle = check.not_yet_due()
    assert len(idle) >= 1
    assert set(idle["order_status"]) <= set(SETTINGS["closed_statuses"])
    assert not set(idle["order_id"]) & set(check.paid_not_shipped()["order_id"])


def test_an_order_inside_its_promised_time_is_not_yet_due(check, demo_dir):
    late_one = check.paid_not_shipped().sort_values("order_time").iloc[-1]
    just_before_due = pd.Timestamp(late_one["order_time"]) + pd.Timedelta(hours=47)
    earlier = outbound.check(period="2026-10", data_dir=demo_dir, as_of=str(just_before_due))
    assert late_one["order_id"] not in set(earlier.paid_not_shipped()["order_id"])
    assert late_one["order_id"] in set(earlier.not_yet_due()["order_id"])


def test_paid_not_shipped_carries_the_order_money(check):
    table = check.paid_not_shipped()
    assert table["order_amount"].notna().all()
    assert check.kpis()["Not shipped money 未发货金额"] == sum(table["order_amount"], Decimal("0.00"))


def test_a_shop_on_fewer_platforms_uses_the_exports_it_has(demo_dir, tmp_path):
    for rel in ("shop/taobao_orders.csv", "shop/pdd_orders.csv", "wms/outbound.xlsx"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(demo_dir / rel, tmp_path / rel)
    partial = outbound.check(period="2026-10", data_dir=tmp_path)
    assert set(partial.inputs) == {"taobao_orders", "pdd_orders", "outbound"}
    # the JD and Douyin orders' outbound rows now have no order: shipped without an order
    assert len(partial.shipped_without_order()) > 3
    (tmp_path / "shop/taobao_orders.csv").unlink()
    (tmp_path / "shop/pdd_orders.csv").unlink()
    with pytest.raises(UsageError, match="no platform order export found"):
        outbound.check(period="2026-10", data_dir=tmp_path)


# --- the rules on hand-worked rows ------------------------------------------------------------------
def test_promised_hours_per_platform_with_a_default():
    hours = rules.promise_hours(pd.Series(["taobao", "kuaishou"]), {"promise_hours": {"taobao": 24, "default": 72}})
    assert list(hours) == [24, 72]
    with pytest.raises(UsageError, match="default"):
        rules.promise_hours(pd.Series(["taobao"]), {"promise_hours": {"taobao": 24}})


def test_late_means_strictly_after_the_promised_hour():
    start = pd.Series(pd.to_datetime(["2026-10-01 10:00:00"] * 2)).astype("timestamp[s][pyarrow]")
    end = pd.Series(pd.to_datetime(["2026-10-03 10:00:00", "2026-10-03 10:00:01"])).astype("timestamp[s][pyarrow]")
    hours = rules.hours_between(start, end)
    assert list(hours > 48) == [False, True]
    assert rules.due_by(start, pd.Series([48, 24])).tolist() == [pd.Timestamp("2026-10-03 10:00"), pd.Timestamp("2026-10-02 10:00")]


def test_order_money_jd_repeats_the_total_douyin_lists_lines():
    orders = pd.concat([
        canonical_frame("jd.xlsx", order_id=["J1", "J1"], amount=["197.90", "197.90"], template=["jd_orders"] * 2),
        canonical_frame("dy.csv", order_id=["D1", "D1"], amount=["64.90", "35.10"], template=["douyin_orders"] * 2),
    ], ignore_index=True)
    money = rules.order_amounts(orders, SETTINGS)
    assert dict(zip(money["order_id"], money["order_amount"])) == {"J1": Decimal("197.90"), "D1": Decimal("100.00")}


def test_sku_differences_only_where_both_sides_name_every_line():
    orders = canonical_frame("o.csv", order_id=["A", "A", "B", "C"], sku=["X", "Y", "X", None], qty=[1, 1, 2, 1])
    shipped = canonical_frame("w.xlsx", order_id=["A", "A", "B", "C"], sku=["X", "Z", "X", "Q"], qty=[1, 1, 2, 1],
                              status=["已出库"] * 4)
    diffs = rules.sku_differences(orders, shipped, SETTINGS)
    assert diffs.to_dict("records") == [{"order_id": "A", "ordered": "X×1、Y×1", "shipped": "X×1、Z×1"}]


def test_split_and_merged_parcels():
    rows = canonical_frame("w.xlsx", order_id=["A", "A", "B", "C", "D"], waybill_no=["W1", "W2", "W3", "W3", None],
                           status=["已出库", "已出库", "已出库", "已出库", "已出库"], qty=[1, 1, 1, 1, 1])
    split, merged = rules.parcels(rows, SETTINGS)
    assert split.to_dict("records") == [{"order_id": "A", "waybills": "W1、W2", "parcels": 2}]
    assert merged.to_dict("records") == [{"waybill_no": "W3", "orders": "B、C", "order_count": 2}]


def test_as_of_reads_a_date_or_refuses_clearly():
    assert rules.as_of_moment(dt.date(2026, 10, 31), "") == dt.datetime(2026, 11, 1)
    assert rules.as_of_moment(dt.date(2026, 10, 31), "2026-10-15 09:00") == dt.datetime(2026, 10, 15, 9)
    with pytest.raises(UsageError, match="as_of"):
        rules.as_of_moment(dt.date(2026, 10, 31), "15/10/2026")


# --- daily incremental runs -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def day_runs(demo_dir):
    files = outbound.load_inputs(demo_dir)
    return {day: outbound.check(period=day.isoformat(), data_dir=demo_dir, loaded=files)
            for day in cycles.Cycle.parse("2026-10").days}


def test_the_days_of_a_month_find_the_months_discrepancies_and_nothing_else(day_runs, demo_dir):
    truth = {(t["category"], t["key"]) for t in truth_rows(demo_dir, "outbound")}
    found = [{(r.category, r.key) for r in run.problems().itertuples()} for run in day_runs.values()]
    assert set().union(*found) == truth
    # each problem is found on one day, except an order never shipped: open every day from its due day on
    unshipped = {k for c, k in truth if c == "missing_on_right"}
    for pair in truth - {("missing_on_right", k) for k in unshipped}:
        assert sum(pair in f for f in found) == 1, pair


def test_an_open_order_carries_into_the_next_day_until_it_is_due(day_runs, check):
    order = check.paid_not_shipped().iloc[0]
    ordered = pd.Timestamp(order["order_time"]).date()
    due = (pd.Timestamp(order["order_time"]) + pd.Timedelta(hours=48)).date()
    for day, run in day_runs.items():
        listed = set(run.paid_not_shipped()["order_id"])
        waiting = set(run.not_yet_due()["order_id"])
        if day < ordered:
            assert order["order_id"] not in listed | waiting
        elif day < due:
            assert order["order_id"] in waiting, day
        else:
            assert order["order_id"] in listed, day
        if day > ordered:
            assert order["order_id"] in set(run.carried_in()["order_id"])


def test_an_order_shipped_the_next_day_is_matched_the_next_day(day_runs):
    for day, run in list(day_runs.items())[1:]:
        carried = run.carried_in()
        shipped = carried[carried["category"] == "shipped 已出库"]
        assert not shipped.empty or day.day > 29, day   # the demo ships most orders within two days
        assert run.kpis()["Carried in 上期结转"] == len(carried)


def test_a_week_spanning_two_months(demo_dir):
    run = outbound.check(period="2026-W44", data_dir=demo_dir)
    assert str(run.period) == "2026-W44" and run.as_of == dt.datetime(2026, 11, 2)
    days = cycles.day_of(run.outbound_lines["txn_time"])
    assert days.min() >= dt.date(2026, 10, 26)


# --- courier pickups ------------------------------------------------------------------------------
def test_shipped_waybills_the_carriers_never_picked_up_are_listed(check, demo_dir):
    """The couriers' bills are their pickup records: a waybill the warehouse shipped that no bill names."""
    assert {"sf_pickups", "zto_pickups", "yto_pickups", "jdl_pickups"} <= set(check.inputs)
    billed = set()
    for name in ("sf_pickups", "zto_pickups", "yto_pickups", "jdl_pickups"):
        billed |= set(check.inputs[name].table["waybill_no"].astype(str))
    wms = check.inputs["outbound"].table
    shipped = wms[(wms["status"] == "已出库").to_numpy(dtype=bool)]
    never = shipped[~shipped["waybill_no"].astype(str).isin(billed).to_numpy(dtype=bool)]
    listed = check.not_picked_up()
    assert set(listed["waybill_no"]) == set(never["waybill_no"]) and len(listed) >= 4
    assert set(listed["order_id"]) == set(_truth(demo_dir, "not_picked_up"))
    assert listed["detail"].str.contains("无揽收记录").all()
    assert check.kpis()["Not picked up 已出库未揽收"] == len(listed)
    assert check.labels["not_picked_up"] == "shipped, never picked up 已出库未揽收"


def test_pieces_the_carrier_counted_differently_are_exactly_the_truth_and_multi_piece_waybills_are_not(check, demo_dir):
    """The demo sends a few SF orders as two-piece consignments (件数 2 in the ERP, the WMS and SF's bill)
    and SF bills a few waybills with one piece more than sent; only those are listed."""
    wms = check.inputs["outbound"].table
    multi = set(wms.loc[(wms["pieces"] > 1).fillna(False).to_numpy(dtype=bool), "order_id"])
    want = _truth(demo_dir, "pickup_count_mismatch")
    listed = check.pickup_count_differences()
    assert len(multi) >= 3 and len(want) >= 2
    assert set(listed["order_id"]) == set(want)
    assert multi - set(want), "some multi-piece waybills are billed with their right count"
    assert (listed["carrier"] == "顺丰速运").all() and listed["detail"].str.contains("sf揽收").all()
    two = listed[listed["order_id"].isin(multi)]
    assert len(two) and two["detail"].str.contains("共2件").all() and two["detail"].str.endswith("揽收3件").all()
    assert check.kpis()["Pickup count differs 揽收件数不符"] == len(want)


def _wms(*rows) -> pd.DataFrame:
    """Hand-made shipped outbound rows: (order, waybill, carrier, day)."""
    return pd.DataFrame({"source_file": "wms/outbound.xlsx", "source_row": range(2, 2 + len(rows)),
                         "order_id": [r[0] for r in rows], "waybill_no": [r[1] for r in rows],
                         "carrier": [r[2] for r in rows], "status": "已出库",
                         "txn_time": pd.to_datetime([r[3] for r in rows])})


def _records(carrier: str, names: tuple[str, ...], *lines) -> outbound.pickups.Pickups:
    """Hand-made pickup lines: (waybill, day, pieces or None)."""
    table = pd.DataFrame({"waybill_no": [x[0] for x in lines], "txn_time": pd.to_datetime([x[1] for x in lines]),
                          "qty": pd.array([x[2] for x in lines], dtype="Int64")})
    return outbound.pickups.Pickups(carrier, names, table)


COLUMNS = ["side", "source_file", "source_row", "key", "amount", "category", "detail", "candidates", "group_id", "rule"]


def test_pickups_on_hand_made_rows():
    wms = _wms(("A1", "SF1", "顺丰速运", "2026-10-05"),            # picked up
               ("A2", "SF2", "顺丰速运", "2026-10-05"),            # never picked up
               ("A3", "SF3", "顺丰速运", "2026-10-06"),            # one waybill, the courier counted 2 pieces
               ("A4", "SF4", "顺丰速运", "2026-10-06"),            # split: two waybills, both picked up once
               ("A4", "SF5", "顺丰速运", "2026-10-06"),
               ("A5", "SF6", "顺丰速运", "2026-10-09"),            # after the courier's last record: not yet due
               ("A6", "ZT1", "中通快递", "2026-10-05"))            # no ZTO records in the folder: not compared
    sf = _records("sf", ("顺丰速运", "顺丰"), ("SF1", "2026-10-05", 1), ("SF1", "2026-10-05", 1),  # billed twice: one pickup
                  ("SF3", "2026-10-06", 2), ("SF4", "2026-10-07", None), ("sf5 ", "2026-10-07", None))
    found = outbound.pickups.differences(wms, [sf], ["已出库"], COLUMNS)
    assert list(zip(found["category"], found["key"])) == [("not_picked_up", "A2"), ("pickup_count_mismatch", "A3")]
    assert found.loc[found["key"] == "A3", "detail"].iloc[0] == "仓库出库1个包裹（SF3），sf揽收2件"
    assert (found["side"] == "right").all() and list(found["source_row"]) == [3, 4]


def test_a_multi_piece_waybill_counts_its_pieces_on_both_sides():
    wms = _wms(("B1", "SF1", "顺丰速运", "2026-10-05"), ("B1", "SF1", "顺丰速运", "2026-10-05"),  # two lines, 2 pieces
               ("B2", "SF2", "顺丰速运", "2026-10-05"),            # 2 pieces sent, the courier counted 3
               ("B3", "SF3", "顺丰速运", "2026-10-05"))            # no 件数 in the WMS row: one parcel
    wms["pieces"] = pd.array([2, 2, 2, None], dtype="Int64")
    sf = _records("sf", ("顺丰速运",), ("SF1", "2026-10-05", 2), ("SF2", "2026-10-05", 3), ("SF3", "2026-10-05", 2))
    found = outbound.pickups.differences(wms, [sf], ["已出库"], COLUMNS)
    assert list(zip(found["category"], found["key"])) == [("pickup_count_mismatch", "B2"), ("pickup_count_mismatch", "B3")]
    assert list(found["detail"]) == ["仓库出库1个运单共2件（SF2），sf揽收3件", "仓库出库1个包裹（SF3），sf揽收2件"]


def test_a_cancelled_outbound_is_not_expected_at_pickup():
    wms = _wms(("A1", "SF1", "顺丰速运", "2026-10-05")).assign(status="已取消")
    sf = _records("sf", ("顺丰速运",), ("SF9", "2026-10-06", 1))
    assert outbound.pickups.differences(wms, [sf], ["已出库"], COLUMNS).empty
