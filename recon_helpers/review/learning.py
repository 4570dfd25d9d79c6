"""Remembered matches: what people matched by hand before is offered again, ranked, never applied alone.

When someone matches a bank credit from payer ``王小明`` with order ``T200P123`` by hand, the journal
already holds both rows' *descriptors* (a payer name or memo, a customer or order reference; see
:data:`~recon_helpers.review.fingerprint.DESCRIPTOR_FIELDS`). On a later run, an open row with the same
descriptor gets the open rows on the other side whose descriptor was paired with it as suggestions,
ranked by how often the pair was matched, each with its reason: "matched 3 times before by 王会计".
Accepting a suggestion is an ordinary manual match by the person who accepts it.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pandas as pd

SUGGESTION_COLUMNS = ["fingerprint", "side", "key", "amount", "descriptor", "times", "reason"]
_SPACE = re.compile(r"\s+")


def normalise(text: Any) -> str:
    """Descriptor as compared: case-folded, without whitespace (全角 spaces included)."""
    return _SPACE.sub("", str(text or "")).casefold()


def remembered_pairs(workspace: Any, *, scenario: str) -> pd.DataFrame:
    """``left, other, times, actors, last_period``: descriptor pairs of manual matches still in force."""
    frame = workspace.query(
        "SELECT d.decision_id, d.actor, d.period, r.side, r.descriptor FROM decisions d "
        "JOIN decision_rows r USING (decision_id) WHERE d.scenario = ? AND d.action IN ('match', 'accept') "
        "AND d.decision_id NOT IN (SELECT target FROM decisions WHERE action = 'undo' AND target IS NOT NULL) "
        "ORDER BY d.seq", [scenario], columns=["decision_id", "actor", "period", "side", "descriptor"])
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for decision_id, rows in frame.groupby("decision_id", sort=False):
        lefts = {normalise(d) for s, d in zip(rows["side"], rows["descriptor"]) if s == "left" and normalise(d)}
        others = {normalise(d) for s, d in zip(rows["side"], rows["descriptor"]) if s != "left" and normalise(d)}
        for pair in ((a, b) for a in lefts for b in others):
            entry = pairs.setdefault(pair, {"times": 0, "actors": Counter(), "last_period": ""})
            entry["times"] += 1
            entry["actors"][rows["actor"].iloc[0]] += 1
            entry["last_period"] = max(entry["last_period"], rows["period"].iloc[0])
    return pd.DataFrame([{"left": a, "other": b, "times": e["times"], "actors": [n for n, _ in e["actors"].most_common()],
                          "last_period": e["last_period"]} for (a, b), e in pairs.items()],
                        columns=["left", "other", "times", "actors", "last_period"])


def _reason(times: int, actors: list[str]) -> str:
    who = "、".join(actors[:3])
    return f"matched {times} time{'s' if times != 1 else ''} before by {who} (已手工匹配 {times} 次)"


def suggest(session: Any, fingerprint: str, *, pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Open rows on the other side(s) remembered as matching this row, best first, with the reason."""
    item = session.item(fingerprint)
    mine = normalise(item["descriptor"])
    if pairs is None:
        pairs = remembered_pairs(session.workspace, scenario=session.scenario)
    if not mine or not len(pairs):
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    if item["side"] == "left":
        known = pairs[pairs["left"] == mine].rename(columns={"other": "partner"})
        wanted = session.items["side"] != "left"
    else:
        known = pairs[pairs["other"] == mine].rename(columns={"left": "partner"})
        wanted = session.items["side"] == "left"
    if not len(known):
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    pool = session.items[wanted & (session.items["status"] != "resolved")]
    pool = pool.assign(partner=pool["descriptor"].map(normalise))
    found = pool.merge(known[["partner", "times", "actors"]], on="partner")
    if not len(found):
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    found["gap"] = [abs(a - item["amount"]) for a in found["amount"]]
    found["reason"] = [_reason(t, a) for t, a in zip(found["times"], found["actors"])]
    found = found.sort_values(["times", "gap", "key"], ascending=[False, True, True], kind="stable")
    return found[SUGGESTION_COLUMNS].reset_index(drop=True)
