"""A month's report is whole or not there: real `recon report` processes killed part-way and raced.

The notebooks here are tiny; one of them pauses (``RECON_TEST_PAUSE`` seconds, from the environment
the kernel inherits) after leaving a marker in its output folder, so a test knows the run is under way.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
PAUSING_CELLS = [
    "import os, pathlib, time\n"
    "pathlib.Path(output_dir, 'started.marker').write_text(os.environ.get('RECON_TEST_LABEL', ''))\n"
    "time.sleep(float(os.environ.get('RECON_TEST_PAUSE', '0')))",
    "from recon_helpers import report\nreport.record_kpis({'Label 标签': os.environ.get('RECON_TEST_LABEL', '')})",
]


def write_notebook(path: Path, *, title: str, parameters: str, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}"))
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb.cells += [cell, *(nbformat.v4.new_code_cell(src) for src in cells)]
    nbformat.write(nb, str(path))
    return path


def make_small_data(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "orders.csv").write_bytes(b"id,amount\n1,2.50\n")
    return folder


def pausing_notebooks(folder: Path) -> Path:
    folder.mkdir()
    write_notebook(folder / "slow.ipynb", title="Slow", cells=PAUSING_CELLS,
                   parameters='period: str = "2000-01"\ndata_dir: str = "x"\noutput_dir: str = "out"')
    return folder


def start_report(notebooks: Path, data: Path, out: Path, *, label: str, pause: float, extra: list[str] = ()) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "RECON_TEST_PAUSE": str(pause), "RECON_TEST_LABEL": label}
    proc = subprocess.Popen(
        [sys.executable, "-m", "recon_helpers.cli", "report", "--period", "2026-10", "--data", str(data), "--out", str(out),
         "--notebooks", str(notebooks), "--jobs", "1", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    STARTED.append(proc)
    return proc


def wait_for(predicate, *, timeout: float = 180, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_ids(month: Path) -> set[str]:
    """The run id every file of the month names: manifest, alerts, index and each page's footer."""
    ids = {json.loads((month / "manifest.json").read_text(encoding="utf-8"))["run_id"],
           json.loads((month / "alerts.json").read_text(encoding="utf-8"))["run_id"]}
    ids |= set(re.findall(r"run (\d{8}T\d{6}-[0-9a-f]{6})", (month / "index.html").read_text(encoding="utf-8")))
    for page in month.rglob("*.html"):
        if page.name != "index.html":
            ids |= set(re.findall(r"run (\d{8}T\d{6}-[0-9a-f]{6})", page.read_text(encoding="utf-8")))
    return ids


STARTED: list[subprocess.Popen] = []


@pytest.fixture()
def setup(tmp_path):
    yield pausing_notebooks(tmp_path / "notebooks"), make_small_data(tmp_path / "data"), tmp_path / "reports"
    while STARTED:  # a failed test never leaves its own report processes (and their kernels) behind
        proc = STARTED.pop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def test_a_report_killed_part_way_leaves_the_previous_report_whole(setup):
    notebooks, data, out = setup
    first = start_report(notebooks, data, out, label="first", pause=0)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    month = out / "2026-10"
    before = snapshot(month)
    assert "first" in before["slow/all/kpis.json"].decode()

    second = start_report(notebooks, data, out, label="second", pause=120)
    wait_for(lambda: list(out.glob(".2026-10.building-*/started.marker")), what="the second run to start")
    os.killpg(second.pid, signal.SIGKILL)  # the run and its kernel, as a power cut or kill -9 would
    second.wait(timeout=30)

    assert snapshot(month) == before, "the previous report is untouched: same files, same bytes"
    assert len(run_ids(month)) == 1

    third = start_report(notebooks, data, out, label="third", pause=0)
    assert third.wait(timeout=300) == 0, third.stderr.read()
    assert "third" in (month / "slow" / "all" / "kpis.json").read_text(encoding="utf-8")
    assert not list(out.glob(".2026-10.building-*")) and not list(out.glob(".2026-10.previous-*")), \
        "the killed run's half-built folder is cleaned up by the next run"


def test_two_runs_into_one_folder_never_mix(setup):
    notebooks, data, out = setup
    holder = start_report(notebooks, data, out, label="holder", pause=8)
    wait_for(lambda: list(out.glob(".2026-10.building-*/started.marker")), what="the first run to start")

    refused = start_report(notebooks, data, out, label="refused", pause=0)
    assert refused.wait(timeout=120) == 2
    err = refused.stderr.read()
    assert "another `recon report` is writing" in err and "--wait" in err, err

    queued = start_report(notebooks, data, out, label="queued", pause=0, extra=["--wait", "300"])
    assert holder.wait(timeout=300) == 0, holder.stderr.read()
    assert queued.wait(timeout=300) == 0, queued.stderr.read()

    month = out / "2026-10"
    assert "queued" in (month / "slow" / "all" / "kpis.json").read_text(encoding="utf-8")
    assert len(run_ids(month)) == 1, "index, manifest, alerts and every page come from the same run"


def test_the_lock_names_its_holder_in_a_whole_file(tmp_path):
    """The holder file is written atomically: a waiting run reads this process, never a half-written file."""
    from recon_helpers.report.publish import ReportBusyError, month_lock

    with month_lock(tmp_path, "2026-10"):
        holder = json.loads((tmp_path / ".2026-10.lock.json").read_text(encoding="utf-8"))
        assert holder["pid"] == os.getpid()
        assert not list(tmp_path.glob("*.tmp*")), "no temporary file is left beside the holder file"
        with pytest.raises(ReportBusyError, match=f"process {os.getpid()}"):
            with month_lock(tmp_path, "2026-10"):
                pass
    assert not (tmp_path / ".2026-10.lock.json").exists()
