"""Files written for people: one module writes every CSV and XLSX a person opens, so every rule holds everywhere.

A CSV from the workbench is opened in Excel by an analyst, a manager, a carrier. So it is UTF-8 with
a byte-order mark (without it Excel shows Chinese as mojibake), money keeps its places (``12.50``),
times read ``2026-10-01 09:30:00``, and every writer of the project goes through :func:`write_csv`
(loads, match results, rejects, exports) or :func:`write_xlsx` rather than each calling pandas its own way.

Three rules hold for every file written here:

- **No formula runs** (OWASP CSV injection). A text cell that starts with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return (or their full-width forms ``＝ ＋ － ＠``) is written with a leading single
  quote: ``=HYPERLINK("http://x")`` is written ``'=HYPERLINK("http://x")``, a tab-led ``\\t=1+1`` is
  written ``'\\t=1+1`` (the tab kept, so nothing is lost and the cell reads as text). A plain number
  written as text (``-12.50``, ``+5``) is left as it is: spreadsheets read it as a number, never as a
  formula. Number columns (money, counts) are never touched. The same rule names the header cells.
  :func:`neutralise` is the rule for one value; the in-workspace Parquet files keep the raw value.
- **Atomic**: a file is written to a temporary file in the same folder and renamed over the target
  (:func:`atomic_path`), so a reader never sees half a file and a killed write leaves the old one.
- **XLSX holds no formula**: cells are typed explicitly (strings as strings, money as numbers), the
  totals are computed here exactly and written as values.

DuckDB writes the CSV (from a pandas frame, an Arrow table or a DuckDB relation alike): it is fast,
streams large results without a pandas copy, and formats decimals exactly.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

#: the byte-order mark Excel needs to read a CSV as UTF-8
BOM = "\ufeff"
#: first characters that make a spreadsheet read a cell as a formula (OWASP), with their full-width forms
FORMULA_STARTS = "=+-@\t\r＝＋－＠"
#: text that is a plain number reads as a number in a spreadsheet, not as a formula: left as it is
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\Z")
#: the same two rules in DuckDB's regular-expression syntax (RE2)
_SQL_FORMULA_START = r"^[=+@\t\r＝＋－＠-]"
_SQL_PLAIN_NUMBER = r"^[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?$"


# --------------------------------------------------------------------------------------------
# formula neutralising
# --------------------------------------------------------------------------------------------
def neutralise(value: Any) -> Any:
    """``value`` as a spreadsheet shows it as text: a leading ``'`` before a would-be formula.

    Only strings change, and only those that start with one of :data:`FORMULA_STARTS` and are not a
    plain number. Applying it twice changes nothing more (the quoted form starts with ``'``).
    """
    if isinstance(value, str) and value[:1] and value[0] in FORMULA_STARTS and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _neutralised_sql(column: str) -> str:
    """SQL that applies :func:`neutralise` to a text column."""
    quoted = _quoted(column)
    return (f"CASE WHEN regexp_matches({quoted}, '{_SQL_FORMULA_START}') "
            f"AND NOT regexp_matches({quoted}, '{_SQL_PLAIN_NUMBER}') "
            f"THEN '''' || {quoted} ELSE {quoted} END")


# --------------------------------------------------------------------------------------------
# atomic files
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without error it replaces ``path``.

    The temporary file is in the same folder (a rename across file systems is not atomic) and keeps
    the suffix, so writers that look at it behave the same. On error it is removed and ``path`` keeps
    its old content.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.stem}.{os.getpid()}-{secrets.token_hex(4)}.tmp{target.suffix}")
    try:
        yield temp
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write a text file atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as temp:
        temp.write_text(text, encoding=encoding)
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write a binary file atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as temp:
        temp.write_bytes(data)
    return Path(path)


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------
def _relation(data: Any, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    if isinstance(data, duckdb.DuckDBPyRelation):
        return data
    if isinstance(data, pd.DataFrame):
        data = pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, pa.Table):
        return con.from_arrow(data)
    raise TypeError(f"write_csv needs a pandas DataFrame, an Arrow table or a DuckDB relation, not {type(data).__name__}")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _is_text(duckdb_type: Any) -> bool:
    return str(duckdb_type).upper() == "VARCHAR"


def write_csv(data: pd.DataFrame | pa.Table | duckdb.DuckDBPyRelation, path: str | Path) -> Path:
    """Write ``data`` as a CSV a person opens in Excel: UTF-8 with BOM, header, exact decimals, no formula.

    Text cells and header names are neutralised (:func:`neutralise`); number columns are written as
    numbers. The BOM is written as part of the first header cell (DuckDB has no BOM option), which is
    byte for byte what Excel and ``encoding="utf-8-sig"`` readers expect. The folder is created when
    missing; the file appears whole or not at all (:func:`atomic_path`).
    """
    out = Path(path)
    con = duckdb.connect(":memory:") if not isinstance(data, duckdb.DuckDBPyRelation) else None
    try:
        rel = _relation(data, con)
        columns = list(rel.columns)
        if not columns:
            return write_text(out, BOM)
        names = [str(neutralise(c)) for c in columns]
        names[0] = BOM + names[0]
        exprs = [f"{_neutralised_sql(c) if _is_text(t) else _quoted(c)} AS {_quoted(name)}"
                 for c, t, name in zip(columns, rel.types, names)]
        with atomic_path(out) as temp:
            rel.project(", ".join(exprs)).write_csv(str(temp), header=True)
    finally:
        if con is not None:
            con.close()
    return out


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------
#: Excel's number format for money: thousands separators, two places, negatives with a minus
MONEY_FORMAT = "#,##0.00;-#,##0.00"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name: no ``[]:*?/\\``, at most 31 characters."""
    base = _SHEET_FORBIDDEN.sub("_", str(title)).strip("'") or "Sheet"
    name, n = base[:31], 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def as_decimal(value: Any) -> Decimal | None:
    """A money cell as an exact ``Decimal`` (``"12.50"``, ``Decimal``, int), None when blank or not a number."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None


def _money_columns(frame: pd.DataFrame, declared: Sequence[str] | None) -> list[str]:
    """Declared money columns present in ``frame``; by default the columns holding Decimals."""
    if declared is not None:
        return [c for c in declared if c in frame.columns]
    found = []
    for column in frame.columns:
        sample = frame[column].dropna()
        if len(sample) and isinstance(sample.iloc[0], Decimal):
            found.append(column)
        elif isinstance(frame[column].dtype, pd.ArrowDtype) and pa.types.is_decimal(frame[column].dtype.pyarrow_dtype):
            found.append(column)
    return found


def column_totals(frame: pd.DataFrame, money: Sequence[str]) -> dict[str, Decimal]:
    """Exact sums of the money columns (blanks ignored): what a sheet's totals row shows."""
    return {c: sum((d for d in map(as_decimal, frame[c]) if d is not None), Decimal("0.00")) for c in money}


def _cell(ws: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """Write one cell with an explicit type: never a formula, never a URL guessed from text."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        ws.write_number(row, col, float(value), fmt)
    elif hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        _cell(ws, row, col, value.item(), fmt)
    else:
        ws.write_string(row, col, str(neutralise(str(value))), fmt)


#: data rows per sheet: Excel holds 1,048,576 rows; the header and the totals need room too
MAX_SHEET_ROWS = 1_048_576 - 20


def _parts(sheets: Mapping[str, pd.DataFrame], max_rows: int) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each sheet, split into continuation sheets ``name (2)``... when it has more rows than Excel holds."""
    for title, frame in sheets.items():
        if len(frame) <= max_rows:
            yield title, frame
            continue
        for k, start in enumerate(range(0, len(frame), max_rows), start=1):
            yield (title if k == 1 else f"{title} ({k})"), frame.iloc[start:start + max_rows]


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path, *, money: Sequence[str] | None = None,
               totals_label: str = "合计 Total", totals_by: str | None = None) -> Path:
    """Write one workbook: a sheet per entry of ``sheets``, each laid out to be worked in Excel.

    Each sheet has its header frozen, an autofilter over the data, money columns (``money``, default
    the columns holding ``Decimal``) as numbers in :data:`MONEY_FORMAT`, and, under the data after a
    blank row, a totals row with the row count and the exact sum of each money column, written as
    values (no formula cell anywhere; text cells are neutralised). With ``totals_by`` (e.g. ``"side"``)
    a totals row per value of that column comes first. A table longer than Excel allows
    (:data:`MAX_SHEET_ROWS`) continues on sheets ``name (2)``, ``name (3)``, each with its own totals.
    Written atomically.
    """
    import xlsxwriter

    out = Path(path)
    taken: set[str] = set()
    with atomic_path(out) as temp:
        # strings are never turned into formulas, URLs or numbers behind our back
        book = xlsxwriter.Workbook(str(temp), {"strings_to_formulas": False, "strings_to_urls": False,
                                               "strings_to_numbers": False, "constant_memory": True})
        try:
            header_fmt = book.add_format({"bold": True, "bg_color": "#eaeef2", "border": 1})
            money_fmt = book.add_format({"num_format": MONEY_FORMAT})
            total_fmt = book.add_format({"bold": True, "top": 1})
            total_money_fmt = book.add_format({"bold": True, "top": 1, "num_format": MONEY_FORMAT})
            for title, frame in _parts(sheets, MAX_SHEET_ROWS):
                ws = book.add_worksheet(sheet_name(title, taken))
                moneys = set(_money_columns(frame, money))
                columns = list(frame.columns)
                for c, name in enumerate(columns):
                    _cell(ws, 0, c, str(name), header_fmt)
                    width = max([len(str(name))] + [len(str(v)) for v in frame[name].head(200)])
                    ws.set_column(c, c, min(max(width + 2, 8), 60))
                for r, row in enumerate(frame.itertuples(index=False, name=None), start=1):
                    for c, value in enumerate(row):
                        if columns[c] in moneys:
                            amount = as_decimal(value)
                            _cell(ws, r, c, amount if amount is not None else value, money_fmt)
                        else:
                            _cell(ws, r, c, value)
                ws.freeze_panes(1, 0)
                ws.autofilter(0, 0, max(len(frame), 1), max(len(columns) - 1, 0))
                if columns:
                    groups = []
                    if totals_by in columns and len(frame):
                        groups = [(f"{totals_label} · {key}", part) for key, part in frame.groupby(totals_by, sort=True)]
                    groups.append((totals_label, frame))
                    for k, (label, part) in enumerate(groups):
                        total_row = len(frame) + 2 + k
                        sums = column_totals(part, [c for c in columns if c in moneys])
                        _cell(ws, total_row, 0, f"{label} ({len(part):,})", total_fmt)
                        for c, name in enumerate(columns):
                            if name in sums and c > 0:
                                _cell(ws, total_row, c, sums[name], total_money_fmt)
        finally:
            book.close()
    return out
