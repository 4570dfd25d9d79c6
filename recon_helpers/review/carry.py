"""Carry-forward: what a period close left open becomes the next period's opening items, with its history."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from recon_helpers.cycles import Cycle
from recon_helpers.review.workspace import Workspace

SNAPSHOT_COLUMNS = ["fingerprint", "side", "source_file", "source_row", "key", "amount", "category", "detail",
                    "descriptor", "status", "assignee", "history", "opened_in"]


def last_period_action(workspace: Workspace, *, period: str, scenario: str, run: str) -> pd.DataFrame:
    """The latest close or reopen of one period/scenario/run (empty when never closed)."""
    return workspace.query(
        "SELECT decision_id, action, actor, recorded_at, note FROM decisions WHERE period = ? AND scenario = ? "
        "AND run = ? AND action IN ('close', 'reopen') ORDER BY seq DESC LIMIT 1", [period, scenario, run],
        columns=["decision_id", "action", "actor", "recorded_at", "note"])


def is_closed(workspace: Workspace, *, period: str, scenario: str, run: str) -> bool:
    last = last_period_action(workspace, period=period, scenario=scenario, run=run)
    return bool(len(last)) and last["action"].iloc[0] == "close"


def opening_items(workspace: Workspace, *, period: str, scenario: str, run: str) -> pd.DataFrame:
    """Open items of the previous period's close (when that period is closed), as queue rows; a day
    carries from the day before, a week from the week before, a month from the month before."""
    previous = str(Cycle.parse(period).previous())
    last = last_period_action(workspace, period=previous, scenario=scenario, run=run)
    if not len(last) or last["action"].iloc[0] != "close":
        return pd.DataFrame(columns=SNAPSHOT_COLUMNS)
    frame = workspace.query(f"SELECT {', '.join(SNAPSHOT_COLUMNS)} FROM period_items WHERE close_id = ? "
                            "ORDER BY opened_in, category, key, fingerprint", [last["decision_id"].iloc[0]],
                            columns=SNAPSHOT_COLUMNS)
    frame["amount"] = [Decimal(str(a)).quantize(Decimal("0.01")) for a in frame["amount"]]
    return frame
