"""load(): bad input gets a clear error or a reject, rows keep their line numbers, results round-trip."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from recon_helpers.errors import DetectionError, SourceFileError
from recon_helpers.sources import LoadResult, load
from recon_helpers.sources import templates as sources

SAMPLES = Path(__file__).parents[1] / "samples"

SHIP_HEADER = "运单号,快递公司,订单号,平台,发货时间,收件省份,重量(kg),长(cm),宽(cm),高(cm),件数,仓库"


def ship_line(i: int, *, weight: str = "1.20", when: str | None = None) -> str:
    when = when or f"2026-10-{1 + i % 28:02d} 10:00:00"
    return f"SF{1000000 + i},顺丰速运,O{i},淘宝,{when},上海,{weight},10,10,10,1,杭州仓"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ----------------------------------------------------------------------------- bad input

def test_empty_file_is_a_clear_error(tmp_path):
    path = write(tmp_path, "empty.csv", "")
    with pytest.raises(SourceFileError, match="empty.csv: the file is empty"):
        load(path)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(SourceFileError, match="nope.csv: file not found"):
        load(tmp_path / "nope.csv")


@pytest.mark.parametrize("payload", [bytes(range(256)) * 8, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, b"%PDF-1.7\n..."])
def test_binary_file_named_csv_is_refused(tmp_path, payload):
    path = tmp_path / "statement.csv"
    path.write_bytes(payload)
    with pytest.raises(SourceFileError, match="statement.csv: .*(binary|PDF|PNG)"):
        load(path)


def test_truncated_xlsx_is_a_clear_error(tmp_path):
    data = (SAMPLES / "sf_bill.xlsx").read_bytes()
    path = tmp_path / "sf_bill.xlsx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceFileError, match="sf_bill.xlsx: cannot read the XLSX workbook .*truncated"):
        load(path)


def test_wrong_encoding_for_the_template_is_a_clear_error(tmp_path):
    """A UTF-8 file given to a template that says GBK: not valid GBK text, or a header that reads as mojibake."""
    template = sources.get_template("erp_shipments").model_copy(update={"encoding": ["gbk"]})
    path = write(tmp_path, "ship.csv", SHIP_HEADER + "\n" + ship_line(1) + "\n", "utf-8")
    with pytest.raises(SourceFileError, match="ship.csv: .*(gbk|misses)"):
        load(path, template=template)


def test_header_but_no_rows_gives_an_empty_typed_table(tmp_path):
    path = write(tmp_path, "ship.csv", SHIP_HEADER + "\n", "utf-8-sig")
    table, rejects, report = load(path)
    assert report.template == "erp_shipments"
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (0, 0, 0)
    assert len(table) == 0 and len(rejects) == 0
    assert str(table["weight"].dtype) == "decimal128(12, 3)[pyarrow]"
    assert str(table["txn_time"].dtype) == "timestamp[s][pyarrow]"


def test_duplicate_mapped_column_names_the_column(tmp_path):
    header = SHIP_HEADER.replace("仓库", "重量(kg)")
    path = write(tmp_path, "ship.csv", header + "\n" + ship_line(1) + "\n")
    with pytest.raises(SourceFileError, match=r"column '重量\(kg\)' appears 2 times .*columns 7, 12.*position"):
        load(path, template="erp_shipments")


def test_duplicate_column_is_fine_when_the_template_maps_by_position(tmp_path):
    template = sources.get_template("erp_shipments")
    mapping = dict(template.mapping)
    mapping["weight"] = sources.FieldMap(position=7)
    mapping.pop("warehouse")
    template = template.model_copy(update={"mapping": mapping})
    header = SHIP_HEADER.replace("仓库", "重量(kg)")
    path = write(tmp_path, "ship.csv", header + "\n" + ship_line(1, weight="2.50") + "\n")
    table, _, _ = load(path, template=template)
    assert list(table["weight"]) == [Decimal("2.500")]


def test_mixed_date_formats_reject_the_rows_in_an_undeclared_format(tmp_path):
    lines = [SHIP_HEADER, ship_line(1), ship_line(2, when="05.10.2026 10:00"), ship_line(3),
             ship_line(4, when="2026/10/32 10:00:00"), ship_line(5, when="2026-02-30 08:00:00")]
    template = sources.get_template("erp_shipments")
    mapping = dict(template.mapping)
    mapping["txn_time"] = sources.FieldMap(column=["发货时间"], formats=["%Y/%m/%d %H:%M:%S"], required=True)
    template = template.model_copy(update={"mapping": mapping})
    table, rejects, report = load(write(tmp_path, "ship.csv", "\n".join(lines) + "\n"), template=template)
    assert list(rejects["source_row"]) == [3, 5, 6]
    assert set(rejects["code"]) == {"bad_date"} and set(rejects["column"]) == {"发货时间"}
    assert list(table["source_row"]) == [2, 4]
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (5, 2, 3)


def test_unknown_file_lists_the_closest_templates_and_what_they_miss(tmp_path):
    path = write(tmp_path, "x.csv", "运单号,快递公司,毫不相干\nA,B,C\n")
    with pytest.raises(DetectionError) as err:
        load(path)
    assert len(err.value.candidates) == 3
    assert "misses" in str(err.value) and "x.csv" in str(err.value)


def test_two_equally_good_templates_is_a_refusal(monkeypatch, tmp_path):
    twin = sources.get_template("erp_shipments").model_copy(update={"name": "erp_shipments_twin"})
    sources.list_templates()
    monkeypatch.setitem(sources.TEMPLATES._items, "erp_shipments_twin", twin)
    path = write(tmp_path, "ship.csv", SHIP_HEADER + "\n" + ship_line(1) + "\n")
    with pytest.raises(DetectionError, match="equally well .*erp_shipments.*refusing to guess"):
        load(path)


# ----------------------------------------------------------------------------- irregular rows keep line numbers

def test_fast_path_large_gbk_file_keeps_line_numbers(tmp_path):
    lines = ["#自有发货记录", "#导出时间：2026-10-31", SHIP_HEADER] + [ship_line(i) for i in range(3000)] + ["合计,,,,,,,,,,3000,"]
    path = write(tmp_path, "ship.csv", "\n".join(lines) + "\n", "gb18030")
    table, rejects, report = load(path)
    assert report.encoding == "gb18030" and report.preamble_lines == 2 and report.footer_lines == 1
    assert report.rows_loaded == 3000 and len(rejects) == 0
    assert table["waybill_no"].iloc[1234] == "SF1001234" and table["source_row"].iloc[1234] == 4 + 1234
    assert table["weight"].sum() == Decimal("3600.000")


def test_ragged_blank_and_multiline_rows_keep_their_line_numbers(tmp_path):
    lines = [SHIP_HEADER, ship_line(1) + ",", ship_line(2), "", ship_line(3).replace("杭州仓", '"杭州\n仓"'),
             ship_line(4) + ",extra,cells", ship_line(5)]
    table, rejects, report = load(write(tmp_path, "ship.csv", "\n".join(lines) + "\n"))
    assert list(table["waybill_no"]) == ["SF1000001", "SF1000002", "SF1000003", "SF1000005"]
    assert list(table["source_row"]) == [2, 3, 5, 8]
    assert list(rejects["source_row"]) == [7] and list(rejects["code"]) == ["bad_row"]
    assert report.blank_lines == 1
    assert report.rows_read == report.rows_loaded + report.rows_rejected == 5


def test_bad_amount_in_a_big_file_is_rejected_with_its_line(tmp_path):
    lines = [SHIP_HEADER] + [ship_line(i) for i in range(2000)]
    lines[1500] = ship_line(1499, weight="1.2.3")
    table, rejects, report = load(write(tmp_path, "ship.csv", "\n".join(lines) + "\n"))
    assert list(rejects["source_row"]) == [1501]
    assert list(rejects["value"]) == ["1.2.3"] and list(rejects["column"]) == ["重量(kg)"]
    assert report.rows_loaded == 1999


# ----------------------------------------------------------------------------- control totals, results

def test_control_total_mismatch_is_a_warning_not_an_error(tmp_path):
    text = (SAMPLES / "alipay_merchant_trade_gbk.csv").read_bytes().decode("gbk")
    text = text.replace("商家实收共72.60元", "商家实收共99.99元")
    table, _, report = load(write(tmp_path, "trade.csv", text, "gbk"))
    assert len(table) == 3
    bad = [c for c in report.control_totals if c.ok is False]
    assert [(c.label, c.expected, c.actual) for c in bad] == [("交易合计", Decimal("99.99"), Decimal("72.60"))]
    assert any("control total mismatch" in w and "交易合计" in w for w in report.warnings)


def test_write_parquet_keeps_exact_decimals_and_csv_writes_text(tmp_path):
    result = load(SAMPLES / "wechat_merchant_trade_all.csv")
    assert isinstance(result, LoadResult)
    out = result.write(tmp_path / "out" / "trade.parquet")
    back = pq.read_table(out)
    assert str(back.schema.field("amount").type) == "decimal128(18, 2)"
    assert back.column("amount").to_pylist() == [Decimal("60.00"), Decimal("40.00"), Decimal("-50.00")]
    csv_out = result.write(tmp_path / "trade.csv")
    frame = pd.read_csv(csv_out, dtype=str, encoding="utf-8-sig")
    assert list(frame["amount"]) == ["60.00", "40.00", "-50.00"]
    assert frame["txn_time"].iloc[0] == "2026-10-09 10:06:33"
    assert list(frame.columns[-3:]) == ["source_file", "source_row", "template"]


def test_rejects_are_written_beside_the_table(tmp_path):
    lines = [SHIP_HEADER, ship_line(1), ship_line(2, weight="heavy")]
    result = load(write(tmp_path, "ship.csv", "\n".join(lines) + "\n"))
    result.write(tmp_path / "ship.parquet")
    rejects = pd.read_csv(tmp_path / "ship.rejects.csv", dtype=str, encoding="utf-8-sig")
    assert list(rejects["source_row"]) == ["3"] and list(rejects["value"]) == ["heavy"]


def test_notebook_display_shows_the_report(tmp_path):
    result = load(SAMPLES / "sf_bill.xlsx")
    html = result._repr_html_()
    assert "sf_bill" in html and "合计 应付金额" in html and "<table" in html
    assert "header row 6" in result.report._repr_html_()


def test_report_counts_add_up_for_a_preamble_and_footer_file(real_corpus):
    _, _, report = load(real_corpus / "alipay_personal_app_2021_gbk.csv")
    assert report.preamble_lines == 1 and report.header_line == 2 and report.footer_lines == 21
    assert report.rows_read == report.rows_loaded + report.rows_rejected == 16


def test_bank_file_templates_go_through_the_parser(real_corpus):
    table, _, report = load(real_corpus / "mt940_cmxl_multi.sta")
    assert report.template == "mt940"
    assert len(table) > 0 and (table["template"] == "mt940").all()


def test_xlsx_float_noise_does_not_break_amounts_or_totals(tmp_path):
    """Excel stores 0.1 + 0.2 as 0.30000000000000004; a person sees 0.3, and so should the checks."""
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["运单号", "业务日期", "始发地", "目的省", "实重(kg)", "体积(cm³)", "计费重量", "基础运费", "增值服务费", "应付金额",
               "商家订单号"])
    ws.append(["JDX1", "2026-10-03", "北京", "河北", 1.2, 6000, 2, 0.1, 0.0, 0.1, "O1"])
    ws.append(["JDX2", "2026-10-03", "北京", "河北", 1.2, 6000, 2, 0.2, 0.0, 0.2, "O2"])
    ws.append(["JDX3", "2026-10-04", "北京", "天津", 0.4, 1000, 1, 4910126.31, 0.0, 4910126.31, "O3"])
    ws.append(["总计", None, None, None, None, None, None, 0.1 + 0.2 + 4910126.31, 0.0, 0.1 + 0.2 + 4910126.31, None])
    path = tmp_path / "jd_bill.xlsx"
    book.save(path)
    table, _, report = load(path)
    assert list(table["amount"]) == [Decimal("0.10"), Decimal("0.20"), Decimal("4910126.31")]
    assert [c.ok for c in report.control_totals] == [True]
