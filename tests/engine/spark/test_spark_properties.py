"""Random small tables give the same result on Spark and on DuckDB, whatever the rules decide."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon_helpers.canonical import money
from recon_helpers.engine import match
from recon_helpers.engine.recipe import load_recipe

RECIPE = load_recipe(Path(__file__).parents[1] / "recipes" / "every_rule.yaml")

ROW = st.fixed_dictionaries({
    "txn_id": st.sampled_from([None, "", "A1", "a-1", "B2", "Ｃ３", "C3"]),
    "amount": st.sampled_from(["10.00", "-10.00", "5.00", "5.01", "15.00", "20.00"]),
    "day": st.integers(1, 4), "batch_id": st.sampled_from([None, "B1", "B2"]),
    "counterparty": st.sampled_from([None, "华强电子有限公司", "华强电子", "ACME Ltd"])})


def frame(file: str, records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({
        "source_file": pd.array([file] * len(records), dtype="string[pyarrow]"),
        "source_row": pd.array(range(2, len(records) + 2), dtype="int64[pyarrow]"),
        **{c: pd.array([r[c] for r in records], dtype="string[pyarrow]") for c in ("txn_id", "batch_id", "counterparty")},
        "amount": money([r["amount"] for r in records]),
        "txn_time": pd.Series(pd.to_datetime([f"2026-10-{r['day']:02d} 09:00" for r in records]),
                              dtype="datetime64[s]").astype("timestamp[s][pyarrow]"),
    })


# few examples: each Spark match runs about a hundred small jobs
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(left=st.lists(ROW, min_size=1, max_size=6), right=st.lists(ROW, min_size=1, max_size=6))
def test_random_tables_agree_on_both_engines(spark, same_result, left, right):
    lt, rt = frame("l.csv", left), frame("r.csv", right.copy())
    rt["batch_id"] = pd.array([None] * len(rt), dtype="string[pyarrow]")
    same_result(match(lt, rt, RECIPE), match(lt, rt, RECIPE, engine="spark", spark=spark))
