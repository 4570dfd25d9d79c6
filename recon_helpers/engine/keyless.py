"""Keyless one-to-one (``amount_date``): what counts as evidence, and why a tie is refused.

Without a shared key, the only evidence a pair has is what the recipe says counts: the amount
(within the tolerance) and the date (inside the window). A recipe states whether a nearer date is
evidence too (``prefer: nearest_date``: a credit 1 day after a settlement beats one 3 days after) or
not (``prefer: none``: any date inside the window is as good). Under ``prefer: none`` a pair links
only when it is part of *every* pairing of the rows that pairs as many as possible: when another
such pairing inside the window would pair them otherwise, the truth is not decidable from the
data and every row involved becomes ``ambiguous``, listing the candidates with their score and the
per-field differences, the rule that refused and why.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon_helpers.engine import windows
from recon_helpers.engine.one_to_one import COST_TIE, one_to_one

PREFERENCES = ("nearest_date", "none")


def candidate_costs(cand: pd.DataFrame, prefer: str) -> pd.DataFrame:
    """The candidate pairs with the cost the preference implies (lower is better): |amount diff| in
    yuan, plus |days apart| when nearer dates are preferred."""
    amount = cand["damount"].astype("float64").abs()
    cost = amount + cand["ddays"].abs().astype("float64") if prefer == "nearest_date" else amount
    return cand.assign(cost=cost)


def decide(cand: pd.DataFrame, prefer: str):
    """one_to_one on the candidate pairs under the recipe's preference."""
    return one_to_one(candidate_costs(cand, prefer)[["left_rid", "right_rid", "cost"]])


