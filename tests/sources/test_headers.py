"""Header names as real exports vary them (issue #11 item 1): units in brackets, full-width forms, line breaks,
trailing colons - every sample still detects its template, and a unit scales a measure or is refused."""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import recon_helpers
from recon_helpers import canonical
from recon_helpers.errors import DetectionError, SourceFileError
from recon_helpers.sources.headers import header_key, header_unit, name_key
from recon_helpers.sources.templates import get_template

SAMPLES = Path(__file__).parents[1] / "samples"
REAL = Path(os.environ.get("RECON_REAL_CORPUS") or Path(__file__).parents[2].parent / "shared" / "corpus" / "real")
TABULAR_SAMPLES = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".csv", ".xlsx", ".xls", ".zip"))
REAL_TABULAR = ["alipay_personal_2023_gbk.csv", "alipay_personal_app_2021_gbk.csv", "alipay_personal_web_2019_gbk.csv",
                "icbc_debit_v2.csv", "jd_personal_bill_utf8bom.csv", "wechat_personal.xlsx", "wechat_personal_utf8.csv"]


@pytest.mark.parametrize(("written", "key", "unit"), [
    ("运费(元)", "运费", "元"), ("运费（元）", "运费", "元"), ("运费 [元]", "运费", "元"), ("运费【元】", "运费", "元"),
    ("实际重量(kg)", "实际重量", "kg"), ("实际重量（公斤）", "实际重量", "公斤"), ("实际重量(KG)", "实际重量", "kg"),
    ("交易日期：", "交易日期", None), ("交易\n日期", "交易日期", None), ("日 志 号", "日志号", None),
    ("ＡＢＣ金额", "abc金额", None), ("金额(单位：元)", "金额", "元"),
    # brackets that are part of the name, not a unit, stay
    ("记账金额(收入)", "记账金额(收入)", None), ("收入金额（+元）", "收入金额(+元)", None),
])
def test_header_key_drops_units_colons_spaces_and_width(written: str, key: str, unit: str | None):
    assert (header_key(written), header_unit(written)) == (key, unit)


def test_exact_names_keep_their_unit():
    assert name_key("exact:运费(元)") == name_key("exact:运费（元）") != name_key("exact:运费")


# ----------------------------------------------------------------------------- every sample, headers dressed up

def dressed(name: str, kind: str) -> str:
    """How another export would write this header: a unit in full-width brackets, a line break, a colon.

    In a CSV the line break is quoted inside the cell (as Excel saves a wrapped header cell), so the
    header record spans several physical lines.
    """
    if header_unit(name) is not None:
        return name.replace("(", "（").replace(")", "）")
    if kind == "money":
        return name + "（元）"
    if kind == "measure":
        return name + "(kg)"
    return (name[:1] + "\n" + name[1:] if len(name) > 1 else name) + "："


def header_edits(report) -> list[tuple[int, str, str]]:
    template = get_template(report.template)
    mapped: dict[str, str] = {}
    for field_name, spec in template.mapping.items():
        for column in spec.columns_used:
            for alt in column.split("|"):
                mapped.setdefault(header_key(alt), canonical.CANONICAL_FIELDS[field_name].kind)
    header = header_cells(report)
    return [(report.header_line, cell, dressed(cell, mapped[header_key(cell)]))
            for cell in header if cell and header_key(cell) in mapped]


def header_cells(report) -> list[str]:
    import python_calamine

    from recon_helpers.sources.opening import open_candidates

    path = Path(report.source_file.split("!", 1)[0])
    if path.suffix in (".xlsx", ".xls"):
        rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(report.sheet).to_python(
            skip_empty_area=False)
        return [str(c) for c in rows[report.header_line - 1]]
    cand = next(c for c in open_candidates(path) if c.source_file == report.source_file)
    return next(r.cells for r in cand.head if r.line == report.header_line)


def dressed_text_copy(src: Path, report, tmp_path: Path, edits: list[tuple[int, str, str]]) -> Path:
    """The CSV (or the CSV inside the ZIP) with its header line rewritten; a line break is quoted, as Excel does."""
    import csv
    import io
    import zipfile

    def rewrite(data: bytes) -> bytes:
        codec = {"utf-8": "utf-8-sig"}.get(report.encoding, report.encoding)
        lines = data.decode(codec).split("\n")
        new = {old: value for _, old, value in edits}
        cells = next(csv.reader([lines[report.header_line - 1].rstrip("\r")]))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow([new.get(c, c) for c in cells])  # "\n" makes it quote breaks
        lines[report.header_line - 1] = out.getvalue()[:-1]
        text = "\n".join(lines)
        return text.encode("utf-16" if codec.startswith("utf-16") else codec)

    dst = tmp_path / src.name
    if src.suffix == ".zip":
        member = report.source_file.split("!", 1)[1]
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
            for info in zin.infolist():
                payload = zin.read(info)
                if info.filename.encode("cp437").decode("gbk") == member:
                    payload = rewrite(payload)
                zout.writestr(info, payload)
    else:
        dst.write_bytes(rewrite(src.read_bytes()))
    return dst


