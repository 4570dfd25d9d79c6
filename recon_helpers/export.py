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
import glob
import os
import re
import secrets
import shutil
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

if TYPE_CHECKING:
    import pandas as pd

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
    """SQL that applies :func:`neutralise` to a text column.

    Why a test of the first character's code point comes first: almost no cell starts with a formula
    character, and two ranges of integers (:func:`_formula_code_ranges`) rule most cells out for a
    fraction of the anchored expression's cost; the expressions then run only on the cells those
    ranges let through, and decide as before. Not ``IN (list)``: DuckDB runs a long ``IN`` list as a
    join, and a join above a sorted query lets its rows reach the file out of order.
    """
    quoted = _quoted(column)
    first = " OR ".join(f"unicode({quoted}) BETWEEN {lo} AND {hi}" for lo, hi in _formula_code_ranges())
    return (f"CASE WHEN ({first}) AND regexp_matches({quoted}, '{_SQL_FORMULA_START}') "
            f"AND NOT regexp_matches({quoted}, '{_SQL_PLAIN_NUMBER}') "
            f"THEN '''' || {quoted} ELSE {quoted} END")


def _formula_code_ranges() -> list[tuple[int, int]]:
    """The code points of :data:`FORMULA_STARTS` as two ranges that hold them all: ASCII and full-width."""
    codes = [ord(c) for c in FORMULA_STARTS]
    groups = ([c for c in codes if c < 128], [c for c in codes if c >= 128])
    return [(min(g), max(g)) for g in groups if g]


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
    if isinstance(data, pa.Table):
        return con.from_arrow(data)
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return con.from_arrow(pa.Table.from_pandas(data, preserve_index=False))
    raise TypeError(f"write_csv needs a pandas DataFrame, an Arrow table or a DuckDB relation, not {type(data).__name__}")


