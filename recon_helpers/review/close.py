"""Period close: sign a month off, carry what is open into the next, reopen only on the record.

``close_period(check, by="王会计")`` (and ``recon close``) refuses while any exception above the
scenario's materiality (``templates/review/review.yaml``) is still unexplained - open, neither settled
nor waiting for the counterparty - and lists them. Otherwise, in one transaction, it journals the
sign-off and snapshots every item still open (with its history) as the next period's opening items;
the result tables and the journal are written beside the workspace (``closed/<period>/<scenario>/<run>/``).
A closed period's decisions are frozen (:func:`~recon_helpers.review.journal.append` refuses them) until
:func:`reopen_period`, which is a journaled decision with its reason.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from recon_helpers.review import journal
from recon_helpers.review.carry import SNAPSHOT_COLUMNS, is_closed
from recon_helpers.review.errors import CloseRefused, DecisionRefused
from recon_helpers.review.journal import Decision
from recon_helpers.review.session import ReviewSession
from recon_helpers.review.workspace import Workspace

#: how many unexplained items a refusal lists before "and N more"
LISTED = 20


@dataclass(frozen=True)
class CloseResult:
    """A period signed off: the close decision, the items carried forward and where the snapshot is."""

    decision: Decision
    carried: pd.DataFrame
    snapshot: Path

    def __str__(self) -> str:
        d = self.decision
        return (f"closed {d.scenario} {d.run} {d.period} by {d.actor}: {len(self.carried)} open items carried into "
                f"the next period; snapshot in {self.snapshot}")


def unexplained(session: ReviewSession) -> pd.DataFrame:
    """Open items (not settled, not waiting) whose |amount| is above the scenario's materiality."""
    threshold = session.policy.threshold(session.scenario)
    items = session.items
    above = items["amount"].map(lambda a: abs(Decimal(str(a))) > threshold)
    return items[(items["status"] == "open") & above]


def _describe(rows: pd.DataFrame) -> str:
    lines = [f"{r.label} {r.side} {r.key} {r.amount}" for r in rows.head(LISTED).itertuples()]
    more = f"; and {len(rows) - LISTED} more" if len(rows) > LISTED else ""
    return "; ".join(lines) + more


def _history(row: pd.Series) -> str:
    return json.dumps({"opened_in": row["opened_in"], "notes": row["notes"], "assignee": row["assignee"],
                       "decisions": list(row["decision_ids"]), "earlier": row.get("history") or ""},
                      ensure_ascii=False, default=str)


def close_period(check_or_session: Any, *, by: str, note: str = "", workspace: Workspace | str | None = None) -> CloseResult:
    """Close the check's period for its scenario and run (see the module docstring)."""
    session = check_or_session if isinstance(check_or_session, ReviewSession) else ReviewSession(
        check_or_session, workspace, actor=by)
    session.refresh()
    where = f"{session.scenario} {session.run} {session.period}"
    if session.closed:
        raise DecisionRefused(f"{where} is already closed; reopen it first to change it")
    missing = unexplained(session)
    if len(missing):
        threshold = session.policy.threshold(session.scenario)
        raise CloseRefused(f"{where} cannot be closed: {len(missing)} unexplained exceptions above the materiality of "
                           f"{threshold} remain - settle them or mark them as waiting for the counterparty: "
                           + _describe(missing), unexplained=missing)
    carried = session.items[session.items["status"] != "resolved"]
    counts = session.counts()
    decision = Decision(action="close", actor=by.strip(), period=session.period, scenario=session.scenario, run=session.run,
                        note=note, detail={"counts": counts, "materiality": str(session.policy.threshold(session.scenario)),
                                           "carried": len(carried)})

    def snapshot(con: Any) -> None:
        earlier = con.execute("SELECT action FROM decisions WHERE period = ? AND scenario = ? AND run = ? AND action IN "
                              "('close', 'reopen') AND decision_id <> ? ORDER BY seq DESC LIMIT 1",
                              [decision.period, decision.scenario, decision.run, decision.decision_id]).fetchone()
        if earlier and earlier[0] == "close":
            raise DecisionRefused(f"{where} was closed meanwhile by someone else; refresh")
        for _, row in carried.iterrows():
            values = {c: row.get(c) for c in SNAPSHOT_COLUMNS}
            values.update(history=_history(row), source_row=None if pd.isna(row.get("source_row")) else int(row["source_row"]))
            con.execute(f"INSERT INTO period_items (close_id, period, scenario, run, {', '.join(SNAPSHOT_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * (4 + len(SNAPSHOT_COLUMNS)))})",
                        [decision.decision_id, decision.period, decision.scenario, decision.run,
                         *(None if isinstance(values[c], float) and pd.isna(values[c]) else values[c]
                           for c in SNAPSHOT_COLUMNS)])

    journal.append(session.workspace, [decision], before_commit=snapshot)
    folder = session.workspace.folder / "closed" / session.period / session.scenario / session.run
    session.check.result.write(folder)
    journal.export(session.workspace, folder / "journal.csv", scenario=session.scenario, run=session.run,
                   period=session.period)
    session.refresh()
    return CloseResult(decision=decision, carried=carried.reset_index(drop=True), snapshot=folder)


