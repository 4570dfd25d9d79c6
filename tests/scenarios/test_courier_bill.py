"""The courier_bill scenario's check object on the demo month: every list matches the truth, per carrier."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
import yaml

from recon_helpers import cycles
from recon_helpers.errors import PeriodError, UsageError
from recon_helpers.scenarios import courier_bill
from recon_helpers.scenarios.courier_bill.platform import split_logistics
from recon_helpers.sources import load
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
            for cat in ("missing_on_right", "missing_on_left", "duplicate_on_right", "return_billed_as_outbound")}
    assert all(want.values()), "the demo injects each problem for every carrier"
    want["cancelled_before_pickup"] = {t["key"] for t in truth if t["category"] == "cancelled_before_pickup"}
    assert set(check.shipped_not_billed()["waybill_no"]) == want["missing_on_right"]
    assert set(check.billed_not_shipped()["waybill_no"]) == want["missing_on_left"]
    assert set(check.returns_billed_as_outbound()["waybill_no"]) == want["return_billed_as_outbound"]
    assert set(check.cancelled_before_pickup()["waybill_no"]) == want["cancelled_before_pickup"]
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


# --- what the references explain, the rule a fee breaks, the dispute list ---------------------------
def _explained(demo_dir) -> dict[str, str]:
    """waybill -> why a bill line for it is not our parcel, read from the reference files themselves."""
    returns = load(demo_dir / "courier" / "return_waybills.csv").table
    outbound = load(demo_dir / "wms" / "outbound.xlsx").table
    cancelled = outbound[outbound["status"] == "已取消"]
    return {**{w: "cancelled_before_pickup" for w in cancelled["waybill_no"].dropna()},
            **{w: "return_billed_as_outbound" for w in returns["waybill_no"]}}


def test_returns_and_cancelled_orders_billed_are_their_own_categories(check, demo_dir, tmp_path):
    """The engine calls every bill line we did not send missing_on_left; the reference files say why,
    and the check's exceptions (the table, exceptions.csv, the lists) carry the category of that why."""
    why = _explained(demo_dir)
    not_ours = {t["key"]: Decimal(t["amount_diff"]) for t in _truth(demo_dir, check.run)
                if t["category"] in courier_bill.NOT_OURS_CATEGORIES}
    raw = check.result.exceptions
    assert set(raw.loc[raw["category"] == "missing_on_left", "key"]) == set(not_ours)
    for reason, listed in (("return_billed_as_outbound", check.returns_billed_as_outbound()),
                           ("cancelled_before_pickup", check.cancelled_before_pickup()),
                           (None, check.billed_not_shipped())):
        want = {k: a for k, a in not_ours.items() if why.get(k) == reason}
        assert dict(zip(listed["waybill_no"], listed["amount"])) == want, reason
        category = reason or "missing_on_left"
        assert set(check.exceptions(category, "right")["key"]) == set(want), category
    assert any(why.get(k) == "return_billed_as_outbound" for k in not_ours), "the demo bills returns for every carrier"
    written = pd.read_csv(check.write(tmp_path)["exceptions"], dtype=str, encoding="utf-8-sig")
    in_csv = dict(zip(written.loc[written["side"] == "right", "key"], written.loc[written["side"] == "right", "category"]))
    assert {k: in_csv[k] for k in not_ours} == {k: why.get(k, "missing_on_left") for k in not_ours}
    assert "not_ours_reason" not in written.columns
    assert check.labels["return_billed_as_outbound"] == "return billed as outbound 退货按寄件计费"
    assert check.labels["cancelled_before_pickup"] == "billed after cancellation 取消后计费"


def test_each_fee_difference_names_the_rule_the_bill_broke(check, demo_dir):
    zone_of = {t["key"]: re.search(r"按(.+?)区价格计费", t["detail"]).group(1)
               for t in _truth(demo_dir, check.run) if t["category"] == "rate_card_violation"}
    table = check.fee_differences()
    for row in table.itertuples():
        if row.category == "rate_card_violation":
            assert row.rule.startswith(f"区域：按{zone_of[row.waybill_no]}区价格计费"), row.rule
        else:
            assert row.rule.startswith("计费重量：账单") and "按账单重量计价正确" in row.rule, row.rule


