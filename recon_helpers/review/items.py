"""The review queue's rows: a check's exceptions, each with its fingerprint, date, counterparty and candidates.

Built only from the public surface every scenario shares - ``check.result.exceptions`` (side,
source_file, source_row, key, amount, category, detail, candidates, group_id, rule) and the loaded
inputs ``check.inputs`` - so a new scenario gets review for free.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pandas as pd

from recon_helpers.review.fingerprint import item_fingerprint, relative_file, row_facts

ITEM_COLUMNS = ["fingerprint", "side", "category", "label", "key", "amount", "date", "age_days", "counterparty",
                "descriptor", "detail", "rule", "group_id", "source_file", "source_row", "candidates", "opened_in"]
#: one engine candidate: ``right:/data/courier/sf_bill.xlsx:15 (1.0)``
_CANDIDATE = re.compile(r"^\s*(?P<side>[a-z_]+):(?P<file>.+):(?P<row>\d+)\s*\((?P<score>[-+0-9.eE]+)\)\s*$")


def parse_candidates(text: Any) -> list[dict[str, Any]]:
    """The engine's candidate list as ``side, source_file, source_row, score`` records (best first)."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return []
    found = []
    for part in str(text).split(";"):
        m = _CANDIDATE.match(part)
        if m:
            found.append({"side": m["side"], "source_file": m["file"], "source_row": int(m["row"]),
                          "score": float(m["score"])})
    return found


def exception_items(check: Any) -> pd.DataFrame:
    """One row per exception of ``check`` (out-of-scope rows excluded): the queue before any decision."""
    exc = _check_exceptions(check)
    exc = exc[(exc["category"].astype("string") != "out_of_scope").fillna(True).to_numpy(dtype=bool)]
    data_dir = check.data_dir
    tables = [loaded.table for loaded in check.inputs.values()]
    facts = pd.concat([row_facts(t, data_dir) for t in tables] or [row_facts(pd.DataFrame(), data_dir)], ignore_index=True)
    facts = facts.drop_duplicates(["source_file", "source_row"]).astype({"source_file": "object", "source_row": "int64"})
    frame = pd.DataFrame({
        "side": exc["side"].astype("object").to_numpy(), "source_file_abs": exc["source_file"].astype("object").to_numpy(),
        "source_row": exc["source_row"].astype("int64").to_numpy(), "key": exc["key"].astype("object").to_numpy(),
        "amount": [Decimal(str(a)) if pd.notna(a) else Decimal("0.00") for a in exc["amount"]],
        "category": exc["category"].astype("object").to_numpy(), "detail": exc["detail"].astype("object").to_numpy(),
        "rule": exc["rule"].astype("object").to_numpy(), "group_id": exc["group_id"].astype("object").to_numpy(),
        "candidates": [parse_candidates(c) for c in exc["candidates"]]})
    frame = frame.merge(facts.rename(columns={"source_file": "source_file_abs"}), on=["source_file_abs", "source_row"],
                        how="left")
    named = {f: relative_file(f, data_dir) for f in frame["source_file_abs"].unique()}
    frame["source_file"] = frame["source_file_abs"].map(named)
    frame["row_fp"] = _fallback_fingerprints(frame)
    frame["fingerprint"] = [item_fingerprint(s, r, a) for s, r, a in zip(frame["side"], frame["row_fp"], frame["amount"])]
    frame["descriptor"] = [d if isinstance(d, str) and d else (str(k) if k is not None and pd.notna(k) else "")
                           for d, k in zip(frame["descriptor"], frame["key"])]
    frame["counterparty"] = frame["counterparty"].fillna("")
    frame["date"] = frame["date"].astype("object").where(frame["date"].notna(), None)
    last_day = check.period.last_day
    frame["age_days"] = [(last_day - d).days if d is not None else None for d in frame["date"]]
    labels = check.labels
    frame["label"] = [labels.get(c, c) for c in frame["category"]]
    frame["opened_in"] = str(check.period)
    by_place = dict(zip(zip(frame["source_file_abs"], frame["source_row"]), frame["fingerprint"]))
    frame["candidates"] = [[{**c, "fingerprint": by_place.get((c["source_file"], c["source_row"]))} for c in cands]
                           for cands in frame["candidates"]]
    return frame[[*ITEM_COLUMNS, "source_file_abs"]]


_PLACE = ["side", "source_file", "source_row"]


def _check_exceptions(check: Any) -> pd.DataFrame:
    """The match's exceptions as the check words them: a scenario that only re-categorises the match's
    rows (courier_bill: a return billed as an outbound, a charge after cancellation, a timing difference)
    shows its own categories in the queue; one that adds or merges rows keeps the match's."""
    raw = check.result.exceptions
    own = getattr(check, "exception_table", raw)
    if own is raw or not isinstance(own, pd.DataFrame) or len(own) != len(raw) \
            or not set(raw.columns) <= set(own.columns):
        return raw
    def places(frame: pd.DataFrame) -> list[tuple]:
        return sorted(frame[_PLACE].astype("string").fillna("").itertuples(index=False, name=None))
    return own[list(raw.columns)] if places(own) == places(raw) else raw


def _fallback_fingerprints(frame: pd.DataFrame) -> list[str]:
    """Rows the inputs do not hold (a prepared or summed row) are known by their file, key and amount."""
    out, seen = [], {}
    for fp, f, k, a in zip(frame["row_fp"], frame["source_file"], frame["key"], frame["amount"]):
        if isinstance(fp, str):
            out.append(fp)
            continue
        own = (f, str(k), str(a))
        seen[own] = seen.get(own, -1) + 1
        out.append("|".join(own) + f"#{seen[own]}")
    return out
