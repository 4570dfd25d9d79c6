"""Direction from the file's own words (issue #11 item 4): where 收/支 is empty, the status column decides; a row
whose direction cannot be known is flagged, never silently neutral."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import recon_helpers

WEB_HEADER = ("交易号,商家订单号,交易创建时间,付款时间,最近修改时间,交易来源地,类型,交易对方,商品名称,金额（元）,收/支,"
              "交易状态,服务费（元）,成功退款（元）,备注,资金状态,")
WEB_ROWS = [
    "T1,S1,2019-09-01 10:00:00,2019-09-01 10:00:00,2019-09-01 10:00:00,其他（包括阿里巴巴和外部商家）,即时到账交易,"
    "某商家,耳机,27.00,支出,交易成功,0.00,0.00,,已支出,",
    # a refund: 收/支 empty, 资金状态 says the money came in
    "T2,S2,2019-09-02 10:00:00,,2019-09-02 10:00:00,其他（包括阿里巴巴和外部商家）,即时到账交易,"
    "某商家,耳机退款,27.00,,退款成功,0.00,0.00,,已收入,",
    # a transfer between own accounts: neutral, as the file says
    "T3,,2019-09-03 10:00:00,,2019-09-03 10:00:00,支付宝网站,即时到账交易,余额宝,转入,100.00,,交易成功,0.00,0.00,,资金转移,",
    # 资金状态 empty too, but 交易状态 says 退款成功
    "T4,S4,2019-09-04 10:00:00,,2019-09-04 10:00:00,支付宝网站,即时到账交易,某商家,退款,5.00,,退款成功,0.00,0.00,,,",
    # words the template does not know: kept, flagged
    "T5,S5,2019-09-05 10:00:00,,2019-09-05 10:00:00,支付宝网站,即时到账交易,某商家,处理中,8.00,,等待处理,0.00,0.00,,处理中,",
]


def web_export(tmp_path: Path) -> Path:
    lines = ["支付宝交易记录明细查询", "账号:[faker@faker.com]",
             "起始日期:[2019-09-01 00:00:00]    终止日期:[2019-10-01 00:00:00]",
             "---------------------------------交易记录明细列表------------------------------------",
             WEB_HEADER, *WEB_ROWS,
             "------------------------------------------------------------------------------------",
             f"共{len(WEB_ROWS)}笔记录"]
    path = tmp_path / "alipay_record.csv"
    path.write_bytes("\r\n".join(lines).encode("gbk") + b"\r\n")
    return path


def test_empty_direction_is_decided_by_the_fund_status_then_the_trade_status(tmp_path: Path):
    table, rejects, report = recon_helpers.load(web_export(tmp_path))
    assert report.template == "alipay_personal_web_2019" and len(rejects) == 0
    assert list(table["direction"]) == ["out", "in", "neutral", "in", "neutral"]
    assert list(table["amount"]) == [Decimal("-27.00"), Decimal("27.00"), Decimal("100.00"), Decimal("5.00"),
                                     Decimal("8.00")]
    assert any("资金状态" in w and "decided 'direction'" in w for w in report.warnings)


def test_a_direction_no_word_decides_is_flagged_with_its_row(tmp_path: Path):
    _, _, report = recon_helpers.load(web_export(tmp_path))
    assert report.rows_flagged == 1
    (flag,) = report.flags
    assert (flag["source_row"], flag["code"], flag["column"]) == (10, "direction_unknown", "收/支")
    assert any("row(s) 10" in w and "cannot be known" in w for w in report.warnings)


def test_from_sign_lets_a_signed_amount_decide(tmp_path: Path):
    template = tmp_path / "signed.yaml"
    template.write_text("""
name: signed_bank
description: a bank CSV whose 借贷 flag is sometimes empty while the amount is signed
source: test
kind: bank_txn
recognise: {columns: [日期, 金额, 借贷]}
mapping:
  txn_time: {column: 日期, required: true}
  direction: {column: 借贷, map: {借: out, 贷: in}, unmapped: reject, from_sign: true}
  amount: {column: 金额, required: true}
""", encoding="utf-8")
    path = tmp_path / "signed.csv"
    path.write_text("日期,金额,借贷\n2026-10-01,-5.00,借\n2026-10-02,7.00,\n2026-10-03,-3.00,\n", encoding="utf-8")
    table, _, _ = recon_helpers.load(path, template=template)
    assert list(table["direction"]) == ["out", "in", "out"]


def test_template_rules_are_checked_when_the_template_is_read(tmp_path: Path):
    import pytest

    from recon_helpers.errors import TemplateError
    from recon_helpers.sources.templates import read_template_file

    bad = tmp_path / "bad.yaml"
    bad.write_text("""
name: bad
description: from_sign on a field that is not the direction
source: test
kind: bank_txn
recognise: {columns: [日期, 金额, 状态]}
mapping:
  status: {column: 状态, map: {成功: ok}, from_sign: true}
  amount: 金额
""", encoding="utf-8")
    with pytest.raises(TemplateError, match="from_sign only applies to direction"):
        read_template_file(bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace("map: {成功: ok}, from_sign: true",
                                                          "when_blank: [{column: 备注, map: {x: y}}]"), encoding="utf-8")
    with pytest.raises(TemplateError, match="need a map"):
        read_template_file(bad)