def test_the_dispute_list_holds_every_overcharge_once(check, demo_dir, tmp_path):
    why = _explained(demo_dir)
    assert all(why.get(t["key"], "missing_on_left") == t["category"] for t in _truth(demo_dir, check.run)
               if t["category"] in courier_bill.NOT_OURS_CATEGORIES)
    want = {(t["key"], t["category"]): Decimal(t["amount_diff"]) for t in _truth(demo_dir, check.run)
            if t["category"] != "missing_on_right" and Decimal(t["amount_diff"]) > 0}
    disputes = check.dispute_list()
    assert {(r.waybill_no, r.category): r.difference for r in disputes.itertuples()} == want
    assert disputes["reason"].str.len().gt(4).all()
    written = check.write(tmp_path)["disputes"]
    assert written.name == f"dispute_{check.run}.xlsx"
    sheet = openpyxl.load_workbook(written).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:5] == ("运单号", "差异类型", "账单金额", "应付金额", "多收金额")
    assert rows[-1][0] == "合计" and Decimal(str(rows[-1][4])).quantize(Decimal("0.01")) == check.overcharge()
    assert len(rows) == len(disputes) + 3


def test_outcomes_add_up_to_the_billed_and_the_expected_totals(check):
    table = check.totals_by_category()
    assert sum(table["billed"], Decimal("0")) == check.kpis()["Billed total 账单金额"]
    assert sum(table["expected"], Decimal("0")) == check.kpis()["Expected total 按价目表应付"]
    days = check.totals_by_day()
    assert sum(days["billed"], Decimal("0")) == check.kpis()["Billed total 账单金额"]
    assert sum(days["overcharge"], Decimal("0")) == check.overcharge()


def test_a_heavier_billed_weight_within_the_tolerance_is_accepted(check):
    heavy = set(check.exceptions("weight_mismatch")["key"])
    assert heavy
    lenient = dataclasses.replace(check, settings={**check.settings, "weight_tolerance_kg": "50"})
    assert lenient.exceptions("weight_mismatch").empty
    assert set(lenient.exceptions("out_of_scope")["key"]) == heavy
    assert lenient.overcharge() < check.overcharge()


