"""The decisions journal: append-only, one transaction per decision (or per bulk action), exported for audit.

Nothing here updates or deletes a decision: an undo is a new decision pointing at the one it undoes,
and reopening a period is a decision too. What a decision says about rows is kept beside it (their
fingerprints and what they looked like then), so a re-run can tell whether the rows are still there.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from recon_helpers.export import atomic_path, write_csv
from recon_helpers.review.errors import PeriodClosedError
from recon_helpers.review.workspace import Workspace

#: actions that settle the rows they cover (they leave the open queue)
RESOLVING = ("accept", "match", "write_off", "adjust", "split")
#: actions that keep the rows open but say something about them
ANNOTATING = ("assign", "comment", "wait")
PERIOD_ACTIONS = ("close", "reopen")
ACTIONS = (*RESOLVING, *ANNOTATING, "undo", *PERIOD_ACTIONS)

DECISION_COLUMNS = ["seq", "decision_id", "recorded_at", "actor", "period", "scenario", "run", "action",
                    "reason_code", "note", "amount", "target", "detail"]
ROW_COLUMNS = ["decision_id", "fingerprint", "side", "source_file", "source_row", "key", "amount", "category",
               "descriptor", "opened_in"]


@dataclass(frozen=True)
class RowRef:
    """A row a decision is about: its fingerprint, and what it looked like when the decision was made."""

    fingerprint: str
    side: str = ""
    source_file: str = ""
    source_row: int | None = None
    key: str = ""
    amount: Decimal | None = None
    category: str = ""
    descriptor: str = ""
    opened_in: str = ""

    @classmethod
    def of(cls, item: dict[str, Any] | pd.Series) -> RowRef:
        get = item.get
        return cls(fingerprint=str(get("fingerprint")), side=str(get("side") or ""), source_file=str(get("source_file") or ""),
                   source_row=None if pd.isna(get("source_row")) else int(get("source_row")), key=str(get("key") or ""),
                   amount=get("amount"), category=str(get("category") or ""), descriptor=str(get("descriptor") or ""),
                   opened_in=str(get("opened_in") or ""))


@dataclass(frozen=True)
class Decision:
    """One entry of the journal: who, when, what, why, on which rows, for which period/scenario/run."""

    action: str
    actor: str
    period: str
    scenario: str
    run: str
    rows: tuple[RowRef, ...] = ()
    reason_code: str | None = None
    note: str = ""
    amount: Decimal | None = None
    target: str | None = None  # the assignee of "assign", the decision an "undo" takes back
    detail: dict[str, Any] = field(default_factory=dict)
    decision_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    recorded_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))


def _closed(con: Any, period: str, scenario: str, run: str) -> bool:
    rows = con.execute("SELECT action FROM decisions WHERE period = ? AND scenario = ? AND run = ? AND action IN "
                       "('close', 'reopen') ORDER BY seq DESC LIMIT 1", [period, scenario, run]).fetchall()
    return bool(rows) and rows[0][0] == "close"


def append(workspace: Workspace, decisions: list[Decision], *, before_commit: Any = None) -> list[Decision]:
    """Write ``decisions`` in one transaction (all or none). Refuses any for a closed period (reopen it first).

    ``before_commit(con)`` runs inside the same transaction (the close writes its snapshot there).
    """
    if not decisions:
        return []
    with workspace.transaction() as con:
        for period, scenario, run in {(d.period, d.scenario, d.run) for d in decisions if d.action not in PERIOD_ACTIONS}:
            if _closed(con, period, scenario, run):
                raise PeriodClosedError(f"{scenario} {run} {period} is closed, so its decisions cannot change; reopen it "
                                        f"first (recon close --reopen --period {period} --scenario {scenario} --run {run})")
        seq = con.execute("SELECT coalesce(max(seq), 0) FROM decisions").fetchall()[0][0]
        entries = [[seq + n, d.decision_id, d.recorded_at, d.actor, d.period, d.scenario, d.run, d.action, d.reason_code,
                    d.note, d.amount, d.target, json.dumps(d.detail, ensure_ascii=False, default=str)]
                   for n, d in enumerate(decisions, start=1)]
        rows = [[d.decision_id, r.fingerprint, r.side, r.source_file, r.source_row, r.key, r.amount, r.category,
                 r.descriptor, r.opened_in] for d in decisions for r in d.rows]
        _insert(con, "decisions", DECISION_COLUMNS, entries, _DECISION_TYPES)
        _insert(con, "decision_rows", ROW_COLUMNS, rows, _ROW_TYPES)
        if before_commit is not None:
            before_commit(con)
    return decisions


_MONEY = pa.decimal128(18, 2)
_DECISION_TYPES = [pa.int64(), pa.string(), pa.timestamp("us"), *[pa.string()] * 7, _MONEY, pa.string(), pa.string()]
_ROW_TYPES = [pa.string()] * 4 + [pa.int64(), pa.string(), _MONEY, pa.string(), pa.string(), pa.string()]


def _insert(con: Any, table: str, columns: list[str], rows: list[list[Any]], types: list[pa.DataType]) -> None:
    """Insert many rows in one statement through an Arrow table (row-by-row INSERTs are slow in DuckDB)."""
    if not rows:
        return
    batch = pa.table({c: pa.array([r[i] for r in rows], type=t) for i, (c, t) in enumerate(zip(columns, types))})
    con.register("_new_rows", batch)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _new_rows")
    finally:
        con.unregister("_new_rows")


def read(workspace: Workspace, *, scenario: str | None = None, run: str | None = None,
         period: str | None = None) -> pd.DataFrame:
    """The journal (optionally of one scenario / run / period), oldest first, one row per decision."""
    where, params = _filters(scenario=scenario, run=run, period=period)
    return workspace.query(f"SELECT {', '.join(DECISION_COLUMNS)} FROM decisions {where} ORDER BY seq", params,
                           columns=DECISION_COLUMNS)


def read_rows(workspace: Workspace, *, scenario: str | None = None, run: str | None = None,
              period: str | None = None) -> pd.DataFrame:
    """The rows of those decisions (decision_id, fingerprint and what each row looked like then)."""
    where, params = _filters(scenario=scenario, run=run, period=period, prefix="d.")
    cols = ", ".join(f"r.{c}" for c in ROW_COLUMNS)
    return workspace.query(f"SELECT {cols} FROM decision_rows r JOIN decisions d USING (decision_id) {where} "
                           "ORDER BY d.seq, r.fingerprint", params, columns=ROW_COLUMNS)


def _filters(*, prefix: str = "", **values: str | None) -> tuple[str, list[str]]:
    clauses = [(f"{prefix}{k} = ?", v) for k, v in values.items() if v is not None]
    if not clauses:
        return "", []
    return "WHERE " + " AND ".join(c for c, _ in clauses), [v for _, v in clauses]


def audit_trail(workspace: Workspace, **filters: str | None) -> pd.DataFrame:
    """One line per decision and row: the journal as an auditor reads it."""
    decisions = read(workspace, **filters)
    rows = read_rows(workspace, **filters)
    trail = decisions.merge(rows.rename(columns={"amount": "row_amount"}), on="decision_id", how="left")
    return trail.sort_values(["seq", "fingerprint"], kind="stable", na_position="first").reset_index(drop=True)


def export(workspace: Workspace, path: str | Path, **filters: str | None) -> Path:
    """Write the audit trail to ``.csv`` (UTF-8 with BOM, for Excel) or ``.xlsx``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    trail = audit_trail(workspace, **filters)
    trail = trail.assign(amount=trail["amount"].map(_money), row_amount=trail["row_amount"].map(_money))
    if out.suffix.lower() == ".xlsx":
        with atomic_path(out) as temp:
            trail.to_excel(temp, index=False, sheet_name="journal")
    else:
        write_csv(trail, out)
    return out


def _money(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(Decimal(str(value)).quantize(Decimal("0.01")))
