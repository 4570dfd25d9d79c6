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


def _shuffled(frame, seed=3):
    """The rows of ``frame`` in another order, spread over two source files."""
    out = frame.assign(source_file=["b.csv" if i % 2 else "a.csv" for i in range(len(frame))])
    return out.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("row_group_size", [None, 2])
def test_a_parquet_file_out_of_row_order_gets_the_ids_its_sorted_rows_get(tmp_path, row_group_size):
    """Group ids derive from the rank by (source_file, source_row): a file read in another order, in
    one row group or several, links and excepts the same rows under the same group ids."""
    left = table("ship.csv", waybill_no=[f"SF{i}" for i in range(8)], expected_fee=["10.00"] * 8)
    right = table("bill.csv", waybill_no=[f"SF{i}" for i in (7, 6, 5, 4, 3, 2, 1, 9)],
                  amount=["10.00"] * 6 + ["11.00", "7.00"])
    shuffled = _shuffled(left)
    pq.write_table(pa.Table.from_pandas(shuffled, preserve_index=False), tmp_path / "left.parquet",
                   row_group_size=row_group_size)
    in_order = shuffled.sort_values(["source_file", "source_row"]).reset_index(drop=True)
    expected = match(in_order, right, RECIPE)
    got = match(tmp_path / "left.parquet", right, RECIPE)
    assert got.links.equals(expected.links)
    assert got.exceptions.equals(expected.exceptions)
    assert got.links["group_id"].nunique() == 6  # the six pairs that agree


def test_one_source_file_in_row_groups_out_of_order_is_still_sorted(tmp_path):
    """The statistics say one source_file, but the rows are not in source_row order: ranked, not taken as read."""
    left = table("ship.csv", waybill_no=["SF1", "SF2", "SF3", "SF4"], expected_fee=["10.00"] * 4)
    right = table("bill.csv", waybill_no=["SF1", "SF2", "SF3", "SF4"], amount=["10.00"] * 4)
    backwards = left.iloc[::-1].reset_index(drop=True)
    pq.write_table(pa.Table.from_pandas(backwards, preserve_index=False), tmp_path / "left.parquet", row_group_size=2)
    got = match(tmp_path / "left.parquet", right, RECIPE)
    assert got.links.equals(match(left, right, RECIPE).links)


def test_rows_without_a_source_file_rank_after_the_named_ones_in_any_input_order():
    from recon_helpers.engine.store_inputs import content_rank

    rows = pa.table({"source_file": ["a.csv", None, "a.csv"], "source_row": [1, 1, 2]})
    assert content_rank(rows).to_pylist() == [0, 2, 1]
    assert content_rank(rows.take([1, 0, 2])).to_pylist() == [2, 0, 1]


def test_a_parquet_file_of_several_sources_without_row_numbers_ranks_as_the_loaded_table(tmp_path):
    """Without source_row a row is numbered by its place in the file, then ranked by (source_file, that number)."""
    left = _shuffled(table("ship.csv", waybill_no=[f"SF{i}" for i in range(6)], expected_fee=["10.00"] * 6))
    right = table("bill.csv", waybill_no=[f"SF{i}" for i in range(6)], amount=["10.00"] * 6)
    left = left.drop(columns=["source_row"])
    pq.write_table(pa.Table.from_pandas(left, preserve_index=False), tmp_path / "left.parquet")
    got = match(tmp_path / "left.parquet", right, RECIPE)
    assert got.links.equals(match(left, right, RECIPE).links)


def test_the_sides_loaded_side_by_side_give_the_result_they_give_one_after_another(tmp_path, monkeypatch):
    """On two threads the inputs are created at once, each on a connection of its own, with what it
    reads (an Arrow table, a Parquet file's rank table) registered there: the same result as on one."""
    import threading

    from recon_helpers.engine.backends.duckdb_backend import DuckDBBackend

    left = table("ship.csv", waybill_no=[f"SF{i}" for i in range(8)], expected_fee=["10.00"] * 8)
    right = table("bill.csv", waybill_no=[f"SF{i}" for i in (7, 6, 5, 4, 3, 2, 1, 9)],
                  amount=["10.00"] * 6 + ["11.00", "7.00"])
    pq.write_table(pa.Table.from_pandas(_shuffled(left), preserve_index=False), tmp_path / "left.parquet")
    created = []
    original = DuckDBBackend._create_with_inputs

    def spy(self, con, name, select_sql, inputs):
        created.append((name, threading.current_thread().name, sorted(inputs)))
        return original(self, con, name, select_sql, inputs)

    monkeypatch.setattr(DuckDBBackend, "_create_with_inputs", spy)
    results = {threads: match(tmp_path / "left.parquet", right, RECIPE, threads=threads) for threads in (1, 2)}
    assert results[2].links.equals(results[1].links) and results[2].exceptions.equals(results[1].exceptions)
    assert results[2].summary == results[1].summary and results[2].links["group_id"].nunique() == 6
    side_by_side = [(name, inputs) for name, thread, inputs in created if thread.startswith("create_tables")]
    assert sorted(side_by_side) == [("rows_left", ["rank_left"]), ("rows_right", ["in_right"])]
    assert len(created) == 4, "on one thread the same two tables, one after another"
