"""One notebook run: papermill with the declared parameters only, offline HTML export, recorded figures."""
from __future__ import annotations

from recon_helpers import catalog
from recon_helpers.report.cells import read_kpis

NBCONVERT_TEMPLATE = "recon_offline"

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


# --------------------------------------------------------------------------------------------
# one notebook
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NotebookJob:
    """Everything a worker process needs to run and export one notebook for one run of a scenario.

    ``out_dir`` is the run's folder (``<period>/<scenario>/<run>/``); ``link`` is that folder relative
    to the period's folder, so the index can link to the run's page.
    """

    notebook: str
    out_dir: str
    offered: dict
    scenario: str = ""
    run: str = "all"
    title: str | None = None
    link: str = ""
    kernel_name: str = "python3"
    timeout_s: int = 1800


@dataclass
class NotebookOutcome:
    """What happened to one notebook: status ``ok`` or ``failed``, its error, figures and files."""

    name: str
    title: str
    status: str
    run: str = "all"
    error: str | None = None
    seconds: float = 0.0
    html: str | None = None
    executed: str | None = None
    kpis: list[dict] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def id(self) -> str:
        """Anchor of the run in the index: ``courier_bill-sf``."""
        return f"{self.name}-{self.run}"


def notebook_title(nb: Any, fallback: str) -> str:
    """The first heading of the first markdown cell, else the file name."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in str(cell.get("source", "")).splitlines():
                text = line.strip().lstrip("#").strip()
                if text:
                    return text
    return fallback


def _source_title(notebook: Path) -> str:
    """Title from the notebook as written (the executed copy may start with papermill's error banner)."""
    import nbformat

    try:
        return notebook_title(nbformat.read(str(notebook), as_version=4), notebook.stem)
    except Exception:  # unreadable notebook: the run reports the real error
        return notebook.stem


def declared_parameters(notebook: Path) -> dict[str, Any]:
    """The parameters the notebook's ``parameters`` cell declares (papermill.inspect_notebook).

    papermill needs the notebook's kernel name to pick a translator; a notebook saved without
    kernel metadata is read as Python, the language of every workbench notebook.
    """
    import nbformat
    import papermill
    from papermill.translators import PythonTranslator

    try:
        return dict(papermill.inspect_notebook(str(notebook)))
    except ValueError:
        nb = nbformat.read(str(notebook), as_version=4)
        cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        return {p.name: p._asdict() for p in PythonTranslator.inspect(cells[0])} if cells else {}


def parameters_for(notebook: Path, offered: Mapping[str, Any]) -> dict[str, Any]:
    """Inject only what the notebook declares, so a notebook never receives a stray variable."""
    declared = declared_parameters(notebook)
    return {name: value for name, value in offered.items() if name in declared}


def error_line(exc: BaseException) -> str:
    """One line for the index: papermill's ``ename: evalue`` of the failing cell, else the exception."""
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    return " ".join(str(text).split())[:500]


def export_html(executed: Path, html_path: Path, *, title: str | None = None) -> None:
    """Export an executed notebook to offline HTML without inputs or prompts (page title = ``title``)."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=NBCONVERT_TEMPLATE,
        extra_template_basedirs=[str(catalog.folder("report") / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    nb = nbformat.read(str(executed), as_version=4)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title or executed.stem}})
    html_path.write_text(body, encoding="utf-8")


def run_notebook(job: NotebookJob) -> NotebookOutcome:
    """Execute one notebook with papermill, export it, read its figures. Never raises for a failure
    inside the notebook: that becomes ``status='failed'`` with the error line."""
    import nbformat
    import papermill

    source = Path(job.notebook)
    out_dir = Path(job.out_dir)
    name = job.scenario or source.stem
    executed = out_dir / f"{name}.ipynb"
    html_path = out_dir / f"{name}.html"
    kpi_path = out_dir / "kpis.json"
    for stale in (executed, html_path, kpi_path):
        stale.unlink(missing_ok=True)

    started = time.perf_counter()
    status, error, parameters = "ok", None, {}
    try:
        parameters = parameters_for(source, job.offered)
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters=parameters,
            kernel_name=job.kernel_name,
            language="python",
            cwd=str(source.parent),
            progress_bar=False,
            log_output=False,
            execution_timeout=job.timeout_s,
            # the kernel's own start-up warnings (e.g. "running over TCP without encryption" for a
            # kernel on localhost) say nothing about the report; real errors still surface as outputs
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except Exception as exc:  # a failing notebook is a report outcome, not a crash of the batch
        status, error = "failed", error_line(exc)

    title, kpis, html = job.title or _source_title(source), [], None
    if executed.exists():
        kpis = read_kpis(nbformat.read(str(executed), as_version=4))
        try:
            export_html(executed, html_path, title=title)
            html = _linked(job, html_path.name)
        except Exception as exc:
            status = "failed"
            error = error or f"HTML export failed: {error_line(exc)}"
    if kpis:
        doc = {"scenario": name, "run": job.run, "kpis": kpis}
        kpi_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return NotebookOutcome(
        name=name,
        run=job.run,
        title=title,
        status=status,
        error=error,
        seconds=round(time.perf_counter() - started, 1),
        html=html,
        executed=_linked(job, executed.name) if executed.exists() else None,
        kpis=kpis,
        parameters=parameters,
    )




def _linked(job: NotebookJob, file_name: str) -> str:
    """A run's file as the index links to it (relative to the period's folder)."""
    return f"{job.link}/{file_name}" if job.link else file_name
