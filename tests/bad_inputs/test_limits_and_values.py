"""Limits that name themselves and can be raised, value rules a template can relax, footers by shape,
and the load invariant (#16 items 2-4). The corpus tests run the CLI on damaged files; these pin the
rules themselves on tiny inputs.
"""
from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

import recon_helpers
from recon_helpers.errors import InvariantError, SourceFileError, UsageError
from recon_helpers.sources import cells, footers, limits
from recon_helpers.sources.result import check_accounting

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "sources"
HEADER = "运单号,快递公司,订单号,平台,发货时间,收件省份,重量(kg),长(cm),宽(cm),高(cm),件数,仓库"


def ship(i: int, weight: str = "0.80", qty: str = "1", warehouse: str = "杭州仓") -> str:
    return f"SF{1234567890100 + i},顺丰速运,35{i:010d},淘宝,2026-10-0{i} 16:00:00,上海,{weight},20,15,10,{qty},{warehouse}"


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join([HEADER, *lines]) + "\n").encode("utf-8"))
    return path


def template_with(tmp_path: Path, *, top: str = "", field_line: tuple[str, str] | None = None) -> Path:
    text = (TEMPLATES / "erp_shipments.yaml").read_text(encoding="utf-8")
    text = text.replace("name: erp_shipments", "name: erp_shipments_variant" + ("\n" + top if top else ""))
    if field_line:
        assert field_line[0] in text
        text = text.replace(field_line[0], field_line[1])
    path = tmp_path / "erp_shipments_variant.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- limits

def test_limits_come_from_defaults_then_environment_then_code(monkeypatch):
    assert limits.current() == limits.Limits()
    monkeypatch.setenv("RECON_MAX_ZIP_MEMBER_BYTES", "2GiB")
    monkeypatch.setenv("RECON_MAX_CELL_CHARS", "100000")
    assert limits.get("max_zip_member_bytes") == 2 << 30 and limits.get("max_cell_chars") == 100_000
    with limits.overridden(max_cell_chars=5):
        assert limits.get("max_cell_chars") == 5
    assert limits.get("max_cell_chars") == 100_000
    monkeypatch.setenv("RECON_MAX_CELL_CHARS", "5MiB")  # a count takes no unit
    with pytest.raises(UsageError, match="RECON_MAX_CELL_CHARS"):
        limits.current()


def test_every_limit_is_documented_with_its_default():
    text = (Path(__file__).resolve().parents[2] / "SECURITY.md").read_text(encoding="utf-8")
    for f in dataclasses.fields(limits.Limits):
        assert f"`{f.name}`" in text, f.name
        assert f.name in limits.__doc__


def test_a_line_past_the_limit_is_rejected_alone_and_the_message_says_how_to_raise_it(tmp_path):
    path = write(tmp_path, "long.csv", [ship(1), ship(2, warehouse="仓" * 3000), ship(3)])
    with limits.overridden(max_line_bytes=4096):
        table, rejects, report = recon_helpers.load(path)
    assert list(table["source_row"]) == [2, 4]
    (reason,) = rejects["reason"]
    assert list(rejects["source_row"]) == [3]
    assert "max_line_bytes is 4 KiB" in reason and "RECON_MAX_LINE_BYTES" in reason


def test_a_long_cell_is_rejected_naming_its_column_until_the_limit_is_raised(tmp_path):
    path = write(tmp_path, "cell.csv", [ship(1), ship(2, warehouse="x" * 500)])
    with limits.overridden(max_cell_chars=100):
        table, rejects, _ = recon_helpers.load(path)
    assert list(table["source_row"]) == [2] and list(rejects["column"]) == ["仓库"]
    assert "max_cell_chars is 100" in rejects["reason"][0] and "RECON_MAX_CELL_CHARS" in rejects["reason"][0]
    assert rejects["value"][0] == "x" * 100 + "… (500 characters)"   # the start of the cell, not all of it
    with limits.overridden(max_cell_chars=1000):
        table, rejects, _ = recon_helpers.load(path)
    assert len(table) == 2 and len(rejects) == 0


def test_a_file_past_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = write(tmp_path, "big.csv", [ship(i) for i in range(1, 9)])
    with limits.overridden(max_file_bytes=100), pytest.raises(SourceFileError, match="RECON_MAX_FILE_BYTES"):
        recon_helpers.load(path)


# --------------------------------------------------------------------------- values

@pytest.mark.parametrize("text, value", [
    ("1,234.50", Decimal("1234.50")), ("¥12,345元", Decimal("12345.00")), ("(1,000.00)", Decimal("-1000.00")),
    ("+5", Decimal("5.00")), ("¥-0", Decimal("0.00")), ("(100.00)", Decimal("-100.00")), ("1.5E+3", Decimal("1500.00")),
    ("1,2,3", None), ("12,34", None), ("1,234,5", None), ("+-5", None), ("--5", None), ("-+5", None),
    ("(-5)", None), ("NaN", None), ("1e309", None), ("inf", None),
])
def test_amounts_follow_the_documented_rules(text, value):
    parsed = cells.parse_money(pa.array([text]))
    assert parsed.values[0].as_py() == value
    assert parsed.bad[0].as_py() is (value is None)


