"""Properties of every match: each row exactly once, totals add up, input order does not matter."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon_helpers.canonical import money
from recon_helpers.engine import match
from recon_helpers.engine.recipe import load_recipe

RECIPE = load_recipe(Path(__file__).parent / "recipes" / "every_rule.yaml")

KEYS = st.sampled_from([None, "", "A1", "a-1", "B2", "C3", "Ｃ３", "D4"])
AMOUNTS = st.sampled_from(["0.00", "10.00", "-10.00", "5.00", "5.01", "15.00", "20.00", "-2.50"])
NAMES = st.sampled_from([None, "华强电子有限公司", "华强电子", "星河贸易", "ACME Ltd"])


def rows(side: str):
    row = st.fixed_dictionaries({
        "txn_id": KEYS, "amount": AMOUNTS, "day": st.integers(1, 4),
        "batch_id": st.sampled_from([None, "B1", "B2"]) if side == "left" else st.just(None),
        "counterparty": NAMES})
    return st.lists(row, min_size=0, max_size=7)


def frame(file: str, records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({
        "source_file": pd.array([file] * len(records), dtype="string[pyarrow]"),
        "source_row": pd.array(range(2, len(records) + 2), dtype="int64[pyarrow]"),
        "txn_id": pd.array([r["txn_id"] for r in records], dtype="string[pyarrow]"),
        "batch_id": pd.array([r["batch_id"] for r in records], dtype="string[pyarrow]"),
        "counterparty": pd.array([r["counterparty"] for r in records], dtype="string[pyarrow]"),
        "amount": money([r["amount"] for r in records]),
        "txn_time": pd.Series(pd.to_datetime([f"2026-10-{r['day']:02d} 09:00" for r in records]),
                              dtype="datetime64[s]").astype("timestamp[s][pyarrow]"),
    })


def placement(res) -> list[tuple[str, str, int]]:
    cols = ["side", "source_file", "source_row"]
    both = pd.concat([res.links[cols], res.exceptions[cols]])
    return sorted((s, f, int(r)) for s, f, r in both.itertuples(index=False))


SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(left=rows("left"), right=rows("right"))
def test_every_row_exactly_once_and_totals_add_up(left, right):
    L, R = frame("l.csv", left), frame("r.csv", right)
    res = match(L, R, RECIPE)
    expected = sorted([("left", "l.csv", i + 2) for i in range(len(L))] + [("right", "r.csv", i + 2) for i in range(len(R))])
    assert placement(res) == expected
    for side, table in (("left", L), ("right", R)):
        s = res.summary.sides[side]
        total = sum((Decimal(str(a)) for a in table["amount"]), Decimal("0.00"))
        assert s.total == total == s.matched_total + s.unmatched_total
        assert s.rows == len(table) == s.matched_rows + s.unmatched_rows
    # a link group always has rows from both sides
    for _, group in res.links.groupby("group_id"):
        assert set(group["side"]) == {"left", "right"}
    # ambiguity is never a link
    assert "ambiguous" not in set(res.links["status"])


@SETTINGS
@given(left=rows("left"), right=rows("right"), seed=st.integers(0, 2**16))
def test_shuffled_input_gives_the_same_links_and_exceptions(left, right, seed):
    L, R = frame("l.csv", left), frame("r.csv", right)
    first = match(L, R, RECIPE)
    second = match(L.sample(frac=1, random_state=seed), R.sample(frac=1, random_state=seed + 1), RECIPE)
    pd.testing.assert_frame_equal(first.links.reset_index(drop=True), second.links.reset_index(drop=True))
    pd.testing.assert_frame_equal(first.exceptions.reset_index(drop=True), second.exceptions.reset_index(drop=True))


def test_totals_stay_exact_where_a_sum_of_fen_passes_64_bits():
    """Amounts near the largest the store holds (DECIMAL(18,2)): 2,000 of them sum past int64 in fen,
    and the every-row check and the summary still add them exactly."""
    big = ["9999999999999999.99", "-9999999999999999.98", "9999999999999999.97", "12.34"] * 500
    left = [{"txn_id": f"K{i}", "amount": a, "day": 1, "batch_id": None, "counterparty": None} for i, a in enumerate(big)]
    right = [dict(r, txn_id=f"K{i}" if i % 3 else f"X{i}") for i, r in enumerate(left)]
    L, R = frame("l.csv", left), frame("r.csv", right)
    res = match(L, R, RECIPE)
    for side in ("left", "right"):
        s = res.summary.sides[side]
        assert s.total == sum((Decimal(a) for a in big), Decimal("0.00")) == s.matched_total + s.unmatched_total
    unmatched = sum((Decimal(a) for i, a in enumerate(big) if i % 3 == 0), Decimal("0.00"))
    assert res.summary.sides["left"].unmatched_total == unmatched
    assert sum(Decimal(a) for a in big if not a.startswith("-")) * 100 > 2 ** 63, "the sum in fen must pass int64"
