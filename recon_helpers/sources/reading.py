"""Reading the data block between header and footer into string columns, with true line numbers.
"""
from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from recon_helpers.errors import SourceFileError
from recon_helpers.sources import cells
from recon_helpers.sources.opening import Row, SheetCandidate, TextCandidate, split_line
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


def footer_regex(template: SourceTemplate) -> re.Pattern[str]:
    return re.compile(r"^[\s,\"'`]*(?:" + "|".join(template.footer.markers) + ")")


#: encodings whose delimiter, quote and newline bytes never occur inside a multi-byte character, so the
#: CSV can be split as raw bytes and only text cells need transcoding
_ASCII_SAFE = {"gb18030", "gbk", "gb2312", "cp936"}


def text_body(cand: TextCandidate, header_index: int, width: int, needed: list[int],
               template: SourceTemplate) -> Body:
    data, enc = cand.data, cand.codec
    start = cand.offsets[header_index + 1] if header_index + 1 < len(cand.offsets) else len(data)
    first_line = header_index + 2
    pattern = "\n[ \t,\"'`]*(?:" + "|".join(template.footer.markers) + ")"
    try:
        footer_match = re.compile(pattern.encode(enc)).search(data, max(start - 1, 0))
    except (UnicodeEncodeError, LookupError):
        footer_match = re.compile(pattern.encode("utf-8")).search(data, max(start - 1, 0))
    end = max(start, footer_match.start() + 1 if footer_match else len(data))
    footer_rows: list[Row] = []
    if footer_match:
        footer_lines = data[end:].split(b"\n")
        if footer_lines and not footer_lines[-1].strip():
            footer_lines.pop()
        n_first_footer = first_line + data.count(b"\n", start, end) if end > start else first_line
        for i, raw in enumerate(footer_lines):
            text = raw.decode(enc, errors="replace").rstrip("\r")
            footer_rows.append(Row(n_first_footer + i, split_line(text), text))
    end, blank_tail = _drop_blank_tail(data, start, end)
    if end <= start:
        return Body({j: pa.array([], pa.string()) for j in needed}, pa.array([], pa.int64()), 0, footer_rows,
                     blank_lines=blank_tail)
    n_lines = data.count(b"\n", start, end) + (0 if data[end - 1:end] == b"\n" else 1)
    body = pa.py_buffer(data).slice(start, end - start)
    names = [f"c{i}" for i in range(width)]
    invalid: list[Any] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "skip"

    as_bytes = enc.lower() in _ASCII_SAFE
    read_options = pacsv.ReadOptions(column_names=names, block_size=1 << 22, use_threads=_threads_help())
    if not as_bytes and enc != "utf-8":
        read_options.encoding = enc
    cell_type = pa.binary() if as_bytes else pa.string()
    convert = pacsv.ConvertOptions(column_types={names[j]: cell_type for j in needed},
                                   include_columns=[names[j] for j in needed],
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    table = None
    try:
        table = pacsv.read_csv(pa.BufferReader(body), read_options=read_options, convert_options=convert,
                               parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid))
        if table is not None and as_bytes and not invalid and table.num_rows == n_lines:
            table = pa.table({n: _decode_column(table.column(n), enc) for n in table.column_names})
    except (pa.ArrowInvalid, UnicodeDecodeError, ValueError):
        table = None
    if table is not None and not invalid and table.num_rows == n_lines:
        rows = pa.array(np.arange(first_line, first_line + n_lines, dtype=np.int64))
        cols = {j: table.column(names[j]) for j in needed}
        quirks = any(data.find(q, start, end) >= 0 for q in (b'="', b"`", b"'"))
        return Body(cols, rows, n_lines, footer_rows, blank_lines=blank_tail, quirks=quirks)
    return _text_body_slow(data[start:end], enc, first_line, width, needed, footer_rows, blank_tail,
                           cand.source_file)


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


def _text_body_slow(body: bytes, enc: str, first_line: int, width: int, needed: list[int],
                    footer_rows: list[Row], blank_tail: int, source_file: str) -> Body:
    """Row-by-row reading for irregular files, keeping each record's first physical line number."""
    try:
        text = body.decode(enc)
    except UnicodeDecodeError as exc:
        line = first_line + body.count(b"\n", 0, exc.start)
        raise SourceFileError(f"bytes at position {exc.start} are not valid {enc} text; the file mixes encodings "
                              "or was damaged", source_file=source_file, row=line) from None
    records: list[list[str]] = []
    lines: list[int] = []
    out = Body({}, pa.array([], pa.int64()), 0, footer_rows, blank_lines=blank_tail)
    reader = csv.reader(io.StringIO(text, newline=""))
    prev = 0
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = first_line + prev
            out.bad_rows.append((line, "", f"cannot split the line into cells: {exc}"))
            prev = reader.line_num
            continue
        line = first_line + prev
        prev = reader.line_num
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
        elif len(rec) < width:
            rec = rec + [""] * (width - len(rec))
        records.append(rec)
        lines.append(line)
    out.columns = {j: pa.array([r[j] for r in records], pa.string()) for j in needed}
    out.rows = pa.array(lines, pa.int64())
    out.n = len(records)
    return out


def sheet_body(cand: SheetCandidate, header_index: int, width: int, needed: list[int],
                template: SourceTemplate) -> Body:
    marker = footer_regex(template)
    cols: dict[int, list[str | None]] = {j: [] for j in needed}
    lines: list[int] = []
    footer: list[Row] = []
    blank = 0
    rows = cand.rows
    cell_text = cells.cell_text
    for i in range(header_index + 1, len(rows)):
        r = rows[i]
        first = next((c for c in r if c != "" and c is not None), None)
        if first is None:
            blank += 1
            continue
        if isinstance(first, str) and marker.match(first.strip(cells.TRIM_CHARS)):
            for k in range(i, len(rows)):
                texts = [cell_text(c) for c in rows[k]]
                footer.append(Row(k + 1, [cells.clean_scalar(c) or "" for c in texts],
                                   ",".join(c or "" for c in texts)))
            break
        for j, out in cols.items():
            out.append(cell_text(r[j]) if j < len(r) else None)
        lines.append(i + 1)
    arrays = {j: pa.array(v, pa.string()) for j, v in cols.items()}
    return Body(arrays, pa.array(lines, pa.int64()), len(lines), footer, blank_lines=blank)