def test_decimal_commas_read_only_where_declared():
    written = pa.array(["1,5", "1.234,50", "2"])
    assert cells.parse_measure(written).bad.to_pylist() == [True, True, False]
    declared = cells.parse_measure(written, decimal_comma=True)
    assert declared.values.to_pylist() == [Decimal("1.500"), Decimal("1234.500"), Decimal("2.000")]


def test_a_template_declares_decimal_commas(tmp_path):
    path = write(tmp_path, "comma.csv", [ship(1, weight='"1,5"'), ship(2, weight='"0,75"')])
    table, rejects, _ = recon_helpers.load(path, template=template_with(tmp_path, top="decimal_comma: true"))
    assert len(rejects) == 0 and [str(w) for w in table["weight"]] == ["1.500", "0.750"]
    _, rejects, _ = recon_helpers.load(path, template="erp_shipments")
    assert list(rejects["source_row"]) == [2, 3]


def test_negative_quantities_load_only_where_a_field_allows_them(tmp_path):
    path = write(tmp_path, "returns.csv", [ship(1), ship(2, qty="-1")])
    _, rejects, _ = recon_helpers.load(path, template="erp_shipments")
    assert list(rejects["column"]) == ["件数"] and "allow_negative" in rejects["reason"][0]
    variant = template_with(tmp_path, field_line=("  qty: 件数", "  qty: {column: 件数, allow_negative: true}"))
    table, rejects, _ = recon_helpers.load(path, template=variant)
    assert len(rejects) == 0 and list(table["qty"]) == [1, -1]


def test_keys_lose_zero_width_characters_and_fold_full_width_but_names_keep_theirs():
    keys = cells.fold_key(pa.array(["SF12\u200b34", "ＳＦ１２３４", "\ufeffSF1234\u2060", None]))
    assert keys.to_pylist() == ["SF1234", "SF1234", "SF1234", None]


@pytest.mark.parametrize("text", ["2026-02-30", "0000-00-00", "2026-13-01", "2026-02-29"])
def test_impossible_dates_are_bad(text):
    assert cells.parse_datetime(pa.array([text]), date_only=True).bad.to_pylist() == [True]


# --------------------------------------------------------------------------- footers

def _lines(rows: list[list[str]]):
    def line_at(i: int):
        return (rows[i], ",".join(rows[i]), i + 1) if i < len(rows) else None
    return line_at


@pytest.mark.parametrize("label", ["合计", "合计金额", "总计", "人民币合计", "本页合计", "总计(元)"])
def test_footer_label_variants_are_labels(label):
    assert footers.LABEL_CELL.match(label)


def test_a_footer_is_the_last_block_and_shaped_like_one():
    data = ["SF1", "顺丰", "上海", "0.8", "1", "杭州仓"]
    heji_row = ["合计", "顺丰", "上海", "0.8", "1", "杭州仓"]
    total = ["合计", "", "", "1.6", "2", ""]
    rows = [data, heji_row, data, total, ["#导出时间：2026-11-01"]]
    assert footers.first_footer([1, 3], _lines(rows), width=6) == 3   # the data row 合计 stays data
    rows = [data, total, data, data]
    assert footers.first_footer([1], _lines(rows), width=6) is None    # data after it: not a footer
    assert footers.first_footer([1], _lines([data, ["#-----账务明细列表结束-----"], data]), width=6) is None
    dense_total = ["合计", "12", "3", "1.6", "2", "48.00"]                    # a figure in every column
    assert footers.first_footer([2], _lines([data, data, dense_total]), width=6) == 2
    assert footers.first_footer([1], _lines([data, dense_total, data]), width=6) is None


# --------------------------------------------------------------------------- the invariant

def test_a_load_that_loses_a_row_is_a_bug_not_a_result(tmp_path):
    result = recon_helpers.load(write(tmp_path, "ok.csv", [ship(1), ship(2), ship(3)]))
    check_accounting(result, lines=4)
    with pytest.raises(InvariantError, match="accounts for 4 of the file's 5 lines"):
        check_accounting(result, lines=5)
    result.report.rows_loaded -= 1
    with pytest.raises(InvariantError, match="rows_loaded 2 but the table has 3"):
        check_accounting(result)


def test_a_sheet_is_sized_by_its_real_cells_and_refused_past_the_limit():
    samples = Path(__file__).resolve().parents[1] / "samples"
    table, _, _ = recon_helpers.load(samples / "wms_outbound.xlsx")
    with limits.overridden(max_sheet_cells=len(table) * 11 + 11):   # the real cells fit: read as usual
        again, _, _ = recon_helpers.load(samples / "wms_outbound.xlsx")
    assert again.equals(table)
    with limits.overridden(max_sheet_cells=20), pytest.raises(SourceFileError, match="RECON_MAX_SHEET_CELLS"):
        recon_helpers.load(samples / "wms_outbound.xlsx")
