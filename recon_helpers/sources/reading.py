"""Reading the data block between header and footer into string columns, with true line numbers.

Three ways, the first that works:

1. the whole block in one ``pyarrow.csv`` pass (regular files: every line one row);
2. the same pass over the block minus its *damaged* lines - undecodable bytes (a few GBK rows in a
   UTF-8 file), NUL or other control bytes, a line over ``max_line_bytes`` - which become rejected
   rows; found at C speed, so a big file with three bad rows stays fast;
3. row by row with the ``csv`` module (ragged rows, quoted newlines, blank lines, an unclosed quote):
   each damaged line is rejected alone, a quote never closed rejects the line it opened on and
   reading resumes on the next line.

Where the block ends is decided by :mod:`recon_helpers.sources.footers` (position and shape).
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from recon_helpers.sources import cells, footers, limits
from recon_helpers.sources.opening import CONTROL_BYTES, Row, SheetCandidate, TextCandidate, split_line
from recon_helpers.sources.templates import SourceTemplate

csv.field_size_limit(2**31 - 1)

# =========================================================================== reading the body

@dataclass
class Body:
    """The data rows of a table as string columns, plus what was around them."""

    columns: dict[int, pa.ChunkedArray | pa.Array]   # column index -> raw text
    rows: pa.Array                                    # physical line / sheet row of each data row
    n: int
    footer: list[Row]
    blank_lines: int = 0
    bad_rows: list[tuple[int, str, str]] = field(default_factory=list)   # line, text, reason
    warnings: list[str] = field(default_factory=list)
    quirks: bool = True      # False when the data has no ="…", backtick or apostrophe anywhere
    continuation_lines: int = 0   # physical lines inside quoted cells that ran over a line end
    stopped_at: int | None = None  # a piece of a file read in chunks: where the record it could not finish starts


def footer_regex(template: SourceTemplate) -> re.Pattern[str]:
    """Lines a footer may start with: the template's markers or a totals label (see ``footers``)."""
    return re.compile(r"^[\s,\"'`]*" + footers.label_regex(template.footer.markers))


#: encodings whose delimiter, quote and newline bytes never occur inside a multi-byte character, so the
#: CSV can be split as raw bytes and only text cells need transcoding
_ASCII_SAFE = {"gb18030", "gbk", "gb2312", "cp936"}


def _footer_start(data: bytes, start: int, enc: str, template: SourceTemplate, width: int) -> int | None:
    """Byte offset where the footer starts (by position and shape, see ``footers``), or None."""
    pattern = "\n[ \t,\"'`]*" + footers.label_regex(template.footer.markers)
    try:
        regex = re.compile(pattern.encode(enc))
    except (UnicodeEncodeError, LookupError):
        regex = re.compile(pattern.encode("utf-8"))
    candidates = (m.start() + 1 for m in regex.finditer(data, max(start - 1, 0)))

    def line_at(pos: int) -> footers.Line | None:
        if pos >= len(data):
            return None
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        text = data[pos:min(end, pos + 65536)].decode(enc, errors="replace").rstrip("\r")
        return split_line(text), text, end + 1

    return footers.first_footer(candidates, line_at, width)


@dataclass
class TextLayout:
    """Where a text table's data lies: bytes ``start``-``end`` from physical line ``first_line``, then
    the footer rows and the blank lines just before the footer."""

    start: int
    end: int
    first_line: int
    footer: list[Row]
    blank_tail: int


def text_layout(cand: TextCandidate, header_index: int, width: int, template: SourceTemplate) -> TextLayout:
    data, enc = cand.data, cand.codec
    start, first_line = cand.after(header_index)  # the header may span lines (a quoted line break)
    footer_at = _footer_start(data, start, enc, template, width)
    end = max(start, footer_at if footer_at is not None else len(data))
    footer_rows: list[Row] = []
    if footer_at is not None:
        footer_lines = data[end:].split(b"\n")
        if footer_lines and not footer_lines[-1].strip():
            footer_lines.pop()
        n_first_footer = first_line + data.count(b"\n", start, end) if end > start else first_line
        for i, raw in enumerate(footer_lines):
            text = raw.decode(enc, errors="replace").rstrip("\r")
            footer_rows.append(Row(n_first_footer + i, split_line(text), text))
    end, blank_tail = _drop_blank_tail(data, start, end)
    return TextLayout(start, max(end, start), first_line, footer_rows, blank_tail)


