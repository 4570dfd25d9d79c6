"""Every built-in source template loads a sample in its real layout, is detected, and reports bad cells.

Samples come from the public fixtures listed in shared/corpus/real/SOURCES.md (public fixtures) where one exists, otherwise from
tests/samples/ (written by tests/samples/make_samples.py from the documented layouts). Expected counts and
sums were worked out by reading the files; where a real file is too long for that, the test computes the
expected figure straight from the raw file with the ``csv`` module (an oracle independent of the loader).
"""
from __future__ import annotations

import csv
import os
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import python_calamine

from recon_helpers.errors import DetectionError
from recon_helpers.sources import detect, load, rank
from recon_helpers.sources import templates as sources

SAMPLES = Path(__file__).parents[1] / "samples"
# RECON_REAL_CORPUS points elsewhere when the repo is a worktree without shared/ beside it
REAL = Path(os.environ.get("RECON_REAL_CORPUS") or Path(__file__).parents[2].parent / "shared" / "corpus" / "real")


@dataclass(frozen=True)
class Sample:
    file: str                 # "real:<name>" or a name in tests/samples
    template: str
    rows: int
    key: str                  # canonical field whose first value is checked and found on its line
    first_key: str
    first_row: int            # source_row of the first data row
    total: str | None         # Σ amount (or of `total_field`)
    number_col: str           # source column broken in the corrupted copy (a number)
    date_col: str | None      # source column broken in the corrupted copy (a date)
    first_time: str | None = None
    total_field: str = "amount"

    @property
    def path(self) -> Path:
        if self.file.startswith("real:"):
            return REAL / self.file[5:]
        return SAMPLES / self.file


