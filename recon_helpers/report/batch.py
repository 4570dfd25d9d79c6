"""The monthly batch report: every scenario x run under papermill, made safe to share, indexed, swapped in whole.

``recon report --period 2026-10 --data data/demo --out reports`` calls :func:`run_reports`, which

1. plans the runs: every registry scenario with a notebook, once per run of its grid (courier_bill:
   sf, zto, yto, jdl), plus any other notebook in the folder as a single run; ``--period`` may be a
   month, an ISO week (``2026-W44``) or a day (``2026-10-15``), and only the scenarios whose registry
   entry lists that kind in ``cycles:`` run (the others are listed as skipped, with why: see
   :func:`plan_report`);
2. takes the month's lock (:mod:`~recon_helpers.report.publish`) and builds into a fresh folder;
3. runs each notebook with papermill (in ``jobs`` processes, a progress bar per run and overall),
   injecting ``period``, ``data_dir``, ``output_dir``, ``workspace`` and the run's grid parameter - only
   the ones the notebook's ``parameters`` cell declares;
4. per run (:mod:`~recon_helpers.report.notebook`): outputs scrubbed and masked, CSVs rewritten the same
   way, an Excel workbook, its alerts, the offline HTML page, the figures (``kpis.json``);
5. writes ``index.html``, ``alerts.json`` and ``manifest.json``, then swaps the new month in.

A run that fails is shown as failed with its failing cell and error; the others still run. The caller
(the CLI) turns :attr:`ReportRun.failed` into exit code 1.
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import multiprocessing
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recon_helpers import catalog
from recon_helpers.cycles import KIND_LABELS, Cycle
from recon_helpers.errors import UsageError
from recon_helpers.report import publish
from recon_helpers.report.index import package_version, write_alerts, write_index, write_manifest
from recon_helpers.report.notebook import NotebookJob, NotebookOutcome, run_notebook, set_progress_queue
from recon_helpers.scenarios.registry import SINGLE_RUN, list_scenarios, with_notebooks


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
    run_id: str = ""
    masked: bool = True
    workspace: str | None = None
    parameters: dict = field(default_factory=dict)
    alerts_file: Path | None = None
    journal: str | None = None
    kind: str = "month"                              # month, week or day (recon_helpers.cycles)
    skipped: list[SkippedRun] = field(default_factory=list)

    @property
    def alerts(self) -> list[dict]:
        """Every alert of the month, critical ones first."""
        found = [a for o in self.outcomes for a in o.alerts]
        return sorted(found, key=lambda a: a.get("severity") != "critical")

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


@dataclass(frozen=True)
class SkippedRun:
    """A scenario the batch does not run for this kind of period, and why (shown in the end table, the
    index and the manifest)."""

    scenario: str
    title: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.scenario, "title": self.title, "status": "skipped", "reason": self.reason}


def scenario_cycles(name: str) -> list[str]:
    """The kinds of period a scenario reconciles: its registry entry's ``cycles`` (a notebook that is not
    in the registry reconciles months, as an entry without ``cycles`` does)."""
    entry = next((s for s in list_scenarios() if s.name == name), None)
    return list(entry.cycles) if entry is not None else ["month"]


def plan_report(notebooks_dir: Path, *, only: list[str] | None = None,
                kind: str = "month") -> tuple[list[PlannedRun], list[SkippedRun]]:
    """The runs of a ``kind`` period (month, week, day) and the scenarios skipped because their registry
    entry does not list that cycle; nothing left to run is a UsageError that says which cycles exist."""
    planned, skipped, kinds = [], {}, {}
    for run in plan_runs(notebooks_dir, only=only):
        cycles = kinds.setdefault(run.scenario, scenario_cycles(run.scenario))
        if kind in cycles:
            planned.append(run)
        elif run.scenario not in skipped:
            title = (run.title or run.scenario).split(" · ")[0]
            skipped[run.scenario] = SkippedRun(run.scenario, title, (
                f"未运行 not run for a {kind}: reconciles {', '.join(KIND_LABELS[c] for c in cycles)} only "
                f"(cycles: in templates/scenarios/{run.scenario}.yaml)"))
    if not planned:
        offered = [s.name for s in with_notebooks() if kind in s.cycles]
        raise UsageError(f"no scenario {'of --only ' if only else ''}reconciles a {kind}: "
                         + (f"choose from {', '.join(offered)}" if offered else "give a month, YYYY-MM"))
    return planned, list(skipped.values())


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


def prepare_out_dir(folder: Path, *, named: Path | None = None) -> Path:
    """Create the output folder, or explain in one line why it cannot be written (naming ``named``,
    the folder the user will look for, when given)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".recon-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"cannot write reports to {named or folder}: {reason}; choose another --out folder") from exc
    return folder


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