def chunk_bytes() -> int:
    """How much of a text table is decoded, parsed and canonicalised at a time (``RECON_CHUNK_BYTES``).

    Reading in chunks bounds the memory a big file costs beyond its result: one chunk's raw and
    cleaned columns at a time, not the whole file's.
    """
    text = os.environ.get("RECON_CHUNK_BYTES")
    return max(1, int(text)) if text and text.strip().isdigit() else 32 << 20


def text_chunks(cand: TextCandidate, layout: TextLayout, width: int, needed: list[int],
                size: int | None = None) -> Iterator[Body]:
    """The data block in pieces of about ``size`` bytes, each read like a whole block (:func:`text_block`)
    and keeping the file's own line numbers.

    A piece ends at a line end where it holds an even number of quote marks (so no quoted cell runs
    over the cut). Where that cannot be found, or a record still runs past the piece's end (a quote
    never closed, a stray quote), the piece is read row by row and stops before that record, which
    starts the next, longer piece: every record is read whole, as if the file were read at once.
    Pieces come from :meth:`TextCandidate.piece`: memory, or the file on disk once the bytes held in
    memory are released, so only one piece of the file is held at a time.
    """
    size = size or chunk_bytes()
    cap = limits.get("max_line_bytes")
    pos, end, line, want = layout.start, layout.end, layout.first_line, size
    while True:
        window = cand.piece(pos, min(end, pos + want + cap))
        cut, even = _cut(window, 0, len(window), want)
        while cut == len(window) and pos + cut < end:  # no line end far enough on: cut earlier, or read on
            before = window.rfind(b"\n", 0, want) + 1
            if before:
                cut, even = before, window.count(b'"', 0, before) % 2 == 0
                break
            window = cand.piece(pos, min(end, pos + 2 * len(window)))
            cut, even = _cut(window, 0, len(window), want)
        final = pos + cut >= end
        piece = window if cut == len(window) else window[:cut]
        del window
        body = text_block(piece, 0, cut, cand.codec, line, width, needed, open_end=not final, row_by_row=not even)
        stop = cut if body.stopped_at is None else body.stopped_at
        yield body
        if final and body.stopped_at is None:
            return
        want = size if body.stopped_at is None else 2 * cut + 2 * cap
        line += piece.count(b"\n", 0, stop)
        pos += stop
        del piece, body


def _cut(data: bytes, pos: int, end: int, size: int) -> tuple[int, bool]:
    """Where the piece from ``pos`` ends, and whether it holds an even number of quotes there."""
    if end - pos <= size:
        return end, True
    cut = data.find(b"\n", pos + size, end)
    if cut < 0:
        return end, True
    cut += 1
    quotes = data.count(b'"', pos, cut)
    probe, limit = cut, min(end, cut + limits.get("max_line_bytes"))
    while quotes % 2 and probe < limit:  # a quoted cell runs over the line end: cut after it closes
        nxt = data.find(b"\n", probe, limit)
        if nxt < 0:
            break
        quotes += data.count(b'"', probe, nxt + 1)
        probe = nxt + 1
    return (probe, True) if quotes % 2 == 0 else (cut, False)


def text_body(cand: TextCandidate, header_index: int, width: int, needed: list[int],
              template: SourceTemplate) -> Body:
    """The whole data block read at once (see :func:`text_chunks` for reading it in pieces)."""
    layout = text_layout(cand, header_index, width, template)
    body = text_block(cand.data, layout.start, layout.end, cand.codec, layout.first_line, width, needed)
    body.footer, body.blank_lines = layout.footer, body.blank_lines + layout.blank_tail
    return body