def _is_frame(data: Any) -> bool:
    """A pandas DataFrame? Asked without importing pandas: if nothing imported it, ``data`` is not one."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(data, pandas.DataFrame)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _is_text(duckdb_type: Any) -> bool:
    return str(duckdb_type).upper() == "VARCHAR"


def write_csv(data: pd.DataFrame | pa.Table | duckdb.DuckDBPyRelation | Iterable[Any], path: str | Path, *,
              plain: Collection[str] = (), lanes: Sequence[Any] = (None,)) -> Path:
    """Write ``data`` as a CSV a person opens in Excel: UTF-8 with BOM, header, exact decimals, no formula.

    Text cells and header names are neutralised (:func:`neutralise`); number columns are written as
    numbers. The BOM is written as part of the first header cell (DuckDB has no BOM option), which is
    byte for byte what Excel and ``encoding="utf-8-sig"`` readers expect. The folder is created when
    missing; the file appears whole or not at all (:func:`atomic_path`).

    Parameters
    ----------
    data : a pandas DataFrame, an Arrow table or a DuckDB relation; or *parts*: an iterable of such
        tables with the same columns, written one after another under one header. Why parts: a large
        result sorted part by part needs the memory of one part's sort, not of the whole (see
        ``MatchStore.link_parts``); a part is taken from the iterable once the previous one is written.
        A part may also be a *job*: a callable that takes a lane and returns a context manager
        yielding the part's table (a query prepared on that lane, undone when the block ends).
    plain : text columns that hold only the engine's own words (a side, a status), never a user's
        text, so no cell of them can start a formula: written without the test.
    lanes : what jobs run on (e.g. one database connection each); see :func:`write_csv_files`.
    """
    return write_csv_files({path: data}, plain=plain, lanes=lanes)[Path(path)]


def write_csv_files(files: Mapping[str | Path, Any], *, plain: Collection[str] = (),
                    lanes: Sequence[Any] = (None,)) -> dict[Path, Path]:
    """Write several CSV files as :func:`write_csv` does, their parts side by side on ``lanes``.

    ``files`` maps each path to its data or parts (as ``data`` of :func:`write_csv`). With one lane
    the parts are written one after another, file after file. With more, up to one part per lane
    is written at once, each to a piece of its own, in the order the files and their parts are
    given (so a long part given first starts first); every file gets its pieces appended in its
    parts' order, the same bytes as one after another. Why: DuckDB writes a sorted query's CSV on
    about one thread, so on two cores two parts at once take little more than one. At most one
    part more than there are lanes is taken ahead, so the memory is that of ``len(lanes)`` parts.
    The files appear when all are whole; a part that fails leaves every file as it was.
    """
    writing = [_FileBeingWritten(Path(path), data) for path, data in files.items()]
    with contextlib.ExitStack() as stack:
        for file in writing:
            file.temp = stack.enter_context(atomic_path(file.path))
            stack.callback(file.discard_pieces)
        jobs = ((file, k, part) for file in writing for k, part in enumerate(file.parts))
        if len(lanes) == 1:
            for file, k, part in jobs:
                file.done(k, _write_job(part, lanes[0], file.piece(k), header=k == 0, plain=plain))
        else:
            _run_side_by_side(jobs, lanes, plain)
        for file in writing:
            file.finish()
    return {file.path: file.path for file in writing}


class _FileBeingWritten:
    """One file of :func:`write_csv_files`: its parts' pieces, appended to its temporary file in order."""

    def __init__(self, path: Path, data: Any):
        self.path = path
        one = isinstance(data, (pa.Table, duckdb.DuckDBPyRelation)) or _is_frame(data)
        self.parts = iter([data] if one else data)
        self.temp = path
        self.written: dict[int, bool] = {}  # part -> it had columns; pieces not yet appended
        self.appended = 0
        self.has_columns: bool | None = None  # the first part decides: no column, no table (a BOM only)

    def piece(self, k: int) -> Path:
        return self.temp if k == 0 else self.temp.with_name(f"{self.temp.name}.part{k}.csv")

    def done(self, k: int, wrote: bool) -> None:
        """Part ``k`` is in its piece: append it, and every later one already there, to the file."""
        self.written[k] = wrote
        while self.appended in self.written:
            n = self.appended
            if n == 0:
                self.has_columns = self.written.pop(0)
            else:
                self.written.pop(n)
                if self.has_columns:
                    with self.temp.open("ab") as target:
                        _append(self.piece(n), target)
                self.piece(n).unlink(missing_ok=True)
            self.appended += 1

    def finish(self) -> None:
        if not self.has_columns:
            self.temp.write_text(BOM, encoding="utf-8")

    def discard_pieces(self) -> None:
        """Remove the pieces a failed write left (the temporary file itself is :func:`atomic_path`'s)."""
        for piece in self.temp.parent.glob(f"{glob.escape(self.temp.name)}.part*.csv"):
            piece.unlink(missing_ok=True)


#: bytes per read when a part is appended to the file
_COPY_BUFFER = 1 << 22


def _append(piece: Path, target: Any) -> None:
    with piece.open("rb") as source:
        shutil.copyfileobj(source, target, _COPY_BUFFER)


def _write_job(part: Any, lane: Any, path: Path, *, header: bool, plain: Collection[str]) -> bool:
    """Write one part (a table, or a job run on ``lane``) as CSV at ``path``; False when it has no column."""
    if not callable(part):
        return _write_part(part, path, header=header, plain=plain)
    with part(lane) as table:
        return _write_part(table, path, header=header, plain=plain)


def _run_side_by_side(jobs: Iterator[tuple[Any, int, Any]], lanes: Sequence[Any], plain: Collection[str]) -> None:
    """Run ``(file, part number, part)`` jobs on the lanes at once, each lane one job at a time."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
    from queue import SimpleQueue

    free: SimpleQueue = SimpleQueue()
    for lane in lanes:
        free.put(lane)

    def run(file: _FileBeingWritten, k: int, part: Any) -> bool:
        lane = free.get()
        try:
            return _write_job(part, lane, file.piece(k), header=k == 0, plain=plain)
        finally:
            free.put(lane)

    pool = ThreadPoolExecutor(len(lanes), thread_name_prefix="write_csv")
    running: dict = {}
    try:
        for file, k, part in jobs:
            running[pool.submit(run, file, k, part)] = (file, k)
            while len(running) > len(lanes):
                _settle(running, wait(running, return_when=FIRST_COMPLETED).done)
        while running:
            _settle(running, wait(running, return_when=FIRST_COMPLETED).done)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a part that failed: the others not begun never run


def _settle(running: dict, finished: Iterable[Any]) -> None:
    """Hand each finished job's piece to its file (a failed job raises here)."""
    for future in finished:
        file, k = running.pop(future)
        file.done(k, future.result())