CASES = [
    # --- real public samples
    Sample("real:alipay_personal_2023_gbk.csv", "alipay_personal", 10, "txn_id", "202302xxxxxx0011000103xxxxxx", 26,
           "222264.23", "金额", "交易时间", "2023-02-12 21:32:14"),
    Sample("real:alipay_personal_app_2021_gbk.csv", "alipay_personal_app_2021", 16, "txn_id", "123456", 3, "3037.50",
           "金额", "交易时间", "2021-06-14 14:00:38"),
    Sample("real:alipay_personal_web_2019_gbk.csv", "alipay_personal_web_2019", 2, "txn_id", "123456", 6, "-26.99",
           "金额（元）", "交易创建时间", "2019-09-30 13:11:25"),
    Sample("real:wechat_personal_utf8.csv", "wechat_personal", 27, "txn_id", "3985734", 18, "23224.85", "金额(元)",
           "交易时间", "2019-09-26 12:45:27"),
    Sample("real:wechat_personal.xlsx", "wechat_personal_xlsx", 27, "txn_id", "3985734", 19, "23224.85", "金额(元)",
           "交易时间", "2019-09-26 12:45:27"),
    Sample("real:jd_personal_bill_utf8bom.csv", "jd_personal", 26, "txn_id", "JDX100000011234", 23, None, "金额",
           "交易时间", "2024-12-30 17:16:02"),
    Sample("real:icbc_debit_v2.csv", "icbc_debit", 11, "counterparty", "深圳市财付通支付科技有限公司", 8, None,
           "记账金额(收入)", "交易日期", "2023-05-02 00:00:00"),
    # --- written from documented layouts
    Sample("alipay_merchant_trade_gbk.csv", "alipay_merchant_trade", 3, "txn_id", "2026100122001458860515315453", 6,
           "36.80", "商家实收（元）", "完成时间", "2026-10-01 10:55:23"),
    Sample("alipay_merchant_account.zip", "alipay_merchant_account", 3, "txn_id", "20261001001", 6, "145.00",
           "收入金额（+元）", "发生时间", "2026-10-01 21:02:06"),
    Sample("wechat_merchant_trade_all.csv", "wechat_merchant_trade", 3, "txn_id", "4200002360202610091150650780", 2,
           "50.00", "应结订单金额", "交易时间", "2026-10-09 10:06:33"),
    Sample("wechat_merchant_trade_success.csv", "wechat_merchant_trade", 2, "txn_id", "4200002360202610091150650780",
           2, "100.00", "应结订单金额", "交易时间"),
    Sample("wechat_merchant_fundflow.csv", "wechat_merchant_fundflow", 3, "txn_id", "F2026100900001", 2, "9.68",
           "收支金额(元)", "记账时间"),
    Sample("taobao_orders_gbk.csv", "taobao_orders", 3, "order_id", "3512345678901234567", 2, "150.00",
           "买家实际支付金额", "订单创建时间", "2026-10-01 09:00:00"),
    Sample("jd_orders.xlsx", "jd_orders", 3, "order_id", "298765432101", 2, "426.50", "应付金额", "下单时间"),
    Sample("pdd_orders.csv", "pdd_orders", 3, "order_id", "261001-123456789012345", 2, "87.70", "商家实收金额(元)",
           "订单成交时间", "2026-10-01 09:15:00"),
    Sample("douyin_orders.csv", "douyin_orders", 3, "order_id", "6917926768823643751", 2, "127.60", "订单应付金额",
           "订单提交时间"),
    Sample("jd_settlement.csv", "jd_settlement", 3, "batch_id", "JS20261010001", 2, "203.67", "金额(元)", "结算时间"),
    Sample("pdd_settlement.csv", "pdd_settlement", 3, "order_id", "261001-123456789012345", 2, "0.00",
           "收入金额（+元）", "发生时间"),
    Sample("douyin_settlement.csv", "douyin_settlement", 3, "order_id", "6917926768823643751", 2, "44.32", "结算金额",
           "结算时间"),
    Sample("sf_bill.xlsx", "sf_bill", 3, "waybill_no", "SF1234567890123", 7, "87.50", "应付金额", "寄件日期"),
    Sample("zto_bill.xlsx", "zto_bill", 3, "waybill_no", "75123456789012", 4, "23.50", "总费用", "揽收时间"),
    Sample("yto_bill_gbk.csv", "yto_bill", 3, "waybill_no", "YT1234567890123", 3, "11.50", "费用合计", "发货日期"),
    Sample("jdl_bill.xlsx", "jdl_bill", 3, "waybill_no", "JDX000123456701", 2, "27.00", "应付金额", "业务日期"),
    Sample("icbc_debit_v1.csv", "icbc_debit", 3, "counterparty", "美团外卖", 8, "500.00", "记账金额(支出)", "交易日期"),
    Sample("cmb_corporate_gbk.csv", "cmb_corporate", 3, "txn_id", "G2026100500001", 7, "-768.60", "贷方金额", "交易日",
           "2026-10-05 09:12:30"),
    Sample("ccb_debit.xlsx", "ccb_debit", 3, "counterparty", "中***融科技有限公司", 7, "420.50", "收入", "交易日期",
           "2026-10-01 18:53:19"),
    Sample("boc_debit_utf16.csv", "boc_debit", 3, "counterparty", "美团", 3, "2500.00", "金额", "记账日期",
           "2026-10-01 08:15:00"),
    Sample("erp_shipments.csv", "erp_shipments", 3, "waybill_no", "SF1234567890123", 2, "2.400", "重量(kg)", "发货时间",
           total_field="weight"),
    Sample("wms_outbound.xlsx", "wms_outbound", 3, "doc_no", "CK20261001001", 2, "4", "出库数量", "出库时间",
           total_field="qty"),
    Sample("return_requests.csv", "return_requests", 3, "refund_id", "SH2026100501", 2, "52.50", "退款金额", "申请时间"),
    Sample("return_waybills.csv", "return_waybills", 3, "waybill_no", "YT9000000000001", 2, "2.000", "重量(kg)",
           "寄件时间", total_field="weight"),
    Sample("return_receipts.xlsx", "return_receipts", 3, "doc_no", "RK2026100701", 2, "4", "入库数量", "入库时间",
           total_field="qty"),
    Sample("b2b_invoices.xlsx", "b2b_invoices", 3, "invoice_no", "26330001", 2, "19210.00", "价税合计", "开票日期"),
    Sample("b2b_deliveries.xlsx", "b2b_deliveries", 3, "doc_no", "SH-DLV-001", 2, "19210.00", "金额", "送货日期"),
    Sample("b2b_payments.csv", "b2b_payments", 3, "txn_id", "SK2026101801", 2, "19210.00", "收款金额", "收款日期"),
    Sample("b2b_customers.csv", "b2b_customers", 3, "customer_id", "C001", 2, "70000.00", "信用额度", None,
           total_field="credit_limit"),
    Sample("salesperson_receipts.xlsx", "salesperson_receipts", 3, "doc_no", "SJ0001", 2, "2350.50", "收款金额",
           "收款日期"),
    Sample("cashier_journal.xlsx", "cashier_journal", 3, "txn_id", "记-101", 4, "1850.00", "收入", "日期"),
    Sample("erp_documents.csv", "erp_documents", 3, "doc_no", "XS-2026-1001", 2, "9040.00", "金额", "单据日期"),
    Sample("gl_export.xlsx", "gl_export", 3, "txn_id", "记-088", 4, "0.00", "借方金额", "日期"),
]
IDS = [c.file.replace("real:", "") for c in CASES]