#: what a progress display is told: ("start", [(key, title)]) once, then ("cells", key, done, total)
#: while a run executes, ("done", key, outcome) when it has finished
Progress = Callable[..., None]


def _drain(queue: Any, progress: Progress, stop: threading.Event) -> None:
    import queue as queue_module

    while not stop.is_set() or not queue.empty():
        try:
            key, done, total = queue.get(timeout=0.2)
        except (queue_module.Empty, EOFError, OSError):
            continue
        progress("cells", key, done, total)


def run_jobs(jobs: list[NotebookJob], *, workers: int, progress: Progress | None = None) -> list[NotebookOutcome]:
    """Run notebooks one after the other, or in ``workers`` processes; results keep the input order.

    ``progress`` (optional) hears of every finished cell and every finished run.
    """
    if progress is None:
        set_progress_queue(None)
        if workers <= 1 or len(jobs) <= 1:
            return [run_notebook(job) for job in jobs]
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            return list(pool.map(run_notebook, jobs))
    # spawn, not fork: the caller may already run DuckDB/Arrow threads, and a forked copy of a threaded
    # process can crash (seen: a segfault in a forked worker's garbage collection)
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    queue, stop = manager.Queue(), threading.Event()
    reader = threading.Thread(target=_drain, args=(queue, progress, stop), daemon=True)
    reader.start()
    results: dict[int, NotebookOutcome] = {}
    try:
        if workers <= 1 or len(jobs) <= 1:
            set_progress_queue(queue)
            for i, job in enumerate(jobs):
                results[i] = run_notebook(job)
                progress("done", job.link, results[i])
        else:
            with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context,
                                                        initializer=set_progress_queue, initargs=(queue,)) as pool:
                futures = {pool.submit(run_notebook, job): i for i, job in enumerate(jobs)}
                for future in concurrent.futures.as_completed(futures):
                    i = futures[future]
                    results[i] = future.result()
                    progress("done", jobs[i].link, results[i])
    finally:
        set_progress_queue(None)
        stop.set()
        reader.join(timeout=5)
        manager.shutdown()
    return [results[i] for i in range(len(jobs))]


def run_reports(
    *,
    period: str,
    data_dir: str | Path,
    out_dir: str | Path,
    notebooks_dir: str | Path | None = None,
    jobs: int = 1,
    kernel_name: str = "python3",
    only: list[str] | None = None,
    workspace: str | Path | None = None,
    mask: bool = True,
    wait: float = 0,
    progress: Progress | None = None,
    pdf: bool = False,
    engine: str = "duckdb",
) -> ReportRun:
    """Run every notebook for ``period`` on ``data_dir`` and publish ``out_dir/<period>/`` whole.

    Parameters
    ----------
    period : the month ``YYYY-MM``, ISO week ``YYYY-Www`` or day ``YYYY-MM-DD``; a week or a day runs
        the scenarios whose registry entry lists that cycle (``ReportRun.skipped``: the others).
    data_dir : folder with the downloads (e.g. the demo month made by ``recon demo``).
    out_dir : reports root; everything lands in ``out_dir/<period>/``.
    notebooks_dir : folder of ``.ipynb`` files; default the workbench's own ``notebooks/``.
    jobs : notebooks run at the same time (processes); 1 runs them one after the other.
    only : scenario names to run (default: all).
    workspace : the review workspace whose decisions the notebooks apply (passed as ``workspace``).
    mask : mask personal data in every shared file (default); False is stated on the index and pages.
    wait : seconds to wait for another run of the same month to finish before failing.
    progress : told of each run's cells and of each finished run (see :data:`Progress`).
    pdf : also print each run's page to ``<scenario>.pdf`` (Chromium, see :mod:`recon_helpers.pdf`).
    engine : where matching runs, passed to the notebooks that declare ``engine`` ("duckdb" or "spark").

    Returns
    -------
    ReportRun with one :class:`NotebookOutcome` per notebook (failed ones included).

    Raises
    ------
    PeriodError, UsageError : bad period, missing data folder, unwritable output, no notebooks.
    ReportBusyError : another run of the same month into the same folder holds the lock.
    """
    cycle = Cycle.parse(period)
    month = str(cycle)
    if jobs < 1:
        raise UsageError(f"--jobs must be 1 or more, not {jobs}")
    data = check_data_dir(Path(data_dir))
    notebooks = Path(notebooks_dir) if notebooks_dir is not None else catalog.notebooks_folder()
    planned, skipped = plan_report(notebooks, only=only, kind=cycle.kind)
    root = prepare_out_dir(Path(out_dir), named=Path(out_dir) / month)
    with publish.month_lock(root, month, wait=wait):
        publish.recover(root, month)
        staged = publish.staging_root(root, month)
        try:
            run = _build(month=month, data=data, root=root, staged=staged, notebooks=notebooks, planned=planned, jobs=jobs,
                         kernel_name=kernel_name, workspace=workspace, mask=mask, progress=progress, pdf=pdf,
                         kind=cycle.kind, skipped=skipped, engine=engine)
            live = publish.swap_in(staged, root, month)
        except BaseException:
            import shutil

            shutil.rmtree(staged, ignore_errors=True)
            raise
    run.out_dir, run.index, run.manifest = live, live / "index.html", live / "manifest.json"
    run.alerts_file = live / "alerts.json"
    return run