def _write_part(data: Any, path: Path, *, header: bool, plain: Collection[str]) -> bool:
    """Write one table as CSV at ``path`` (a header when asked); False when it has no column."""
    con = duckdb.connect(":memory:") if not isinstance(data, duckdb.DuckDBPyRelation) else None
    try:
        rel = _relation(data, con)
        columns = list(rel.columns)
        if not columns:
            return False
        names = [str(neutralise(c)) for c in columns]
        names[0] = BOM + names[0]
        exprs = [f"{_neutralised_sql(c) if _is_text(t) and c not in plain else _quoted(c)} AS {_quoted(name)}"
                 for c, t, name in zip(columns, rel.types, names)]
        rel.project(", ".join(exprs)).write_csv(str(path), header=header)
        return True
    finally:
        if con is not None:
            con.close()


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
    import pandas as pd

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
    import pandas as pd

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
    import pandas as pd

    if type(value) is str:  # the common case first: most cells of a result table are text
        ws.write_string(row, col, neutralise(value), fmt)
    elif value is None or value is pd.NA or (isinstance(value, float) and value != value):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), fmt)
    elif hasattr(value, "item"):  # numpy scalars
        _cell(ws, row, col, value.item(), fmt)
    else:
        ws.write_string(row, col, str(neutralise(str(value))), fmt)


#: data rows per sheet: Excel holds 1,048,576 rows; the header and the totals need room too
MAX_SHEET_ROWS = 1_048_576 - 20
#: rows a capped sheet shows (see write_xlsx's ``full_files``): enough to work a category, sort and filter
#: it in Excel; a longer list (often rows out of scope) is worked from its CSV, and writing it cell by cell took minutes
SHOWN_ROWS = 20_000


def _parts(sheets: Mapping[str, pd.DataFrame], max_rows: int) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each sheet, split into continuation sheets ``name (2)``... when it has more rows than Excel holds."""
    for title, frame in sheets.items():
        if len(frame) <= max_rows:
            yield title, frame
            continue
        for k, start in enumerate(range(0, len(frame), max_rows), start=1):
            yield (title if k == 1 else f"{title} ({k})"), frame.iloc[start:start + max_rows]


def shown_rows_note(shown: int, total: int, full_file: str) -> str:
    """The line under a capped sheet's totals: how many rows it shows and which file holds them all."""
    return (f"仅显示前 {shown:,} 行（共 {total:,} 行），全部见同目录 {full_file} · "
            f"First {shown:,} of {total:,} rows shown: every row is in {full_file} beside this workbook")


def _money_cells(series: pd.Series) -> list[Any]:
    """A money column's cells: exact decimals where the text is a number, the text itself otherwise."""
    return [amount if (amount := as_decimal(v)) is not None else v for v in series]


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path, *, money: Sequence[str] | None = None,
               totals_label: str = "合计 Total", totals_by: str | None = None,
               full_files: Mapping[str, str] | None = None, shown_rows: int = SHOWN_ROWS) -> Path:
    """Write one workbook: a sheet per entry of ``sheets``, each laid out to be worked in Excel.

    Each sheet has its header frozen, an autofilter over the data, money columns (``money``, default
    the columns holding ``Decimal``) as numbers in :data:`MONEY_FORMAT`, and, under the data after a
    blank row, a totals row with the row count and the exact sum of each money column, written as
    values (no formula cell anywhere; text cells are neutralised). With ``totals_by`` (e.g. ``"side"``)
    a totals row per value of that column comes first.

    A sheet named in ``full_files`` (sheet -> the CSV beside the workbook that holds all its rows)
    shows at most its first ``shown_rows`` rows; its totals still count and sum every row, and a note
    under them says where the rest is: a workbook is for working the exceptions, and writing hundreds
    of thousands of rows cell by cell takes minutes. Any other table longer than Excel allows
    (:data:`MAX_SHEET_ROWS`) continues on sheets ``name (2)``, ``name (3)``, each with its own totals.
    The workbook is streamed row by row (xlsxwriter's ``constant_memory``) and written atomically.
    """
    import xlsxwriter

    out = Path(path)
    taken: set[str] = set()
    capped = dict(full_files or {})
    shown_rows = min(shown_rows, MAX_SHEET_ROWS)
    with atomic_path(out) as temp:
        # strings are never turned into formulas, URLs or numbers behind our back
        book = xlsxwriter.Workbook(str(temp), {"strings_to_formulas": False, "strings_to_urls": False,
                                               "strings_to_numbers": False, "constant_memory": True})
        try:
            formats = _Formats(book)
            for title, frame in sheets.items():
                if title not in capped:
                    for part_title, part in _parts({title: frame}, MAX_SHEET_ROWS):
                        _write_sheet(book.add_worksheet(sheet_name(part_title, taken)), part, part, money, formats,
                                     label=totals_label, by=totals_by)
                    continue
                ws = book.add_worksheet(sheet_name(title, taken))
                last_row = _write_sheet(ws, frame.iloc[:shown_rows], frame, money, formats, label=totals_label, by=totals_by)
                if len(frame) > shown_rows:
                    _cell(ws, last_row + 2, 0, shown_rows_note(shown_rows, len(frame), capped[title]), formats.note)
        finally:
            book.close()
    return out