def ambiguous_rows(ranked: pd.DataFrame, cand: pd.DataFrame, *, rule: Any,
                   labels: dict[str, pd.Series]) -> pd.DataFrame:
    """One row per (ambiguous row, candidate): side, rid, cside, crid, score, rank and, on each row's
    first candidate (null on the others: the text is the row's, not the candidate's, and repeating
    a few hundred characters per candidate cost hundreds of MB), a ``detail`` that names each
    candidate, its score and its differences, and says why the rule refused.

    ``ranked``: :meth:`BlockResult.ranked_candidates` (side, rid, cside, crid, cost, rank), grouped by
    row, best first; ``labels``: per side, ``file:row`` by rid. The text is :func:`explain`'s, built
    column by column: a month with 30% ambiguous lines has half a million such rows.
    """
    if ranked.empty:
        return pd.DataFrame({"side": [], "rid": [], "cside": [], "crid": [], "score": [], "rank": [],
                             "detail": []}).astype({"rid": "int64", "crid": "Int64", "score": "float64",
                                                    "rank": "int64"})
    side = ranked["side"].to_numpy(dtype=object)
    cside = ranked["cside"].to_numpy(dtype=object)
    rid = ranked["rid"].to_numpy(dtype=np.int64)
    crid = ranked["crid"].to_numpy(dtype=np.int64)
    cost = ranked["cost"].to_numpy(dtype=np.float64)
    is_left = side == "left"
    pairs = pd.DataFrame({"left_rid": np.where(is_left, rid, crid), "right_rid": np.where(is_left, crid, rid)})
    seen = cand[["left_rid", "right_rid", "damount", "ddays"]].drop_duplicates(["left_rid", "right_rid"], keep="last")
    diffs = pairs.merge(seen.astype({"left_rid": np.int64, "right_rid": np.int64}), how="left",
                        on=["left_rid", "right_rid"], sort=False)
    amount = pa.array(diffs["damount"].astype(object).where(diffs["damount"].notna(), "?").map(str).to_numpy(),
                      pa.string())
    sign = pc.if_else(pc.starts_with(amount, "-"), "", "+")
    where = np.empty(len(ranked), dtype=object)
    for name in ("left", "right"):
        mine = cside == name
        got = labels.get(name, pd.Series(dtype=object)).reindex(crid[mine]).to_numpy(dtype=object)
        got[pd.isna(got)] = f"{name} row"
        where[mine] = got
    score = 1.0 / (1.0 + cost)
    piece = pc.binary_join_element_wise(
        pa.array(cside, pa.string()), ":", pa.array(where, pa.string()), " score ", _formatted(score, "{:.2f}"),
        " (amount ", sign, amount, ", ", _formatted(diffs["ddays"].fillna(0).to_numpy().astype(np.int64), "{:+d}"),
        " days)", "")

    start = np.flatnonzero(np.r_[True, (side[1:] != side[:-1]) | (rid[1:] != rid[:-1])])
    count = np.diff(np.r_[start, len(ranked)])
    saw = pc.binary_join(pa.ListArray.from_arrays(pa.array(np.r_[start, len(ranked)], pa.int32()), piece), "; ")
    equal = (np.maximum.reduceat(cost, start) - np.minimum.reduceat(cost, start)) <= COST_TIE
    kind, which = np.unique(count * 2 + equal, return_inverse=True)
    head = pa.array([_refusal(rule, int(k) // 2, bool(k % 2)) for k in kind.tolist()], pa.string()).take(which)
    detail = pc.binary_join_element_wise(head, saw, ". Not linked - choose one", "")
    on_first = np.zeros(len(ranked), dtype=np.int64)
    on_first[start] = np.arange(start.size)
    first = np.zeros(len(ranked), dtype=bool)
    first[start] = True
    detail = detail.take(pa.array(on_first, mask=~first))
    frame = pd.DataFrame({"side": side, "rid": rid, "cside": cside, "crid": crid, "score": score,
                          "rank": ranked["rank"].to_numpy(dtype=np.int64),
                          "detail": pd.arrays.ArrowExtensionArray(detail)})
    return frame.astype({"crid": "Int64"})


def _formatted(values: np.ndarray, spec: str) -> pa.Array:
    """``spec.format(v)`` for every value, formatting each distinct value once (scores and day
    differences take a handful of values across a month)."""
    distinct, which = np.unique(values, return_inverse=True)
    return pa.array([spec.format(v) for v in distinct.tolist()], pa.string()).take(pa.array(which.ravel()))


def _refusal(rule: Any, n: int, equal: bool) -> str:
    """The start of :func:`explain`'s text for a row with ``n`` candidates, up to "Saw: "."""
    window = windows.describe(rule.days)
    if rule.prefer == "none":
        why = ("the recipe says prefer: none, so a nearer date is no evidence and every date "
               f"{window} is as good")
    else:
        why = "their amount and date differences are the same"
    if n == 0:
        head = "no candidate of its own is left, but a pairing of its neighbours is open"
    elif n == 1:
        head = ("its one candidate could equally be paired with another row, and nothing in the recipe's "
                "evidence tells the two pairings apart")
        why = ("the recipe says prefer: none" if rule.prefer == "none"
               else "both pairings are equally good in total")
    elif equal:
        head = f"{n} equally good counterparts"
    else:
        head = (f"{n} candidates whose scores differ, but another complete pairing of these rows "
                "is as good in total (the better candidate may belong to another row)")
        why = "the recipe's evidence cannot tell the pairings apart"
    return (f"rule {rule.name} ({rule.type}, prefer: {rule.prefer}, window {window}) refused to link: "
            f"{head} - {why}. Saw: ")


def explain(side: str, rid: int, cands: list[tuple[str, int, float]], diffs: dict[tuple[int, int], tuple[str, int]],
            *, rule: Any, labels: dict[str, dict[int, str]]) -> str:
    """Why one row was not linked, in words, with what the engine saw (one row at a time: the
    reading of :func:`ambiguous_rows`' text, and what the tests hold it to)."""
    seen = []
    for cside, crid, cost in cands:
        pair = (rid, crid) if side == "left" else (crid, rid)
        amount, days = diffs.get(pair, ("?", 0))
        sign = "+" if not str(amount).startswith("-") else ""
        where = labels.get(cside, {}).get(int(crid), f"{cside} row")
        seen.append(f"{cside}:{where} score {1.0 / (1.0 + cost):.2f} (amount {sign}{amount}, {days:+d} days)")
    costs = [c for _, _, c in cands]
    equal = bool(costs) and max(costs) - min(costs) <= COST_TIE
    return _refusal(rule, len(cands), equal) + "; ".join(seen) + ". Not linked - choose one"
