"""The same recipes on Spark (local[2]) and on DuckDB give the same links, exceptions and summary.

Every built-in recipe runs on the demo month on both engines; the tables are compared whole, sorted,
cell by cell as text (money as its decimal text), and the summaries as their JSON form.
"""
from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from recon_helpers.engine import match, prepare_tables
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.testing import canonical_frame


def _ids_test_module():
    """The ids test names the demo files of every built-in recipe: one list, so a recipe added there
    is tried on Spark too."""
    path = Path(__file__).parents[1] / "test_ids_on_demo.py"
    spec = importlib.util.spec_from_file_location("_ids_on_demo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DEMO = _ids_test_module()


def _inputs(demo_dir, name):
    left_files, right_files, third_files = DEMO.INPUTS[name]
    if name == "courier_bill":
        left, right = DEMO._priced_shipments(demo_dir)
        third = None
    else:
        left, right, third = (DEMO._table(demo_dir, f) for f in (left_files, right_files, third_files))
    return prepare_tables(name, left, right, third)


@pytest.mark.parametrize("name", sorted(DEMO.INPUTS))
def test_every_built_in_recipe_gives_the_same_result_on_spark(spark, same_result, demo_dir, name):
    left, right, third = _inputs(demo_dir, name)
    duck = match(left, right, name, third=third)
    on_spark = match(left, right, name, third=third, engine="spark", spark=spark)
    assert len(duck.links) + len(duck.exceptions) == sum(len(t) for t in (left, right, third) if t is not None)
    same_result(duck, on_spark)


def test_parquet_outputs_have_the_same_schema_and_rows(spark, demo_dir, tmp_path):
    left, right, third = _inputs(demo_dir, "ledger")
    duck = match(left, right, "ledger").write(tmp_path / "duckdb", format="parquet")
    on_spark = match(left, right, "ledger", engine="spark", spark=spark).write(tmp_path / "spark", format="parquet")
    for name in ("links", "exceptions"):
        a, b = pq.read_table(duck[name]), pq.read_table(on_spark[name])
        assert a.schema.names == b.schema.names
        assert [str(t) for t in a.schema.types] == [str(t) for t in b.schema.types], name
        assert a.num_rows == b.num_rows > 0
        assert a.to_pandas().astype(str).equals(b.to_pandas().astype(str)), name  # same rows, same order
    assert duck["summary"].read_text(encoding="utf-8") == on_spark["summary"].read_text(encoding="utf-8")


SAME_AMOUNT = recipe_from_dict({
    "name": "same_amount", "left": {"kind": "settlement", "label": "payouts"},
    "right": {"kind": "bank_txn", "label": "bank"},
    "key": "txn_id", "amount": "amount", "date": "txn_time",
    "rules": [{"name": "one", "type": "amount_date", "days": 2}]})


def test_two_bank_credits_of_the_same_amount_are_refused_on_both_engines(spark, same_result):
    payouts = canonical_frame("payouts.csv", txn_id=["P1"], amount=["500.00"], txn_time=["2026-10-05 09:00"])
    bank = canonical_frame("bank.csv", txn_id=["B1", "B2"], amount=["500.00", "500.00"],
                           txn_time=["2026-10-05 10:00", "2026-10-05 11:00"])
    for engine in ("duckdb", "spark"):
        res = match(payouts, bank, SAME_AMOUNT, engine=engine, spark=spark if engine == "spark" else None)
        assert res.links.empty, engine
        assert set(res.exceptions["category"]) == {"ambiguous"}, engine
        assert len(res.exceptions) == 3 and res.summary.matched_rows == 0, engine
    duck = match(payouts, bank, SAME_AMOUNT)
    same_result(duck, match(payouts, bank, SAME_AMOUNT, engine="spark", spark=spark))


def test_spark_dataframe_and_parquet_inputs_match_like_loaded_tables(spark, same_result, tmp_path):
    payouts = canonical_frame("payouts.csv", txn_id=["P1", "P2", "P3"], amount=["500.00", "12.30", "7.00"],
                              txn_time=["2026-10-05 09:00", "2026-10-06 09:00", "2026-10-07 09:00"])
    bank = canonical_frame("bank.csv", txn_id=["X1", "X2"], amount=["12.30", "500.00"],
                           txn_time=["2026-10-06 12:00", "2026-10-05 10:00"])
    duck = match(payouts, bank, SAME_AMOUNT)
    payouts.to_parquet(tmp_path / "payouts.parquet")
    frame = spark.createDataFrame(bank)
    lake = match(str(tmp_path / "payouts.parquet"), frame, SAME_AMOUNT, engine="spark", spark=spark)
    same_result(duck, lake)
    assert lake.summary.sides["left"].total == Decimal("519.30") and lake.summary.matched_rows == 4
