"""The legacy .xls path (BIFF8), as CCB's 网银 交易明细 download arrives: read through python-calamine."""
from __future__ import annotations

from decimal import Decimal

import pytest

from recon_helpers.sources import load

xlwt = pytest.importorskip("xlwt", reason="xlwt (dev extra) writes the .xls fixture")

CCB_ROWS = [
    ["China Construction Bank"],
    ["开户机构：", "杭州分行"],
    ["币\u3000\u3000种：", "人民币            "],
    ["账\u3000\u3000号：", "6217****1234"],
    [],
    ["记账日          ", "交易日期", "交易时间", "支出", "收入", "账户余额", "币种", "摘要", "对方账号", "对方户名", "交易地点"],
    ["20261001", "20261001", "18:53:19", 67.0, 0.0, 2176.91, "人民币", "消费", "20883313166*****0156", "中***融科技有限公司", "支付宝"],
    ["20261003", "20261003", "09:00:00", 0.0, 500.0, 2676.91, "人民币", "转账存入", "6222****5678", "张*", "手机银行"],
    ["20261005", "20261004", "23:10:05", 12.5, 0.0, 2664.41, "人民币", "消费", "", "美*", "财付通"],
    ["以上数据仅供参考", "具体内容请以柜台为准"],
]


@pytest.fixture()
def ccb_xls(tmp_path):
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("交易明细")
    for r, row in enumerate(CCB_ROWS):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    path = tmp_path / "交易明细_1234_20261001_20261031.xls"
    book.save(str(path))
    return path


def test_ccb_xls_is_detected_and_loaded_exactly(ccb_xls):
    table, rejects, report = load(ccb_xls)
    assert report.template == "ccb_debit"
    assert len(table) == 3 and len(rejects) == 0
    assert [str(a) for a in table["amount"]] == ["-67.00", "500.00", "-12.50"]
    assert sum(table["amount"].tolist(), Decimal(0)) == Decimal("420.50")
    # sheet row numbers as a person sees them: header on row 6, data from row 7
    assert table["source_row"].tolist() == [7, 8, 9]
    assert str(table["txn_time"].iloc[0]) == "2026-10-01 18:53:19"