@pytest.fixture(scope="module", autouse=True)
def _corpus_present():
    if not REAL.is_dir():
        pytest.skip(f"the shared corpus of real samples ({REAL}) is not beside the repo")


# ----------------------------------------------------------------------------- helpers

def raw_rows(path: Path, report) -> dict[int, str]:
    """The file's physical lines (or sheet rows joined) by number, read without the loader."""
    if path.suffix in (".xlsx", ".xls"):
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        rows = book.get_sheet_by_name(report.sheet).to_python(skip_empty_area=False)
        return {i + 1: ",".join(str(c) for c in r) for i, r in enumerate(rows)}
    data = path.read_bytes()
    if path.suffix == ".zip":
        member = report.source_file.split("!", 1)[1]
        with zipfile.ZipFile(path) as z:
            info = next(i for i in z.infolist() if i.filename.encode("cp437").decode("gbk") == member)
            data = z.read(info)
    text = data.decode({"utf-8": "utf-8-sig"}.get(report.encoding, report.encoding))
    return {i + 1: line for i, line in enumerate(text.lstrip("\ufeff").split("\n"))}


# ----------------------------------------------------------------------------- tests

@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sample_loads_with_right_counts_amounts_ids_and_times(case: Sample):
    table, rejects, report = load(case.path)
    assert report.template == case.template
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (case.rows, case.rows, 0)
    assert len(table) == case.rows and len(rejects) == 0
    assert table[case.key].iloc[0] == case.first_key
    assert table["source_row"].iloc[0] == case.first_row
    assert (table["template"] == case.template).all()
    if case.total is not None:
        got = table[case.total_field].sum()
        assert Decimal(str(got)) == Decimal(case.total)
    if case.first_time:
        assert str(table["txn_time"].iloc[0]) == case.first_time
    if "amount" in table:
        assert str(table["amount"].dtype) == "decimal128(18, 2)[pyarrow]"
        assert (table["currency"].notna()).all()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_detection_picks_only_the_right_template(case: Sample):
    found = detect(case.path)
    assert found.template.name == case.template
    fitting = [f.template.name for f in rank(case.path) if f.fits]
    assert fitting == [case.template]


@pytest.mark.parametrize("case", CASES[::6], ids=IDS[::6])
def test_loading_with_a_wrong_template_is_refused(case: Sample):
    for other in sources.list_templates():
        if other.name != case.template:
            with pytest.raises(DetectionError):
                load(case.path, template=other.name)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_source_row_points_at_the_line_holding_the_id(case: Sample):
    table, _, report = load(case.path)
    raw = raw_rows(case.path, report)
    for row, key in zip(table["source_row"], table[case.key]):
        if key is not pd.NA and key is not None:
            assert str(key) in raw[int(row)], f"{key} not on line {row}: {raw[int(row)]!r}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_corrupted_copy_rejects_exactly_the_broken_rows(case: Sample, tmp_path: Path, corrupted_copy):
    table, _, report = load(case.path)
    number_row, date_row = int(table["source_row"].iloc[0]), int(table["source_row"].iloc[1])
    edits = [(number_row, case.number_col, "abc")]
    if case.date_col:
        edits.append((date_row, case.date_col, "2026-13-45"))
    broken = corrupted_copy(case.path, report, tmp_path, edits)

    table2, rejects, report2 = load(broken, template=case.template)
    expected_rows = {number_row} | ({date_row} if case.date_col else set())
    assert set(rejects["source_row"].astype(int)) == expected_rows
    assert report2.rows_rejected == len(expected_rows)
    assert report2.rows_read == report2.rows_loaded + report2.rows_rejected == case.rows
    assert not set(table2["source_row"].astype(int)) & expected_rows
    codes = dict(zip(rejects["source_row"].astype(int), rejects["code"]))
    assert codes[number_row] in {"bad_amount", "bad_number", "bad_measure", "bad_integer"}
    if case.date_col:
        assert codes[date_row] == "bad_date"
        assert "2026-13-45" in set(rejects["value"])


