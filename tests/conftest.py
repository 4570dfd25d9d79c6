"""Shared fixtures: the repository paths, the real-format corpus, and one small demo month.

The demo month is generated once per test session (once per xdist worker) with the same arguments
the README uses, only smaller (300 orders), so tests read the very files a user would get.
"""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_PERIOD = "2026-10"
DEMO_SEED = 7
DEMO_ORDERS = 300


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def notebooks_dir() -> Path:
    return REPO / "notebooks"


@pytest.fixture(scope="session")
def real_corpus() -> Path:
    """Public real-format samples (shared/corpus/real beside the repo); skip when CI lacks them."""
    folder = REPO.parent / "shared" / "corpus" / "real"
    if not folder.is_dir():
        pytest.skip(f"real-format samples not found at {folder} (the shared/ folder is not beside the repo)")
    return folder


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small deterministic demo month (period 2026-10, seed 7, 300 orders), generated once."""
    from recon_helpers.demo import generate

    out = tmp_path_factory.mktemp("demo") / "demo"
    generate(out, period=DEMO_PERIOD, seed=DEMO_SEED, orders=DEMO_ORDERS)
    return out


# ------------------------------------------------------------------------ corrupted copies of samples
def _cell_index(cells: list[object], name: str) -> int:
    from recon_helpers.sources.cells import loose_key

    keys = [loose_key(c) for c in cells]
    return keys.index(loose_key(name))


def _replace_cell_in_line(line: str, index: int, value: str) -> str:
    import csv
    import io

    cells = next(csv.reader([line.rstrip("\r")]))
    cells[index] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue() + ("\r" if line.endswith("\r") else "")


def _corrupt_text(data: bytes, encoding: str, header_line: int, edits: list[tuple[int, str, str]]) -> bytes:
    import csv

    codec = {"utf-8": "utf-8-sig"}.get(encoding, encoding)
    bom = data.startswith(b"\xef\xbb\xbf")
    lines = data.decode(codec).split("\n")
    header = next(csv.reader([lines[header_line - 1].rstrip("\r")]))
    for line_no, column, value in edits:
        lines[line_no - 1] = _replace_cell_in_line(lines[line_no - 1], _cell_index(header, column), value)
    out = "\n".join(lines).encode("utf-16" if encoding.startswith("utf-16") else codec)
    return (b"\xef\xbb\xbf" + out) if bom and not out.startswith(b"\xef\xbb\xbf") else out


def _corrupt_xls(src: Path, dst: Path, report, edits: list[tuple[int, str, str]]) -> None:
    import python_calamine

    xlwt = pytest.importorskip("xlwt", reason="xlwt (dev extra) writes the corrupted .xls copy")
    reader = python_calamine.CalamineWorkbook.from_path(str(src))
    out = xlwt.Workbook(encoding="utf-8")
    for name in reader.sheet_names:
        rows = [list(r) for r in reader.get_sheet_by_name(name).to_python(skip_empty_area=False)]
        if name == report.sheet:
            header = rows[report.header_line - 1]
            for row, column, value in edits:
                rows[row - 1][_cell_index(header, column)] = value
        sheet = out.add_sheet(name)
        for r, cells in enumerate(rows):
            for c, value in enumerate(cells):
                if value != "":
                    sheet.write(r, c, value)
    out.save(str(dst))


def corrupt_sample(src: Path, report, tmp_path: Path, edits: list[tuple[int, str, str]]) -> Path:
    """A copy of a sample with cells replaced - (line or sheet row, header name, new text) - written in the
    file's own format and encoding (CSV, CSV in a ZIP, XLSX, XLS), so a test can break exactly those rows."""
    import zipfile

    import openpyxl

    dst = tmp_path / src.name
    if src.suffix == ".xlsx":
        book = openpyxl.load_workbook(src)
        sheet = book[report.sheet]
        header = [c.value for c in sheet[report.header_line]]
        for row, column, value in edits:
            sheet.cell(row=row, column=_cell_index(header, column) + 1).value = value
        book.save(dst)
    elif src.suffix == ".xls":
        _corrupt_xls(src, dst, report, edits)
    elif src.suffix == ".zip":
        member = report.source_file.split("!", 1)[1]
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
            for info in zin.infolist():
                payload = zin.read(info)
                if info.filename.encode("cp437").decode("gbk") == member:
                    payload = _corrupt_text(payload, report.encoding, report.header_line, edits)
                zout.writestr(info, payload)
    else:
        dst.write_bytes(_corrupt_text(src.read_bytes(), report.encoding, report.header_line, edits))
    return dst


@pytest.fixture()
def corrupted_copy():
    """``corrupted_copy(sample_path, load_report, tmp_path, edits)``: see :func:`corrupt_sample`."""
    return corrupt_sample