def text_block(data: bytes, start: int, end: int, enc: str, first_line: int, width: int,
               needed: list[int], *, open_end: bool = False, row_by_row: bool = False) -> Body:
    """Bytes ``start``-``end`` of a table as string columns: fast when regular, else line by line.

    ``open_end``: more of the table follows, so a record running past ``end`` is left for the next
    piece (``Body.stopped_at``) rather than rejected; ``row_by_row``: skip the fast paths.
    """
    if end <= start:
        return Body({j: pa.array([], pa.string()) for j in needed}, pa.array([], pa.int64()), 0, [])
    n_lines = data.count(b"\n", start, end) + (0 if data[end - 1:end] == b"\n" else 1)
    fast = None
    if not row_by_row and CONTROL_BYTES.search(data, start, end) is None and not _has_long_line(data, start, end):
        fast = _text_body_fast(data, start, end, enc, np.arange(first_line, first_line + n_lines), width, needed)
    if fast is None and not row_by_row:
        fast = _fast_without_damaged_lines(data, start, end, enc, first_line, n_lines, width, needed)
    if fast is not None:
        return fast
    return _text_body_slow(data, start, end, enc, first_line, width, needed, [], 0, open_end=open_end)


def _has_long_line(data: bytes, start: int, end: int) -> bool:
    """Whether a line of the block is longer than ``max_line_bytes`` (pyarrow would read it whole)."""
    cap = limits.get("max_line_bytes")
    if end - start <= cap:
        return False
    view = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    ends = np.flatnonzero(view == 10)
    del view
    gaps = np.diff(ends, prepend=-1, append=end - start)
    return bool(len(gaps)) and int(gaps.max()) > cap + 1


#: past this many damaged lines a block is read row by row (the fast path would copy it once per line)
_MAX_DAMAGED_FOR_FAST = 1000


def _damaged_lines(data: bytes, start: int, end: int, enc: str) -> dict[int, tuple[str, int, int]] | None:
    """Lines of the block no row can come from: index (from 0) -> (why, first byte, end of line).

    None when there are too many. Found at C speed - line lengths from the newline positions,
    control bytes by one regex scan, undecodable bytes by decoding 8 MB pieces - so a big file with
    three bad rows keeps its fast read.
    """
    view = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    newlines = np.flatnonzero(view == 10) + start
    del view
    starts = np.concatenate([[start], newlines + 1])
    stops = np.append(newlines, end)
    damaged: dict[int, tuple[str, int, int]] = {}

    def mark(k: int, fallback: str) -> bool:
        if k not in damaged:
            first, stop = int(starts[k]), int(stops[k])
            damaged[k] = (_line_problem(data[first:stop], enc) or fallback, first, stop)
        return len(damaged) <= _MAX_DAMAGED_FOR_FAST

    for k in np.flatnonzero(stops - starts > limits.get("max_line_bytes")).tolist():
        mark(k, "the line is too long")
    for m in CONTROL_BYTES.finditer(data, start, end):
        if not mark(int(np.searchsorted(newlines, m.start())), "the line holds control bytes"):
            return None
    pos = start
    while pos < end:
        stop = min(end, pos + (8 << 20))
        if stop < end:
            cut = data.rfind(b"\n", pos, stop)
            stop = cut + 1 if cut >= pos else (data.find(b"\n", stop, end) + 1 or end)
        try:
            data[pos:stop].decode(enc)
            pos = stop
        except UnicodeDecodeError as exc:
            k = int(np.searchsorted(newlines, pos + exc.start))
            if not mark(k, "the line is not valid text"):
                return None
            pos = int(stops[k]) + 1
    return damaged


def _fast_without_damaged_lines(data: bytes, start: int, end: int, enc: str, first_line: int, n_lines: int,
                                width: int, needed: list[int]) -> Body | None:
    """The fast read of the block minus its damaged lines, which become rejected rows."""
    damaged = _damaged_lines(data, start, end, enc)
    if not damaged:
        return None
    lines = sorted(damaged)
    pieces, pos = [], start
    for k in lines:
        _, first, stop = damaged[k]
        pieces.append(data[pos:first])
        pos = stop + 1
    if pos < end:
        pieces.append(data[pos:end])
    cleaned = b"".join(pieces)
    del pieces
    rows = np.delete(np.arange(first_line, first_line + n_lines), lines)
    body = _text_body_fast(cleaned, 0, len(cleaned), enc, rows, width, needed)
    if body is not None:
        body.bad_rows = [(first_line + k, _preview(data[damaged[k][1]:damaged[k][2]], enc), damaged[k][0])
                         for k in lines]
    return body


