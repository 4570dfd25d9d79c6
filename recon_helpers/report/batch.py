"""The monthly batch report: every scenario x run under papermill, exported, indexed.

``recon report --period 2026-10 --data data/demo --out reports`` calls :func:`run_reports`, which

1. plans the runs: every registry scenario with a notebook, once per run of its grid (courier_bill:
   sf, zto, yto, jdl), plus any other notebook in the folder as a single run;
2. runs each with papermill, injecting ``period``, ``data_dir``, ``output_dir`` and the run's grid
   parameter - only the ones the notebook's ``parameters`` cell declares;
3. saves the executed notebook and its offline HTML (no code, plotly.js embedded once, no CDN) into
   ``OUT/<period>/<scenario>/<run>/``, with the figures the notebook recorded (``kpis.json``);
4. writes ``OUT/<period>/index.html`` (one card per run) and ``manifest.json`` (inputs and sha256).

A run that fails is shown as failed with its error; the others still run. The caller (the CLI) turns
:attr:`ReportRun.failed` into exit code 1.
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

from recon_helpers import catalog
from recon_helpers.errors import UsageError
from recon_helpers.periods import Period
from recon_helpers.report.index import write_index, write_manifest
from recon_helpers.report.notebook import NotebookJob, NotebookOutcome, run_notebook
from recon_helpers.scenarios.registry import SINGLE_RUN, with_notebooks


# --------------------------------------------------------------------------------------------
# the batch
# --------------------------------------------------------------------------------------------
@dataclass
class ReportRun:
    """The result of one ``recon report``: where it landed and how each notebook did."""

    period: str
    data_dir: Path
    out_dir: Path
    index: Path
    manifest: Path
    outcomes: list[NotebookOutcome]
    started: str
    finished: str

    @property
    def failed(self) -> list[NotebookOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failed


def find_notebooks(notebooks_dir: Path) -> list[Path]:
    """The notebooks in a folder: ``*.ipynb``, sorted, checkpoints ignored."""
    if not notebooks_dir.is_dir():
        raise UsageError(f"notebooks folder {notebooks_dir} does not exist: pass --notebooks with the folder of .ipynb files")
    found = sorted(p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith("."))
    if not found:
        raise UsageError(f"notebooks folder {notebooks_dir} has no .ipynb files: pass --notebooks with the folder of report notebooks")
    return found


@dataclass(frozen=True)
class PlannedRun:
    """One notebook run of the batch: which notebook, for which scenario and run, with which parameters."""

    notebook: Path
    scenario: str
    run: str
    parameters: dict[str, str]
    title: str | None = None


def plan_runs(notebooks_dir: Path, *, only: list[str] | None = None) -> list[PlannedRun]:
    """Every scenario x run whose notebook is in the folder (registry order), then other notebooks once."""
    notebooks = {p.name: p for p in find_notebooks(notebooks_dir)}
    planned: list[PlannedRun] = []
    for entry in with_notebooks():
        path = notebooks.pop(entry.notebook, None)
        if path is None:
            continue
        for run in entry.run_names():
            name = entry.runs.get(run, {}).get("name")
            suffix = "" if run == SINGLE_RUN else f" · {name} {run}" if name else f" · {run}"
            planned.append(PlannedRun(path, entry.name, run, entry.run_parameters(run), f"{entry.title}{suffix}"))
    planned += [PlannedRun(path, path.stem, SINGLE_RUN, {}) for path in notebooks.values()]
    if only:
        unknown = sorted(set(only) - {p.scenario for p in planned})
        if unknown:
            raise UsageError(f"--only {', '.join(unknown)}: no such scenario with a notebook; "
                             f"choose from {', '.join(dict.fromkeys(p.scenario for p in planned))}")
        planned = [p for p in planned if p.scenario in only]
    return planned


def check_data_dir(data_dir: Path) -> Path:
    """The data folder must exist; say how to make the demo one when it does not."""
    if not data_dir.exists():
        raise UsageError(
            f"data folder {data_dir} does not exist: create the demo month with "
            f"`recon demo --out {data_dir}` or pass --data with the folder of your downloads"
        )
    if not data_dir.is_dir():
        raise UsageError(f"data folder {data_dir} is a file, not a folder: pass --data with the folder of your downloads")
    return data_dir


def prepare_out_dir(folder: Path) -> Path:
    """Create the period's output folder, or explain in one line why it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".recon-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"cannot write reports to {folder}: {reason}; choose another --out folder") from exc
    return folder


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def run_jobs(jobs: list[NotebookJob], *, workers: int) -> list[NotebookOutcome]:
    """Run notebooks one after the other, or in ``workers`` processes; results keep the input order."""
    if workers <= 1 or len(jobs) <= 1:
        return [run_notebook(job) for job in jobs]
    # spawn, not fork: the caller may already run DuckDB/Arrow threads, and a forked copy of a threaded
    # process can crash (seen: a segfault in a forked worker's garbage collection)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        return list(pool.map(run_notebook, jobs))


def run_reports(
    *,
    period: str,
    data_dir: str | Path,
    out_dir: str | Path,
    notebooks_dir: str | Path | None = None,
    jobs: int = 1,
    kernel_name: str = "python3",
    only: list[str] | None = None,
) -> ReportRun:
    """Run every notebook for ``period`` on ``data_dir`` and write ``out_dir/<period>/index.html``.

    Parameters
    ----------
    period : the month, ``YYYY-MM``.
    data_dir : folder with the downloads (e.g. the demo month made by ``recon demo``).
    out_dir : reports root; everything lands in ``out_dir/<period>/``.
    notebooks_dir : folder of ``.ipynb`` files; default the workbench's own ``notebooks/``.
    jobs : notebooks run at the same time (processes); 1 runs them one after the other.
    only : scenario names to run (default: all).

    Returns
    -------
    ReportRun with one :class:`NotebookOutcome` per notebook (failed ones included).

    Raises
    ------
    PeriodError, UsageError : bad period, missing data folder, unwritable output, no notebooks.
    """
    month = str(Period.parse(period))
    if jobs < 1:
        raise UsageError(f"--jobs must be 1 or more, not {jobs}")
    data = check_data_dir(Path(data_dir))
    planned = plan_runs(Path(notebooks_dir) if notebooks_dir is not None else catalog.notebooks_folder(), only=only)
    root = Path(out_dir)
    folder = prepare_out_dir(root / month)

    started = _now()
    offered = {"period": month, "data_dir": str(data.resolve()), "output_dir": str(root.resolve())}
    job_list = [
        NotebookJob(notebook=str(p.notebook.resolve()), out_dir=str(prepare_out_dir(folder / p.scenario / p.run).resolve()),
                    offered={**offered, **p.parameters}, kernel_name=kernel_name, scenario=p.scenario, run=p.run,
                    title=p.title, link=f"{p.scenario}/{p.run}")
        for p in planned
    ]
    outcomes = run_jobs(job_list, workers=jobs)
    finished = _now()

    run = ReportRun(
        period=month,
        data_dir=data,
        out_dir=folder,
        index=folder / "index.html",
        manifest=folder / "manifest.json",
        outcomes=outcomes,
        started=started,
        finished=finished,
    )
    write_manifest(run)
    write_index(run)
    return run


