"""Opening a download: bytes, file type, text encoding, ZIP members and workbook sheets.

Each thing that may hold one table (a text file, a ZIP member, a sheet) becomes a *candidate* with
its first rows scanned, so detection can compare templates against real content.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from recon_helpers.errors import SourceFileError
from recon_helpers.sources import cells, limits

_HEAD_BYTES = 1 << 20
_SCAN_ROWS = 60
_BINARY_MAGIC = {b"%PDF": "a PDF", b"\x89PNG": "a PNG image", b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image",
                 b"Rar!": "a RAR archive", b"7z\xbc\xaf": "a 7-Zip archive", b"\x1f\x8b": "a gzip archive"}


# =========================================================================== opening files

@dataclass
class Row:
    """One scanned record of a file's head or footer: first physical line, cleaned cells, raw text.

    ``lines`` is how many physical lines the record spans: more than one when a quoted cell holds a
    line break (Excel writes ``"运费\n(元)"`` for a header cell wrapped onto two lines).
    """

    line: int
    cells: list[str]
    text: str
    lines: int = 1


class Candidate:
    """Something that may hold one table: a text file, a ZIP member, or a workbook sheet."""

    source_file: str
    file_type: str
    encoding: str | None = None
    sheet: str | None = None
    head: list[Row]

    @property
    def head_text(self) -> str:
        return "\n".join(r.text for r in self.head)


class TextCandidate(Candidate):
    """A text table. ``path``: the file on disk it was read from whole, so its body can be read again
    piece by piece (:meth:`piece`) once the bytes held in memory are released."""

    def __init__(self, data: bytes, source_file: str, encodings: list[str], path: Path | None = None):
        self.source_file = source_file
        self.file_type = "csv"
        size = len(data)
        self.data, self.encoding = _choose_encoding(data, source_file, encodings)
        del data
        parsed_size = len(self.data)
        unified = _unify_line_ends(self.data)
        self._lone_cr_seen = unified is not self.data  # pieces read again from disk are unified the same way
        self.data = unified
        del unified
        self.codec = "utf-8" if self.encoding.lower().startswith("utf-16") else self.encoding
        # the parsed bytes are the file's own from an offset (a BOM dropped, lone CRs made LF in place),
        # except for UTF-16, which is transcoded
        self._disk = (path, size - parsed_size) if path is not None and not self.encoding.lower().startswith(
            "utf-16") else None
        head = self.data[:_HEAD_BYTES]
        if len(self.data) > _HEAD_BYTES:
            head = head[: head.rfind(b"\n") + 1]
        if not head and self.data:
            _refuse_long_line(self.data, source_file)
        self.head, self.offsets, self.ends = _scan_records(head, self.codec)

    def after(self, index: int) -> tuple[int, int]:
        """(byte offset, physical line number) where the record after scanned record ``index`` starts."""
        row = self.head[index]
        if index + 1 < len(self.offsets):
            return self.offsets[index + 1], self.head[index + 1].line
        end = self.ends[index]
        if end >= len(self.data) or self.data[end - 1:end] != b"\n":  # the head was cut inside this record
            found = self.data.find(b"\n", end)
            end = len(self.data) if found < 0 else found + 1
        return end, row.line + row.lines

    def release(self) -> None:
        """Drop the file's bytes once its table is read (the rows scanned for detection stay)."""
        self.data = b""

    @property
    def rereadable(self) -> bool:
        """Whether :meth:`piece` can read the body from disk, so the bytes in memory may go early."""
        return self._disk is not None

    def piece(self, start: int, end: int) -> bytes:
        """Bytes ``start``-``end`` as parsed: from memory, or (released) read again from the file on disk."""
        if self.data:
            return self.data[start:end]
        if self._disk is None:
            raise RuntimeError("the text candidate's bytes were released and it has no file to read them from")
        path, offset = self._disk
        with open(path, "rb") as f:
            f.seek(offset + start)
            raw = f.read(max(0, end - start) + 1)  # one byte more: a CR at the end may be half of a CRLF
        return (_unify_line_ends(raw) if self._lone_cr_seen else raw)[:max(0, end - start)]


