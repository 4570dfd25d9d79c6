"""One notebook run: papermill with the declared parameters only, its files made safe to share, offline HTML.

In the worker process, after papermill: the executed notebook's outputs are scrubbed of paths and
masked (:mod:`recon_helpers.report.sharing`), the run's CSVs are rewritten the same way, the Excel
workbook is made from its results, the alerts are checked, and only then is the HTML page exported,
with the alerts and the failing cell at its top and the run's provenance in its footer.
"""
from __future__ import annotations

import json
import os
import re
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from recon_helpers import catalog, export, masking
from recon_helpers.cycles import Cycle
from recon_helpers.report import alerts as alert_rules
from recon_helpers.report.cells import read_kpis
from recon_helpers.report.files import run_files
from recon_helpers.report.sharing import Sharer, write_workbook

NBCONVERT_TEMPLATE = "recon_offline"


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
    data_dir: str = ""
    reports_dir: str = ""
    staging_dir: str = ""
    notebooks_dir: str = ""
    mask: bool = True
    run_id: str = ""
    version: str = ""
    journal: str | None = None
    pdf: bool = False


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
    alerts: list[dict] = field(default_factory=list)
    workbook: str | None = None
    failed_cell: dict | None = None
    pdf: str | None = None
    #: the run's other files for its readers (dispute lists, statements, the scenario's own workbook)
    files: list[dict] = field(default_factory=list)

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


def failing_cell(nb: Any) -> dict | None:
    """The cell that stopped the run: its number (as papermill counts), its code and its error line."""
    for number, cell in enumerate(nb.get("cells", []), start=1):
        for output in cell.get("outputs", []) or []:
            if output.get("output_type") == "error":
                lines = str(cell.get("source", "")).splitlines()
                code = "\n".join(lines[:15]) + ("\n…" if len(lines) > 15 else "")
                error = " ".join(f"{output.get('ename', '')}: {output.get('evalue', '')}".split())[:500]
                return {"number": cell.get("execution_count") or number, "cell": code, "error": error}
    return None


