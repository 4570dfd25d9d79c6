"""Source templates are data: validated on load, with errors that name the file and the field."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from recon_helpers import canonical, catalog
from recon_helpers.errors import TemplateError
from recon_helpers.sources import load
from recon_helpers.sources import templates as sources

TEMPLATES = Path(catalog.folder("sources"))

GOOD = """\
name: my_bank
description: test bank
source: written for the test
kind: bank_txn
recognise: {columns: [日期, 金额]}
mapping:
  txn_time: 日期
  amount: 金额
"""


def write(tmp_path: Path, text: str, name: str = "my_bank.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "field", "phrase"), [
    (("  amount: 金额", "  amout: 金额"), "mapping", "'amout' is not a canonical field"),
    (("kind: bank_txn", "kind: bank"), "kind", "not a table kind"),
    (("  amount: 金额", "  amount: {column: 金额, colour: red}"), "mapping.amount.colour", "Extra inputs"),
    (("  amount: 金额", "  amount: {column: 金额, value: '1'}"), "mapping.amount", "exactly one of"),
    (("  amount: 金额", "  amount: {column: 金额, pattern: '([0-9'}"), "mapping.amount", "not a regex"),
    (("  txn_time: 日期", "  txn_time: {column: 日期, map: {a: b}}"), "mapping", "map only applies"),
    (("source: written for the test\n", ""), "source", "Field required"),
])
def test_broken_template_names_file_and_field(tmp_path, change, field, phrase):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(TemplateError) as err:
        sources.get_template(path)
    assert err.value.template_file.endswith("my_bank.yaml")
    assert err.value.field == field
    assert f"my_bank.yaml, field {field!r}" in str(err.value)
    assert phrase in str(err.value)


def test_not_yaml_and_not_a_mapping_are_template_errors(tmp_path):
    with pytest.raises(TemplateError, match="not valid YAML"):
        sources.get_template(write(tmp_path, "name: [unclosed"))
    with pytest.raises(TemplateError, match="must be a YAML mapping"):
        sources.get_template(write(tmp_path, "- a\n- b\n"))


def test_yaml_keeps_month_like_values_as_text(tmp_path):
    path = write(tmp_path, GOOD.replace("source: written for the test", "source: 2026-03") + "null_values: [2026-03-01]\n")
    template = sources.get_template(path)
    assert template.source == "2026-03"
    assert template.null_values == ["2026-03-01"]


def test_builtin_templates_are_listed_with_kind_and_source():
    templates = sources.list_templates()
    names = {t.name for t in templates}
    assert len(templates) >= 38
    assert {"alipay_merchant_account", "wechat_merchant_trade", "sf_bill", "icbc_debit", "gl_export"} <= names
    for t in templates:
        assert t.kind in {**canonical.TABLE_KINDS, **sources.EXTRA_KINDS}
        assert t.source.strip() and t.description.strip()
        assert (TEMPLATES / f"{t.name}.yaml").exists()


def test_unknown_template_name_suggests_close_ones():
    with pytest.raises(TemplateError, match="no source template named 'wechat_personl'; did you mean wechat_personal"):
        sources.get_template("wechat_personl")


def test_user_written_template_loads_a_file_it_describes(tmp_path):
    data = "导出,,\n日期,金额,备注\n2026-10-01,12.30,a\n2026-10-02,-2.30,b\n"
    src = tmp_path / "mine.csv"
    src.write_text(data, encoding="utf-8")
    table, rejects, report = load(src, template=write(tmp_path, GOOD))
    assert report.template == "my_bank" and report.header_line == 2
    assert list(table["amount"]) == [Decimal("12.30"), Decimal("-2.30")]
    assert list(table["source_row"]) == [3, 4]


def test_example_generic_template_is_valid_and_works(tmp_path):
    example = TEMPLATES / "EXAMPLE_generic.yaml.txt"
    path = write(tmp_path, example.read_text(encoding="utf-8"), "generic.yaml")
    statement = tmp_path / "statement.csv"
    statement.write_bytes((
        "某银行 对公账户 交易明细\n"
        "交易日期,交易时间,流水号,借方发生额,贷方发生额,余额,对方户名,摘要\n"
        "20261001,093000,L1,,500.00,1500.00,甲公司,货款\n"
        "20261002,101500,L2,\"1,200.00\",,300.00,乙公司,付款\n"
        "合计,,,\"1,200.00\",500.00,,,\n").encode("gb18030"))
    table, rejects, report = load(statement, template=path)
    assert list(table["amount"]) == [Decimal("500.00"), Decimal("-1200.00")]
    assert str(table["txn_time"].iloc[1]) == "2026-10-02 10:15:00"
    assert [c.ok for c in report.control_totals] == [True, True]
    assert len(rejects) == 0


def test_parser_templates_are_accepted_without_columns():
    mt940 = sources.get_template("mt940")
    assert mt940.parser == "mt940" and mt940.recognise.markers