class SheetCandidate(Candidate):
    def __init__(self, rows: list[list[Any]], source_file: str, sheet: str, file_type: str):
        self.source_file = source_file
        self.file_type = file_type
        self.sheet = sheet
        self.rows = rows
        self.head = [Row(i + 1, [cells.clean_scalar(cells.cell_text(c)) or "" for c in r],
                          ",".join(cells.cell_text(c) or "" for c in r))
                     for i, r in enumerate(rows[:400])]


#: physical lines one scanned record may span: a header cell wrapped onto a few lines, never a whole file
_MAX_RECORD_LINES = 20
_SCAN_LINES = 400


def _scan_records(head: bytes, codec: str) -> tuple[list[Row], list[int], list[int]]:
    """The head's records (rows, start offsets, end offsets): a quoted cell may run over line ends.

    A physical line with an odd number of quote marks opens a quoted cell; the following lines join
    it until the quote closes where a cell ends (``csv`` in strict mode agrees). One that does not
    close within a few lines (a quote never closed) stays a line of its own, as before, so damage
    cannot swallow the rest of the head.
    """
    raw_lines = head.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    texts = [raw.decode(codec, errors="replace").rstrip("\r") for raw in raw_lines[:_SCAN_LINES]]
    rows: list[Row] = []
    offsets: list[int] = []
    ends: list[int] = []
    pos = i = 0
    while i < len(texts):
        span = _record_span(texts, i)
        size = sum(len(raw) + 1 for raw in raw_lines[i:i + span])
        text = "\n".join(texts[i:i + span])
        offsets.append(pos)
        rows.append(Row(i + 1, split_line(text), text, span))
        pos += size
        ends.append(min(pos, len(head)))
        i += span
    return rows, offsets, ends


def _record_span(texts: list[str], i: int) -> int:
    """How many physical lines from ``texts[i]`` on make one CSV record (1 unless a quote runs over)."""
    quotes = texts[i].count('"')
    if quotes % 2 == 0:
        return 1
    for span in range(2, min(_MAX_RECORD_LINES, len(texts) - i) + 1):
        quotes += texts[i + span - 1].count('"')
        if quotes % 2 == 0:
            try:
                records = list(csv.reader(["\n".join(texts[i:i + span])], strict=True))
            except csv.Error:
                return 1
            return span if len(records) == 1 else 1
    return 1


def _unify_line_ends(data: bytes) -> bytes:
    """A CR not followed by LF (old-Mac line ends, or lines stitched from several systems) becomes LF.

    CRLF and LF are read as they are. Runs on the bytes as parsed (UTF-8 or GBK-family, where CR and
    LF bytes are never part of a multi-byte character); a lone CR inside a quoted cell becomes LF.
    """
    crs, crlfs = data.count(b"\r"), data.count(b"\r\n")
    if crs == crlfs:
        return data
    if not crlfs:  # old-Mac line ends throughout: one C-speed pass, no regex
        return data.replace(b"\r", b"\n")
    return re.sub(rb"\r(?!\n)", b"\n", data)


def _refuse_long_line(data: bytes, source_file: str) -> None:
    """The first line alone is longer than the head scanned: past the line limit it is refused."""
    end = data.find(b"\n")
    length = len(data) if end < 0 else end
    if length > limits.get("max_line_bytes"):
        raise SourceFileError(f"line 1 is {limits.size_text(length)} long, so it is not a CSV export's "
                              f"header; {limits.how_to_raise('max_line_bytes')}", source_file=source_file, row=1)


def split_line(text: str) -> list[str]:
    try:
        texts = next(csv.reader([text]), [])
    except csv.Error:
        texts = text.split(",")
    return [cells.clean_scalar(c) or "" for c in texts]


