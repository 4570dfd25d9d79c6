"""A report run's kernel is shut down without an interrupt: nothing is left to stop when a notebook has
ended, and the SIGINT jupyter_client sends first hit the kernel's handlers (a KeyboardInterrupt
traceback at the end of `recon report`) and every process of its group."""
from __future__ import annotations

import os
import signal
import time

import nbformat
import pytest

from recon_helpers.report.notebook import NotebookJob, _execute

pytestmark = pytest.mark.notebook

#: a process the notebook starts in the kernel's process group: it notes a SIGINT in a file
WATCHER = ("import pathlib, signal, sys, time\n"
           "signal.signal(signal.SIGINT, lambda *a: (pathlib.Path(sys.argv[1]).write_text('SIGINT'), sys.exit(0)))\n"
           "time.sleep(30)\n")


def test_the_kernel_and_its_processes_get_no_interrupt_when_the_run_ends(tmp_path):
    marker, pid_file = tmp_path / "interrupted", tmp_path / "watcher.pid"
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nb.cells = [nbformat.v4.new_code_cell(
        "import pathlib, subprocess, sys, time\n"
        f"watcher = subprocess.Popen([sys.executable, '-c', {WATCHER!r}, {str(marker)!r}])\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(watcher.pid))\n"
        "time.sleep(1)  # the watcher has set its handler")]
    source = tmp_path / "watch.ipynb"
    nbformat.write(nb, str(source))
    job = NotebookJob(notebook=str(source), out_dir=str(tmp_path), offered={})
    try:
        status, error, _ = _execute(job, source, tmp_path / "out.ipynb")
        assert (status, error) == ("ok", None)
        time.sleep(1.5)
        assert not marker.exists(), "the shutdown sent SIGINT to the kernel's process group"
    finally:
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            except ProcessLookupError:
                pass
