"""Load a raw export as downloaded into one canonical table, with provenance, rejects and a report.

    result = load("downloads/20881234_20261001_账务明细.zip")      # template detected from content
    table, rejects, report = result

Why it is built this way:

* **Content, not offsets.** Preambles change length between versions (Alipay 4 -> 0 -> 24 -> 23 lines,
  WeChat 16 -> 17 -> 18), so the header row is the scanned row that best fits a template's column
  fingerprint, and the data ends at the first footer marker line (``#…``, ``----``, ``合计`` ...).
* **Speed.** The data block between header and footer is handed as bytes to ``pyarrow.csv`` (which
  transcodes GBK itself, multithreaded) as all-string columns; cleaning and parsing are
  ``pyarrow.compute`` kernels. Python walks rows only when a file is irregular (ragged rows, quoted
  newlines, blank lines) - then the standard ``csv`` module re-reads the block so every row keeps its
  true line number.
* **Nothing silently dropped.** Every data row is loaded or rejected (``rows_read == rows_loaded +
  rows_rejected``); preamble, footer and blank lines are counted; totals the file states about itself
  are checked and a mismatch becomes a report warning.
"""
from __future__ import annotations

import csv
import html
import io
import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import canonical, normalise
from .errors import DetectionError, SourceFileError, TemplateError
from .sources import Detection, HeaderFit, SourceTemplate, choose, get_template, list_templates, score_rows

csv.field_size_limit(2**31 - 1)

REJECT_COLUMNS = ["source_file", "source_row", "column", "value", "reason", "code"]
_HEAD_BYTES = 1 << 20
_SCAN_ROWS = 60
_BINARY_MAGIC = {b"%PDF": "a PDF", b"\x89PNG": "a PNG image", b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image",
                 b"Rar!": "a RAR archive", b"7z\xbc\xaf": "a 7-Zip archive", b"\x1f\x8b": "a gzip archive"}


# =========================================================================== results

@dataclass
class ControlCheck:
    """One total the file states about itself, compared with the loaded rows."""

    label: str
    measure: str                 # "total" or "count"
    expected: Decimal | int | None
    actual: Decimal | int | None
    ok: bool | None              # None: the stated figure was not found

    def __str__(self) -> str:
        state = {True: "ok", False: "MISMATCH", None: "not found"}[self.ok]
        return f"{self.label} ({self.measure}): file says {self.expected}, rows give {self.actual} - {state}"


@dataclass
class LoadReport:
    """What ``load()`` did with a file: which template and why, how many rows went where, checks."""

    source_file: str
    template: str
    detected_because: str
    encoding: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    preamble_lines: int = 0
    footer_lines: int = 0
    blank_lines: int = 0
    summary_lines: int = 0
    header_line: int | None = None
    sheet: str | None = None
    control_totals: list[ControlCheck] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str:
        rows = [
            ("file", self.source_file + (f" [sheet {self.sheet}]" if self.sheet else "")),
            ("template", self.template), ("why", self.detected_because), ("encoding", self.encoding or "-"),
            ("header line", self.header_line if self.header_line is not None else "-"),
            ("rows read / loaded / rejected", f"{self.rows_read} / {self.rows_loaded} / {self.rows_rejected}"),
            ("preamble / footer / blank / summary lines",
             f"{self.preamble_lines} / {self.footer_lines} / {self.blank_lines} / {self.summary_lines}"),
        ]
        rows += [("check", str(c)) for c in self.control_totals]
        rows += [("warning", w) for w in self.warnings]
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                       f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return f"<table class='recon-load-report'>{body}</table>"


@dataclass
class LoadResult:
    """The canonical table, the rejected cells and the report; unpacks as ``table, rejects, report``."""

    table: pd.DataFrame
    rejects: pd.DataFrame
    report: LoadReport

    def __iter__(self) -> Iterator[Any]:
        return iter((self.table, self.rejects, self.report))

    def write(self, out_path: str | Path) -> Path:
        """Write the table as ``.parquet`` (exact decimals) or ``.csv`` (decimals as text ``12.30``).

        Rejects go beside it as ``<name>.rejects.csv`` (header only when there are none, so a stale
        file from an earlier run never lingers) and are never lost.
        """
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pandas(self.table, preserve_index=False), out)
        elif out.suffix.lower() == ".csv":
            _frame_as_text(self.table).to_csv(out, index=False, encoding="utf-8-sig")
        else:
            raise SourceFileError("output must end in .parquet or .csv", source_file=out.as_posix())
        self.rejects.to_csv(out.with_name(out.stem + ".rejects.csv"), index=False, encoding="utf-8-sig")
        return out

    def _repr_html_(self) -> str:
        parts = [self.report._repr_html_(), "<h4>first rows</h4>", self.table.head(10).to_html(index=False)]
        if len(self.rejects):
            parts += [f"<h4>rejects ({len(self.rejects)})</h4>", self.rejects.head(10).to_html(index=False)]
        return "".join(parts)


def _frame_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as text: decimals keep their places (``12.30``), times ``YYYY-MM-DD HH:MM:SS``."""
    out = {}
    for name in frame.columns:
        arr = pa.array(frame[name])
        if pa.types.is_timestamp(arr.type):
            arr = pc.strftime(arr, format="%Y-%m-%d %H:%M:%S")
        elif not pa.types.is_string(arr.type):
            arr = pc.cast(arr, pa.string())
        out[name] = arr.to_pylist()
    return pd.DataFrame(out, columns=list(frame.columns))


# =========================================================================== opening files

@dataclass
class _Row:
    """One scanned line/row of a file's head or footer: physical number, cleaned cells, raw text."""

    line: int
    cells: list[str]
    text: str


