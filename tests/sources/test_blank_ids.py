"""A blank id does not lose money (issue #11 item 2): the template's fallback id stands in, else the row loads
flagged when it has an amount; only a row without what makes it a transaction is rejected."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl

import recon_helpers
from recon_helpers.sources.rejects import FlagCode

JD_HEADER = "交易时间,商户名称,交易说明,金额,收/付款方式,交易状态,收/支,交易分类,交易订单号,商家订单号,备注"
JD_ROWS = [
    "2026-10-01 10:00:00,京东商城,手机,100.00,银行卡,交易成功,支出,数码,JDX1,M1,",
    "2026-10-02 10:00:00,京东商城,耳机,50.00,银行卡,交易成功,支出,数码, ,M2,",      # 交易订单号 is one space
    "2026-10-03 10:00:00,京东商城,数据线,30.00,银行卡,交易成功,支出,数码,\t,,",       # no id at all
    "2026-10-04 10:00:00,京东商城,贴膜,,银行卡,交易成功,支出,数码,,,",               # no id and no amount
]


def jd_bill(tmp_path: Path) -> Path:
    path = tmp_path / "京东账单.csv"
    lines = ["京东账单明细", "导出时间：2026-11-01 08:00:00", "", JD_HEADER, *JD_ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def test_blank_jd_order_id_takes_the_merchant_order_id_and_is_flagged(tmp_path: Path):
    table, rejects, report = recon_helpers.load(jd_bill(tmp_path))
    assert report.template == "jd_personal"
    assert list(table["txn_id"].fillna("")) == ["JDX1", "M2", ""]
    assert list(table["amount"]) == [Decimal("-100.00"), Decimal("-50.00"), Decimal("-30.00")]
    assert (report.rows_read, report.rows_loaded, report.rows_rejected, report.rows_flagged) == (4, 3, 1, 2)
    assert {(f["source_row"], f["code"]) for f in report.flags} == {(6, FlagCode.ID_FALLBACK), (7, FlagCode.MISSING_ID)}
    assert any("row(s) 6" in w and "'商家订单号' used" in w for w in report.warnings)
    assert any("row(s) 7" in w and "交易订单号" in w for w in report.warnings)


def test_a_row_without_id_and_amount_is_still_rejected(tmp_path: Path):
    _, rejects, _ = recon_helpers.load(jd_bill(tmp_path))
    assert set(rejects["source_row"].astype(int)) == {8}
    assert set(rejects["code"]) == {"missing_value"}


def test_courier_line_without_its_waybill_loads_flagged(tmp_path: Path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["运单号码", "寄件日期", "原寄地", "目的地", "产品类型", "计费重量", "运费", "应付金额"])
    sheet.append(["SF001", "2026-10-01", "深圳", "北京", "顺丰标快", 1, 12, 12])
    sheet.append([" ", "2026-10-02", "深圳", "上海", "顺丰标快", 2, 23, 23.5])
    book.save(tmp_path / "bill.xlsx")
    table, rejects, report = recon_helpers.load(tmp_path / "bill.xlsx")
    assert (len(table), len(rejects), report.rows_flagged) == (2, 0, 1)
    assert table["amount"].sum() == Decimal("35.50")
    assert report.flags[0]["column"] == "运单号码" and report.flags[0]["source_row"] == 3


def test_wechat_bill_with_a_blank_transaction_id_takes_the_merchant_order_no(tmp_path: Path):
    path = tmp_path / "微信支付账单.csv"
    path.write_text("微信支付账单明细\n"
                    "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注\n"
                    "2026-10-01 10:00:00,商户消费,某店,咖啡,支出,¥28.00,零钱,支付成功,4200001,M1,/\n"
                    "2026-10-02 10:00:00,商户消费,某店,蛋糕,支出,¥18.00,零钱,支付成功,\t,M2,/\n", encoding="utf-8")
    table, rejects, report = recon_helpers.load(path)
    assert report.template == "wechat_personal" and len(rejects) == 0
    assert list(table["txn_id"]) == ["4200001", "M2"] and report.rows_flagged == 1