def _choose_encoding(data: bytes, source_file: str, declared: list[str]) -> tuple[bytes, str]:
    """Pick the text encoding and return (bytes to parse, codec); UTF-16 is transcoded to UTF-8 first.

    Order: a BOM decides; else the template's encodings, or by default UTF-8 then GB18030 (a superset
    of GBK), checked strictly on the first megabyte; else the one of them in which all but a fifth
    of the lines decode (the others are rejected row by row); else charset-normalizer's best guess.
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
    if _looks_binary(sample):
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
    codec = _mostly_decodes(probe, wanted)
    if codec is not None:
        return body, codec
    if "auto" in declared or not declared:
        from charset_normalizer import from_bytes

        best = from_bytes(probe).best()
        if best is not None and best.encoding:
            return body, best.encoding
    tried = ", ".join(wanted)
    raise SourceFileError(f"the bytes are not valid text in {tried} (the template's encoding); "
                          "check the file was not re-saved in another encoding", source_file=source_file)


#: bytes no text export holds: NUL and the other C0 controls besides TAB, LF, CR and ESC
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f]")


def _looks_binary(sample: bytes) -> bool:
    """Binary when control bytes are spread over most lines; one damaged line (NUL bytes) is not."""
    lines = [line for line in sample.split(b"\n") if line.strip()]
    damaged = sum(1 for line in lines if CONTROL_BYTES.search(line))
    return damaged > max(1, len(lines) // 2)


def _mostly_decodes(probe: bytes, codecs: list[str]) -> str | None:
    """The codec in which all but a few lines decode (those rows are rejected one by one later).

    A few GBK rows pasted into a UTF-8 file must not cost the file's good rows: the codec with the
    fewest undecodable lines wins when at most a fifth of the lines fail.
    """
    lines = probe.split(b"\n")
    best: tuple[int, str] | None = None
    for codec in codecs:
        bad = 0
        for line in lines:
            try:
                line.decode(codec)
            except UnicodeDecodeError:
                bad += 1
            except LookupError:
                break
        else:
            if best is None or bad < best[0]:
                best = (bad, codec)
    if best is not None and best[0] * 5 <= len(lines):
        return best[1]
    return None


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
            return _broken_zip_kind(data)
        return "xlsx" if any(n.startswith("xl/") for n in names) or "[Content_Types].xml" in names else "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    return "csv"


def _broken_zip_kind(data: bytes) -> str:
    """A ZIP without its directory (cut short): the first member's name tells a workbook from an archive."""
    name_length = int.from_bytes(data[26:28], "little")
    first = data[30:30 + name_length]
    return "xlsx" if first.startswith((b"xl/", b"[Content_Types]", b"_rels/", b"docProps/")) else "zip"


def read_bytes(path: str | Path) -> bytes:
    p = Path(path)
    if not p.exists():
        raise SourceFileError("file not found", source_file=p.as_posix())
    if p.is_dir():
        raise SourceFileError("this is a folder, not a file", source_file=p.as_posix())
    size = p.stat().st_size
    if size > limits.get("max_file_bytes"):
        raise SourceFileError(f"the file is {limits.size_text(size)}, over the size limit; "
                              f"{limits.how_to_raise('max_file_bytes')}", source_file=p.as_posix())
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


# --------------------------------------------------------------------------- ZIP archives, bounded

#: what zipfile and zlib raise for a damaged archive or member
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)


def _check_zip_sizes(archive: zipfile.ZipFile, source_file: str) -> list[zipfile.ZipInfo]:
    """The members to read, refused before any byte is inflated when they declare too much."""
    members = [i for i in archive.infolist() if not i.is_dir()]
    if len(members) > limits.get("max_zip_members"):
        raise SourceFileError(f"the ZIP archive holds {len(members):,} files; "
                              f"{limits.how_to_raise('max_zip_members')}", source_file=source_file)
    for info in members:
        _check_member_size(info, info.file_size, source_file)
    return members


def _check_member_size(info: zipfile.ZipInfo, size: int, source_file: str) -> None:
    name = _zip_member_name(info)
    if size > limits.get("max_zip_member_bytes"):
        raise SourceFileError(f"ZIP member {name!r} expands to {limits.size_text(size)} (a ZIP bomb, or far bigger "
                              f"than any export); {limits.how_to_raise('max_zip_member_bytes')}",
                              source_file=source_file)
    ratio = size / max(info.compress_size, 1)
    if size > 16 << 20 and ratio > limits.get("max_zip_ratio"):
        raise SourceFileError(f"ZIP member {name!r} expands {ratio:,.0f} times ({limits.size_text(info.compress_size)}"
                              f" to {limits.size_text(size)}): a ZIP bomb, not an export; "
                              f"{limits.how_to_raise('max_zip_ratio')}", source_file=source_file)


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source_file: str) -> bytes:
    """A member's bytes, inflated no further than the limit even when its header lies about its size."""
    cap = limits.get("max_zip_member_bytes")
    try:
        with archive.open(info) as stream:
            data = stream.read(cap + 1)
    except _ZIP_ERRORS as exc:
        raise SourceFileError(_zip_damage(exc, _zip_member_name(info)), source_file=source_file) from None
    _check_member_size(info, len(data), source_file)
    return data


