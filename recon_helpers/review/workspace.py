"""The review workspace: one DuckDB file in a folder, shared by every kernel and `recon report`.

DuckDB lets one process at a time open a file for writing, and while it has it open no other process
may open it at all. So nobody keeps the file open: every read and every write takes a lock file beside
the database (``workspace.duckdb.lock``, via the ``filelock`` package: cross-platform, our users are on
Windows too), opens the file, does its work in one transaction and closes it again. Two kernels on one
workspace then take turns instead of failing; a writer that waits longer than ``timeout`` seconds gets
a :class:`WorkspaceBusyError` that says who to ask and that nothing was saved.

A crash mid-write loses nothing that was committed: DuckDB's write-ahead log replays committed
transactions when the file is next opened, and a transaction that did not commit leaves no trace (every
decision and its rows are written in one transaction).

The schema is versioned (``meta.schema_version``); :data:`MIGRATIONS` brings an older file up to date
when it is opened, and a file made by a newer workbench is refused rather than misread.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from filelock import FileLock, Timeout

from recon_helpers.review.errors import WorkspaceBusyError, WorkspaceError

FILE_NAME = "workspace.duckdb"
#: default folder name of a workspace, created beside the period's data folder
FOLDER_NAME = "recon_workspace"
DEFAULT_TIMEOUT = 30.0

#: version -> statements that bring a file from the version before to this one (portable SQL)
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        # the journal: append-only, one row per decision, in the order it was recorded (seq)
        """CREATE TABLE decisions (
            seq BIGINT PRIMARY KEY, decision_id VARCHAR NOT NULL UNIQUE, recorded_at TIMESTAMP NOT NULL,
            actor VARCHAR NOT NULL, period VARCHAR NOT NULL, scenario VARCHAR NOT NULL, run VARCHAR NOT NULL,
            action VARCHAR NOT NULL, reason_code VARCHAR, note VARCHAR, amount DECIMAL(18, 2), target VARCHAR,
            detail VARCHAR)""",
        # the rows a decision is about, identified by fingerprint; the rest is what they looked like then
        """CREATE TABLE decision_rows (
            decision_id VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, side VARCHAR, source_file VARCHAR,
            source_row BIGINT, key VARCHAR, amount DECIMAL(18, 2), category VARCHAR, descriptor VARCHAR,
            opened_in VARCHAR)""",
        # what a period close left open: the next period's opening items
        """CREATE TABLE period_items (
            close_id VARCHAR NOT NULL, period VARCHAR NOT NULL, scenario VARCHAR NOT NULL, run VARCHAR NOT NULL,
            fingerprint VARCHAR NOT NULL, side VARCHAR, source_file VARCHAR, source_row BIGINT, key VARCHAR,
            amount DECIMAL(18, 2), category VARCHAR, detail VARCHAR, descriptor VARCHAR, status VARCHAR,
            assignee VARCHAR, history VARCHAR, opened_in VARCHAR)""",
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)


class Workspace:
    """A workspace folder holding ``workspace.duckdb``; cheap to create, opens the file only per call."""

    def __init__(self, folder: str | Path, *, timeout: float = DEFAULT_TIMEOUT):
        self.folder = Path(folder)
        self.path = self.folder / FILE_NAME
        self.timeout = timeout
        self._lock = FileLock(str(self.path) + ".lock")

    @classmethod
    def beside(cls, data_dir: str | Path, **options: Any) -> Workspace:
        """The default workspace of a data folder: ``<data_dir>/../recon_workspace/``, shared by the months
        kept side by side (``downloads/2026-10``, ``downloads/2026-11``) so open items carry forward."""
        return cls(Path(data_dir).resolve().parent / FOLDER_NAME, **options)

    @classmethod
    def of(cls, where: Workspace | str | Path | None, *, data_dir: str | Path, **options: Any) -> Workspace:
        """A notebook's ``workspace`` parameter as a Workspace: None means beside the data."""
        if isinstance(where, Workspace):
            return where
        return cls.beside(data_dir, **options) if where in (None, "") else cls(where, **options)

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    # -- access -----------------------------------------------------------------------------------
    @contextmanager
    def _locked(self, purpose: str) -> Iterator[None]:
        try:
            self._lock.acquire(timeout=self.timeout)
        except Timeout:
            raise WorkspaceBusyError(
                f"another notebook or `recon report` has been using it for over {self.timeout:.0f} s, so {purpose} "
                "did not happen (nothing was saved); wait for it to finish and try again", path=self.path) from None
        try:
            yield
        finally:
            self._lock.release()

    def _connect(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        """Open the file, retrying while a process that ignores our lock file holds it (e.g. a DuckDB shell)."""
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise WorkspaceBusyError(f"cannot open it ({' '.join(str(exc).split())}); close other programs "
                                             "using the file and try again", path=self.path) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    @contextmanager
    def transaction(self, purpose: str = "saving the decision") -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction, under the lock: everything commits, or nothing does."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._locked(purpose):
            con = self._connect(read_only=False)
            try:
                migrate(con, self.path)
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            finally:
                con.close()

    def query(self, sql: str, params: list[Any] | None = None, *, columns: list[str] | None = None) -> pd.DataFrame:
        """Rows of one SELECT, under the lock; a workspace not yet created reads as empty (``columns``)."""
        if not self.exists:
            return pd.DataFrame(columns=columns or [])
        with self._locked("reading the journal"):
            con = self._connect(read_only=False)  # read-write: an older file may need migrating first
            try:
                migrate(con, self.path)
                # through Arrow: DECIMAL stays an exact decimal (DuckDB's .df() would make money a float)
                table = con.sql(sql, params=params or None).to_arrow_table()
                return table.to_pandas(types_mapper=lambda t: pd.ArrowDtype(t) if pa.types.is_decimal(t) else None)
            finally:
                con.close()

    def schema_version(self) -> int:
        frame = self.query("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(frame["value"].iloc[0]) if len(frame) else 0

    def __repr__(self) -> str:
        return f"Workspace({str(self.folder)!r})"


def _version(con: duckdb.DuckDBPyConnection) -> int:
    # fetchall: a result left half-read would block the next query on this connection
    has_meta = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'").fetchall()[0][0]
    if not has_meta:
        return 0
    rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return int(rows[0][0]) if rows else 0


def migrate(con: duckdb.DuckDBPyConnection, path: str | Path) -> int:
    """Bring the file up to :data:`SCHEMA_VERSION` in one transaction; refuse a file from a newer workbench."""
    found = _version(con)
    if found > SCHEMA_VERSION:
        raise WorkspaceError(f"it was written by a newer workbench (schema {found}, this one knows {SCHEMA_VERSION}); "
                             "upgrade recon-workbench before opening it", path=path)
    if found == SCHEMA_VERSION:
        return found
    con.execute("BEGIN TRANSACTION")
    try:
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version]:
                con.execute(statement)
        con.execute("DELETE FROM meta WHERE key = 'schema_version'")
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
