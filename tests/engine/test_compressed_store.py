"""A match keeps its input rows and outcome compressed (issue #10: memory), and compressing changes no result.

Why a test: a match's result is held while it is written, reviewed and shown, and its tables are most
of its memory; DuckDB compresses a table only when it checkpoints, so the store asks for one when the
inputs are in and one when the rules are done (``MatchStore.compact``). If a call or the compressed
database went missing, the results would stay right and only the memory would grow back; if a key of
one value per row were dictionary-compressed again, only the time would: this test sees both.
"""
from __future__ import annotations

import random

from recon_helpers.engine import match
from recon_helpers.engine.backends import duckdb_backend
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.testing import canonical_frame as table

RECIPE = {"name": "compressed", "left": {"kind": "shipment", "label": "发货"},
          "right": {"kind": "courier_bill_line", "label": "账单"},
          "key": "waybill_no", "amount": "amount", "ids": {"left": ["waybill_no"], "right": ["waybill_no"]},
          "rules": [{"name": "exact_key", "type": "exact_key"}]}
ROWS = 5_000


def shipments_and_bill():
    """ROWS shipments; the bill lacks every 50th and charges every 40th again, in another order (so a
    200th is billed once, by its second charge)."""
    keys = [f"SF{i:010d}" for i in range(ROWS)]
    billed = [k for i, k in enumerate(keys) if i % 50] + [k for i, k in enumerate(keys) if i % 40 == 0]
    random.Random(3).shuffle(billed)
    left = table("shipments.csv", waybill_no=keys, amount=["12.50"] * ROWS)
    right = table("bill.csv", waybill_no=billed, amount=["12.50"] * len(billed))
    return left, right


def compressions(result, table_name: str, column: str | None = None) -> set[str]:
    """How DuckDB stores the segments of one of the store's tables, or of one of its columns
    (DuckDB's storage_info)."""
    only = f" AND column_name = '{column}'" if column else ""
    rows = result._ws.backend.con.execute(
        f"SELECT DISTINCT compression FROM pragma_storage_info('{table_name}') "
        f"WHERE segment_type <> 'VALIDITY'{only}").fetchall()
    return {r[0] for r in rows}


def read_all(paths: dict) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in paths.items() if name != "summary"}


def test_the_store_tables_of_a_finished_match_are_compressed(tmp_path):
    result = match(*shipments_and_bill(), recipe_from_dict(RECIPE, source="<test>"))
    for name in ("outcome", "rows_left", "rows_right"):
        assert compressions(result, name) - {"Uncompressed"}, f"{name} is stored uncompressed"
    unbilled = sum(1 for i in range(ROWS) if i % 50 == 0 and i % 40)
    assert result.summary.sides["left"].unmatched_rows == unbilled


def test_a_key_of_one_value_per_row_is_kept_uncompressed_and_repeated_text_is_compressed():
    """The checkpoint's dictionary is cheap and pays on text that repeats (the file name here), and
    costs most and saves least on a key that differs on every row: that one is stored as it is."""
    result = match(*shipments_and_bill(), recipe_from_dict(RECIPE, source="<test>"))
    for side in ("left", "right"):
        assert compressions(result, f"rows_{side}", "waybill_no") == {"Uncompressed"}
        assert compressions(result, f"rows_{side}", "_key") == {"Uncompressed"}
        assert "Uncompressed" not in compressions(result, f"rows_{side}", "source_file")
    assert "Uncompressed" not in compressions(result, "outcome", "status")


def test_compressing_changes_no_file_the_match_writes(tmp_path, monkeypatch):
    compressed = match(*shipments_and_bill(), recipe_from_dict(RECIPE, source="<test>"))
    files = read_all(compressed.write(tmp_path / "compressed"))

    class Plain(duckdb_backend.DuckDBBackend):
        def __init__(self, *, threads=None):
            super().__init__(threads=threads, compressed=False)

    monkeypatch.setattr(duckdb_backend, "DuckDBBackend", Plain)
    plain = match(*shipments_and_bill(), recipe_from_dict(RECIPE, source="<test>"))
    assert compressions(plain, "outcome") == {"Uncompressed"}
    assert read_all(plain.write(tmp_path / "plain")) == files
    assert len(files["links"].splitlines()) > ROWS
    assert plain.summary.to_dict() == compressed.summary.to_dict()
