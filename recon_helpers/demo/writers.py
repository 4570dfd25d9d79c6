"""Byte-stable writers for the demo files: CSV text, a small XLSX writer, ZIP archives.

Why our own XLSX writer: the demo must be byte-identical on every run and machine. A workbook is a
ZIP of XML parts; we write exactly the parts Excel, openpyxl and calamine need (inline strings, one
style for 2-dp money and one for 3-dp weights), with fixed ZIP entry dates and fixed
``docProps/core.xml`` times taken from the period, never from the clock. Tables are formatted a
column at a time (vectorised pandas string operations), so 200,000-row sheets stay fast.

Every table handed to a writer is a DataFrame of *already formatted text* ("12.30", "2026-10-03
14:22:11", ``="3512…"``); empty string means an empty cell. Number columns of an XLSX sheet are
declared by name and written as numeric cells.
"""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from recon_helpers import export

#: fixed ZIP attributes, so archives do not depend on the platform that wrote them
_ZIP_CREATE_SYSTEM = 3
_ZIP_FILE_MODE = 0o644 << 16


# ---------------------------------------------------------------------------------------------
# value formatting (vectorised)
# ---------------------------------------------------------------------------------------------


def fen_text(fen: np.ndarray | pd.Series, *, decimals: int = 2) -> pd.Series:
    """Integer fen -> "12.30" / "-0.05" text (``decimals`` 5 appends zeros, like WeChat fees "0.32000")."""
    values = np.asarray(fen, dtype=np.int64)
    sign = np.where(values < 0, "-", "")
    mag = np.abs(values)
    yuan = pd.Series(mag // 100).astype(str)
    cents = pd.Series(mag % 100).astype(str).str.zfill(2)
    out = pd.Series(sign) + yuan + "." + cents
    if decimals > 2:
        out = out + "0" * (decimals - 2)
    return out.astype(object)


def grams_text(grams: np.ndarray | pd.Series, *, decimals: int = 2) -> pd.Series:
    """Integer grams -> kg text with ``decimals`` places (grams must be multiples of 10**(3-decimals))."""
    values = np.asarray(grams, dtype=np.int64)
    unit = 10 ** (3 - decimals)
    kg = pd.Series(values // 1000).astype(str)
    frac = pd.Series((values % 1000) // unit).astype(str).str.zfill(decimals)
    return (kg + "." + frac).astype(object)


def time_text(start: dt.datetime, seconds: np.ndarray | pd.Series, fmt: str = "%Y-%m-%d %H:%M:%S") -> pd.Series:
    """Seconds after ``start`` -> local time text; negative seconds mean "no time" and give ""."""
    secs = np.asarray(seconds, dtype=np.int64)
    stamps = pd.Timestamp(start) + pd.to_timedelta(np.maximum(secs, 0), unit="s")
    text = pd.Series(stamps.strftime(fmt), dtype=object)
    text[secs < 0] = ""
    return text


def int_text(values: np.ndarray | pd.Series) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=np.int64)).astype(str).astype(object)


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


def _csv_quote(col: pd.Series) -> pd.Series:
    """Quote the cells that need it (comma, quote, newline), the way Excel and Python's csv do."""
    col = col.fillna("").astype(str)
    needs = col.str.contains(r'[,"\r\n]', regex=True)
    if needs.any():
        col = col.where(~needs, '"' + col.str.replace('"', '""', regex=False) + '"')
    return col


def join_rows(table: pd.DataFrame, *, raw: Iterable[str] = ()) -> list[str]:
    """Comma-join each row; columns in ``raw`` are written exactly as given (pre-quoted quirks)."""
    raw = set(raw)
    if len(table) == 0:
        return []
    acc: pd.Series | None = None
    for name in table.columns:
        col = table[name].fillna("").astype(str) if name in raw else _csv_quote(table[name])
        col = col.reset_index(drop=True)
        acc = col if acc is None else acc + "," + col
    return acc.tolist()


def csv_line(cells: Sequence[object]) -> str:
    """One comma-joined line of a preamble/footer, quoting cells that need it."""
    out = []
    for c in cells:
        text = "" if c is None else str(c)
        if any(ch in text for ch in ',"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out)


def write_text(path: Path, lines: Sequence[str], *, encoding: str, newline: str = "\n") -> None:
    """Write lines with a final newline in ``encoding`` (``utf-8-sig`` = UTF-8 with BOM; ``gbk`` strict)."""
    text = newline.join(lines) + newline
    export.write_bytes(path, text.encode(encoding))


def write_csv(
    path: Path,
    header: Sequence[str],
    body: pd.DataFrame,
    *,
    encoding: str,
    preamble: Sequence[str] = (),
    footer: Sequence[str] = (),
    newline: str = "\n",
    raw: Iterable[str] = (),
    header_line: str | None = None,
) -> None:
    """A CSV export: preamble lines, the header, the rows, footer lines."""
    body = body[list(header)]
    lines = [*preamble, header_line if header_line is not None else csv_line(header), *join_rows(body, raw=raw), *footer]
    write_text(path, lines, encoding=encoding, newline=newline)


# ---------------------------------------------------------------------------------------------
# ZIP with fixed dates
# ---------------------------------------------------------------------------------------------


class _GbkZipInfo(zipfile.ZipInfo):
    """A ZIP entry whose name is stored in GBK without the UTF-8 flag, as Alipay's downloads are."""

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own hook name
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def write_zip(path: Path, members: Sequence[tuple[str, bytes]], *, when: dt.datetime, gbk_names: bool = False) -> None:
    """A ZIP whose bytes depend only on ``members`` and ``when`` (entry dates, attributes, order fixed)."""
    date_time = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    with export.atomic_path(path) as temp, zipfile.ZipFile(temp, "w") as zf:
        for name, data in members:
            info = (_GbkZipInfo if gbk_names else zipfile.ZipInfo)(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _ZIP_CREATE_SYSTEM
            info.external_attr = _ZIP_FILE_MODE
            zf.writestr(info, data, compresslevel=6)


# ---------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------

_MONEY_STYLE = 1  # numFmtId 2 = "0.00"
_WEIGHT_STYLE = 2  # custom "0.000"
_INT_STYLE = 0


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _xml_escape(col: pd.Series) -> pd.Series:
    return (col.str.replace("&", "&amp;", regex=False)
               .str.replace("<", "&lt;", regex=False)
               .str.replace(">", "&gt;", regex=False))


def _escape_one(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell_xml(ref: str, value: object, style: int) -> str:
    """One cell of a title/footer row: str -> inline string, int/Decimal-like text via ``(text, style)``."""
    if value is None or value == "":
        return ""
    if isinstance(value, tuple):  # (number text, style)
        number, st = value
        attr = f' s="{st}"' if st else ""
        return f'<c r="{ref}"{attr}><v>{number}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_escape_one(str(value))}</t></is></c>'


def money_cell(text: str) -> tuple[str, int]:
    """A numeric money cell for a title/footer row (e.g. the 合计 sums)."""
    return (text, _MONEY_STYLE)


def _row_xml(r: int, cells: Sequence[object]) -> str:
    inner = "".join(_cell_xml(f"{_col_letter(j)}{r}", v, 0) for j, v in enumerate(cells))
    return f'<row r="{r}">{inner}</row>'


def _body_xml(body: pd.DataFrame, first_row: int, numeric: dict[str, str]) -> list[str]:
    """Rows of the table body, built one column at a time."""
    n = len(body)
    if n == 0:
        return []
    rows = pd.Series(np.arange(first_row, first_row + n)).astype(str)
    acc: pd.Series | None = None
    for j, name in enumerate(body.columns):
        letter = _col_letter(j)
        values = body[name].fillna("").astype(str).reset_index(drop=True)
        empty = values == ""
        ref = '<c r="' + letter + rows
        kind = numeric.get(name)
        if kind is None:
            cell = ref + '" t="inlineStr"><is><t xml:space="preserve">' + _xml_escape(values) + "</t></is></c>"
        else:
            style = {"money": _MONEY_STYLE, "weight": _WEIGHT_STYLE, "int": _INT_STYLE}[kind]
            attr = f'" s="{style}"' if style else '"'
            cell = ref + attr + "><v>" + values + "</v></c>"
        cell = cell.where(~empty, "")
        acc = cell if acc is None else acc + cell
    return ('<row r="' + rows + '">' + acc + "</row>").tolist()


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.000"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>Microsoft Excel</Application></Properties>"
)


def _workbook_xml(sheet_name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{_escape_one(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _core_xml(when: dt.datetime) -> str:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>recon demo</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def write_xlsx(
    path: Path,
    header: Sequence[str],
    body: pd.DataFrame,
    *,
    when: dt.datetime,
    sheet_name: str = "Sheet1",
    numeric: dict[str, str] | None = None,
    top: Sequence[Sequence[object]] = (),
    bottom: Sequence[Sequence[object]] = (),
) -> None:
    """One-sheet workbook: ``top`` rows (title block), the header, ``body``, ``bottom`` rows (合计).

    ``numeric`` maps body column -> "money" (0.00), "weight" (0.000) or "int"; other columns are text.
    Title/footer cells: str = text, int = number, ``money_cell("12.30")`` = money number, None = empty.
    """
    numeric = numeric or {}
    body = body[list(header)]
    rows: list[str] = []
    r = 1
    for cells in top:
        rows.append(_row_xml(r, cells))
        r += 1
    rows.append(_row_xml(r, list(header)))
    r += 1
    rows.extend(_body_xml(body, r, numeric))
    r += len(body)
    for cells in bottom:
        rows.append(_row_xml(r, cells))
        r += 1
    width = max([len(header), *(len(c) for c in top), *(len(c) for c in bottom)])
    # the used range, as Excel writes it: read-only readers size their rows from it
    dimension = f'<dimension ref="A1:{_col_letter(width - 1)}{r - 1}"/>'
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        + dimension + "<sheetData>" + "".join(rows) + "</sheetData></worksheet>"
    )
    members = [
        ("[Content_Types].xml", _CONTENT_TYPES.encode()),
        ("_rels/.rels", _ROOT_RELS.encode()),
        ("docProps/app.xml", _APP.encode()),
        ("docProps/core.xml", _core_xml(when).encode()),
        ("xl/workbook.xml", _workbook_xml(sheet_name).encode()),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.encode()),
        ("xl/styles.xml", _STYLES.encode()),
        ("xl/worksheets/sheet1.xml", sheet.encode("utf-8")),
    ]
    write_zip(path, members, when=when)