def _build(*, month: str, data: Path, root: Path, staged: Path, notebooks: Path, planned: list[PlannedRun], jobs: int,
           kernel_name: str, workspace: str | Path | None, mask: bool, progress: Progress | None,
           pdf: bool = False, kind: str = "month", skipped: list[SkippedRun] | None = None,
           engine: str = "duckdb") -> ReportRun:
    """Run everything into ``staged/<month>/`` and write its index, alerts and manifest there."""
    folder = staged / month
    run_id = f"{dt.datetime.now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    started = _now()
    offered = {"period": month, "data_dir": str(data.resolve()), "output_dir": str(staged.resolve()),
               "workspace": str(Path(workspace).resolve()) if workspace is not None else None, "engine": engine}
    version = package_version()
    job_list = [
        NotebookJob(notebook=str(p.notebook.resolve()), out_dir=str(prepare_out_dir(folder / p.scenario / p.run).resolve()),
                    offered={**offered, **p.parameters}, kernel_name=kernel_name, scenario=p.scenario, run=p.run,
                    title=p.title, link=f"{p.scenario}/{p.run}", data_dir=str(data.resolve()),
                    reports_dir=str(root.resolve()), staging_dir=str(staged.resolve()),
                    notebooks_dir=str(notebooks.resolve()), mask=mask, run_id=run_id, version=version,
                    journal=_journal_position(workspace), pdf=pdf)
        for p in planned
    ]
    if progress is not None:
        progress("start", [(j.link, j.title or j.scenario) for j in job_list])
    order = longest_first(planned, previous_seconds(root)) if jobs > 1 else list(range(len(job_list)))
    ran = run_jobs([job_list[i] for i in order], workers=jobs, progress=progress)
    outcomes = [outcome for _, outcome in sorted(zip(order, ran), key=lambda pair: pair[0])]
    run = ReportRun(period=month, data_dir=data, out_dir=folder, index=folder / "index.html",
                    manifest=folder / "manifest.json", outcomes=outcomes, started=started, finished=_now(),
                    run_id=run_id, masked=mask, workspace=str(workspace) if workspace is not None else None,
                    parameters={"period": month, "period_kind": kind, "jobs": jobs,
                                "only": sorted({p.scenario for p in planned}), "mask": mask,
                                "workspace": Path(workspace).name if workspace is not None else None},
                    journal=_journal_position(workspace), kind=kind, skipped=list(skipped or []))
    run.alerts_file = write_alerts(run)
    write_manifest(run)
    write_index(run)
    return run


def previous_seconds(root: Path) -> dict[tuple[str, str], float]:
    """How long each scenario run took in the newest report under ``root`` (any period: next month's
    runs take about as long as this month's), from its ``manifest.json``; empty when there is none."""
    manifests = sorted(root.glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
    if not manifests:
        return {}
    try:
        runs = json.loads(manifests[-1].read_text(encoding="utf-8")).get("notebooks", [])
        return {(str(n["name"]), str(n.get("run", SINGLE_RUN))): float(n["seconds"]) for n in runs if "seconds" in n}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):  # a damaged manifest only loses the estimate
        return {}


def longest_first(planned: list[PlannedRun], seconds: Mapping[tuple[str, str], float]) -> list[int]:
    """The order to start the runs in so that the workers stay busy to the end: the longest first, as
    the last report timed them (a run it did not time comes first: it may be long), then plan order.
    With the longest run started last, one worker would run it alone while the other idles."""
    return sorted(range(len(planned)), key=lambda i: -seconds.get((planned[i].scenario, planned[i].run), float("inf")))


def _journal_position(workspace: str | Path | None) -> str | None:
    """Where the review workspace's journal stands (its last entry), for the footer and the manifest.

    The review helper owns the workspace format; until it offers a call for this, the position is the
    journal file's size and time, which changes with every decision recorded.
    """
    if workspace is None:
        return None
    journal = next((p for p in sorted(Path(workspace).glob("journal*")) if p.is_file()), None)
    if journal is None:
        return None
    stat = journal.stat()
    return f"{journal.name}@{stat.st_size}:{int(stat.st_mtime)}"


def default_jobs() -> int:
    """Parallel notebooks by default: the machine's cores."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
