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

import pandas as pd

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


def ambiguous_rows(ambiguous: dict[tuple[str, int], list[tuple[str, int, float]]], cand: pd.DataFrame, *,
                   rule: Any, labels: dict[str, dict[int, str]]) -> pd.DataFrame:
    """One row per (ambiguous row, candidate): side, rid, cside, crid, score, rank and a ``detail``
    that names each candidate, its score and its differences, and says why the rule refused."""
    diffs = {(int(a), int(b)): (str(m), int(d)) for a, b, m, d in
             cand[["left_rid", "right_rid", "damount", "ddays"]].itertuples(index=False)}
    rows = []
    for (side, rid), cands in ambiguous.items():
        detail = explain(side, rid, cands, diffs, rule=rule, labels=labels)
        if not cands:
            rows.append((side, int(rid), None, None, None, 0, detail))
        rows += [(side, int(rid), cside, int(crid), 1.0 / (1.0 + cost), i, detail)
                 for i, (cside, crid, cost) in enumerate(cands)]
    frame = pd.DataFrame(rows, columns=["side", "rid", "cside", "crid", "score", "rank", "detail"])
    return frame.astype({"rid": "int64", "crid": "Int64", "score": "float64", "rank": "int64"})


def explain(side: str, rid: int, cands: list[tuple[str, int, float]], diffs: dict[tuple[int, int], tuple[str, int]],
            *, rule: Any, labels: dict[str, dict[int, str]]) -> str:
    """Why one row was not linked, in words, with what the engine saw."""
    window = windows.describe(rule.days)
    seen = []
    for cside, crid, cost in cands:
        pair = (rid, crid) if side == "left" else (crid, rid)
        amount, days = diffs.get(pair, ("?", 0))
        sign = "+" if not str(amount).startswith("-") else ""
        where = labels.get(cside, {}).get(int(crid), f"{cside} row")
        seen.append(f"{cside}:{where} score {1.0 / (1.0 + cost):.2f} (amount {sign}{amount}, {days:+d} days)")
    costs = [c for _, _, c in cands]
    equal = bool(costs) and max(costs) - min(costs) <= COST_TIE
    if rule.prefer == "none":
        why = ("the recipe says prefer: none, so a nearer date is no evidence and every date "
               f"{window} is as good")
    else:
        why = "their amount and date differences are the same"
    if not cands:
        head = "no candidate of its own is left, but a pairing of its neighbours is open"
    elif len(cands) == 1:
        head = ("its one candidate could equally be paired with another row, and nothing in the recipe's "
                "evidence tells the two pairings apart")
        why = ("the recipe says prefer: none" if rule.prefer == "none"
               else "both pairings are equally good in total")
    elif equal:
        head = f"{len(cands)} equally good counterparts"
    else:
        head = (f"{len(cands)} candidates whose scores differ, but another complete pairing of these rows "
                "is as good in total (the better candidate may belong to another row)")
        why = "the recipe's evidence cannot tell the pairings apart"
    return (f"rule {rule.name} ({rule.type}, prefer: {rule.prefer}, window {window}) refused to link: "
            f"{head} - {why}. Saw: " + "; ".join(seen) + ". Not linked - choose one")
