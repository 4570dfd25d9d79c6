"""links.csv is written part by part (ranges of groups, each sorted on its own, so the write never sorts
every link at once), two parts at a time where the engine runs on two threads: the file is still the
one deterministic order, every link row once, the same bytes on one thread as on two, and a formula in
a user's text is still neutralised in every part."""
from __future__ import annotations

import csv
import random

import pytest

from recon_helpers.engine import match
from recon_helpers.engine import store_results as store_module
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.testing import canonical_frame as table

RECIPE = {"name": "parts", "left": {"kind": "shipment", "label": "发货"}, "right": {"kind": "courier_bill_line", "label": "账单"},
          "key": "waybill_no", "amount": "amount", "ids": {"left": ["waybill_no"], "right": ["waybill_no"]},
          "rules": [{"name": "exact_key", "type": "exact_key"}]}
ROWS = 6_000


def shipments_and_bill():
    """ROWS waybills on both sides, the bill in another order; every 500th waybill a would-be formula."""
    keys = [f"=W{i}" if i % 500 == 0 else f"W{i:06d}" for i in range(ROWS)]
    billed = keys[:]
    random.Random(7).shuffle(billed)
    left = table("ship.csv", waybill_no=keys, amount=["5.00"] * ROWS)
    right = table("bill.csv", waybill_no=billed, amount=["5.00"] * ROWS)
    return left, right


def read(path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("part_rows", [1_000, 10**9], ids=["many parts", "one part"])
def test_links_written_in_parts_are_every_link_once_in_group_side_row_order(tmp_path, monkeypatch, part_rows):
    monkeypatch.setattr(store_module, "LINK_PART_ROWS", part_rows)
    res = match(*shipments_and_bill(), recipe_from_dict(RECIPE, source="<test>"))
    rows = read(res.write(tmp_path)["links"])
    assert len(rows) == 2 * ROWS
    order = [(int(r["group_id"]), r["side"] != "left", int(r["source_row"])) for r in rows]
    assert order == sorted(order), "groups in order, left before right, then by row"
    assert len(set(order)) == len(order), "no link row twice"
    expected = res.links  # one sort of the whole links view: the order the file promises
    assert [int(r["group_id"]) for r in rows] == [int(g) for g in expected["group_id"]]
    assert [r["source_row"] for r in rows] == [str(s) for s in expected["source_row"]]
    formulas = [r for r in rows if r["waybill_no"].lstrip("'").startswith("=")]
    assert len(formulas) == 2 * (ROWS // 500)
    assert all(r["waybill_no"].startswith("'=") and r["key"].startswith("'=") for r in formulas)


def test_the_parts_cut_between_groups_into_ranges_of_at_most_the_rows_asked_for():
    res = match(*shipments_and_bill(), recipe_from_dict(RECIPE, source="<test>"))
    ranges = res._ws._group_ranges(1_000)
    counts = [res._ws.scalar(f"SELECT count(*) FROM outcome WHERE is_link AND ({w})") for w in ranges]
    assert len(ranges) >= 12 and sum(counts) == 2 * ROWS and all(0 < n <= 1_000 for n in counts)
    assert ranges[-1].endswith("OR group_id IS NULL"), "links without a group id (sorted last) are in the last part"
    assert res._ws._group_ranges(2 * ROWS) == ["TRUE"]


@pytest.mark.parametrize("threads", [1, 2])
def test_parts_written_side_by_side_are_the_bytes_written_one_after_another(tmp_path, monkeypatch, threads):
    monkeypatch.setattr(store_module, "LINK_PART_ROWS", 700)
    left, right = shipments_and_bill()
    files = {}
    for lanes in (1, threads):
        res = match(left, right, recipe_from_dict(RECIPE, source="<test>"), threads=lanes)
        files[lanes] = res.write(tmp_path / f"t{lanes}")["links"].read_bytes()
        con = res._ws.backend.con
        with res._ws.writers() as writers:
            assert len(writers) == lanes, "a lane per thread"
            assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 1, "each part's query on one thread"
        assert con.execute("SELECT current_setting('threads')").fetchone()[0] == lanes, "the engine's threads put back"
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'link_part%'").fetchone()[0] == 0, \
            "every part's table dropped"
        assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0] is False
    assert files[threads] == files[1]
    assert files[1].count(b"\n") == 2 * ROWS + 1