@pytest.mark.parametrize("file", TABULAR_SAMPLES + [f"real:{name}" for name in REAL_TABULAR])
def test_sample_with_dressed_headers_detects_and_loads_the_same(file: str, tmp_path: Path, corrupted_copy):
    if file.startswith("real:"):
        path = REAL / file[5:]
        if not path.exists():
            pytest.skip(f"real-format sample {path} not found (the shared/ folder is not beside the repo)")
    else:
        path = SAMPLES / file
    table, rejects, report = recon_helpers.load(path)
    edits = header_edits(report)
    assert edits, "the sample's header has no mapped column"
    if path.suffix in (".csv", ".zip"):
        dressed_copy = dressed_text_copy(path, report, tmp_path, edits)
    else:
        dressed_copy = corrupted_copy(path, report, tmp_path, edits)
    table2, rejects2, report2 = recon_helpers.load(dressed_copy)
    assert report2.template == report.template
    assert (len(table2), len(rejects2)) == (len(table), len(rejects))
    if "amount" in table:
        assert table2["amount"].sum() == table["amount"].sum()
    assert [c.ok for c in report2.control_totals] == [c.ok for c in report.control_totals]


# ----------------------------------------------------------------------------- units: scale or refuse

def courier_statement(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "对账明细"
    sheet.append(["顺丰速运 月结对账单 2026年10月"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


SF_HEADER = ["运单号码", "寄件日期", "原寄地", "目的地", "产品类型", "实际重量(kg)", "计费重量(kg)", "运费(元)", "应付金额(元)"]
SF_ROWS = [["SF001", "2026-10-01", "深圳", "北京", "顺丰标快", 1.2, 2, 23, 23.5],
           ["SF002", "2026-10-02", "深圳", "上海", "顺丰标快", 0.4, 1, 12, 12]]


def test_courier_statement_with_units_in_its_headers_loads_with_the_sf_template(tmp_path: Path):
    table, rejects, report = recon_helpers.load(courier_statement(tmp_path / "bill.xlsx", SF_HEADER, SF_ROWS))
    assert report.template == "sf_bill" and len(rejects) == 0
    assert list(table["amount"]) == [Decimal("23.50"), Decimal("12.00")]
    assert list(table["weight"]) == [Decimal("1.200"), Decimal("0.400")]


def test_a_weight_in_grams_is_scaled_to_kg(tmp_path: Path):
    header = [h.replace("实际重量(kg)", "实际重量（克）") for h in SF_HEADER]
    rows = [r[:5] + [r[5] * 1000] + r[6:] for r in SF_ROWS]
    table, _, report = recon_helpers.load(courier_statement(tmp_path / "bill.xlsx", header, rows))
    assert report.template == "sf_bill"
    assert list(table["weight"]) == [Decimal("1.200"), Decimal("0.400")]


def test_a_weight_in_pounds_is_converted_exactly(tmp_path: Path):
    header = [h.replace("实际重量(kg)", "实际重量(lb)") for h in SF_HEADER]
    rows = [r[:5] + [1] + r[6:] for r in SF_ROWS]
    table, _, _ = recon_helpers.load(courier_statement(tmp_path / "bill.xlsx", header, rows))
    assert list(table["weight"]) == [Decimal("0.454"), Decimal("0.454")]


def test_a_unit_of_the_wrong_kind_is_refused_not_read_as_kg(tmp_path: Path):
    header = [h.replace("实际重量(kg)", "实际重量(cm)") for h in SF_HEADER]
    with pytest.raises(SourceFileError, match=r"实际重量\(cm\).*'weight'"):
        recon_helpers.load(courier_statement(tmp_path / "bill.xlsx", header, SF_ROWS))


def test_an_amount_in_ten_thousands_is_scaled(tmp_path: Path):
    header = [h.replace("应付金额(元)", "应付金额(万元)") for h in SF_HEADER]
    rows = [r[:8] + [0.0025] for r in SF_ROWS]
    table, _, _ = recon_helpers.load(courier_statement(tmp_path / "bill.xlsx", header, rows))
    assert list(table["amount"]) == [Decimal("25.00"), Decimal("25.00")]


def test_a_template_can_pin_an_exact_name(tmp_path: Path):
    text = (Path(__file__).parents[2] / "templates" / "sources" / "sf_bill.yaml").read_text(encoding="utf-8")
    pinned = tmp_path / "sf_pinned.yaml"
    text = text.replace("运单号码|运单号|快递单号, 寄件日期", "'exact:运单号码(顺丰)', 寄件日期")
    pinned.write_text(text.replace("[运单号码, 运单号, 快递单号]", "'exact:运单号码(顺丰)'"), encoding="utf-8")
    path = courier_statement(tmp_path / "bill.xlsx", SF_HEADER, SF_ROWS)
    with pytest.raises(DetectionError, match="运单号码"):
        recon_helpers.load(path, template=pinned)
    exact = courier_statement(tmp_path / "bill_exact.xlsx", ["运单号码（顺丰）", *SF_HEADER[1:]], SF_ROWS)
    assert len(recon_helpers.load(exact, template=pinned).table) == 2