def _text_body_fast(data: bytes, start: int, end: int, enc: str, rows: np.ndarray, width: int,
                    needed: list[int]) -> Body | None:
    """The whole block in one ``pyarrow.csv`` pass, or None when the block is irregular in any way.

    Irregular (ragged rows, quoted newlines, undecodable bytes, a line longer than a block) makes
    pyarrow fail or count other rows than lines, and the careful row-by-row reader takes over.
    """
    body = pa.py_buffer(data).slice(start, end - start)
    names = [f"c{i}" for i in range(width)]
    as_bytes = enc.lower() in _ASCII_SAFE
    read_options = pacsv.ReadOptions(column_names=names, block_size=1 << 22, use_threads=_threads_help())
    if not as_bytes and enc != "utf-8":
        read_options.encoding = enc
    cell_type = pa.binary() if as_bytes else pa.string()
    convert = pacsv.ConvertOptions(column_types={names[j]: cell_type for j in needed},
                                   include_columns=[names[j] for j in needed],
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        table = pacsv.read_csv(pa.BufferReader(body), read_options=read_options, convert_options=convert)
        if table.num_rows != len(rows):
            return None
        if as_bytes:
            table = pa.table({n: _decode_column(table.column(n), enc) for n in table.column_names})
    except (pa.ArrowInvalid, UnicodeDecodeError, ValueError):
        return None
    cols = {j: table.column(names[j]) for j in needed}
    quirks = any(data.find(q, start, end) >= 0 for q in (b'="', b"`", b"'"))
    return Body(cols, pa.array(rows.astype(np.int64)), len(rows), [], quirks=quirks)


def _threads_help() -> bool:
    """Parse with several threads only when cores are free: on a busy machine threads just contend."""
    cores = os.cpu_count() or 1
    try:
        return cores > 1 and os.getloadavg()[0] < cores
    except OSError:  # no load average on this platform
        return cores > 1


def _decode_column(column: pa.ChunkedArray, enc: str) -> pa.ChunkedArray:
    """Raw cells of a GBK file as UTF-8 strings; ASCII-only chunks (ids, amounts, dates) cost nothing.

    Text chunks are joined with newlines (never inside a cell on this path), decoded in one go and
    split again, so the Python codec runs once per chunk, not once per cell.
    """
    out = []
    for chunk in column.chunks:
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset: chunk.offset + len(chunk) + 1]
        values = chunk.buffers()[2]
        blob = values[int(offsets[0]): int(offsets[-1])].to_pybytes() if values is not None else b""
        if blob.isascii():
            out.append(chunk.cast(pa.string()))
            continue
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(chunk)], pa.int32()), chunk), b"\n")
        utf8 = (joined[0].as_py() + b"\n").decode(enc).encode("utf-8")
        # each value keeps its trailing newline (cleaning trims it); offsets start after each newline
        ends = np.flatnonzero(np.frombuffer(utf8, dtype=np.uint8) == 10).astype(np.int32) + 1
        offsets = np.concatenate([np.zeros(1, dtype=np.int32), ends])
        out.append(pa.StringArray.from_buffers(len(chunk), pa.py_buffer(offsets), pa.py_buffer(utf8)))
    return pa.chunked_array(out, pa.string())


def _drop_blank_tail(data: bytes, start: int, end: int) -> tuple[int, int]:
    """Blank lines just before the footer (ICBC leaves one) are neither data nor footer: count them."""
    blank = 0
    while end > start:
        stop = end - 1 if data[end - 1:end] == b"\n" else end
        k = data.rfind(b"\n", start, stop)
        if data[k + 1:stop].strip(b" \t,\r"):
            break
        end = k + 1 if k >= start else start
        blank += 1
    return end, blank


