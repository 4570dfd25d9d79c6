"""The cashier scenario on the demo month, and on a journal with a receipt booked the wrong way and late."""
from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from recon_helpers.errors import UsageError
from recon_helpers.scenarios import cashier
from recon_helpers.sources import load
from recon_helpers.testing import truth_rows


@pytest.fixture(scope="module")
def check(demo_dir):
    return cashier.check(period="2026-10", data_dir=demo_dir)


def test_finds_exactly_the_injected_problems_with_their_amounts(check, demo_dir):
    truth = truth_rows(demo_dir, "cashier")
    found = {(r.category, r.key) for r in check.exceptions().itertuples() if r.category != "out_of_scope"}
    assert found == {(t["category"], t["key"]) for t in truth}
    want = lambda cat: {t["key"]: Decimal(t["amount_diff"]) for t in truth if t["category"] == cat}  # noqa: E731
    assert dict(zip(check.never_handed_in()["doc_no"], -check.never_handed_in()["amount"])) == want("missing_on_right")
    assert dict(zip(check.booked_without_receipt()["doc_no"], check.booked_without_receipt()["amount"])) == want("missing_on_left")
    assert dict(zip(check.amount_differences()["doc_no"], check.amount_differences()["difference"])) == want("amount_mismatch")
    # the salesperson who collected is named on every list
    names = {t["key"]: t["key2"] for t in truth}
    for table in (check.never_handed_in(), check.amount_differences()):
        assert all(names[r.doc_no] == r.salesperson for r in table.itertuples())


def test_the_demo_hands_everything_in_on_time_and_the_right_way(check):
    assert check.method_differences().empty and check.late_deposits().empty


def test_each_salesperson_month_adds_up(check):
    per = check.per_salesperson()
    assert per["receipts"].sum() == len(check.receipts)
    assert sum(per["collected"], Decimal("0")) == sum(check.receipts["amount"], Decimal("0"))
    for r in per.itertuples():
        assert r.collected == r.booked - r.booked_difference + r.not_handed_in


def test_cash_booked_as_transfer_and_a_late_deposit_are_listed(check, demo_dir, tmp_path, corrupted_copy):
    pairs = check.pairs()
    cash = pairs[pairs["method_receipt"] == "现金"].iloc[0]
    other = pairs[pairs["doc_no"] != cash["doc_no"]].iloc[0]
    journal = demo_dir / "finance" / "cashier_journal.xlsx"
    report = load(journal).report
    memo = cash["memo"].replace("（现金）", "（银行转账）")
    late_day = (other["txn_time_receipt"] + pd_days(9)).strftime("%Y-%m-%d")
    broken = corrupted_copy(journal, report, tmp_path, [(int(cash["source_row_journal"]), "摘要", memo),
                                                        (int(other["source_row_journal"]), "日期", late_day)])
    data = tmp_path / "data"
    shutil.copytree(demo_dir / "sales", data / "sales")
    shutil.copytree(demo_dir / "bank", data / "bank")
    (data / "finance").mkdir(parents=True)
    shutil.move(broken, data / "finance" / "cashier_journal.xlsx")
    redone = cashier.check(period="2026-10", data_dir=data, late_days=3)
    method = redone.method_differences()
    assert list(method["doc_no"]) == [cash["doc_no"]] and method["problem"].iloc[0].startswith("cash booked as transfer")
    late = redone.late_deposits()
    assert list(late["doc_no"]) == [other["doc_no"]] and late["days"].iloc[0] == 9
    assert redone.per_salesperson().set_index("salesperson").loc[other["salesperson"], "late"] == 1
    assert cashier.check(period="2026-10", data_dir=data, late_days=9).late_deposits().empty


def pd_days(n: int):
    import pandas as pd

    return pd.Timedelta(days=n)


def test_every_cash_deposit_reached_the_bank_in_the_demo(check):
    position = dict(zip(check.cash_position()["step"], check.cash_position()["amount"]))
    assert position["banked 存入银行"] == position["credited at the bank 银行到账"] > 0
    assert check.deposits_not_banked().empty and check.deposit_differences().empty and check.cash_credits_without_deposit().empty
    assert set(check.exceptions()["hop"]) == {"receipts_journal", "deposits_bank"}


def test_a_deposit_short_at_the_bank_and_one_never_credited_are_found(check, demo_dir, tmp_path, corrupted_copy):
    bank = demo_dir / "bank" / "bank_statement.csv"
    credits = check.bank[check.bank["txn_type"] == "现金存入"]
    short, lost = credits.iloc[0], credits.iloc[1]
    broken = corrupted_copy(bank, load(bank).report, tmp_path, [
        (int(short["source_row"]), "贷方金额", str(short["amount"] - Decimal("100.00"))),
        (int(lost["source_row"]), "交易类型", "网银转账"), (int(lost["source_row"]), "摘要", "往来款")])
    data = tmp_path / "data"
    shutil.copytree(demo_dir / "sales", data / "sales")
    shutil.copytree(demo_dir / "finance", data / "finance")
    (data / "bank").mkdir()
    shutil.move(broken, data / "bank" / "bank_statement.csv")
    redone = cashier.check(period="2026-10", data_dir=data)
    diffs = redone.deposit_differences()
    assert list(diffs["difference"]) == [Decimal("-100.00")] and diffs["credited"].iloc[0] == short["amount"] - Decimal("100.00")
    assert list(-redone.deposits_not_banked()["amount"]) == [lost["amount"]]
    assert redone.kpis()["Cash not at the bank 存现未到账"] == lost["amount"]


def test_payment_methods_are_read_from_receipts_and_journal_memos():
    assert cashier.method_of("现金") == "现金"
    assert cashier.method_of("收杭州悦居酒店管理有限公司款（微信）") == "微信"
    assert cashier.method_of("收款(支付宝)") == "支付宝"
    assert cashier.method_of("报销差旅费") is None and cashier.method_of(None) is None


def test_a_negative_grace_period_is_a_usage_error(demo_dir):
    with pytest.raises(UsageError, match="late_days=-1"):
        cashier.check(period="2026-10", data_dir=demo_dir, late_days=-1)