def _zip_damage(exc: BaseException, member: str | None = None) -> str:
    what = f"ZIP member {member!r}" if member else "the ZIP archive"
    text = str(exc)
    if isinstance(exc, RuntimeError) and ("encrypt" in text.lower() or "password" in text.lower()):
        return f"{what} is encrypted (password-protected); download the statement again without a password"
    if isinstance(exc, (zlib.error, EOFError)):
        return (f"{what} is damaged: its compressed data cannot be inflated ({text or 'it ends early'}); "
                "download it again")
    return f"cannot open {what} ({text}); the ZIP is truncated or damaged - download it again"


def open_candidates(path: str | Path, encodings: list[str] | None = None) -> list[Candidate]:
    data = read_bytes(path)
    source_file = Path(path).as_posix()
    kind = _file_type(data)
    if kind in ("xlsx", "xls"):
        return _workbook_candidates(data, source_file, kind)
    if kind == "zip":
        return _zip_candidates(data, source_file, encodings)
    return [TextCandidate(data, source_file, encodings or ["auto"], path=Path(path))]


def _zip_candidates(data: bytes, source_file: str, encodings: list[str] | None) -> list[Candidate]:
    out: list[Candidate] = []
    nested = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        raise SourceFileError(_zip_damage(exc), source_file=source_file) from None
    for info in _check_zip_sizes(archive, source_file):
        member = read_member(archive, info, source_file)
        name = f"{source_file}!{_zip_member_name(info)}"
        if not member.strip():
            continue
        kind = _file_type(member)
        if kind == "zip":  # archives are not opened recursively: each level multiplies what a bomb can do
            nested.append(_zip_member_name(info))
        elif kind in ("xlsx", "xls"):
            out += _workbook_candidates(member, name, kind)
        else:
            try:
                out.append(TextCandidate(member, name, encodings or ["auto"]))
            except SourceFileError:
                continue
        del member
    if not out:
        inner = f" (it holds another ZIP, {nested[0]!r}: unpack that one and load it)" if nested else ""
        raise SourceFileError(f"the ZIP archive holds no readable CSV or Excel file{inner}", source_file=source_file)
    return out


# --------------------------------------------------------------------------- workbooks, bounded

#: a cell in column AA or further (one-letter columns are at most 26 wide, so they need no look)
_WIDE_REF = re.compile(rb' r="([A-Z]{2,3})[0-9]')
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="([0-9]{1,7})"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source_file: str) -> Iterator[bytes]:
    """A sheet's XML in 8 MB pieces cut before a ``<``, inflated no further than the member limit."""
    cap = limits.get("max_zip_member_bytes")
    seen, tail = 0, b""
    with archive.open(info) as stream:
        while chunk := stream.read(8 << 20):
            seen += len(chunk)
            if seen > cap:
                _check_member_size(info, seen, source_file)
            text = tail + chunk
            cut = text.rfind(b"<")
            text, tail = (text[:cut], text[cut:]) if cut > 0 else (text, b"")
            yield text
    if tail:
        yield tail


def _sheet_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source_file: str) -> tuple[int, int]:
    """Rows and columns a sheet's real cells span, read from its XML (the declared range is not trusted).

    One regex pass that only ever matches cells past column Z, so a narrow sheet costs one scan at
    C speed; rows are the last ``<row r=...>`` (rows are written in order) or the count of rows.
    """
    rows = cols = counted = 0
    try:
        for text in _sheet_chunks(archive, info, source_file):
            wide = set(_WIDE_REF.findall(text))
            if wide:
                cols = max(cols, max(_column_number(c) for c in wide))
            counted += text.count(b"<row")
            last = text.rfind(b"<row")
            if last >= 0 and (m := _ROW_NUMBER.match(text, last)):
                rows = max(rows, int(m.group(1)))
    except _ZIP_ERRORS:
        return 0, 0  # calamine reports the damage in its own words
    rows = max(rows, counted)
    if cols or not rows:
        return rows, cols
    allowed = limits.get("max_sheet_cells") // rows
    if allowed >= 26:
        return rows, 26
    beyond = re.compile(rb' r="[' + bytes([65 + allowed]) + rb'-Z][0-9]')  # a one-letter column past the limit
    try:
        found = any(beyond.search(text) for text in _sheet_chunks(archive, info, source_file))
    except _ZIP_ERRORS:
        return 0, 0
    return rows, 26 if found else allowed