#: rows the row-by-row reader collects as Python strings before it moves them into Arrow arrays
_FLUSH_ROWS = 65536


class _LineProblem(Exception):
    """A physical line that cannot be part of any row (undecodable, control bytes, too long)."""


def _line_problem(raw: bytes, enc: str, cap: int | None = None) -> str | None:
    """Why this physical line cannot be (part of) a row, or None; ``cap``: max_line_bytes, read once."""
    if len(raw) > (limits.get("max_line_bytes") if cap is None else cap):
        return f"the line is {limits.size_text(len(raw))} long; {limits.how_to_raise('max_line_bytes')}"
    if CONTROL_BYTES.search(raw):
        return "the line holds NUL or other control bytes (the file was damaged here); the row is rejected"
    try:
        raw.decode(enc)
    except UnicodeDecodeError as exc:
        return (f"the line is not valid {enc} text (bytes at position {exc.start}): it was written in another "
                "encoding than the rest of the file; the row is rejected")
    return None


class _Feed:
    """Physical lines from ``start`` on, decoded, for ``csv.reader``; counts how many it handed out.

    A quoted cell may run over several lines, but never past a damaged line nor past the line limit:
    then :class:`_LineProblem` stops the record, which is rejected on its first line.
    """

    def __init__(self, lines: list[bytes], start: int, enc: str, cap: int):
        self.lines, self.pos, self.enc = lines, start, enc
        self.used = 0
        self.size = 0
        self.cap = cap

    def __iter__(self) -> "_Feed":
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        raw = self.lines[self.pos]
        if self.used:
            self.size += len(raw)
            problem = _line_problem(raw, self.enc, self.cap)
            if problem or self.size > self.cap:
                raise _LineProblem(problem or "the quoted cell runs past the line limit")
        self.pos += 1
        self.used += 1
        return raw.decode(self.enc) + "\n"


def _text_body_slow(data: bytes, start: int, end: int, enc: str, first_line: int, width: int, needed: list[int],
                    footer_rows: list[Row], blank_tail: int, *, open_end: bool = False) -> Body:
    """Row-by-row reading for irregular files: each record keeps its first physical line number.

    Damage stays in its row: a line that does not decode, holds NUL bytes or is too long is rejected
    alone; a quote that is never closed (or closes where no cell ends) rejects the line it opened on,
    and reading resumes on the next line.
    """
    lines = data[start:end].split(b"\n")  # the slice is freed at once: only the lines stay
    if lines and lines[-1] == b"":
        lines.pop()
    kept: dict[int, list[str]] = {j: [] for j in needed}   # only the cells a field needs are kept
    chunks: dict[int, list[pa.Array]] = {j: [] for j in needed}
    row_lines: list[int] = []
    cap = limits.get("max_line_bytes")
    out = Body({}, pa.array([], pa.int64()), 0, footer_rows, blank_lines=blank_tail)
    i = 0
    while i < len(lines):
        line = first_line + i
        problem = _line_problem(lines[i], enc, cap)
        if problem:
            out.bad_rows.append((line, _preview(lines[i], enc), problem))
            i += 1
            continue
        feed = _Feed(lines, i, enc, cap)
        try:
            rec = next(csv.reader(feed, strict=True))
        except (csv.Error, _LineProblem) as exc:
            if open_end and feed.pos >= len(lines) and not isinstance(exc, _LineProblem):
                out.stopped_at = start + sum(len(raw) + 1 for raw in lines[:i])  # the next piece reads it whole
                break
            out.bad_rows.append((line, _preview(lines[i], enc), _quote_reason(exc, feed.used)))
            i += 1
            continue
        if feed.used > 1 and len(rec) > width:
            out.bad_rows.append((line, _preview(lines[i], enc), _quote_reason(None, feed.used)))
            i += 1
            continue
        out.continuation_lines += feed.used - 1
        i += feed.used
        if not any(c.strip(cells.TRIM_CHARS) for c in rec):
            out.blank_lines += 1
            continue
        if len(rec) > width:
            extra = rec[width:]
            if any(c.strip(cells.TRIM_CHARS) for c in extra):
                out.bad_rows.append((line, ",".join(rec)[:200],
                                     f"row has {len(rec)} cells, the header has {width}: cells past the header"))
                continue
            rec = rec[:width]
        for j, column in kept.items():
            column.append(rec[j] if j < len(rec) else "")
        row_lines.append(line)
        if len(row_lines) % _FLUSH_ROWS == 0:  # Python strings cost ~50 bytes each: move them to Arrow
            for j, column in kept.items():
                chunks[j].append(pa.array(column, pa.string()))
                column.clear()
    out.columns = {j: pa.chunked_array([*chunks[j], pa.array(column, pa.string())], pa.string())
                   for j, column in kept.items()}
    out.rows = pa.array(row_lines, pa.int64())
    out.n = len(row_lines)
    return out