def test_every_builtin_tabular_template_has_a_sample():
    """Each tabular template is covered here or in test_more_templates.py (the second pass of layouts)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("more_templates", Path(__file__).with_name("test_more_templates.py"))
    more = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = more  # dataclasses look their module up while the module runs
    spec.loader.exec_module(more)
    tabular = {t.name for t in sources.list_templates() if t.parser is None}
    assert tabular == {c.template for c in CASES} | {c.template for c in more.CASES}


# ----------------------------------------------------------------------------- format-specific facts

def test_jd_personal_partial_refunds_reconcile_with_the_bill_summary():
    """The preamble says 支出 16笔 1648.43元 (net of partial refunds) and 不计收支 10笔."""
    table, _, _ = load(REAL / "jd_personal_bill_utf8bom.csv")
    out = table[table["direction"] == "out"]
    assert len(out) == 16 and (table["direction"] == "neutral").sum() == 10
    row = table[table["source_row"] == 26].iloc[0]
    assert (row["amount"], row["refund_amount"]) == (Decimal("-131.77"), Decimal("89.84"))
    assert -out["amount"].sum() - out["refund_amount"].fillna(Decimal(0)).sum() == Decimal("1648.43")


def test_icbc_amounts_match_the_booked_columns_read_independently():
    path = REAL / "icbc_debit_v2.csv"
    table, _, report = load(path)
    lines = path.read_text(encoding="utf-8").splitlines()[7:18]
    expected = Decimal(0)
    for cells in csv.reader(lines):
        income = cells[9].strip(" \t").replace(",", "")
        expense = cells[10].strip(" \t").replace(",", "")
        expected += Decimal(income or 0) - Decimal(expense or 0)
    assert table["amount"].sum() == expected
    assert report.blank_lines == 1 and report.footer_lines == 1
    assert {c.ok for c in report.control_totals} == {False}  # the fixture's 人民币合计 is anonymised


def test_alipay_account_zip_picks_the_detail_member_and_strips_t200p():
    table, _, report = load(SAMPLES / "alipay_merchant_account.zip")
    assert report.source_file.endswith("alipay_merchant_account.zip!20888011365400330156_20261001_账务明细.csv")
    assert list(table["order_id"]) == ["3512345678901234567", "3512345678901234567", "3512345678901234599"]
    assert list(table["merchant_order_id"])[0] == "T200P3512345678901234567"
    assert [c.ok for c in report.control_totals] == [True, True, True, True]


def test_wechat_merchant_refund_rows_are_negative_and_fees_signed_from_our_side():
    table, _, report = load(SAMPLES / "wechat_merchant_trade_all.csv")
    assert list(table["amount"]) == [Decimal("60.00"), Decimal("40.00"), Decimal("-50.00")]
    assert list(table["fee"]) == [Decimal("-0.32"), Decimal("-0.22"), Decimal("0.27")]
    assert list(table["refund_id"])[:2] == [pd.NA, pd.NA] or table["refund_id"].isna().sum() == 2
    assert all(c.ok for c in report.control_totals) and len(report.control_totals) == 3


def test_wechat_personal_withdrawal_fee_comes_from_the_memo():
    table, _, _ = load(REAL / "wechat_personal_utf8.csv")
    assert table["fee"].sum() == Decimal("-1.20")
    assert (table["fee"].notna()).sum() == 3


def test_courier_bill_totals_are_checked():
    for name in ("sf_bill.xlsx", "zto_bill.xlsx", "yto_bill_gbk.csv", "jdl_bill.xlsx"):
        _, _, report = load(SAMPLES / name)
        assert report.control_totals and all(c.ok for c in report.control_totals), name
        assert report.footer_lines == 1


def test_cashier_journal_summary_lines_are_not_data_but_check_the_totals():
    table, _, report = load(SAMPLES / "cashier_journal.xlsx")
    assert list(table["source_row"]) == [4, 5, 6] and report.summary_lines == 2
    assert [(c.label, c.expected, c.ok) for c in report.control_totals] == [
        ("本月合计 收入", Decimal("2000"), True), ("本月合计 支出", Decimal("150"), True)]
