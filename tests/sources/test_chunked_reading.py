"""A big text file is read in chunks with the same result as read at once (#16 item 4).

``RECON_CHUNK_BYTES`` sets the chunk size; here a few KB, so a small hand-made file is cut dozens
of times, across quoted line breaks, damaged lines, page subtotals and the footer's last page.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recon_helpers.sources import load

SHIP_HEADER = "运单号,快递公司,订单号,平台,发货时间,收件省份,重量(kg),长(cm),宽(cm),高(cm),件数,仓库"


def ship(i: int, warehouse: str = "杭州仓") -> str:
    return (f"SF{1234567890100 + i},顺丰速运,35123456789{i:08d},淘宝,2026-10-{1 + i % 28:02d} 16:00:00,上海,"
            f"{i % 50 / 10 + 0.1:.2f},20,15,10,{1 + i % 3},{warehouse}")


def page_file(tmp_path: Path) -> Path:
    """40 pages of 25 shipments, each with its 本页合计; damaged lines and quoted line breaks here and there."""
    lines = [SHIP_HEADER]
    i = 0
    for _ in range(40):
        weight = pieces = 0
        for _ in range(25):
            i += 1
            if i % 97 == 0:
                lines.append(ship(i, '"杭州仓\n二号库"'))          # a quoted cell over two lines
            elif i % 151 == 0:
                lines.append(ship(i).replace("上海", "上海\x00"))   # NUL bytes: the row is rejected
                continue
            elif i % 173 == 0:
                lines.append(ship(i).replace(",上海,", ',"上海,'))  # a quote never closed: rejected
                continue
            else:
                lines.append(ship(i))
            weight += round((i % 50 / 10 + 0.1) * 100)
            pieces += 1 + i % 3
        lines.append(f"本页合计,,,,,,{weight / 100:.2f},,,,{pieces},")
    lines.append("合计,,,,,,1.00,,,,1,")       # does not tie: a finding, not data
    path = tmp_path / "pages.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"))
    return path


def both_ways(path: Path, monkeypatch) -> tuple:
    whole = load(path)
    monkeypatch.setenv("RECON_CHUNK_BYTES", "4096")
    chunked = load(path)
    return whole, chunked


def test_chunks_give_the_same_table_rejects_and_report(tmp_path, monkeypatch):
    whole, chunked = both_ways(page_file(tmp_path), monkeypatch)
    pd.testing.assert_frame_equal(whole.table, chunked.table)
    pd.testing.assert_frame_equal(whole.rejects, chunked.rejects)
    for name in ("rows_read", "rows_loaded", "rows_rejected", "footer_lines", "blank_lines", "summary_lines",
                 "warnings"):
        assert getattr(whole.report, name) == getattr(chunked.report, name), name
    assert [str(c) for c in whole.report.control_totals] == [str(c) for c in chunked.report.control_totals]
    report = chunked.report
    assert report.summary_lines == 39 and report.footer_lines == 2   # the last 本页合计 starts the footer
    assert report.rows_rejected == 11 and report.rows_loaded == 1000 - 11
    assert [c.ok for c in report.control_totals] == [True, True, False, False]


def test_rows_keep_the_files_own_line_numbers_across_chunks(tmp_path, monkeypatch):
    path = page_file(tmp_path)
    monkeypatch.setenv("RECON_CHUNK_BYTES", "4096")
    table, rejects, _ = load(path)
    text = path.read_bytes()[3:].decode("utf-8").split("\n")
    for row in table.sample(50, random_state=1).itertuples():
        assert text[row.source_row - 1].startswith(row.waybill_no)
    assert all("\x00" in text[r - 1] or '"上海,' in text[r - 1] for r in rejects["source_row"])


@pytest.mark.parametrize("size", [1, 7, 50, 4096])
def test_a_quote_never_closed_before_a_quoted_line_break_near_a_cut(tmp_path, monkeypatch, size):
    """The quote count cannot place the cut after a quote never closed; the pieces still read every
    record whole, as the file read at once does."""
    lines = [SHIP_HEADER, ship(1), ship(2).replace(",上海,", ',"上海,'), ship(3), ship(4, '"杭州仓\n二号库"'), ship(5)]
    path = tmp_path / "ship.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    whole = load(path)
    monkeypatch.setenv("RECON_CHUNK_BYTES", str(size))
    chunked = load(path)
    pd.testing.assert_frame_equal(whole.table, chunked.table)
    pd.testing.assert_frame_equal(whole.rejects, chunked.rejects)
    assert chunked.table["source_row"].tolist() == [2, 4, 5, 7] and chunked.rejects["source_row"].tolist() == [3]
    assert chunked.table["warehouse"].tolist()[2] == "杭州仓\n二号库"


@pytest.mark.parametrize("ends", [["\r\n"], ["\r"], ["\n", "\r\n", "\r"]], ids=["crlf", "cr", "mixed"])
def test_pieces_read_again_from_disk_keep_their_line_ends(tmp_path, monkeypatch, ends):
    """A big file's body is read from disk piece by piece; CR-only and mixed line ends read as at once."""
    lines = [SHIP_HEADER] + [ship(i, '"杭州仓\n二号库"' if i % 13 == 0 else "杭州仓") for i in range(1, 301)]
    text = "".join(line + ends[k % len(ends)] for k, line in enumerate(lines))
    path = tmp_path / "ship.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    whole = load(path)
    monkeypatch.setenv("RECON_CHUNK_BYTES", "1000")
    chunked = load(path)
    pd.testing.assert_frame_equal(whole.table, chunked.table)
    assert chunked.report.rows_loaded == 300 and not len(chunked.rejects)
    assert chunked.table["warehouse"].tolist()[12] == "杭州仓\n二号库"