def reopen_period(workspace: Workspace | str, *, period: str, scenario: str, run: str, by: str, note: str) -> Decision:
    """Reopen a closed period (journaled with its reason), so its decisions can change again."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if not note or not note.strip():
        raise DecisionRefused("say why the period is reopened (--note); the reason goes into the journal")
    if not is_closed(ws, period=period, scenario=scenario, run=run):
        raise DecisionRefused(f"{scenario} {run} {period} is not closed, so there is nothing to reopen")
    (decision,) = journal.append(ws, [Decision(action="reopen", actor=by.strip(), period=period, scenario=scenario,
                                               run=run, note=note.strip())])
    return decision


# ------------------------------------------------------------------------------------ the command
def _runs(scenario: str, runs: list[str] | None) -> tuple[Any, list[str]]:
    from recon_helpers.scenarios.registry import scenario as entry_of

    entry = entry_of(scenario)
    chosen = runs or entry.run_names()
    for run in chosen:
        entry.run_parameters(run)  # a clear error for an unknown run
    return entry, [str(r).strip().lower() for r in chosen]


def _workspace(workspace: str | Path | None, data_dir: str | Path | None) -> Workspace:
    if workspace is None and data_dir is None:
        raise DecisionRefused("give --data (the workspace is beside it) or --workspace")
    return Workspace(workspace) if workspace is not None else Workspace.beside(data_dir)


def close_scenario(*, period: str, scenario: str, by: str, note: str = "", data_dir: str | Path | None,
                   workspace: str | Path | None = None, runs: list[str] | None = None) -> list[str]:
    """``recon close``: re-run each run's check on ``data_dir`` and close it; all runs are checked first,
    so one refusal closes none of them. Returns one line per closed run."""
    import importlib

    from recon_helpers.cycles import Cycle

    Cycle.parse(period)  # a month, an ISO week or a day (the logistics scenarios close each)
    if data_dir is None:
        raise DecisionRefused("closing needs --data: the month's check is run again to snapshot it")
    entry, chosen = _runs(scenario, runs)
    ws = _workspace(workspace, data_dir)
    try:
        module = importlib.import_module(f"recon_helpers.scenarios.{entry.name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"recon_helpers.scenarios.{entry.name}":
            raise
        raise DecisionRefused(f"scenario {entry.name} has no check module yet (recon_helpers/scenarios/{entry.name}/), "
                              "so it cannot be closed from the command line") from None
    sessions = [ReviewSession(module.check(period=period, data_dir=data_dir, **entry.run_parameters(run)), ws, actor=by)
                for run in chosen]
    refusals = [s for s in sessions if len(unexplained(s))]
    if refusals:
        rows = pd.concat([unexplained(s).assign(run=s.run) for s in refusals], ignore_index=True)
        names = ", ".join(s.run for s in refusals)
        raise CloseRefused(f"{entry.name} {period} cannot be closed: {len(rows)} unexplained exceptions above "
                           f"materiality in {names}: " + _describe(rows), unexplained=rows)
    return [str(close_period(s, by=by, note=note)) for s in sessions]


def reopen_scenario(*, period: str, scenario: str, by: str, note: str, data_dir: str | Path | None,
                    workspace: str | Path | None = None, runs: list[str] | None = None) -> list[str]:
    """``recon close --reopen``: reopen the closed runs of a scenario's period (journaled with the note)."""
    entry, chosen = _runs(scenario, runs)
    ws = _workspace(workspace, data_dir)
    closed = [r for r in chosen if is_closed(ws, period=period, scenario=entry.name, run=r)]
    if not closed:
        raise DecisionRefused(f"{entry.name} {period} is not closed in {ws.folder}, so there is nothing to reopen")
    return [f"reopened {entry.name} {r} {period} by {by}: {note}" for r in closed
            if reopen_period(ws, period=period, scenario=entry.name, run=r, by=by, note=note)]