def _oversized_sheets(data: bytes, source_file: str) -> set[str]:
    """Worksheet parts whose real cells span more than ``max_sheet_cells`` as a dense grid."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        return set()
    big = set()
    for info in _check_zip_sizes(archive, source_file):
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            rows, cols = _sheet_extent(archive, info, source_file)
            if rows * cols > limits.get("max_sheet_cells"):
                big.add(info.filename)
    return big


_UNIQUE_COUNT = re.compile(rb'<sst\b[^>]*?\buniqueCount="([0-9]+)"')
#: the smallest shared string entry, ``<si><t/></si>``: a part of N bytes holds at most N / 13 strings
_MIN_SHARED_STRING_BYTES = 13


def _overstated_shared_strings(data: bytes) -> bool:
    """Whether the shared strings part declares more strings than its bytes can hold.

    A reader that reserves room for the declared ``uniqueCount`` is asked for gigabytes by a 1 MB
    workbook declaring two billion strings (calamine aborts the process); such a workbook is read by
    the streaming reader, which only keeps the strings that are there.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo("xl/sharedStrings.xml")
        with archive.open(info) as stream:
            head = stream.read(4096)
    except (KeyError, *_ZIP_ERRORS):
        return False
    m = _UNIQUE_COUNT.search(head)
    return bool(m) and int(m.group(1)) > info.file_size // _MIN_SHARED_STRING_BYTES


def _workbook_candidates(data: bytes, source_file: str, kind: str) -> list[Candidate]:
    import python_calamine

    big = _oversized_sheets(data, source_file) if kind == "xlsx" else set()
    if big or (kind == "xlsx" and _overstated_shared_strings(data)):
        return _sparse_workbook_candidates(data, source_file)
    try:
        book = python_calamine.load_workbook(io.BytesIO(data))
        out: list[Candidate] = []
        for name in book.sheet_names:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            out.append(SheetCandidate(rows, source_file, name, kind))
    except Exception as exc:  # calamine raises several unrelated types for broken files
        raise SourceFileError(f"cannot read the {kind.upper()} workbook ({exc}); the file looks truncated or "
                              "damaged - download it again", source_file=source_file) from None
    if not out:
        raise SourceFileError("the workbook has no sheets", source_file=source_file)
    return out


def _sparse_workbook_candidates(data: bytes, source_file: str) -> list[Candidate]:
    """A workbook with a sheet too big for a dense grid (a stray cell at XFD1048576), or whose shared
    strings overstate their number: read row by row.

    openpyxl's streaming reader keeps only the cells that exist, so the rows between the data and a
    stray far-away cell cost nothing; the real cells are still bounded by ``max_sheet_cells``.
    """
    import openpyxl

    cap = limits.get("max_sheet_cells")
    out: list[Candidate] = []
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # ignore the declared range: rows end at the last real cell
            rows: list[Any] = []
            cells_seen = 0
            for row in sheet.iter_rows(values_only=True):
                cells_seen += len(row)
                if cells_seen > cap:
                    raise SourceFileError(f"sheet {sheet.title!r} holds more than {cap:,} cells; "
                                          f"{limits.how_to_raise('max_sheet_cells')}", source_file=source_file)
                rows.append(row)
            out.append(SheetCandidate(rows, source_file, sheet.title, "xlsx"))
        book.close()
    except SourceFileError:
        raise
    except Exception as exc:  # openpyxl raises several unrelated types for broken files
        raise SourceFileError(f"cannot read the XLSX workbook ({exc}); the file looks truncated or damaged - "
                              "download it again", source_file=source_file) from None
    return out
