"""The history of a period's runs: which findings were fixed since the last run, which are new.

Every :meth:`LedgerCheck.write` appends the run's findings (category, key, amount) to ``history.json``
in the run folder; a re-check after corrections is compared with the run before it.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from recon_helpers import export

HISTORY_FILE = "history.json"


def read_history(folder: str | Path) -> list[dict[str, Any]]:
    path = Path(folder) / HISTORY_FILE
    return json.loads(path.read_text(encoding="utf-8"))["runs"] if path.is_file() else []


def append_run(folder: str | Path, findings: pd.DataFrame, *, recorded_at: str | None = None) -> Path:
    """Add this run (findings: ``category, key, amount``) to the folder's history."""
    runs = read_history(folder)
    stamp = recorded_at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    runs.append({"run": len(runs) + 1, "recorded_at": stamp,
                 "findings": [{"category": str(r.category), "key": str(r.key), "amount": str(r.amount)}
                              for r in findings.itertuples(index=False)]})
    path = Path(folder) / HISTORY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    export.write_text(path, json.dumps({"runs": runs}, ensure_ascii=False, indent=2) + "\n")
    return path


def changes(previous: list[dict[str, str]] | None, current: pd.DataFrame) -> pd.DataFrame:
    """Each finding of either run: ``fixed`` (only before), ``new`` (only now) or ``still open``."""
    before = {(f["category"], f["key"]): f["amount"] for f in (previous or [])}
    now = {(str(r.category), str(r.key)): str(r.amount) for r in current.itertuples(index=False)}
    rows = [[c, k, before.get((c, k), ""), now.get((c, k), ""),
             "still open 未解决" if (c, k) in before and (c, k) in now else ("fixed 已更正" if (c, k) in before else "new 新增")]
            for c, k in sorted(set(before) | set(now))]
    return pd.DataFrame(rows, columns=["category", "key", "amount_before", "amount_now", "status"])
