"""``match`` takes Parquet paths as it takes loaded tables: same result, only the recipe's columns
read, the file's name as ``source_file`` when the file has none, a clear error for a file that is not Parquet."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recon_helpers.engine import match
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.errors import MatchInputError
from recon_helpers.testing import canonical_frame as table

RECIPE = recipe_from_dict({
    "name": "paths", "left": {"kind": "shipment", "label": "发货记录"},
    "right": {"kind": "courier_bill_line", "label": "快递账单"},
    "key": "waybill_no", "amount": {"left": "expected_fee", "right": "amount"},
    "compare": [{"name": "fee", "left": "expected_fee", "right": "amount", "abs_tol": "0.00"}],
    "rules": [{"name": "exact", "type": "exact_key"}]}, source="<test>")


def tables():
    left = table("ship.csv", waybill_no=["SF1", "SF2", "SF3"], expected_fee=["10.00", "12.00", "8.00"],
                 note=["a", "b", "c"])
    right = table("bill.xlsx", waybill_no=["SF2", "SF1", "SF9"], amount=["12.00", "11.00", "7.00"])
    return left, right


def test_parquet_paths_give_the_result_the_loaded_tables_give(tmp_path):
    left, right = tables()
    pq.write_table(pa.Table.from_pandas(left, preserve_index=False), tmp_path / "left.parquet")
    pq.write_table(pa.Table.from_pandas(right, preserve_index=False), tmp_path / "right.parquet")
    loaded = match(left, right, RECIPE)
    from_files = match(tmp_path / "left.parquet", str(tmp_path / "right.parquet"), RECIPE)
    assert from_files.links.equals(loaded.links)
    assert from_files.exceptions.equals(loaded.exceptions)
    assert from_files.summary == loaded.summary
    assert set(from_files.exceptions["category"]) == {"missing_on_left", "missing_on_right", "amount_mismatch"}


def test_a_parquet_file_without_provenance_is_named_by_its_file(tmp_path):
    left, right = tables()
    pq.write_table(pa.Table.from_pandas(left.drop(columns=["source_file", "source_row"]), preserve_index=False),
                   tmp_path / "ship_2026-10.parquet")
    res = match(tmp_path / "ship_2026-10.parquet", right, RECIPE)
    rows = [res.links.query("side == 'left'"), res.exceptions.query("side == 'left'")]
    assert {f for r in rows for f in r["source_file"]} == {"ship_2026-10.parquet"}
    assert sorted(int(n) for r in rows for n in r["source_row"]) == [1, 2, 3]


def test_a_path_that_is_not_parquet_is_refused_with_what_to_do(tmp_path):
    bad = tmp_path / "bill.csv"
    bad.write_text("waybill_no,amount\nSF1,10.00\n", encoding="utf-8")
    left, _ = tables()
    with pytest.raises(MatchInputError, match=r"right input .*bill\.csv cannot be read as a Parquet file.*recon_helpers\.load"):
        match(left, bad, RECIPE)
