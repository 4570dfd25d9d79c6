"""Where the queue stands after the journal: each item's status, and which decisions applied or went stale.

The journal is replayed in the order it was written. A decision applies only when every row it names is
still in the queue with the same fingerprint; otherwise it is *stale* - its rows changed or vanished since
(a new download, a corrected rate card) - and it is listed for a person to look at, never applied in part
and never silently. An undone decision is skipped; an undo names the decision it takes back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from recon_helpers.review.journal import RESOLVING

#: statuses an item can have; "open" and "waiting" still count as open items
STATUSES = ("open", "waiting", "resolved")
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


def replay(items: pd.DataFrame, decisions: pd.DataFrame, rows: pd.DataFrame) -> ReviewState:
    """Apply the journal (``decisions`` + their ``rows``) to ``items`` (see the module docstring)."""
    items = items.copy()
    n = len(items)
    items["status"] = ["open"] * n
    items["resolution"] = [""] * n
    items["reason_code"] = [""] * n
    items["assignee"] = [""] * n
    items["notes"] = [""] * n
    items["decided_by"] = [""] * n
    items["decision_ids"] = [[] for _ in range(n)]
    position = {fp: i for i, fp in enumerate(items["fingerprint"])}
    undone = {t for a, t in zip(decisions["action"], decisions["target"]) if a == "undo" and isinstance(t, str)}
    rows_of: dict[str, list] = {}
    for d_id, fp in zip(rows["decision_id"], rows["fingerprint"]):
        rows_of.setdefault(d_id, []).append(fp)
    applied, stale, why = [], [], []
    status = items["status"].to_list()
    cols = {c: items[c].to_list() for c in ("resolution", "reason_code", "assignee", "notes", "decided_by", "decision_ids")}
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
        if d.action in RESOLVING and any(status[i] == "resolved" for i in where):
            stale.append(d._asdict())
            why.append("some rows were already settled by an earlier decision")
            continue
        for i in where:
            cols["decision_ids"][i] = [*cols["decision_ids"][i], d.decision_id]
            note = d.note if isinstance(d.note, str) else ""
            if d.action in RESOLVING:
                status[i] = "resolved"
                cols["resolution"][i] = RESOLUTION[d.action]
                cols["reason_code"][i] = d.reason_code or ""
                cols["decided_by"][i] = d.actor
            elif d.action == "wait" and status[i] != "resolved":
                status[i] = "waiting"
            elif d.action == "assign":
                cols["assignee"][i] = d.target or ""
            if note:
                cols["notes"][i] = (cols["notes"][i] + " | " if cols["notes"][i] else "") + f"{d.actor}: {note}"
        applied.append(d._asdict())
    items["status"] = status
    for c, values in cols.items():
        items[c] = values
    stale_frame = pd.DataFrame(stale, columns=list(decisions.columns))
    stale_frame["why_stale"] = why
    return ReviewState(items=items, applied=pd.DataFrame(applied, columns=list(decisions.columns)),
                       stale=stale_frame, undone=undone)
