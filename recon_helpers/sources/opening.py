"""Opening a download: bytes, file type, text encoding, ZIP members and workbook sheets.

Each thing that may hold one table (a text file, a ZIP member, a sheet) becomes a *candidate* with
its first rows scanned, so detection can compare templates against real content.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recon_helpers.errors import SourceFileError
from recon_helpers.sources import cells

_HEAD_BYTES = 1 << 20
_SCAN_ROWS = 60
_BINARY_MAGIC = {b"%PDF": "a PDF", b"\x89PNG": "a PNG image", b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image",
                 b"Rar!": "a RAR archive", b"7z\xbc\xaf": "a 7-Zip archive", b"\x1f\x8b": "a gzip archive"}


# =========================================================================== opening files

@dataclass
class Row:
    """One scanned line/row of a file's head or footer: physical number, cleaned cells, raw text."""

    line: int
    cells: list[str]
    text: str


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
            self.head.append(Row(i + 1, split_line(text), text))
            pos += len(raw_line) + 1


class SheetCandidate(Candidate):
    def __init__(self, rows: list[list[Any]], source_file: str, sheet: str, file_type: str):
        self.source_file = source_file
        self.file_type = file_type
        self.sheet = sheet
        self.rows = rows
        self.head = [Row(i + 1, [cells.clean_scalar(cells.cell_text(c)) or "" for c in r],
                          ",".join(cells.cell_text(c) or "" for c in r))
                     for i, r in enumerate(rows[:400])]


def split_line(text: str) -> list[str]:
    try:
        texts = next(csv.reader([text]), [])
    except csv.Error:
        texts = text.split(",")
    return [cells.clean_scalar(c) or "" for c in texts]


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


def read_bytes(path: str | Path) -> bytes:
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


def open_candidates(path: str | Path, encodings: list[str] | None = None) -> list[Candidate]:
    data = read_bytes(path)
    source_file = Path(path).as_posix()
    kind = _file_type(data)
    if kind in ("xlsx", "xls"):
        return _workbook_candidates(data, source_file, kind)
    if kind == "zip":
        out: list[Candidate] = []
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
                        out.append(TextCandidate(member, name, encodings or ["auto"]))
                    except SourceFileError:
                        continue
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
            raise SourceFileError(f"cannot open the ZIP archive ({exc}); is it complete and not encrypted?",
                                  source_file=source_file) from None
        if not out:
            raise SourceFileError("the ZIP archive holds no readable CSV or Excel file", source_file=source_file)
        return out
    return [TextCandidate(data, source_file, encodings or ["auto"])]


def _workbook_candidates(data: bytes, source_file: str, kind: str) -> list[Candidate]:
    import python_calamine

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