def export_html(executed: Path, html_path: Path, *, title: str | None = None, nb: Any = None,
                recon: Mapping[str, Any] | None = None) -> None:
    """Export an executed notebook to offline HTML without inputs or prompts (page title = ``title``).

    ``nb`` is the (already shared) notebook when the caller has it; ``recon`` the alerts, failing cell
    and footer the page shows (see ``templates/report/nbconvert/recon_offline/index.html.j2``).
    """
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=NBCONVERT_TEMPLATE,
        extra_template_basedirs=[str(catalog.folder("report") / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    nb = nb if nb is not None else nbformat.read(str(executed), as_version=4)
    # the review app's widget state (megabytes) cannot run in an offline page
    nb = nbformat.from_dict({**nb, "metadata": {k: v for k, v in nb.get("metadata", {}).items() if k != "widgets"}})
    for cell in nb.cells:
        for output in cell.get("outputs", []) or []:
            _for_reader(output)
    resources = {"metadata": {"name": title or executed.stem}, "recon": dict(recon or {})}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    export.write_text(html_path, body)


#: mime type of a Jupyter widget (the review app): it only works with a kernel behind it
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: what the page shows instead of a widget
WIDGET_NOTE = ('<p class="recon-widget-note">复核操作需在 JupyterLab 中打开本 notebook 进行 · The review panel is interactive: '
               "open this notebook in JupyterLab to work the items (what is decided and open is listed above).</p>")
#: a cell whose value is the path of a file it wrote (``PosixPath('<reports>/2026-10/.../carry_forward.json')``)
_PATH_REPR = re.compile(r"^(?:Posix|Windows)?Path\('(?P<path>[^']*)'\)$")


def _for_reader(output: Any) -> None:
    """One output as the page shows it: a widget becomes a note on where to use it (its Python repr,
    ``VBox(children=(HTML(...``, means nothing to a reader), and a written file's path its name."""
    data = output.get("data") or {}
    if _WIDGET_MIME in data:
        output["data"] = {"text/html": WIDGET_NOTE}
        return
    plain = data.get("text/plain")
    found = _PATH_REPR.match("".join(plain).strip() if isinstance(plain, list) else str(plain or "").strip())
    if found and "text/html" not in data:
        name = found["path"].replace("\\", "/").rsplit("/", 1)[-1]
        output["data"] = {"text/html": f'<p class="recon-written">已写入 Written: <code>{escape(name)}</code> '
                                       "(in this run's folder 本期目录)</p>"}


#: papermill engine name that reports each finished cell to the batch's progress display
PROGRESS_ENGINE = "recon_progress"
_progress: Any = None  # the batch's queue, in this worker process: (run id, cells done, cells in all)


def _register_progress_engine() -> None:
    """papermill's nbclient engine, telling the batch after every cell how far this run has got."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ProgressEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            total, complete, key = len(nb_man.nb.cells), nb_man.cell_complete, kwargs.pop("recon_key", "")

            def cell_complete(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
                if _progress is not None:
                    _progress.put((key, (cell_index or 0) + 1, total))
                return complete(cell, cell_index=cell_index, **kw)

            nb_man.cell_complete = cell_complete
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(PROGRESS_ENGINE, ProgressEngine)


def set_progress_queue(queue: Any) -> None:
    """Worker start-up: where this process reports cell progress (a multiprocessing queue, or None)."""
    global _progress
    _progress = queue
    _register_progress_engine()


def batch_kernel_manager() -> type:
    """The kernel manager of a report run: jupyter_client's, without the interrupt before a shutdown.

    jupyter_client sends SIGINT to the kernel's whole process group before it asks the kernel to shut
    down, to stop code that may still run. In a batch the notebook has ended when its kernel is shut
    down, so there is nothing to stop; the signal only hits whatever message handler the kernel is in
    (it then prints a ``KeyboardInterrupt`` traceback at the end of ``recon report``) and any process a
    cell left running. An interrupt asked for outside a shutdown (papermill's cell timeout) still goes.
    """
    from jupyter_client.manager import AsyncKernelManager

    class BatchKernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return BatchKernelManager


def _execute(job: NotebookJob, source: Path, executed: Path) -> tuple[str, str | None, dict]:
    """papermill, with the masking switch in the kernel's environment; a failure is a status, not a raise."""
    import papermill

    os.environ[masking.MASKING_ENV] = "on" if job.mask else "off"
    engine = {"engine_name": PROGRESS_ENGINE, "recon_key": job.link} if _progress is not None else {}
    parameters: dict = {}
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
            # kernel on localhost) say nothing about the report; real errors still surface as outputs.
            # No output history (Out, _): a batch run never reads it back, and it would keep every
            # cell's returned table (lists, results) alive until the kernel ends
            extra_arguments=["--IPKernelApp.log_level=ERROR", "--InteractiveShell.cache_size=0"],
            kernel_manager_class=batch_kernel_manager(),
            **engine,
        )
    except Exception as exc:  # a failing notebook is a report outcome, not a crash of the batch
        return "failed", error_line(exc), parameters
    return "ok", None, parameters


def run_notebook(job: NotebookJob) -> NotebookOutcome:
    """Execute one notebook with papermill, make its files safe to share, export it, read its figures.
    Never raises for a failure inside the notebook: that becomes ``status='failed'`` with the error line."""
    import nbformat

    # a notebook saved without cell ids gets them when written: nbformat's warning says nothing to a reader
    warnings.filterwarnings("ignore", category=getattr(nbformat.validator, "MissingIDFieldWarning", UserWarning))
    source = Path(job.notebook)
    out_dir = Path(job.out_dir)
    name = job.scenario or source.stem
    executed = out_dir / f"{name}.ipynb"
    html_path = out_dir / f"{name}.html"
    kpi_path = out_dir / "kpis.json"
    for stale in (executed, html_path, kpi_path):
        stale.unlink(missing_ok=True)

    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    started = time.perf_counter()
    status, error, parameters = _execute(job, source, executed)
    title = job.title or _source_title(source)
    sharer = Sharer.for_run(data_dir=Path(job.data_dir or out_dir), reports_dir=Path(job.reports_dir or out_dir),
                            notebooks_dir=Path(job.notebooks_dir) if job.notebooks_dir else source.parent, mask=job.mask,
                            staging_dir=Path(job.staging_dir) if job.staging_dir else None,
                            workspace_dir=Path(job.offered["workspace"]) if job.offered.get("workspace") else None)
    error = sharer.text(error) if error else None
    shown_parameters = {k: sharer.scrub(str(v)) for k, v in parameters.items()}

    kpis, html, nb, failed = [], None, None, None
    if executed.exists():
        nb = sharer.notebook(nbformat.read(str(executed), as_version=4))
        # the review app's widget state holds its grid's rows unmasked and cannot run outside a kernel
        nb.metadata.pop("widgets", None)
        export.write_text(executed, nbformat.writes(nb))
        kpis = read_kpis(nb)
        failed = failing_cell(nb) if status != "ok" else None
    for csv_path in sorted(out_dir.glob("*.csv")):
        sharer.csv_file(csv_path)
    # the CSVs were made safe just above: the workbook is built from them as they are
    # a scenario that wrote its own <name>.xlsx (its lists) keeps it; the categories go beside it
    book_path = out_dir / (f"{name}_exceptions.xlsx" if (out_dir / f"{name}.xlsx").exists() else f"{name}.xlsx")
    workbook = write_workbook(out_dir, book_path, sharer=None, labels=_category_labels(out_dir, name))
    files = [f.to_dict() for f in run_files(out_dir, job.link, workbook=workbook, title=title)]
    raised = [a.to_dict() for a in alert_rules.evaluate(scenario=name, run=job.run, ok=status == "ok", run_folder=out_dir,
                                                        link=_linked(job, html_path.name), run_title=title, kpis=kpis,
                                                        shown=_outputs_text(nb))]
    seconds = round(time.perf_counter() - started, 1)
    if nb is not None:
        footer = {"version": job.version, "run_id": job.run_id, "started": started_at, "seconds": seconds,
                  "parameters": shown_parameters, "masking": job.mask, "journal": job.journal,
                  "period": Cycle.parse(job.offered["period"]).label if job.offered.get("period") else None}
        try:
            page_files = ([{"kind": "workbook", "label": f"Excel · {workbook.stem}", "href": workbook.name}] if workbook else []) + \
                [{**f, "href": f["href"].removeprefix(f"{job.link}/")} for f in files]
            export_html(executed, html_path, title=title, nb=nb,
                        recon={"alerts": raised, "failed": failed, "footer": footer, "files": page_files})
            html = _linked(job, html_path.name)
        except Exception as exc:
            status = "failed"
            error = error or f"HTML export failed: {error_line(exc)}"
    pdf = _print_pdf(html_path, out_dir / f"{name}.pdf") if job.pdf and html else None
    if job.pdf and html and pdf is None:
        status, error = "failed", error or "PDF export failed: see the run's HTML page"
    if kpis:
        doc = {"scenario": name, "run": job.run, "kpis": kpis}
        export.write_text(kpi_path, json.dumps(doc, ensure_ascii=False, indent=2))
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
        parameters=shown_parameters,
        alerts=raised,
        workbook=_linked(job, workbook.name) if workbook else None,
        failed_cell=failed,
        pdf=_linked(job, pdf.name) if pdf else None,
        files=files,
    )


def _print_pdf(html_path: Path, pdf_path: Path) -> Path | None:
    """The page as PDF (Chromium's print, CJK fonts embedded), None when it cannot be printed."""
    from recon_helpers.errors import ReconError
    from recon_helpers.pdf import html_to_pdf

    try:
        return html_to_pdf(html_path, pdf_path)
    except ReconError:
        return None


def _category_labels(out_dir: Path, scenario: str) -> dict[str, str]:
    """How the run's categories read: engine labels, its recipe's (summary.json names it), its scenario's."""
    from recon_helpers.engine.recipe import get_recipe
    from recon_helpers.engine.taxonomy import labels
    from recon_helpers.scenarios.registry import scenario as registered

    recipe, overrides = None, None
    try:
        recipe = get_recipe(json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))["recipe"])
    except Exception:  # no summary or an ad-hoc recipe: the engine's own labels still name the categories
        recipe = None
    try:
        overrides = registered(scenario).labels
    except Exception:  # a notebook outside the registry
        overrides = None
    return labels(recipe, overrides)


def _outputs_text(nb: Any) -> str:
    """All text and HTML a notebook showed (scripts aside), for the alerts that read what a page says."""
    if nb is None:
        return ""
    parts = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            for mime in ("text/plain", "text/html"):
                value = data.get(mime)
                if value and "<script" not in str(value)[:2000]:
                    parts.append("".join(value) if isinstance(value, list) else str(value))
            if "text" in output:
                parts.append("".join(output["text"]) if isinstance(output["text"], list) else str(output["text"]))
    return "\n".join(parts)


def _linked(job: NotebookJob, file_name: str) -> str:
    """A run's file as the index links to it (relative to the period's folder)."""
    return f"{job.link}/{file_name}" if job.link else file_name
