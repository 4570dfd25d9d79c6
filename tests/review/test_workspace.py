"""The workspace file and its journal: versioned schema, append-only, safe with two writers and a crash."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from recon_helpers.review import journal
from recon_helpers.review.errors import WorkspaceBusyError, WorkspaceError
from recon_helpers.review.journal import Decision, RowRef
from recon_helpers.review.workspace import SCHEMA_VERSION, Workspace

WRITER = Path(__file__).with_name("journal_writer.py")


def _writer(folder: Path, name: str, count: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, str(WRITER), str(folder), name, str(count)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _decision(n: int, actor: str = "王会计") -> Decision:
    return Decision("comment", actor, "2026-10", "courier_bill", "sf", rows=(RowRef(f"fp{n}", side="left"),),
                    note=f"note {n}")


def test_a_new_workspace_is_created_on_first_write_with_the_current_schema(workspace):
    assert not workspace.exists
    assert journal.read(workspace).empty  # reading does not create the file
    assert not workspace.exists
    journal.append(workspace, [_decision(1)])
    assert workspace.exists and workspace.schema_version() == SCHEMA_VERSION


def test_a_workspace_from_a_newer_workbench_is_refused_not_misread(workspace):
    journal.append(workspace, [_decision(1)])
    con = duckdb.connect(str(workspace.path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    with pytest.raises(WorkspaceError, match="newer workbench"):
        journal.read(workspace)


def test_the_journal_keeps_who_when_what_why_and_which_rows_in_order(workspace):
    journal.append(workspace, [_decision(1), _decision(2, actor="李经理")])
    decisions = journal.read(workspace)
    assert decisions["seq"].tolist() == [1, 2]
    assert decisions["actor"].tolist() == ["王会计", "李经理"]
    assert decisions["note"].tolist() == ["note 1", "note 2"]
    assert decisions["recorded_at"].notna().all()
    assert journal.read_rows(workspace)["fingerprint"].tolist() == ["fp1", "fp2"]


def test_the_journal_exports_to_csv_and_excel_as_the_audit_trail(workspace, tmp_path):
    journal.append(workspace, [Decision("write_off", "王会计", "2026-10", "courier_bill", "sf",
                                        rows=(RowRef("fpA", side="right", key="SF1", amount=Decimal("12.50")),),
                                        reason_code="carrier_claim", amount=Decimal("12.50"), note="claimed")])
    csv = journal.export(workspace, tmp_path / "audit" / "journal.csv")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(csv, encoding="utf-8-sig", dtype=str)
    assert frame.loc[0, ["actor", "action", "reason_code", "row_amount", "key"]].tolist() == [
        "王会计", "write_off", "carrier_claim", "12.50", "SF1"]
    xlsx = journal.export(workspace, tmp_path / "audit" / "journal.xlsx")
    sheet = pd.read_excel(xlsx, dtype=str, engine="openpyxl")
    assert sheet.loc[0, "note"] == "claimed" and sheet.loc[0, "amount"] == "12.50"


def test_two_processes_writing_at_once_both_succeed_and_lose_nothing(workspace):
    writers = [_writer(workspace.folder, name, 25) for name in ("kernel_a", "kernel_b")]
    outputs = [w.communicate(timeout=240) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [o[1][-2000:] for o in outputs]
    committed = {line for out, _ in outputs for line in out.split()}
    decisions = journal.read(workspace)
    assert len(committed) == 50
    assert set(decisions["decision_id"]) == committed
    assert decisions["seq"].tolist() == list(range(1, 51))
    assert len(journal.read_rows(workspace)) == 100  # every decision with both its rows


def test_a_writer_killed_mid_write_loses_no_committed_decision(workspace):
    writer = _writer(workspace.folder, "doomed", 100000)
    committed: list[str] = []
    while len(committed) < 15:
        line = writer.stdout.readline()
        assert line, writer.stderr.read()[-2000:]
        committed.append(line.strip())
    os.kill(writer.pid, signal.SIGKILL)  # wherever it is: often inside the next transaction
    writer.wait(timeout=30)
    decisions = journal.read(workspace)  # reopening replays the write-ahead log
    assert set(committed) <= set(decisions["decision_id"])
    rows = journal.read_rows(workspace)
    per_decision = rows.groupby("decision_id").size()
    assert (per_decision.reindex(decisions["decision_id"]) == 2).all()  # no half-written decision


def test_a_writer_that_cannot_get_the_lock_says_so_and_saves_nothing(workspace):
    journal.append(workspace, [_decision(1)])
    other = Workspace(workspace.folder, timeout=0.3)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire(); "
        "print('held', flush=True); time.sleep(30)"), str(workspace.path) + ".lock"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(WorkspaceBusyError, match="nothing was saved"):
            journal.append(other, [_decision(2)])
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()
    assert journal.read(workspace)["note"].tolist() == ["note 1"]


def test_money_comes_back_from_the_journal_as_exact_decimals(workspace):
    journal.append(workspace, [Decision("adjust", "王会计", "2026-10", "courier_bill", "sf", amount=Decimal("0.10"),
                                        rows=(RowRef("fp", side="left", amount=Decimal("12345678901.23")),))])
    assert journal.read(workspace)["amount"].iloc[0] == Decimal("0.10")
    assert journal.read_rows(workspace)["amount"].iloc[0] == Decimal("12345678901.23")