class _Formats:
    """The cell formats of a workbook (xlsxwriter creates each once per book)."""

    def __init__(self, book: Any) -> None:
        self.header = book.add_format({"bold": True, "bg_color": "#eaeef2", "border": 1})
        self.money = book.add_format({"num_format": MONEY_FORMAT})
        self.total = book.add_format({"bold": True, "top": 1})
        self.total_money = book.add_format({"bold": True, "top": 1, "num_format": MONEY_FORMAT})
        self.note = book.add_format({"italic": True, "font_color": "#57606a"})


def _write_sheet(ws: Any, shown: pd.DataFrame, frame: pd.DataFrame, money: Sequence[str] | None, formats: _Formats, *,
                 label: str, by: str | None) -> int:
    """One sheet: the ``shown`` rows, then the totals of all of ``frame``; the last row written."""
    moneys = set(_money_columns(frame, money))
    _write_rows(ws, shown, moneys, formats)
    if not list(frame.columns):
        return len(shown)
    return _write_totals(ws, frame, moneys, formats, start=len(shown) + 2, label=label, by=by)


def _write_rows(ws: Any, frame: pd.DataFrame, moneys: set[str], formats: _Formats) -> int:
    """Header (frozen, sized to the first rows, filtered) and data rows of a sheet; the last row written."""
    columns = list(frame.columns)
    for c, name in enumerate(columns):
        _cell(ws, 0, c, str(name), formats.header)
        width = max([len(str(name))] + [len(str(v)) for v in frame[name].head(200)])
        ws.set_column(c, c, min(max(width + 2, 8), 60))
    # column by column first (money parsed once per column), then streamed row by row as constant_memory needs
    cells = [_money_cells(frame[name]) if name in moneys else frame[name].tolist() for name in columns]
    cell_formats = [formats.money if name in moneys else None for name in columns]
    for r, row in enumerate(zip(*cells), start=1):
        for c, value in enumerate(row):
            _cell(ws, r, c, value, cell_formats[c])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(frame), 1), max(len(columns) - 1, 0))
    return len(frame)


def _write_totals(ws: Any, frame: pd.DataFrame, moneys: set[str], formats: _Formats, *, start: int, label: str,
                  by: str | None) -> int:
    """The totals rows from row ``start``: one per value of ``by`` (when given), then all; the last row written."""
    columns = list(frame.columns)
    groups = []
    if by in columns and len(frame):
        groups = [(f"{label} · {key}", part) for key, part in frame.groupby(by, sort=True)]
    groups.append((label, frame))
    for k, (name, part) in enumerate(groups):
        sums = column_totals(part, [c for c in columns if c in moneys])
        _cell(ws, start + k, 0, f"{name} ({len(part):,})", formats.total)
        for c, column in enumerate(columns):
            if column in sums and c > 0:
                _cell(ws, start + k, c, sums[column], formats.total_money)
    return start + len(groups) - 1
