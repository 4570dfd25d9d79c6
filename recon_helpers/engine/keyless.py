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

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon_helpers.engine import windows
from recon_helpers.engine.one_to_one import COST_TIE, one_to_one

if TYPE_CHECKING:
    import pandas as pd

PREFERENCES = ("nearest_date", "none")


def candidate_costs(cand: pd.DataFrame, prefer: str) -> pd.DataFrame:
    """The candidate pairs with the cost the preference implies (lower is better): |amount diff| in
    yuan (from ``dfen``, the exact difference in fen), plus |days apart| when nearer dates are preferred."""
    amount = np.abs(cand["dfen"].to_numpy(dtype=np.int64)) / 100.0  # the float nearest the exact yuan
    cost = amount + cand["ddays"].abs().to_numpy(dtype=np.float64) if prefer == "nearest_date" else amount
    return cand.assign(cost=cost)


def decide(cand: pd.DataFrame, prefer: str):
    """one_to_one on the candidate pairs under the recipe's preference."""
    return one_to_one(candidate_costs(cand, prefer)[["left_rid", "right_rid", "cost"]])


def explanation_lines(ranked: pd.DataFrame, cand: pd.DataFrame, *, rule: Any
                      ) -> tuple[pa.Table, list[str], list[str]]:
    """Everything of :func:`explain`'s text for every ambiguous row at once but the candidates'
    ``file:row``, which the store adds in SQL when it joins a row's candidates into one text
    (:meth:`~recon_helpers.engine.store_keyless.KeylessSql.keyless_detail_sql`).

    Why so: a month with 30% ambiguous lines has half a million such rows with a few hundred
    characters each. Each candidate's "score 0.50 (amount +0.00, +1 days)" takes a handful of
    distinct values across a month, so each distinct one is formatted once here, exactly as
    :func:`explain` does; so is each refusal (it depends on the number of candidates and whether
    they tie). Lines carry only the numbers of their pieces: the texts themselves are only ever
    built in the store, and only when the exceptions are read or written.

    ``ranked``: :meth:`BlockResult.ranked_candidates` of ``cand`` (side, rid, cside, crid, cost, rank,
    edge), grouped by row, best first; ``cand``: the candidate pairs (left_rid, right_rid, ddays,
    dfen) given to :func:`decide`. Returns one line per (row, candidate) - side, rid, cside, crid,
    score, rank, tail (index into ``tails``: the text after the candidate's ``file:row``), head
    (index into ``heads``: the refusal before the candidates) - and ``heads`` and ``tails``.
    """
    import pandas as pd

    is_left = (ranked["side"] == "left").to_numpy(dtype=bool)
    other_left = (ranked["cside"] == "left").to_numpy(dtype=bool)
    rid = ranked["rid"].to_numpy(dtype=np.int64)
    crid = ranked["crid"].to_numpy(dtype=np.int64)
    cost = ranked["cost"].to_numpy(dtype=np.float64)
    score = 1.0 / (1.0 + cost)
    start = np.flatnonzero(np.r_[True, (is_left[1:] != is_left[:-1]) | (rid[1:] != rid[:-1])])
    count = np.diff(np.r_[start, len(ranked)])
    equal = (np.maximum.reduceat(cost, start) - np.minimum.reduceat(cost, start)) <= COST_TIE
    which, kind = pd.factorize(count * 2 + equal)
    heads = [_refusal(rule, int(k) // 2, bool(k % 2)) for k in kind.tolist()]
    edge = ranked["edge"].to_numpy(dtype=np.int64)  # the candidate pair's row in ``cand``
    fen = cand["dfen"].to_numpy(dtype=np.int64)[edge]
    days = cand["ddays"].to_numpy(dtype=np.int64)[edge]
    tail, tails = _tails(score, fen, days)
    lines = pa.table({
        "side": pc.if_else(pa.array(is_left), "left", "right"), "rid": rid,
        "cside": pc.if_else(pa.array(other_left), "left", "right"), "crid": crid, "score": score,
        "rank": ranked["rank"].to_numpy(dtype=np.int64), "tail": tail,
        "head": np.repeat(which, count).astype(np.int64)})
    return lines, heads, tails


def _tails(score: np.ndarray, fen: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(per line an index into the texts, the texts): " score S (amount +A, +D days)" of each line,
    as :func:`explain` words it; each distinct (score, amount, days) formatted once (found by
    hashing, not sorting: a million lines)."""
    import pandas as pd

    codes = [pd.factorize(v) for v in (score, fen, days)]
    sizes = [c[1].size for c in codes]
    combined, distinct = pd.factorize((codes[0][0] * sizes[1] + codes[1][0]) * sizes[2] + codes[2][0])
    texts = []
    for c in distinct.tolist():
        rest, d = divmod(c, sizes[2])
        s, a = divmod(rest, sizes[1])
        amount = _yuan(int(codes[1][1][a]))
        sign = "+" if not amount.startswith("-") else ""
        texts.append(f" score {float(codes[0][1][s]):.2f} (amount {sign}{amount}, {int(codes[2][1][d]):+d} days)")
    return combined.astype(np.int64), texts


def _yuan(fen: int) -> str:
    """An exact amount in fen as the store writes a DECIMAL(38,2) as text: -0.75, 12.00."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


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
    reading of the text :func:`explanation_lines` and the store build for all rows, and what the
    tests hold it to)."""
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
