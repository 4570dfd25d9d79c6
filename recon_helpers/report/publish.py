"""A month's report appears whole or not at all: built in a fresh folder, swapped in at the end, one run at a time.

``recon report`` builds ``OUT/.<period>.building-<id>/<period>/`` and, only when every page, the index
and the manifest are written, swaps it for ``OUT/<period>/`` (two renames: the old folder aside, the new
one in, then the old one removed). A run killed part-way leaves the previous report untouched (its
half-built folder is removed by the next run). A lock file ``OUT/.<period>.lock`` (``filelock``, which
works on Linux, macOS and Windows shares alike) keeps a second run for the same month out: it waits up
to ``wait`` seconds, then fails with a message naming the run that holds the lock.

If a machine stops between the two renames, ``OUT/<period>/`` is missing and the previous report waits
aside as ``OUT/.<period>.previous-<id>``; the next run puts it back before it starts.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from recon_helpers.errors import UsageError
from recon_helpers.export import write_text


class ReportBusyError(UsageError):
    """Another ``recon report`` is writing the same month into the same folder."""

    code = "report_busy"


def _holder(info: Path) -> str:
    try:
        doc = json.loads(info.read_text(encoding="utf-8"))
        return f"process {doc.get('pid')} on {doc.get('host')} since {doc.get('started')}"
    except (OSError, ValueError):
        return "another process"


@contextlib.contextmanager
def month_lock(root: Path, month: str, *, wait: float = 0) -> Iterator[None]:
    """Hold ``root/.<month>.lock`` for the block; wait up to ``wait`` seconds, then ReportBusyError."""
    from filelock import FileLock, Timeout

    root.mkdir(parents=True, exist_ok=True)
    lock_path, info = root / f".{month}.lock", root / f".{month}.lock.json"
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise ReportBusyError(
            f"another `recon report` is writing {root / month} ({_holder(info)}); wait until it has finished, "
            f"or pass --wait SECONDS to queue behind it"
        ) from None
    try:
        # atomically, so a run that waits and reads it never sees a half-written holder
        write_text(info, json.dumps({"pid": os.getpid(), "host": os.uname().nodename if hasattr(os, "uname") else "",
                                     "started": dt.datetime.now().astimezone().isoformat(timespec="seconds")}))
        yield
    finally:
        info.unlink(missing_ok=True)
        lock.release()


def recover(root: Path, month: str) -> None:
    """Under the lock: put back a previous report left aside by a stopped swap; remove half-built folders."""
    live = root / month
    aside = sorted(root.glob(f".{month}.previous-*"), key=lambda p: p.stat().st_mtime)
    if not live.exists() and aside:
        aside.pop().rename(live)
    for stale in [*aside, *root.glob(f".{month}.building-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def staging_root(root: Path, month: str) -> Path:
    """A fresh, empty folder for this run (``root/.<month>.building-<id>``); the month is built inside it."""
    folder = root / f".{month}.building-{secrets.token_hex(4)}"
    (folder / month).mkdir(parents=True)
    return folder


def swap_in(staged: Path, root: Path, month: str) -> Path:
    """Make ``staged/<month>`` the live ``root/<month>``; the previous report is removed afterwards."""
    live, built = root / month, staged / month
    aside = root / f".{month}.previous-{staged.name.rsplit('-', 1)[-1]}"
    if live.exists():
        live.rename(aside)
    built.rename(live)
    shutil.rmtree(aside, ignore_errors=True)
    shutil.rmtree(staged, ignore_errors=True)
    return live