class _Candidate:
    """Something that may hold one table: a text file, a ZIP member, or a workbook sheet."""

    source_file: str
    file_type: str
    encoding: str | None = None
    sheet: str | None = None
    head: list[_Row]

    @property
    def head_text(self) -> str:
        return "\n".join(r.text for r in self.head)


class _TextCandidate(_Candidate):
    def __init__(self, data: bytes, source_file: str, encodings: list[str]):
        self.source_file = source_file
        self.file_type = "csv"
        self.raw = data
        self.data, self.encoding = _choose_encoding(data, source_file, encodings)
        self.codec = "utf-8" if self.encoding.lower().startswith("utf-16") else self.encoding
        head = self.data[:_HEAD_BYTES]
        if len(self.data) > _HEAD_BYTES:
            head = head[: head.rfind(b"\n") + 1]
        self.offsets: list[int] = []
        self.head = []
        pos = 0
        for i, raw_line in enumerate(head.split(b"\n")):
            if i >= 400 or (pos >= len(head)):
                break
            self.offsets.append(pos)
            text = raw_line.decode(self.codec, errors="replace").rstrip("\r")
            self.head.append(_Row(i + 1, _split_line(text), text))
            pos += len(raw_line) + 1


class _SheetCandidate(_Candidate):
    def __init__(self, rows: list[list[Any]], source_file: str, sheet: str, file_type: str):
        self.source_file = source_file
        self.file_type = file_type
        self.sheet = sheet
        self.rows = rows
        self.head = [_Row(i + 1, [normalise.clean_scalar(normalise.cell_text(c)) or "" for c in r],
                          ",".join(normalise.cell_text(c) or "" for c in r))
                     for i, r in enumerate(rows[:400])]


def _split_line(text: str) -> list[str]:
    try:
        cells = next(csv.reader([text]), [])
    except csv.Error:
        cells = text.split(",")
    return [normalise.clean_scalar(c) or "" for c in cells]


