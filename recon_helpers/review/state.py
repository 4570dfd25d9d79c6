"""Where the queue stands after the journal: each item's status, and which decisions applied or went stale.

The journal is replayed in the order it was written. A decision applies only when every row it names is
still in the queue with the same fingerprint; otherwise it is *stale* - its rows changed or vanished since
(a new download, a corrected rate card) - and it is listed for a person to look at, never applied in part
and never silently. An undone decision is skipped; an undo names the decision it takes back.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from recon_helpers.review.journal import RESOLVING

#: statuses an item can have; "open" and "waiting" still count as open items
STATUSES = ("open", "waiting", "resolved")
_STATE_COLUMNS = ("status", "resolution", "reason_code", "assignee", "notes", "decided_by", "decision_ids")
RESOLUTION = {"accept": "accepted", "match": "matched", "write_off": "written off", "adjust": "adjusted",
              "split": "split"}


@dataclass
class ReviewState:
    """Items with status columns, plus the applied and stale decisions (journal rows)."""

    items: pd.DataFrame
    applied: pd.DataFrame
    stale: pd.DataFrame
    undone: set[str] = field(default_factory=set)

    @property
    def open_items(self) -> pd.DataFrame:
        return self.items[self.items["status"] != "resolved"]

    @property
    def resolved_items(self) -> pd.DataFrame:
        return self.items[self.items["status"] == "resolved"]


def split_parts(row: dict, detail: Any) -> list[dict]:
    """The parts a split decision makes of ``row``: same side, key and source, the amounts it names."""
    amounts = json.loads(detail).get("parts", []) if isinstance(detail, str) and detail else []
    base = {k: v for k, v in row.items() if k not in _STATE_COLUMNS}
    return [{**base, "fingerprint": f"{row['fingerprint']}/{n}", "amount": Decimal(a), "candidates": [],
             "detail": f"part {n} of {len(amounts)} of {row['key']} {row['amount']}"}
            for n, a in enumerate(amounts, start=1)]


def replay(items: pd.DataFrame, decisions: pd.DataFrame, rows: pd.DataFrame) -> ReviewState:
    """Apply the journal (``decisions`` + their ``rows``) to ``items`` (see the module docstring)."""
    base = items.drop(columns=[c for c in _STATE_COLUMNS if c in items.columns]).reset_index(drop=True)
    extra: list[dict] = []  # parts of split rows, appended after the items as they appear
    position = {fp: i for i, fp in enumerate(base["fingerprint"])}
    state = [{"status": "open", "resolution": "", "reason_code": "", "assignee": "", "notes": "", "decided_by": "",
              "decision_ids": []} for _ in range(len(base))]
    undone = {t for a, t in zip(decisions["action"], decisions["target"]) if a == "undo" and isinstance(t, str)}
    rows_of: dict[str, list] = {}
    for d_id, fp in zip(rows["decision_id"], rows["fingerprint"]):
        rows_of.setdefault(d_id, []).append(fp)
    applied, stale, why = [], [], []
    for d in decisions.itertuples(index=False):
        if d.action in ("undo", "close", "reopen") or d.decision_id in undone:
            continue
        fps = rows_of.get(d.decision_id, [])
        missing = [fp for fp in fps if fp not in position]
        if missing or not fps:
            stale.append(d._asdict())
            why.append(f"{len(missing)} of {len(fps)} rows changed or are no longer exceptions")
            continue
        where = [position[fp] for fp in fps]
        if d.action in RESOLVING and any(state[i]["status"] == "resolved" for i in where):
            stale.append(d._asdict())
            why.append("some rows were already settled by an earlier decision")
            continue
        note = d.note if isinstance(d.note, str) else ""
        for i in where:
            _apply(state[i], d, note)
        if d.action == "split":
            i = where[0]
            row = base.iloc[i].to_dict() if i < len(base) else extra[i - len(base)]
            for part in split_parts(row, d.detail):
                position[part["fingerprint"]] = len(base) + len(extra)
                extra.append(part)
                state.append({**state[where[0]], "status": "open", "resolution": "", "reason_code": "", "decided_by": "",
                              "decision_ids": []})
        applied.append(d._asdict())
    out = pd.concat([base, pd.DataFrame(extra, columns=list(base.columns))], ignore_index=True) if extra else base
    for column in _STATE_COLUMNS:
        out[column] = [s[column] for s in state]
    stale_frame = pd.DataFrame(stale, columns=list(decisions.columns))
    stale_frame["why_stale"] = why
    return ReviewState(items=out, applied=pd.DataFrame(applied, columns=list(decisions.columns)),
                       stale=stale_frame, undone=undone)


def _apply(item: dict, d: Any, note: str) -> None:
    """One decision's effect on one item's state."""
    item["decision_ids"] = [*item["decision_ids"], d.decision_id]
    if d.action in RESOLVING:
        item.update(status="resolved", resolution=RESOLUTION[d.action], reason_code=d.reason_code or "", decided_by=d.actor)
    elif d.action == "wait" and item["status"] != "resolved":
        item["status"] = "waiting"
    elif d.action == "assign":
        item["assignee"] = d.target or ""
    if note:
        item["notes"] = (item["notes"] + " | " if item["notes"] else "") + f"{d.actor}: {note}"