def test_a_price_change_mid_month_prices_each_shipment_by_its_ship_date(demo_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    card = yaml.safe_load((data / "rate_cards" / "sf.yaml").read_text(encoding="utf-8"))
    (data / "rate_cards" / "sf.yaml").write_text(yaml.safe_dump({**card, "effective_to": "2026-10-14"}, allow_unicode=True),
                                                 encoding="utf-8")
    dearer = [{**z, "first_price": f"{Decimal(z['first_price']) + 1:.2f}"} for z in card["zones"]]
    (data / "rate_cards" / "sf_2026-10-15.yaml").write_text(
        yaml.safe_dump({**card, "effective_from": "2026-10-15", "zones": dearer}, allow_unicode=True), encoding="utf-8")
    before = courier_bill.check(period="2026-10", data_dir=demo_dir, carrier="sf")
    after = courier_bill.check(period="2026-10", data_dir=data, carrier="sf")
    assert len(after.book.cards) == 2
    late = after.priced[pd.to_datetime(after.priced["txn_time"].astype("datetime64[s]")) >= "2026-10-15"]
    fine_before = (set(before.priced["waybill_no"]) - set(before.fee_differences()["waybill_no"])
                   - set(before.shipped_not_billed()["waybill_no"]))
    # every shipment from the 15th that was billed at the old price now costs 1.00 more than billed
    newly = after.fee_differences()
    newly = newly[~newly["waybill_no"].isin(set(before.fee_differences()["waybill_no"]))]
    assert set(newly["waybill_no"]) == set(late["waybill_no"]) & fine_before
    assert set(newly["difference"]) == {Decimal("-1.00")} and set(newly["category"]) == {"rate_card_violation"}
    assert len(newly) > 5


# --- our side from the platforms' order exports ------------------------------------------------------
@pytest.mark.parametrize("text, parcels", [
    ("No:SF1234567890123", [("SF1234567890123", None)]),
    ("顺丰速运:SF1234567890123", [("SF1234567890123", "顺丰速运")]),
    ("中通快递：78331802002", [("78331802002", "中通快递")]),
    ("YT7512040000125-圆通速递", [("YT7512040000125", "圆通速递")]),
    ("SF1402318000317", [("SF1402318000317", None)]),
    ("No:SF1111111111; No:SF2222222222", [("SF1111111111", None), ("SF2222222222", None)]),
    ("", []), (None, []), ("买家自提", []),
])
def test_the_waybill_and_carrier_are_read_from_the_logistics_column(text, parcels):
    assert split_logistics(text) == parcels


def test_from_the_platform_exports_the_waybill_outcomes_are_those_of_the_erp(check, demo_dir):
    platform = courier_bill.check(period="2026-10", data_dir=demo_dir, carrier=check.run, our_side="platform")
    ours = set(platform.priced["waybill_no"])
    # parcels the exports do not name (JD's export has no waybill column; 补发 re-shipments have no order)
    unnamed = set(check.priced["waybill_no"]) - ours
    assert unnamed and ours <= set(check.priced["waybill_no"])

    def listed(c, method):
        return set(getattr(c, method)()["waybill_no"])

    for method in ("shipped_not_billed", "charged_twice", "returns_billed_as_outbound", "cancelled_before_pickup"):
        assert listed(platform, method) == listed(check, method) - unnamed, method
    billed_unnamed = set(check.bill["waybill_no"]) & unnamed
    assert listed(platform, "billed_not_shipped") == listed(check, "billed_not_shipped") | billed_unnamed
    # priced at the billed weight: price and zone errors remain, weight disputes need our own scale
    fees = platform.fee_differences()
    assert set(fees["category"]) <= {"rate_card_violation"}
    wrong_zone = check.fee_differences()
    wrong_zone = wrong_zone[wrong_zone["category"] == "rate_card_violation"]
    assert set(fees["waybill_no"]) == set(wrong_zone["waybill_no"]) - unnamed
    # ... and the report says so plainly instead of an empty weight-dispute list
    assert platform.kpis()["Weights 重量核对"].startswith("未核对 NOT checked")
    assert check.kpis()["Weights 重量核对"].startswith("已核对 checked") and "0.2 kg" in check.kpis()["Weights 重量核对"]


def test_our_side_must_be_erp_or_platform(demo_dir):
    with pytest.raises(UsageError, match="our_side 'excel' is unknown"):
        courier_bill.check(period="2026-10", data_dir=demo_dir, carrier="sf", our_side="excel")


# --- day, week and month cycles ---------------------------------------------------------------------
def _truth_days(demo_dir, code: str) -> dict[tuple[str, str], dt.date]:
    """(category, waybill) -> the day the truth row belongs to: our ship day for a parcel not billed,
    else the bill line's day, read from the files."""
    ships = load(demo_dir / "erp" / "shipments.csv").table
    ship_day = dict(zip(ships["waybill_no"], cycles.day_of(ships["txn_time"])))
    which = courier_bill.carrier(code)
    bill = load(demo_dir / which.bill_file, template=which.bill_template).table
    bill_day = dict(zip(bill["waybill_no"], cycles.day_of(bill["txn_time"])))
    return {(t["category"], t["key"]): (ship_day if t["category"] == "missing_on_right" else bill_day)[t["key"]]
            for t in _truth(demo_dir, code)}


def _found(c) -> set[tuple[str, str]]:
    return {(r.category, r.key) for r in c.exception_table.itertuples() if r.category != "out_of_scope"}


def test_a_day_run_finds_exactly_that_days_discrepancies(demo_dir):
    days = _truth_days(demo_dir, "sf")
    for day in sorted(set(days.values()))[:6] + [dt.date(2026, 10, 31)]:
        c = courier_bill.check(period=day.isoformat(), data_dir=demo_dir, carrier="sf")
        assert str(c.period) == day.isoformat() and c.period.kind == "day"
        assert _found(c) == {k for k, d in days.items() if d == day}, day
        assert set(cycles.day_of(c.bill["txn_time"])) <= {day}


def test_a_week_that_spans_two_months_holds_its_october_days(demo_dir, tmp_path):
    days = _truth_days(demo_dir, "zto")
    c = courier_bill.check(period="2026-W44", data_dir=demo_dir, carrier="zto")   # 26 Oct to 1 Nov
    assert (c.period.first_day, c.period.last_day) == (dt.date(2026, 10, 26), dt.date(2026, 11, 1))
    assert _found(c) == {k for k, d in days.items() if dt.date(2026, 10, 26) <= d}
    assert c.write(tmp_path)["exceptions"].parent == tmp_path / "2026-W44" / "courier_bill" / "zto"


def test_a_parcel_billed_the_next_day_is_a_timing_difference_not_missing(demo_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    before = courier_bill.check(period="2026-10", data_dir=demo_dir, carrier="yto")
    disputed = set(before.exception_table["key"])
    ours = before.priced[~before.priced["waybill_no"].isin(disputed)]
    ours = ours[cycles.day_of(ours["txn_time"]) < dt.date(2026, 10, 30)]
    waybill, shipped = ours["waybill_no"].iloc[0], cycles.day_of(ours["txn_time"]).iloc[0]
    bill = data / "courier" / "yto_bill.csv"
    lines = bill.read_bytes().decode("gbk").split("\r\n")
    lines = [ln.replace(shipped.isoformat(), (shipped + dt.timedelta(days=1)).isoformat()) if ln.startswith(waybill) else ln
             for ln in lines]
    bill.write_bytes("\r\n".join(lines).encode("gbk"))

    ship_day = courier_bill.check(period=shipped.isoformat(), data_dir=data, carrier="yto")
    bill_day = courier_bill.check(period=(shipped + dt.timedelta(days=1)).isoformat(), data_dir=data, carrier="yto")
    assert waybill not in set(ship_day.shipped_not_billed()["waybill_no"])
    assert waybill not in set(bill_day.billed_not_shipped()["waybill_no"])
    assert list(ship_day.timing_differences()["waybill_no"]) == [waybill]
    assert list(bill_day.timing_differences()["waybill_no"]) == [waybill]
    assert "跨期" in ship_day.timing_differences()["detail"].iloc[0]
    # the month sees both rows and matches them
    assert waybill not in set(courier_bill.check(period="2026-10", data_dir=data, carrier="yto").exception_table["key"])


@pytest.mark.parametrize("text, first, last, kind", [
    ("2026-10", dt.date(2026, 10, 1), dt.date(2026, 10, 31), "month"),
    ("2026-W42", dt.date(2026, 10, 12), dt.date(2026, 10, 18), "week"),
    ("2026-W44", dt.date(2026, 10, 26), dt.date(2026, 11, 1), "week"),
    ("2026-W01", dt.date(2025, 12, 29), dt.date(2026, 1, 4), "week"),     # ISO week 1 starts in December
    ("2026-10-15", dt.date(2026, 10, 15), dt.date(2026, 10, 15), "day"),
])
def test_cycles_on_hand_worked_dates(text, first, last, kind):
    c = cycles.Cycle.parse(text)
    assert (c.first_day, c.last_day, c.kind, str(c)) == (first, last, kind, text)


def test_a_cycle_that_is_no_date_is_refused():
    for text in ("2026-W54", "2026-13", "2026-02-30", "Oct 2026"):
        with pytest.raises(PeriodError):
            cycles.Cycle.parse(text)


def test_the_next_cycle():
    assert str(cycles.Cycle.parse("2026-10-31").next()) == "2026-11-01"
    assert str(cycles.Cycle.parse("2026-W52").next()) == "2026-W53"
    assert str(cycles.Cycle.parse("2026-12").next()) == "2027-01"


def test_the_summary_puts_every_carrier_side_by_side(demo_dir):
    table = courier_bill.summary(period="2026-10", data_dir=demo_dir)
    assert list(table["carrier"]) == ["sf", "zto", "yto", "jdl"]
    for row in table.itertuples():
        truth = _truth(demo_dir, row.carrier)
        assert row.overcharged == sum((Decimal(t["amount_diff"]) for t in truth
                                       if t["category"] != "missing_on_right" and Decimal(t["amount_diff"]) > 0), Decimal("0"))
        assert row.not_yet_billed == -sum((Decimal(t["amount_diff"]) for t in truth if t["category"] == "missing_on_right"),
                                          Decimal("0"))
