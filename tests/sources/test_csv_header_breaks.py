"""A CSV whose header cells hold quoted line breaks (issue #11 item 1): Excel saves a wrapped header cell
as ``"运费\n(元)"``, so the header record spans several physical lines. Detection and reading see it as
one header row; the data rows keep their true line numbers and every line of the file is accounted for."""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import recon_helpers


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8-sig", newline: str = "\r\n") -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


SF_HEADER = ["序号", "运单\n号码", "寄件日期", "原寄地", "目的地", "产品类型", "实际重量\n(kg)", "计费重量\n（kg）",
             "运费\n(元)", "应付金额\n（元）"]
SF_ROWS = [["1", "SF1001", "2026-10-01", "深圳", "北京", "顺丰标快", "1.2", "2", "23", "23.50"],
           ["2", "SF1002", "2026-10-02", "深圳", "上海", "顺丰标快", "0.4", "1", "12", "12.00"],
           ["3", "SF1003", "2026-10-03", "广州", "成都", "顺丰特快", "3.05", "3.5", "41", "44.80"]]


def sf_statement(path: Path, **kwargs) -> Path:
    rows = [["顺丰速运 月结对账单 2026年10月"], ["客户: 某某电商有限公司"], SF_HEADER, *SF_ROWS,
            ["合计", "", "", "", "", "", "", "", "76", "80.30"]]
    return write_csv(path, rows, **kwargs)


def test_courier_csv_with_wrapped_unit_headers_loads_with_the_sf_template(tmp_path: Path):
    table, rejects, report = recon_helpers.load(sf_statement(tmp_path / "sf.csv"))
    assert report.template == "sf_bill"
    assert len(rejects) == 0 and report.rows_loaded == 3
    assert report.header_line == 3
    # the header spans lines 3-8 (five quoted line breaks), so the first data row is line 9
    assert list(table["source_row"]) == [9, 10, 11]
    assert list(table["waybill_no"]) == ["SF1001", "SF1002", "SF1003"]
    assert list(table["amount"]) == [Decimal("23.50"), Decimal("12.00"), Decimal("44.80")]
    assert list(table["weight"]) == [Decimal("1.200"), Decimal("0.400"), Decimal("3.050")]
    assert list(table["billed_weight"]) == [Decimal("2.000"), Decimal("1.000"), Decimal("3.500")]
    assert [(c.label, c.ok) for c in report.control_totals] == [("合计 运费", True), ("合计 应付金额", True)]


def test_the_same_statement_in_gbk_with_lf_line_ends_loads_the_same(tmp_path: Path):
    table, rejects, report = recon_helpers.load(sf_statement(tmp_path / "sf.csv", encoding="gb18030", newline="\n"))
    assert (report.template, len(table), len(rejects)) == ("sf_bill", 3, 0)
    assert table["amount"].sum() == Decimal("80.30")
    assert list(table["source_row"]) == [9, 10, 11]


def test_detection_names_the_header_row_where_the_wrapped_record_starts(tmp_path: Path):
    detected = recon_helpers.sources.detection.detect(sf_statement(tmp_path / "sf.csv"))
    assert detected.template.name == "sf_bill" and detected.header_line == 3


def test_bank_csv_with_wrapped_headers_loads_with_its_template(tmp_path: Path):
    rows = [["招商银行 企业网上银行 账户交易明细"], ["账号：571912345610801"], ["户名：某某电商有限公司"], [],
            ["交易日", "交易时间", "起息日", "交易类型", "借方\n金额", "贷方\n金额\n（元）", "余额\n(元)", "摘要",
             "流水号", "对方户名", "对方账号"],
            ["2026-10-05", "09:12:30", "2026-10-05", "转账", "", "27.73", "10027.73", "拼多多提现", "G01", "上海寻梦", "3100"],
            ["2026-10-12", "15:00:00", "2026-10-12", "代发", "1,000.00", "", "9027.73", "运费\n十月", "G02", "顺丰", "7550"],
            ["2026-10-20", "10:00:00", "2026-10-20", "转账", "", "203.67", "9231.40", "京东结算", "G03", "京东", "1100"],
            ["合计", "", "", "", "1,000.00", "231.40", "", "", "", "", ""]]
    table, rejects, report = recon_helpers.load(write_csv(tmp_path / "cmb.csv", rows, encoding="gb18030"))
    assert report.template == "cmb_corporate"
    assert len(rejects) == 0
    assert list(table["txn_id"]) == ["G01", "G02", "G03"]
    assert list(table["amount"]) == [Decimal("27.73"), Decimal("-1000.00"), Decimal("203.67")]
    # the header on line 5 spans 5-9 (four breaks); the second row's memo holds a break too (lines 11-12)
    assert report.header_line == 5
    assert list(table["source_row"]) == [10, 11, 13]
    assert all(c.ok for c in report.control_totals)


def test_a_quote_never_closed_in_the_head_does_not_swallow_the_header(tmp_path: Path):
    """An odd quote in a preamble line must not join the header to it: the header is still found."""
    path = tmp_path / "sf.csv"
    sf_statement(path)
    text = path.read_bytes().decode("utf-8-sig").replace("客户: 某某电商有限公司", '"客户: 某某电商有限公司', 1)
    path.write_bytes(text.encode("utf-8-sig"))
    table, rejects, report = recon_helpers.load(path)
    assert (report.template, len(table), len(rejects)) == ("sf_bill", 3, 0)
    assert report.header_line == 3
