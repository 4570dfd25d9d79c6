"""Footers and page subtotals are confirmed by totals that tie, never by a label alone (#16 item 2).

Hand-made files: ERP shipments (weights and pieces summed, an id column counting rows), B2B payments
(amounts) and a CMB corporate statement (借方/贷方, printed per page as bank exports do).
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from recon_helpers.sources import load

SHIP_HEADER = "运单号,快递公司,订单号,平台,发货时间,收件省份,重量(kg),长(cm),宽(cm),高(cm),件数,仓库"
PAY_HEADER = "收款单号,收款日期,客户编码,付款户名,收款金额,收款方式,备注"
CMB_HEAD = ["招商银行 企业网上银行 账户交易明细", "账号：571912345610801", "户名：某某电商有限公司",
            "查询区间：2026-10-01 至 2026-10-31", "",
            "交易日,交易时间,起息日,交易类型,借方金额,贷方金额,余额,摘要,流水号,对方户名,对方账号"]


def ship(i: int, weight: str = "0.80", pieces: str = "1") -> str:
    return f"SF{1234567890100 + i},顺丰速运,35123456789{i:08d},淘宝,2026-10-{i:02d} 16:00:00,上海,{weight},20,15,10,{pieces},杭州仓"


def pay(i: int, amount: str) -> str:
    return f"SK20261018{i:02d},2026-10-{10 + i:02d},C001,甲商贸有限公司,{amount},银行转账,"


def cmb(i: int, credit: str) -> str:
    day = f"2026-10-{i:02d}"
    return f"{day},09:12:30,{day},转账,,{credit},{10000 + i}.00,拼多多提现,G20261005{i:05d},上海寻梦信息技术有限公司,31001234567"


def write(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def loaded_rows(table) -> list[int]:
    return table["source_row"].tolist()


# ----------------------------------------------------------------------------- the footer

def test_a_footer_whose_figures_tie_is_confirmed(tmp_path):
    path = write(tmp_path, "ship.csv", [SHIP_HEADER, *(ship(i) for i in range(1, 6)), "合计,,,,,,4.00,,,,5,"])
    table, rejects, report = load(path)
    assert loaded_rows(table) == [2, 3, 4, 5, 6] and not len(rejects)
    assert report.footer_lines == 1
    assert [(c.label, c.expected, c.actual, c.ok) for c in report.control_totals] == [
        ("footer line 7 (合计) 重量(kg)", Decimal("4.00"), Decimal("4.00"), True),
        ("footer line 7 (合计) 件数", Decimal("5"), Decimal("5"), True)]
    assert not report.problems()


def test_a_footer_that_does_not_tie_stays_the_footer_and_is_a_finding(tmp_path):
    path = write(tmp_path, "pay.csv", [PAY_HEADER, *(pay(i, "100.00") for i in range(1, 4)), "合计,,,,350.00,,"])
    table, rejects, report = load(path)
    assert loaded_rows(table) == [2, 3, 4] and report.footer_lines == 1 and not len(rejects)
    (check,) = report.control_totals
    assert (check.expected, check.actual, check.ok) == (Decimal("350.00"), Decimal("300.00"), False)
    (problem,) = report.problems()
    assert "pay.csv" in problem and "footer line 5" in problem and "350.00" in problem and "300.00" in problem


def test_a_footer_of_rejected_rows_does_not_tie_with_the_loaded_ones(tmp_path):
    path = write(tmp_path, "pay.csv", [PAY_HEADER, pay(1, "100.00"), pay(2, "1,2,3"), pay(3, "100.00"),
                                       "合计,,,3,300.00,,"])
    table, rejects, report = load(path)
    assert loaded_rows(table) == [2, 4] and rejects["source_row"].tolist() == [3]
    assert [(c.measure, c.expected, c.actual, c.ok) for c in report.control_totals] == [
        ("count", Decimal("3"), Decimal("2"), False), ("total", Decimal("300.00"), Decimal("200.00"), False)]


def test_a_footer_without_figures_is_still_the_footer(tmp_path):
    path = write(tmp_path, "pay.csv", [PAY_HEADER, pay(1, "100.00"), pay(2, "50.00"), "人民币合计：壹佰伍拾元整"])
    table, _, report = load(path)
    assert loaded_rows(table) == [2, 3] and report.footer_lines == 1 and report.control_totals == []


# ----------------------------------------------------------------------------- page subtotals

def test_page_subtotals_that_tie_are_summary_lines_not_rejects(tmp_path):
    lines = [SHIP_HEADER, ship(1), ship(2), ship(3, weight="1.25", pieces="2"), "本页合计,,,,,,2.85,,,,4,",
             ship(4), ship(5), "本页合计,,,,,,1.60,,,,2,", "合计,,,,,,4.45,,,,6,"]
    table, rejects, report = load(write(tmp_path, "ship.csv", lines))
    assert loaded_rows(table) == [2, 3, 4, 6, 7] and not len(rejects)
    # the first page's subtotal is a summary line; the last page's starts the footer (nothing but totals after it)
    assert report.summary_lines == 1 and report.footer_lines == 2
    assert report.rows_read == 5 and report.rows_loaded + report.rows_rejected == report.rows_read
    assert [(c.label, c.actual, c.ok) for c in report.control_totals] == [
        ("footer line 8 (本页合计) 重量(kg)", Decimal("1.60"), True), ("footer line 8 (本页合计) 件数", 2, True),
        ("footer line 9 (合计) 重量(kg)", Decimal("4.45"), True), ("footer line 9 (合计) 件数", 6, True)]


def test_three_pages_have_two_subtotals_inside_the_data(tmp_path):
    lines = [PAY_HEADER, pay(1, "100.00"), pay(2, "20.00"), "本页合计,,,2,120.00,,", pay(3, "5.00"), pay(4, "1.50"),
             "本页合计,,,2,6.50,,", pay(5, "7.00"), "本页合计,,,1,7.00,,", "合计,,,5,133.50,,"]
    table, rejects, report = load(write(tmp_path, "pay.csv", lines))
    assert loaded_rows(table) == [2, 3, 5, 6, 8] and not len(rejects)
    assert report.summary_lines == 2 and report.footer_lines == 2
    assert {c.ok for c in report.control_totals} == {True}


def test_a_running_subtotal_since_the_header_ties_too(tmp_path):
    lines = [PAY_HEADER, pay(1, "100.00"), pay(2, "20.00"), "累计,,,,120.00,,", pay(3, "5.00"), "累计,,,,125.00,,",
             pay(4, "1.00")]
    table, rejects, report = load(write(tmp_path, "pay.csv", lines))
    assert loaded_rows(table) == [2, 3, 5, 7] and not len(rejects) and report.summary_lines == 2


def test_the_last_page_subtotal_as_the_footer_ties_with_the_last_page(tmp_path):
    lines = [PAY_HEADER, pay(1, "100.00"), pay(2, "20.00"), "本页合计,,,,120.00,,", pay(3, "5.00"),
             "本页合计,,,,5.00,,"]
    table, _, report = load(write(tmp_path, "pay.csv", lines))
    assert loaded_rows(table) == [2, 3, 5] and report.summary_lines == 1 and report.footer_lines == 1
    (check,) = report.control_totals
    assert (check.label, check.actual, check.ok) == ("footer line 6 (本页合计) 收款金额", Decimal("5.00"), True)


def test_bank_pages_with_subtotals_keep_the_templates_own_control_total(tmp_path):
    lines = [*CMB_HEAD, cmb(1, "100.00"), cmb(2, "200.00"), "本页合计,,,,,300.00,,,,,", cmb(3, "50.00"),
             "本页合计,,,,,50.00,,,,,", "合计,,,,,350.00,,,,,"]
    table, rejects, report = load(write(tmp_path, "cmb.csv", lines, "gbk"))
    assert loaded_rows(table) == [7, 8, 10] and not len(rejects)
    assert report.summary_lines == 1 and report.footer_lines == 2
    assert [(c.label, c.ok) for c in report.control_totals if c.expected is not None] == [("合计 贷方金额", True)]


def test_a_label_row_whose_figures_do_not_tie_stays_data(tmp_path):
    lines = [SHIP_HEADER, ship(1), ship(2), "小计,,,,,,9.99,,,,2,", ship(3)]
    table, rejects, report = load(write(tmp_path, "ship.csv", lines))
    assert report.summary_lines == 0
    assert 4 in loaded_rows(table) + rejects["source_row"].tolist()   # loaded or rejected as any row, never dropped
    assert report.rows_read == 4


def test_a_label_row_without_figures_stays_data(tmp_path):
    lines = [PAY_HEADER, pay(1, "100.00"), "小计,,,,,,", pay(2, "100.00")]
    table, rejects, report = load(write(tmp_path, "pay.csv", lines))
    assert report.summary_lines == 0 and report.rows_read == 3
    assert 3 in rejects["source_row"].tolist() + loaded_rows(table)


def test_a_data_row_labelled_like_a_total_is_never_a_subtotal(tmp_path):
    """A waybill cell reading 合计 on a full data row: its other cells are no figures."""
    lines = [SHIP_HEADER, ship(1), ship(2).replace("SF1234567890102", "合计"), ship(3)]
    table, rejects, report = load(write(tmp_path, "ship.csv", lines))
    assert report.summary_lines == 0 and report.footer_lines == 0
    assert sorted(loaded_rows(table) + rejects["source_row"].tolist()) == [2, 3, 4]
