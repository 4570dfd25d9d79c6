"""The collections scenario on the demo month, per platform, and its rules on hand-worked cases."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from recon_helpers.errors import TemplateError, UsageError
from recon_helpers.scenarios import collections, scenario
from recon_helpers.scenarios.base import age_bucket
from recon_helpers.scenarios.collections import AGE_BUCKETS, flows
from recon_helpers.scenarios.collections.fees import FeeSchedule, check_fees, fee_at, fee_schedule, read_schedule
from recon_helpers.testing import canonical_frame, truth_rows

PLATFORMS = ["taobao", "wechat", "jd", "pdd", "douyin"]


def _truth(demo_dir, platform: str) -> list[dict[str, str]]:
    keys = set(scenario("collections").run_settings(platform).get("truth_keys", [platform]))
    return [t for t in truth_rows(demo_dir, "collections") if t["key2"] in keys]


@pytest.fixture(scope="module", params=PLATFORMS)
def check(request, demo_dir):
    return collections.check(period="2026-10", data_dir=demo_dir, platform=request.param)


def test_every_hop_finds_exactly_the_injected_problems(check, demo_dir):
    truth = _truth(demo_dir, check.run)
    assert truth, "the demo injects problems for every platform"
    exc = check.exceptions()
    found = {(r.category, r.key) for r in exc.itertuples() if r.category != "out_of_scope"}
    assert found == {(t["category"], t["key"]) for t in truth}


def test_over_and_under_settlement_carry_the_exact_difference(check, demo_dir):
    want = {t["key"]: Decimal(t["amount_diff"]) for t in _truth(demo_dir, check.run) if t["category"] == "amount_mismatch"}
    table = check.settlement_differences()
    assert dict(zip(table["key"], table["difference"])) == want
    for row in table.itertuples():
        assert row.received - row.expected == row.difference
        assert row.direction.startswith("over" if row.difference > 0 else "under")


def test_payouts_never_credited_are_listed_with_their_amount(check, demo_dir):
    want = {t["key"]: -Decimal(t["amount_diff"]) for t in _truth(demo_dir, check.run)
            if t["category"] == "missing_on_right" and t["key2"] != "taobao"}
    table = check.payouts_not_credited()
    assert dict(zip(table["payout"], table["amount"])) == want
    assert check.kpis()["Not credited 未到账"] == sum(want.values(), Decimal("0.00"))


def test_fees_on_the_demo_are_at_the_contract_rate(check):
    fees = check.fee_check()
    assert len(fees) > 0 and set(fees["verdict"]) == {"ok"}
    assert (fees["expected"] == fees["taken"]).all()


def test_the_month_ties_out_hop_by_hop(check, demo_dir):
    t = dict(zip([s.split()[0] + " " + s.split()[1] for s in check.tie_out()["step"]], check.tie_out()["amount"]))
    assert t["settled gross"] + t["other income"] + t["fees 平台费用"] + t["refunds 退款"] + t["other movements"] == t["net settled"]
    assert t["net settled"] - t["paid out"] == t["left in"]
    differences = check.settlement_differences()
    payouts = differences.loc[differences["hop"] == "payouts_bank", "difference"]
    assert t["credited at"] - (t["paid out"] - t["not credited"]) == t["credited differently"] == sum(payouts, Decimal("0.00"))
    if check.orders_result is not None:  # completed orders - settled = the unsettled and the short settled ones
        orders = differences.loc[differences["hop"] == "orders_settlement", "difference"]
        completed = check.unsettled_orders()
        completed = completed[completed["reason"].str.startswith("completed")]
        assert t["orders completed"] - t["settled gross"] == sum(completed["amount"], Decimal("0.00")) - sum(orders, Decimal("0.00"))


def test_the_cash_chart_accounts_for_every_credit(check):
    cash = check.cash_by_day()
    assert len(cash) == 31 and cash["day"].iloc[0] == dt.date(2026, 10, 1)
    tie = dict(zip(check.tie_out()["step"], check.tie_out()["amount"]))
    assert cash["received_to_date"].iloc[-1] == tie["credited at the bank 银行到账"]
    assert cash["expected_to_date"].iloc[-1] == tie["paid out 结算打款"]
    fig = check.cash_chart()
    assert [t.name for t in fig.data][:2] == ["expected 应到 (day)", "received 到账 (day)"]


def test_the_workbook_has_a_sheet_per_list_with_numbers_for_money(check, tmp_path):
    written = check.write(tmp_path)
    assert {"links", "exceptions", "summary", "workbook"} <= set(written)
    book = openpyxl.load_workbook(written["workbook"])
    lists = check.lists()
    assert len(book.sheetnames) == len(lists)
    sheet = book[book.sheetnames[0]]  # the tie-out
    assert sheet.freeze_panes == "A2" and sheet["A1"].value == "step" and sheet["A1"].font.bold
    amounts = [sheet.cell(row=r, column=2) for r in range(2, sheet.max_row + 1)]
    assert amounts and all(isinstance(c.value, (int, float, Decimal)) for c in amounts)
    assert all(c.number_format.startswith("#,##0.00") for c in amounts)
    assert [Decimal(str(c.value)).quantize(Decimal("0.01")) for c in amounts] == list(check.tie_out()["amount"])


def test_taobao_unsettled_orders_are_aged_and_listed_for_follow_up(demo_dir):
    check = collections.check(period="2026-10", data_dir=demo_dir, platform="taobao")
    unsettled = check.unsettled_orders()
    missing = {t["key"]: -Decimal(t["amount_diff"]) for t in _truth(demo_dir, "taobao")
               if t["category"] == "missing_on_right" and t["key2"] == "taobao"}
    completed = unsettled[unsettled["status"] == "交易成功"]
    assert dict(zip(completed["order_id"], completed["amount"])) == missing
    # orders still awaiting shipment are followed up too; closed ones never pay and are left out
    assert set(unsettled["status"]) == {"交易成功", "买家已付款，等待卖家发货"}
    for row in unsettled.itertuples():
        assert row.age_days == (dt.date(2026, 10, 31) - row.ordered).days
        assert row.age_bucket == age_bucket(row.age_days, AGE_BUCKETS)
    aging = check.aging()
    assert list(aging["age_bucket"]) == [b[0] for b in AGE_BUCKETS]
    assert aging["orders"].sum() == len(unsettled) and sum(aging["amount"]) == sum(unsettled["amount"])
    # aged later, the same orders move to older buckets
    later = collections.check(period="2026-10", data_dir=demo_dir, platform="taobao", as_of="2027-01-15").aging()
    assert later.set_index("age_bucket").loc["over 60 days 60天以上", "orders"] == len(unsettled)


def test_age_buckets_on_their_edges():
    got = [age_bucket(d, AGE_BUCKETS).split()[0] for d in (0, 7, 8, 30, 31, 60, 61, 400)]
    assert got == ["0-7", "0-7", "8-30", "8-30", "31-60", "31-60", "over", "over"]
    assert age_bucket(-1, AGE_BUCKETS) == ""


# ------------------------------------------------------------------------------ fee rates by hand
def _schedule(**fees) -> FeeSchedule:
    return FeeSchedule.model_validate({"platform": "x", "title": "t", "fees": fees})


def test_a_fee_is_rounded_half_up_to_the_fen():
    assert fee_at(Decimal("0.25"), Decimal("0.02")) == Decimal("0.01")  # 0.005 -> 0.01, not banker's 0.00
    assert fee_at(Decimal("64.90"), Decimal("0.006")) == Decimal("0.39")
    assert fee_at(Decimal("199.00"), Decimal("0.03")) == Decimal("5.97")


def test_the_fee_check_uses_the_category_rate_and_names_what_is_off():
    schedule = _schedule(佣金={"rate": "3%", "categories": {"家用电器": "2%"}}, 佣金2={"rate": ["0%", "3%"]})
    lines = pd.DataFrame({
        "key": ["A", "B", "C", "D", "E", "F"],
        "fee": ["佣金", "佣金", "佣金", "佣金2", "佣金2", "服务费"],
        "category": ["家用电器", "家用电器", None, None, None, None],
        "base": [Decimal("199.00"), Decimal("199.00"), Decimal("100.00"), Decimal("100.00"), Decimal("100.00"), Decimal("10.00")],
        "taken": [Decimal("3.98"), Decimal("5.97"), Decimal("2.50"), Decimal("0.00"), Decimal("2.00"), Decimal("1.00")],
        "source_row": [2, 3, 4, 5, 6, 7],
    })
    out = check_fees(lines, schedule).set_index("key")
    assert out.loc["A", "verdict"] == "ok" and out.loc["A", "expected"] == Decimal("3.98")
    assert out.loc["B", "verdict"] == "over" and out.loc["B", "difference"] == Decimal("1.99")  # charged 3%, contract 2%
    assert out.loc["C", "verdict"] == "under" and out.loc["C", "difference"] == Decimal("-0.50")  # default rate 3%
    assert out.loc["D", "verdict"] == "ok"  # 0% is one of the allowed rates
    assert out.loc["E", "expected"] == Decimal("3.00") and out.loc["E", "difference"] == Decimal("-1.00")
    assert out.loc["F", "verdict"] == "not in contract"


def test_a_commission_above_the_contract_is_found_in_a_real_settlement(demo_dir):
    check = collections.check(period="2026-10", data_dir=demo_dir, platform="jd")
    settlement = check.settlement.copy()
    row = settlement.index[settlement["txn_type"] == "佣金"][0]
    settlement.loc[row, "amount"] = settlement.loc[row, "amount"] - Decimal("1.23")
    lines = flows.fee_lines(settlement, "jd_settlement", orders=check.orders, products=check.products)
    out = check_fees(lines, check.schedule)
    off = out[out["verdict"] != "ok"]
    assert list(off["difference"]) == [Decimal("1.23")] and list(off["verdict"]) == ["over"]
    assert off["source_row"].iloc[0] == settlement.loc[row, "source_row"]


def test_fee_schedules_are_validated_with_the_file_named(tmp_path):
    assert fee_schedule("jd").fees["佣金"].rates("日用清洁") == [Decimal("0.05")]
    assert fee_schedule("douyin").fees["佣金"].rates(None) == [Decimal("0"), Decimal("0.03")]
    bad = tmp_path / "jd.yaml"
    bad.write_text("platform: jd\ntitle: t\nfees:\n  佣金: {rate: 3 percent}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"jd\.yaml.*fees\.佣金\.rate"):
        read_schedule(bad)
    bad.write_text("platform: jd\ntitle: t\nfees:\n  佣金: {rate: 1.5}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="jd.yaml"):
        read_schedule(bad)
    other = tmp_path / "pdd.yaml"
    other.write_text("platform: jd\ntitle: t\nfees:\n  佣金: {rate: 3%}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="differs from the file name"):
        read_schedule(other)
    with pytest.raises(TemplateError, match="no fee schedule for platform 'amazon'"):
        fee_schedule("amazon")


# ------------------------------------------------------------------------------ refunds by hand
def test_refunds_are_full_or_partial_and_what_looks_wrong_is_flagged():
    orders = canonical_frame("orders.csv", order_id=["O1", "O2", "O3", "O4", "O5"],
                             amount=["100.00", "50.00", "80.00", "90.00", "100.00"],
                             gross_amount=["100.00", "50.00", "80.00", "100.00", "100.00"])
    settlement = canonical_frame("jd_settlement.csv", order_id=["O1", "O2", "O3", "O3", "O4", "O5"], txn_type=["售后退款"] * 6,
                                 amount=["-100.00", "-20.00", "-30.00", "-30.00", "-95.00", "-120.00"],
                                 txn_time=["10-02", "10-03", "10-04", "10-05", "10-06", "10-07"])
    out = flows.refund_lines(settlement, "jd_settlement", orders=orders).set_index("source_row")
    assert out.loc[2, "kind"].startswith("full") and out.loc[3, "kind"].startswith("partial")
    assert out.loc[2, "problem"] == "" and out.loc[3, "problem"] == ""
    assert out.loc[4, "problem"].startswith("same refund booked twice") and out.loc[5, "problem"] == out.loc[4, "problem"]
    assert out.loc[6, "problem"].startswith("refund includes the discount")  # paid 90 of 100, refunded 95
    assert out.loc[7, "problem"].startswith("refunded more than the goods' price")  # 120 for goods worth 100
    chargeback = canonical_frame("jd_settlement.csv", order_id=["O2"], txn_type=["拒付"], amount=["-50.00"], txn_time=["10-08"])
    assert list(flows.refund_lines(chargeback, "jd_settlement", orders=orders)["txn_type"]) == ["拒付"]


def test_an_unknown_platform_is_a_usage_error(demo_dir):
    with pytest.raises(UsageError, match="platform 'amazon' is unknown for scenario collections"):
        collections.check(period="2026-10", data_dir=demo_dir, platform="amazon")


def test_fees_on_the_real_layout_jd_and_wechat_samples(repo_root):
    from recon_helpers.scenarios.collections.fees import product_master
    from recon_helpers.sources import load

    samples = repo_root / "tests" / "samples"
    jd = flows.with_gross(load(samples / "jd_settlement.csv").table, "jd_settlement")
    out = check_fees(flows.fee_lines(jd, "jd_settlement", orders=None, products=product_master()), fee_schedule("jd"))
    by_fee = out.set_index("fee")
    # 佣金 13.14 on 219.00 is 6%, twice the contract's default 3%; 平台使用费 per order at 1% is right
    assert by_fee.loc["佣金", "verdict"] == "over" and by_fee.loc["佣金", "difference"] == Decimal("6.57")
    assert by_fee.loc["平台使用费", "verdict"] == "ok" and flows.monthly_fees(jd, "jd_settlement") == {}
    # a WeChat merchant at 0.54% pays less than our 0.6% schedule: each payment is "under", refunds are not fees
    wechat = load(samples / "wechat_merchant_trade_all.csv").table
    fees = check_fees(flows.fee_lines(wechat, "wechat_trade", orders=None, products=product_master()), fee_schedule("wechat"))
    assert list(fees["taken"]) == [Decimal("0.32"), Decimal("0.22")] and set(fees["verdict"]) == {"under"}
    assert list(flows.refund_lines(wechat, "wechat_trade", orders=None)["refund"]) == [Decimal("50.00")]