def _choose_encoding(data: bytes, source_file: str, declared: list[str]) -> tuple[bytes, str]:
    """Pick the text encoding and return (bytes to parse, codec); UTF-16 is transcoded to UTF-8 first.

    Order: a BOM decides; else the template's encodings, or by default UTF-8 then GB18030 (a superset
    of GBK), checked strictly on the first megabyte; else charset-normalizer's best guess.
    """
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise SourceFileError(f"this is {what}, not a CSV/XLSX export; download the statement as CSV or Excel",
                                  source_file=source_file)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _transcode(data, "utf-16", source_file), "utf-16"
    sample = data[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        codec = "utf-16-be" if even > odd else "utf-16-le"
        text = sample[: len(sample) // 2 * 2].decode(codec, errors="replace")
        if sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n") <= len(text) // 100:
            return _transcode(data, codec, source_file), codec
    controls = sum(sample.count(bytes([b])) for b in (*range(0, 9), 11, 12, *range(14, 27), *range(28, 32)))
    if controls > max(2, len(sample) // 100):
        raise SourceFileError("the file is binary, not text (control bytes in its first 4 KB); "
                              "is it the right file, or an Excel file with a .csv name?", source_file=source_file)
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    if bom:
        return body, "utf-8"
    wanted = [e for e in declared if e != "auto"] or ["utf-8", "gb18030"]
    probe = body[:_HEAD_BYTES]
    if len(body) > _HEAD_BYTES:
        probe = probe[: probe.rfind(b"\n") + 1] or probe
    for codec in wanted:
        codec = "utf-8" if codec.replace("_", "-").lower() in ("utf-8-sig", "utf8-sig") else codec
        try:
            probe.decode(codec)
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise SourceFileError(f"unknown encoding {codec!r} in the template", source_file=source_file) from None
        if codec.lower().startswith("utf-16"):
            return _transcode(body, codec, source_file), codec
        return body, codec
    if "auto" in declared or not declared:
        from charset_normalizer import from_bytes

        best = from_bytes(probe).best()
        if best is not None and best.encoding:
            return body, best.encoding
    tried = ", ".join(wanted)
    raise SourceFileError(f"the bytes are not valid text in {tried} (the template's encoding); "
                          "check the file was not re-saved in another encoding", source_file=source_file)


def _transcode(data: bytes, codec: str, source_file: str) -> bytes:
    try:
        return data.decode(codec).lstrip("\ufeff").encode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceFileError(f"not valid {codec} text at byte {exc.start}", source_file=source_file) from None


def _file_type(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return "xlsx"  # a truncated workbook; the reader reports it
        return "xlsx" if any(n.startswith("xl/") for n in names) or "[Content_Types].xml" in names else "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    return "csv"


def _read_bytes(path: str | Path) -> bytes:
    p = Path(path)
    if not p.exists():
        raise SourceFileError("file not found", source_file=p.as_posix())
    if p.is_dir():
        raise SourceFileError("this is a folder, not a file", source_file=p.as_posix())
    data = p.read_bytes()
    blank = b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"
    if not data[:4096].strip(blank) and not data.strip(blank):
        raise SourceFileError("the file is empty (no data at all); download it again", source_file=p.as_posix())
    return data


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    """ZIP names without the UTF-8 flag are GBK (Alipay); zipfile has decoded them as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _open_candidates(path: str | Path, encodings: list[str] | None = None) -> list[_Candidate]:
    data = _read_bytes(path)
    source_file = Path(path).as_posix()
    kind = _file_type(data)
    if kind in ("xlsx", "xls"):
        return _workbook_candidates(data, source_file, kind)
    if kind == "zip":
        out: list[_Candidate] = []
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            members = [i for i in archive.infolist() if not i.is_dir()]
            for info in members:
                member = archive.read(info)
                name = f"{source_file}!{_zip_member_name(info)}"
                if not member.strip():
                    continue
                if _file_type(member) in ("xlsx", "xls"):
                    out += _workbook_candidates(member, name, _file_type(member))
                else:
                    try:
                        out.append(_TextCandidate(member, name, encodings or ["auto"]))
                    except SourceFileError:
                        continue
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
            raise SourceFileError(f"cannot open the ZIP archive ({exc}); is it complete and not encrypted?",
                                  source_file=source_file) from None
        if not out:
            raise SourceFileError("the ZIP archive holds no readable CSV or Excel file", source_file=source_file)
        return out
    return [_TextCandidate(data, source_file, encodings or ["auto"])]


def _workbook_candidates(data: bytes, source_file: str, kind: str) -> list[_Candidate]:
    import python_calamine

    try:
        book = python_calamine.load_workbook(io.BytesIO(data))
        out: list[_Candidate] = []
        for name in book.sheet_names:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            out.append(_SheetCandidate(rows, source_file, name, kind))
    except Exception as exc:  # calamine raises several unrelated types for broken files
        raise SourceFileError(f"cannot read the {kind.upper()} workbook ({exc}); the file looks truncated or "
                              "damaged - download it again", source_file=source_file) from None
    if not out:
        raise SourceFileError("the workbook has no sheets", source_file=source_file)
    return out


# =========================================================================== detection

def _eligible(template: SourceTemplate, cand: _Candidate) -> bool:
    if template.parser is not None:
        return cand.file_type == "csv" and "text" in template.file_types or cand.file_type in template.file_types
    if cand.file_type not in template.file_types:
        return False
    return True


def _fit(template: SourceTemplate, cand: _Candidate) -> HeaderFit:
    rows = [r.cells for r in cand.head]
    return score_rows(template, rows, [r.line for r in cand.head], cand.head_text)


def _preferred(template: SourceTemplate, cands: list[_Candidate]) -> list[_Candidate]:
    if template.sheet:
        named = [c for c in cands if c.sheet == template.sheet]
        if named:
            return named
    return cands


def _pick(cands: list[_Candidate], templates: list[SourceTemplate], source_file: str) -> tuple[_Candidate, HeaderFit]:
    fits: list[tuple[_Candidate, HeaderFit]] = []
    for template in templates:
        for cand in _preferred(template, cands):
            if _eligible(template, cand):
                fits.append((cand, _fit(template, cand)))
    if not fits:
        types = sorted({c.file_type for c in cands})
        raise DetectionError(f"no template reads {'/'.join(types)} files like this one", source_file=source_file,
                             candidates=[t.name for t in templates[:3]])
    # the best fit per template (a template may fit several members/sheets)
    per_template: dict[str, tuple[_Candidate, HeaderFit]] = {}
    for cand, f in fits:
        best = per_template.get(f.template.name)
        if best is None or (f.fits, f.score) > (best[1].fits, best[1].score):
            per_template[f.template.name] = (cand, f)
        elif f.fits and best[1].fits and f.score == best[1].score:
            raise DetectionError(f"{best[0].source_file} {best[0].sheet or ''} and {cand.source_file} "
                                 f"{cand.sheet or ''} both fit template {f.template.name}; load them one by one",
                                 source_file=source_file, candidates=[f.template.name])
    chosen = choose([f for _, f in per_template.values()], source_file=source_file)
    return per_template[chosen.template.name][0], chosen


def rank_file(path: str | Path) -> list[HeaderFit]:
    """How well every registered template fits the file, best first (see :func:`sources.rank`)."""
    cands = _open_candidates(path)
    best: dict[str, HeaderFit] = {}
    for template in list_templates():
        for cand in _preferred(template, cands):
            if _eligible(template, cand):
                f = _fit(template, cand)
                if template.name not in best or (f.fits, f.score) > (best[template.name].fits, best[template.name].score):
                    best[template.name] = f
    return sorted(best.values(), key=lambda f: (f.fits, f.score), reverse=True)


def detect_file(path: str | Path) -> Detection:
    """See :func:`recon_helpers.sources.detect`."""
    cands = _open_candidates(path)
    cand, fit = _pick(cands, list_templates(), Path(path).as_posix())
    return Detection(fit.template, cand.source_file, fit.line, fit.reason)


# =========================================================================== reading the body

@dataclass
class _Body:
    """The data rows of a table as string columns, plus what was around them."""

    columns: dict[int, pa.ChunkedArray | pa.Array]   # column index -> raw text
    rows: pa.Array                                    # physical line / sheet row of each data row
    n: int
    footer: list[_Row]
    blank_lines: int = 0
    bad_rows: list[tuple[int, str, str]] = field(default_factory=list)   # line, text, reason
    warnings: list[str] = field(default_factory=list)
    quirks: bool = True      # False when the data has no ="…", backtick or apostrophe anywhere


def _footer_regex(template: SourceTemplate) -> re.Pattern[str]:
    return re.compile(r"^[\s,\"'`]*(?:" + "|".join(template.footer.markers) + ")")


#: encodings whose delimiter, quote and newline bytes never occur inside a multi-byte character, so the
#: CSV can be split as raw bytes and only text cells need transcoding
_ASCII_SAFE = {"gb18030", "gbk", "gb2312", "cp936"}


def _text_body(cand: _TextCandidate, header_index: int, width: int, needed: list[int],
               template: SourceTemplate) -> _Body:
    data, enc = cand.data, cand.codec
    start = cand.offsets[header_index + 1] if header_index + 1 < len(cand.offsets) else len(data)
    first_line = header_index + 2
    pattern = "\n[ \t,\"'`]*(?:" + "|".join(template.footer.markers) + ")"
    try:
        footer_match = re.compile(pattern.encode(enc)).search(data, max(start - 1, 0))
    except (UnicodeEncodeError, LookupError):
        footer_match = re.compile(pattern.encode("utf-8")).search(data, max(start - 1, 0))
    end = max(start, footer_match.start() + 1 if footer_match else len(data))
    footer_rows: list[_Row] = []
    if footer_match:
        footer_lines = data[end:].split(b"\n")
        if footer_lines and not footer_lines[-1].strip():
            footer_lines.pop()
        n_first_footer = first_line + data.count(b"\n", start, end) if end > start else first_line
        for i, raw in enumerate(footer_lines):
            text = raw.decode(enc, errors="replace").rstrip("\r")
            footer_rows.append(_Row(n_first_footer + i, _split_line(text), text))
    end, blank_tail = _drop_blank_tail(data, start, end)
    if end <= start:
        return _Body({j: pa.array([], pa.string()) for j in needed}, pa.array([], pa.int64()), 0, footer_rows,
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
        return _Body(cols, rows, n_lines, footer_rows, blank_lines=blank_tail, quirks=quirks)
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
                    footer_rows: list[_Row], blank_tail: int, source_file: str) -> _Body:
    """Row-by-row reading for irregular files, keeping each record's first physical line number."""
    try:
        text = body.decode(enc)
    except UnicodeDecodeError as exc:
        line = first_line + body.count(b"\n", 0, exc.start)
        raise SourceFileError(f"bytes at position {exc.start} are not valid {enc} text; the file mixes encodings "
                              "or was damaged", source_file=source_file, row=line) from None
    records: list[list[str]] = []
    lines: list[int] = []
    out = _Body({}, pa.array([], pa.int64()), 0, footer_rows, blank_lines=blank_tail)
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
        if not any(c.strip(normalise.TRIM_CHARS) for c in rec):
            out.blank_lines += 1
            continue
        if len(rec) > width:
            extra = rec[width:]
            if any(c.strip(normalise.TRIM_CHARS) for c in extra):
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


def _sheet_body(cand: _SheetCandidate, header_index: int, width: int, needed: list[int],
                template: SourceTemplate) -> _Body:
    marker = _footer_regex(template)
    cols: dict[int, list[str | None]] = {j: [] for j in needed}
    lines: list[int] = []
    footer: list[_Row] = []
    blank = 0
    rows = cand.rows
    cell_text = normalise.cell_text
    for i in range(header_index + 1, len(rows)):
        r = rows[i]
        first = next((c for c in r if c != "" and c is not None), None)
        if first is None:
            blank += 1
            continue
        if isinstance(first, str) and marker.match(first.strip(normalise.TRIM_CHARS)):
            for k in range(i, len(rows)):
                cells = [cell_text(c) for c in rows[k]]
                footer.append(_Row(k + 1, [normalise.clean_scalar(c) or "" for c in cells],
                                   ",".join(c or "" for c in cells)))
            break
        for j, out in cols.items():
            out.append(cell_text(r[j]) if j < len(r) else None)
        lines.append(i + 1)
    arrays = {j: pa.array(v, pa.string()) for j, v in cols.items()}
    return _Body(arrays, pa.array(lines, pa.int64()), len(lines), footer, blank_lines=blank)


# =========================================================================== mapping to canonical

class _Columns:
    """Header lookup and per-column caches (cleaned text, parsed money) for one table."""

    def __init__(self, header: list[str], body: _Body, template: SourceTemplate, source_file: str, header_line: int):
        self.header = header
        self.body = body
        self.template = template
        self.source_file = source_file
        self.header_line = header_line
        self._clean: dict[int, Any] = {}
        self._money: dict[int, normalise.Parsed] = {}
        self.keys: dict[str, list[int]] = {}
        for i, name in enumerate(header):
            if name:
                self.keys.setdefault(normalise.loose_key(name), []).append(i)

    def find(self, names: list[str], *, field_name: str, optional: bool) -> int | None:
        for name in names:
            for alt in name.split("|"):
                hits = self.keys.get(normalise.loose_key(alt))
                if hits:
                    if len(hits) > 1:
                        cols = ", ".join(str(h + 1) for h in hits)
                        raise SourceFileError(
                            f"column {alt!r} appears {len(hits)} times in the header (columns {cols}), so "
                            f"field {field_name!r} is ambiguous; map it with `position:` in the template",
                            source_file=self.source_file, row=self.header_line, column=alt)
                    return hits[0]
        if optional:
            return None
        shown = ", ".join(h for h in self.header if h)
        raise SourceFileError(
            f"the header has no column {' / '.join(names)!r} for field {field_name!r} of template "
            f"{self.template.name}; the header is: {shown}. Mark the field `optional: true` or fix the mapping",
            source_file=self.source_file, row=self.header_line)

    def name(self, index: int) -> str:
        return self.header[index] if index < len(self.header) and self.header[index] else f"column {index + 1}"

    def raw(self, index: int):
        return self.body.columns[index]

    def clean(self, index: int):
        if index not in self._clean:
            self._clean[index] = normalise.clean_cells(self.raw(index), null_values=self.template.null_values,
                                                       quirks=self.body.quirks)
        return self._clean[index]

    def money(self, index: int) -> normalise.Parsed:
        if index not in self._money:
            self._money[index] = normalise.parse_money(self.clean(index))
        return self._money[index]


@dataclass
class _Problem:
    mask: Any
    column: int | None
    code: str
    reason: str


def _split_summary_rows(template: SourceTemplate, look: _Columns) -> list[_Row]:
    """Take in-table summary lines (上月结转, 本月合计 ...) out of the data; return them as rows."""
    spec = template.summary_rows
    if spec is None or not look.body.n:
        return []
    col = look.find(spec.column, field_name="summary_rows", optional=True)
    if col is None:
        return []
    hit = pc.fill_null(pc.is_in(look.clean(col), value_set=pa.array(spec.values, pa.string())), False)
    if not pc.any(hit).as_py():
        return []
    body = look.body
    idx = pc.indices_nonzero(hit if isinstance(hit, pa.Array) else hit.combine_chunks()).to_pylist()
    width = len(look.header)
    rows = []
    for i in idx:
        cells = [""] * width
        for j, arr in body.columns.items():
            value = arr[i].as_py()
            cells[j] = normalise.clean_scalar(value) or ""
        rows.append(_Row(body.rows[i].as_py(), cells, ",".join(cells)))
    keep = pc.invert(hit)
    body.columns = {j: pc.filter(arr, keep) for j, arr in body.columns.items()}
    body.rows = pc.filter(body.rows, keep)
    body.n = len(body.rows)
    look._clean.clear()
    look._money.clear()
    return rows


def _needed_columns(template: SourceTemplate, look: _Columns) -> list[int]:
    idx: set[int] = set()
    for fname, spec in template.mapping.items():
        if spec.position is not None:
            idx.add(spec.position - 1)
        if spec.column:
            j = look.find(spec.column, field_name=fname, optional=spec.optional)
            if j is not None:
                idx.add(j)
        for names in [*([n] for n in spec.income + spec.expense), spec.time_column,
                      *([n] for n in spec.column[1:] if spec.first_filled)]:
            if names:
                j = look.find(names, field_name=fname, optional=True)
                if j is not None:
                    idx.add(j)
    if template.summary_rows is not None:
        j = look.find(template.summary_rows.column, field_name="summary_rows", optional=True)
        if j is not None:
            idx.add(j)
    for check in template.control_totals:
        for names in ([check.sum] if check.sum else []) + ([check.where.column] if check.where else []):
            j = look.find(names, field_name=f"control_totals.{check.label}", optional=True)
            if j is not None:
                idx.add(j)
    return sorted(idx)


def _field_order(template: SourceTemplate) -> list[str]:
    first = [n for n, s in template.mapping.items() if not s.sign_from]
    return first + [n for n, s in template.mapping.items() if s.sign_from]


def _const(value: str | None, n: int):
    return pa.array([value] * n, pa.string())


def _build(template: SourceTemplate, look: _Columns) -> tuple[dict[str, Any], list[_Problem], list[str]]:
    n = look.body.n
    values: dict[str, Any] = {}
    problems: list[_Problem] = []
    warnings: list[str] = []
    for fname in _field_order(template):
        spec = template.mapping[fname]
        kind = canonical.CANONICAL_FIELDS[fname].kind
        first_problem = len(problems)
        col: int | None = None
        if spec.position is not None:
            col = spec.position - 1
            if col >= len(look.header) and col not in look.body.columns:
                raise SourceFileError(f"field {fname!r} maps column {spec.position}, but the header has only "
                                      f"{len(look.header)} columns", source_file=look.source_file,
                                      row=look.header_line)
        elif spec.column:
            col = look.find(spec.column, field_name=fname, optional=spec.optional)
        if kind == "money":
            result, probs, note = _money_field(fname, spec, look, col, values, n)
            problems += probs
            warnings += note
        elif spec.value is not None:
            result = _const(spec.value, n)
        elif col is None and not (spec.income or spec.expense):
            result = pa.nulls(n, canonical.field_type(fname))
        else:
            text = look.clean(col)
            if spec.first_filled:
                for other in spec.column:
                    j = look.find([other], field_name=fname, optional=True)
                    if j is not None and j != col:
                        text = pc.coalesce(text, look.clean(j))
            if spec.pattern:
                text = normalise.extract(text, spec.pattern)
            if kind in ("id", "text"):
                if spec.strip_prefix:
                    text = normalise.strip_prefixes(text, spec.strip_prefix)
                if spec.map:
                    parsed = normalise.map_values(text, spec.map, unmapped=spec.unmapped)
                    problems.append(_Problem(parsed.bad, col, parsed.code, parsed.reason))
                    text = parsed.values
                result = text
            elif kind in ("datetime", "date"):
                formats = spec.formats
                if spec.time_column:
                    tcol = look.find(spec.time_column, field_name=fname, optional=True)
                    if tcol is not None:
                        text = normalise.join_date_time(text, look.clean(tcol))
                        formats = normalise.date_time_formats(spec.formats, spec.time_formats)
                parsed = normalise.parse_datetime(text, formats=formats, date_only=kind == "date")
                problems.append(_Problem(parsed.bad, col, parsed.code, parsed.reason))
                result = parsed.values
            elif kind == "measure":
                parsed = normalise.parse_measure(text)
                problems.append(_Problem(parsed.bad, col, parsed.code, parsed.reason))
                result = parsed.values
            elif kind == "int":
                parsed = normalise.parse_int(text)
                problems.append(_Problem(parsed.bad, col, parsed.code, parsed.reason))
                result = parsed.values
            else:  # pragma: no cover - canonical kinds are all handled above
                raise TemplateError(f"field kind {kind!r} is not supported", template_file=template.path)
        if spec.invalid == "empty":
            for prob in problems[first_problem:]:
                count = int(pc.sum(pc.cast(pc.fill_null(prob.mask, False), pa.int64())).as_py() or 0)
                if count:
                    where = look.name(prob.column) if prob.column is not None else fname
                    warnings.append(f"{count} cell(s) in column {where!r} could not be read ({prob.reason}) and "
                                    f"were left empty in field {fname!r}")
            del problems[first_problem:]
        if spec.required:
            bad_already = [p.mask for p in problems if p.column == col and col is not None]
            missing = pc.is_null(result)
            for m in bad_already:
                missing = pc.and_(missing, pc.invert(m))
            problems.append(_Problem(missing, col, "missing_value",
                                     f"field {fname!r} needs a value and the cell is empty"))
        values[fname] = result
    return values, problems, warnings


def _money_field(fname: str, spec, look: _Columns, col: int | None, values: dict[str, Any], n: int):
    problems: list[_Problem] = []
    notes: list[str] = []

    def parsed_of(index: int) -> normalise.Parsed:
        if spec.pattern:
            return normalise.parse_money(normalise.extract(look.clean(index), spec.pattern))
        return look.money(index)

    def note(p: normalise.Parsed, index: int) -> None:
        if p.rounded:
            notes.append(f"{p.rounded} value(s) in column {look.name(index)!r} had more than 2 decimals and were "
                         "rounded half-up to fen")

    if spec.value is not None:
        p = normalise.parse_money(pa.array([spec.value] * n, pa.string()))
        return p.values, problems, notes
    if spec.income or spec.expense:
        parts = []
        for names, sign in [*((n, 1) for n in spec.income), *((n, -1) for n in spec.expense)]:
            j = look.find([names], field_name=fname, optional=True)
            if j is None:
                continue
            p = parsed_of(j)
            note(p, j)
            problems.append(_Problem(p.bad, j, p.code, p.reason))
            v = p.values if sign > 0 else pc.negate(pc.abs(p.values))
            parts.append(v)
        if not parts:
            if spec.optional:
                return pa.nulls(n, canonical.MONEY_TYPE), problems, notes
            raise SourceFileError(f"the header has neither {spec.income} nor {spec.expense} for field {fname!r}",
                                  source_file=look.source_file, row=look.header_line)
        total = parts[0]
        for extra in parts[1:]:
            both_null = pc.and_(pc.is_null(total), pc.is_null(extra))
            summed = pc.add(pc.fill_null(total, Decimal(0)), pc.fill_null(extra, Decimal(0)))
            total = pc.if_else(both_null, pa.scalar(None, summed.type), summed)
        result = pc.cast(total, canonical.MONEY_TYPE)
    elif col is None:
        return pa.nulls(n, canonical.MONEY_TYPE), problems, notes
    else:
        p = parsed_of(col)
        note(p, col)
        problems.append(_Problem(p.bad, col, p.code, p.reason))
        result = p.values
        if spec.pattern:
            unmatched = pc.and_(pc.is_valid(look.clean(col)), pc.is_null(result))
            problems.append(_Problem(pc.and_(unmatched, pc.invert(p.bad)), col, "bad_amount",
                                     f"the cell does not match the pattern {spec.pattern!r}")
                            if spec.required else _Problem(pc.and_(unmatched, False), col, "", ""))
    if spec.negate:
        result = pc.negate(result)
    if spec.sign_from:
        direction = values[spec.sign_from]
        out = pc.fill_null(pc.equal(direction, "out"), False)
        inn = pc.fill_null(pc.equal(direction, "in"), False)
        result = pc.if_else(out, pc.negate(pc.abs(result)), pc.if_else(inn, pc.abs(result), result))
    return pc.cast(result, canonical.MONEY_TYPE), problems, notes


def _rejects(problems: list[_Problem], look: _Columns, n: int) -> tuple[Any, list[dict[str, Any]]]:
    rejected = pa.array([False] * n) if n else pa.array([], pa.bool_())
    entries: list[dict[str, Any]] = []
    rows = look.body.rows
    for prob in problems:
        mask = pc.fill_null(prob.mask, False)
        if not pc.any(mask).as_py():
            continue
        rejected = pc.or_(rejected, mask)
        idx = pc.indices_nonzero(mask if isinstance(mask, pa.Array) else mask.combine_chunks())
        raw = look.raw(prob.column) if prob.column is not None and prob.column in look.body.columns else None
        for i in idx.to_pylist():
            value = raw[i].as_py() if raw is not None else None
            entries.append({"source_file": look.source_file, "source_row": rows[i].as_py(),
                            "column": look.name(prob.column) if prob.column is not None else "",
                            "value": None if value is None else str(value).strip(normalise.TRIM_CHARS),
                            "reason": prob.reason, "code": prob.code})
    return rejected, entries


# =========================================================================== control totals

def _footer_value(row: _Row, index: int) -> Decimal | None:
    return normalise.scalar_decimal(row.cells[index]) if index < len(row.cells) else None


def _check_totals(template: SourceTemplate, look: _Columns, keep: Any, preamble: list[_Row],
                  footer: list[_Row]) -> tuple[list[ControlCheck], list[str]]:
    checks: list[ControlCheck] = []
    warnings: list[str] = []
    around = "\n".join(r.text for r in preamble + footer)
    for spec in template.control_totals:
        sel = keep
        if spec.where is not None:
            wcol = look.find(spec.where.column, field_name=f"control_totals.{spec.label}", optional=True)
            if wcol is None:
                continue
            if spec.where.values:
                hit = pc.is_in(look.clean(wcol), value_set=pa.array(spec.where.values, pa.string()))
            else:
                hit = pc.not_equal(look.money(wcol).values, Decimal(0))
            sel = pc.and_(sel, pc.fill_null(hit, False))
        count = int(pc.sum(pc.cast(sel, pa.int64())).as_py() or 0) if look.body.n else 0
        total: Decimal | None = None
        scol = None
        if spec.sum:
            scol = look.find(spec.sum, field_name=f"control_totals.{spec.label}", optional=True)
            if scol is None:
                continue  # this variant of the layout has no such column, so no such total either
            vals = pc.filter(look.money(scol).values, sel) if look.body.n else pa.array([], canonical.MONEY_TYPE)
            total = pc.sum(vals).as_py() or Decimal("0.00")
        stated: dict[str, Any] = {}
        if spec.pattern:
            m = re.search(spec.pattern, around, re.M)
            if m:
                stated = {k: v for k, v in m.groupdict().items() if v is not None}
        elif spec.row:
            label = normalise.loose_key(spec.row)
            for r in footer:
                if any(normalise.loose_key(c).startswith(label) for c in r.cells if c) and scol is not None:
                    v = _footer_value(r, scol)
                    if v is not None:
                        stated["total"] = v
                    break
        elif spec.below:
            label = normalise.loose_key(spec.below)
            for k, r in enumerate(footer[:-1]):
                keys = [normalise.loose_key(c) for c in r.cells]
                if label in keys:
                    v = _footer_value(footer[k + 1], keys.index(label))
                    if v is not None:
                        stated["total" if spec.sum else "count"] = v
                    break
        if not stated:
            checks.append(ControlCheck(spec.label, "total" if spec.sum else "count", None,
                                       total if spec.sum else count, None))
            warnings.append(f"control total {spec.label!r} is declared by template {template.name} but was not "
                            "found in the file's preamble/footer")
            continue
        if "count" in stated:
            expected_count = int(normalise.scalar_decimal(stated["count"]) or 0)
            checks.append(ControlCheck(spec.label, "count", expected_count, count, expected_count == count))
        if "total" in stated and spec.sum:
            expected = stated["total"]
            expected = expected if isinstance(expected, Decimal) else normalise.scalar_decimal(expected)
            actual = total if total is not None else Decimal(0)
            ok = (abs(expected) == abs(actual)) if spec.absolute else expected == actual
            checks.append(ControlCheck(spec.label, "total", expected, actual, ok))
    for c in checks:
        if c.ok is False:
            warnings.append(f"control total mismatch: {c}")
    return checks, warnings


# =========================================================================== load()

def _header_width(cand: _Candidate, header_index: int, template: SourceTemplate) -> tuple[list[str], int]:
    """Header cells and the number of cells data rows have (trailing commas add an empty column)."""
    header = list(cand.head[header_index].cells)
    while header and not header[-1]:
        header.pop()
    footer = _footer_regex(template)
    samples = []
    for r in cand.head[header_index + 1: header_index + 51]:
        if footer.match(r.text):
            break
        if any(r.cells):
            samples.append(len(r.cells))
    width = max(len(header), Counter(samples).most_common(1)[0][0] if samples else 0)
    return header, width


def _load_table(cand: _Candidate, fit: HeaderFit, template: SourceTemplate, because: str) -> LoadResult:
    header_index = fit.row_index
    assert header_index is not None
    header, width = _header_width(cand, header_index, template)
    header_line = cand.head[header_index].line
    probe = _Body({}, pa.array([], pa.int64()), 0, [])
    look = _Columns(header + [""] * (width - len(header)), probe, template, cand.source_file, header_line)
    needed = _needed_columns(template, look)
    width = max([width] + [j + 1 for j in needed])
    look.header = header + [""] * (width - len(header))
    if isinstance(cand, _TextCandidate):
        body = _text_body(cand, header_index, width, needed, template)
    else:
        body = _sheet_body(cand, header_index, width, needed, template)
    look.body = body
    summary = _split_summary_rows(template, look)
    values, problems, warnings = _build(template, look)
    n = body.n
    rejected, entries = _rejects(problems, look, n)
    keep = pc.invert(rejected) if n else pa.array([], pa.bool_())
    for line, text, reason in body.bad_rows:
        entries.append({"source_file": cand.source_file, "source_row": line, "column": "", "value": text,
                        "reason": reason, "code": "bad_row"})
    preamble = cand.head[:header_index]
    checks, total_warnings = _check_totals(template, look, keep, preamble, summary + body.footer)
    table = _assemble(template, values, keep, body, cand.source_file, n)
    rejects = pd.DataFrame(entries, columns=REJECT_COLUMNS)
    if len(rejects):
        rejects = rejects.sort_values(["source_row", "column"], kind="stable").reset_index(drop=True)
    rejects = rejects.astype({"source_file": canonical.TEXT_DTYPE, "source_row": canonical.INT_DTYPE,
                              "column": canonical.TEXT_DTYPE, "value": canonical.TEXT_DTYPE,
                              "reason": canonical.TEXT_DTYPE, "code": canonical.TEXT_DTYPE})
    n_bad_rows = len(body.bad_rows)
    n_rejected = int(pc.sum(pc.cast(rejected, pa.int64())).as_py() or 0) if n else 0
    report = LoadReport(
        source_file=cand.source_file, template=template.name, detected_because=because, encoding=cand.encoding,
        rows_read=n + n_bad_rows, rows_loaded=len(table), rows_rejected=n_rejected + n_bad_rows,
        preamble_lines=header_index, footer_lines=len(body.footer), blank_lines=body.blank_lines,
        header_line=header_line, sheet=cand.sheet, control_totals=checks, summary_lines=len(summary),
        warnings=warnings + body.warnings + total_warnings)
    if report.rows_rejected:
        report.warnings.insert(0, f"{report.rows_rejected} row(s) rejected: see the rejects table")
    if len(body.footer) > 50:
        report.warnings.append(f"{len(body.footer)} lines after the footer marker on line {body.footer[0].line} "
                               "were not loaded; check they are not data")
    return LoadResult(table, rejects, report)


def _assemble(template: SourceTemplate, values: dict[str, Any], keep: Any, body: _Body, source_file: str,
              n: int) -> pd.DataFrame:
    arrays: dict[str, Any] = {}
    names = list(values)
    has_money = any(canonical.CANONICAL_FIELDS[f].kind == "money" for f in names)
    if has_money and "currency" not in values:
        values["currency"] = _const(template.currency, n)
        names.append("currency")
    if n and isinstance(keep, pa.ChunkedArray):
        keep = keep.combine_chunks()
    all_kept = bool(n) and bool(pc.all(keep).as_py())
    for fname in names:
        arr = values[fname]
        target = canonical.field_type(fname)
        if fname == "currency" and template.currency:
            arr = pc.coalesce(arr, pa.scalar(template.currency))
        arr = pc.cast(arr, target) if arr.type != target else arr
        arrays[fname] = arr if all_kept else (pc.filter(arr, keep) if n else pa.array([], target))
    kept_rows = pc.filter(body.rows, keep) if n and not all_kept else body.rows
    m = len(kept_rows)
    arrays["source_file"] = _repeat(source_file, m)
    arrays["source_row"] = kept_rows
    arrays["template"] = _repeat(template.name, m)
    table = pa.table(arrays)
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _repeat(value: str, n: int) -> pa.Array:
    """``n`` copies of one string, built in Arrow (a Python list of a million strings is slow)."""
    dictionary = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value]))
    return dictionary.cast(pa.string())


def _load_with_parser(path: str | Path, template: SourceTemplate, because: str) -> LoadResult:
    source_file = Path(path).as_posix()
    data = _read_bytes(path)
    try:
        from . import bankfiles
    except ImportError:
        raise SourceFileError(f"template {template.name} needs the {template.parser!r} parser "
                              "(recon_helpers.bankfiles), which is not installed", source_file=source_file) from None
    try:
        table, rejects, meta = bankfiles.read(template.parser, data, source_file)
    except (SourceFileError, TemplateError):
        raise
    except Exception as exc:  # a parser library's own exception: name the file, keep the cause
        raise SourceFileError(f"the {template.parser} parser could not read the file: {exc}",
                              source_file=source_file) from exc
    meta = dict(meta or {})
    table = table.copy()
    if "source_file" not in table.columns:
        table["source_file"] = pd.Series([source_file] * len(table), dtype=canonical.TEXT_DTYPE)
    table["template"] = pd.Series([template.name] * len(table), dtype=canonical.TEXT_DTYPE, index=table.index)
    rejects = rejects if rejects is not None else pd.DataFrame(columns=REJECT_COLUMNS)
    n_rej = int(rejects["source_row"].nunique()) if len(rejects) else 0
    checks = [c if isinstance(c, ControlCheck) else ControlCheck(**c) for c in meta.get("control_totals", [])]
    report = LoadReport(source_file=source_file, template=template.name, detected_because=because,
                        encoding=meta.get("encoding"), rows_read=len(table) + n_rej, rows_loaded=len(table),
                        rows_rejected=n_rej, control_totals=checks, warnings=list(meta.get("warnings", [])))
    report.warnings += [f"control total mismatch: {c}" for c in checks if c.ok is False]
    return LoadResult(table, rejects, report)


def load(path: str | Path, template: "str | Path | SourceTemplate | None" = None) -> LoadResult:
    """Load one downloaded export into canonical columns.

    Parameters
    ----------
    path:
        The file as downloaded: CSV (any of UTF-8, UTF-8 BOM, GBK/GB18030, UTF-16), a ZIP holding CSVs,
        XLSX or XLS; or a bank file a parser template reads (MT940, CAMT.053, OFX).
    template:
        A template name (``recon templates`` lists them), a path to a YAML mapping, a SourceTemplate,
        or None to recognise the file by its content.

    Returns
    -------
    LoadResult
        ``table, rejects, report = load(...)``; see the module docstring.

    Raises
    ------
    SourceFileError
        The file cannot be read at all (missing, empty, binary, truncated, wrong encoding).
    DetectionError
        No template, or more than one, fits the file.
    TemplateError
        The template named does not exist or is broken.
    """
    source_file = Path(path).as_posix()
    if template is not None:
        tpl = get_template(template)
        if tpl.parser is not None:
            cands = _open_candidates(path)
            _pick(cands, [tpl], source_file)  # refuses a file without the format's markers
            return _load_with_parser(path, tpl, f"template {tpl.name} was given")
        cands = _open_candidates(path, tpl.encoding)
        cand, fit = _pick(cands, [tpl], source_file)  # raises DetectionError listing what is missing
        because = f"template {tpl.name} was given; " + fit.reason
        return _load_table(cand, fit, tpl, because)
    cands = _open_candidates(path)
    cand, fit = _pick(cands, list_templates(), source_file)
    if fit.template.parser is not None:
        return _load_with_parser(path, fit.template, fit.reason)
    return _load_table(cand, fit, fit.template, fit.reason)