def _preview(raw: bytes, enc: str) -> str:
    """The start of a rejected line as a person can read it: in the file's encoding, or in the one it
    was really written in (a GBK row in a UTF-8 file), NUL bytes shown as ``\\0``."""
    head = raw[:200]
    for codec in (enc, "utf-8", "gb18030"):
        try:
            text = head.decode(codec)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = head.decode(enc, errors="replace")
    return text.rstrip("\r").replace("\x00", "\\0")


def _quote_reason(exc: BaseException | None, used: int) -> str:
    if isinstance(exc, _LineProblem) or (isinstance(exc, csv.Error) and "end of data" in str(exc)) or exc is None:
        return ("a quote (\") opened on this line is never closed where a cell ends; the row is rejected and "
                "reading resumes on the next line")
    return f"cannot split the line into cells: {exc}"


def sheet_body(cand: SheetCandidate, header_index: int, width: int, needed: list[int],
                template: SourceTemplate) -> Body:
    cols: dict[int, list[str | None]] = {j: [] for j in needed}
    lines: list[int] = []
    blank = 0
    rows = cand.rows
    cell_text = cells.cell_text
    end = _sheet_footer_start(cand, header_index, width, template)
    for i in range(header_index + 1, end):
        r = rows[i]
        first = next((c for c in r if c != "" and c is not None), None)
        if first is None:
            blank += 1
            continue
        for j, out in cols.items():
            out.append(cell_text(r[j]) if j < len(r) else None)
        lines.append(i + 1)
    footer: list[Row] = []
    for k in range(end, len(rows)):
        texts = [cell_text(c) for c in rows[k]]
        footer.append(Row(k + 1, [cells.clean_scalar(c) or "" for c in texts], ",".join(c or "" for c in texts)))
    arrays = {j: pa.array(v, pa.string()) for j, v in cols.items()}
    return Body(arrays, pa.array(lines, pa.int64()), len(lines), footer, blank_lines=blank)


def _sheet_footer_start(cand: SheetCandidate, header_index: int, width: int, template: SourceTemplate) -> int:
    """Index of the sheet's first footer row (by position and shape), or the number of rows."""
    marker = footer_regex(template)
    rows = cand.rows

    def first_text(r: Any) -> str | None:
        first = next((c for c in r if c != "" and c is not None), None)
        return first.strip(cells.TRIM_CHARS) if isinstance(first, str) else None

    candidates = [i for i in range(header_index + 1, len(rows))
                  if (t := first_text(rows[i])) is not None and marker.match(t)]

    def line_at(i: int) -> footers.Line | None:
        if i >= len(rows):
            return None
        texts = [cells.clean_scalar(cells.cell_text(c)) or "" for c in rows[i]]
        return texts, first_text(rows[i]) or "", i + 1

    found = footers.first_footer(candidates, line_at, width)
    return len(rows) if found is None else found


def long_cells(body: Body) -> list[tuple[int, Any]]:
    """(column, mask) of the cells longer than ``max_cell_chars``: their rows are rejected."""
    cap = limits.get("max_cell_chars")
    out = []
    for j, values in body.columns.items():
        if not len(values) or not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            continue
        too_long = pc.fill_null(pc.greater(pc.utf8_length(values), cap), False)
        if pc.any(too_long).as_py():
            out.append((j, too_long))
    return out
