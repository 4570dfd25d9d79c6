"""The monthly batch report: run every notebook with papermill, export HTML, write an index.

``recon report --period 2026-10 --data data/demo --out reports`` calls :func:`run_reports`, which

1. runs each ``notebooks/*.ipynb`` (sorted) with papermill, injecting ``period``, ``data_dir`` and
   ``output_dir`` - only the ones the notebook's ``parameters`` cell declares;
2. saves the executed notebook as ``OUT/<period>/<name>.ipynb`` and exports it to
   ``OUT/<period>/<name>.html`` without input cells or prompts, so analysts see results, not code.
   The page needs no network: our nbconvert template drops the CDN scripts (require.js, MathJax,
   mermaid) and :func:`recon_helpers.charts.show` embeds plotly.js once per notebook;
3. collects the headline figures each notebook recorded with :func:`record_kpis` (a cell output with
   the mime type :data:`KPI_MIME`, so no side files or shared state are needed) into
   ``OUT/<period>/<name>.kpis.json``;
4. writes ``OUT/<period>/index.html`` (one card per notebook: title, status, figures, link) and
   ``OUT/<period>/manifest.json`` (inputs with sha256, versions, notebook statuses, times).

A notebook that fails is shown as failed with its error; the others still run. The caller (the CLI)
turns :attr:`ReportRun.failed` into exit code 1.
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from .errors import ReportError, UsageError
from .periods import Period

#: mime type of the output that carries a notebook's headline figures
KPI_MIME = "application/vnd.recon.kpis+json"
#: the parameters ``recon report`` knows how to fill
REPORT_PARAMETERS = ("period", "data_dir", "output_dir")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
REPORT_TEMPLATES_DIR = REPO_ROOT / "templates" / "report"
NBCONVERT_TEMPLATE = "recon_offline"


# --------------------------------------------------------------------------------------------
# headline figures, recorded from inside a notebook
# --------------------------------------------------------------------------------------------
def format_figure(value: Any) -> str:
    """How a figure reads in a report: ints and money with thousands separators, money to the fen."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def _json_figure(value: Any) -> Any:
    """Figures in JSON: money stays exact as a decimal string, counts stay numbers."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy / pandas scalars
        return _json_figure(value.item())
    return str(value)


def kpi_payload(kpis: Mapping[str, Any], *, title: str | None = None) -> dict:
    """The JSON that :func:`record_kpis` emits: ordered label/value/display triples."""
    if not isinstance(kpis, Mapping) or not kpis:
        raise UsageError("record_kpis needs a non-empty mapping of label -> figure, e.g. {'Matched 已核对': 812}")
    return {
        "title": title,
        "kpis": [
            {"label": str(label), "value": _json_figure(value), "display": format_figure(value)}
            for label, value in kpis.items()
        ],
    }


def kpi_html(payload: Mapping[str, Any]) -> str:
    """A row of figure cards, inline-styled so it looks the same in JupyterLab and in the export."""
    cards = "".join(
        '<div style="border:1px solid #d0d7de;border-radius:8px;padding:8px 14px;min-width:9em;">'
        f'<div style="font-size:0.85em;color:#57606a;">{escape(k["label"])}</div>'
        f'<div class="recon-kpi-value" style="font-size:1.5em;font-weight:600;">{escape(k["display"])}</div>'
        "</div>"
        for k in payload["kpis"]
    )
    heading = f'<div style="font-weight:600;margin-bottom:6px;">{escape(payload["title"])}</div>' if payload.get("title") else ""
    return f'<div class="recon-kpis">{heading}<div style="display:flex;flex-wrap:wrap;gap:10px;">{cards}</div></div>'


def record_kpis(kpis: Mapping[str, Any], *, title: str | None = None) -> None:
    """Show a notebook's headline figures and hand them to ``recon report`` for the index.

    The figures are displayed as HTML cards and, in the same output, as JSON under :data:`KPI_MIME`,
    which the batch report reads back from the executed notebook. Use exact values: ints for counts,
    ``Decimal`` for money, strings for anything already formatted (e.g. ``"97.5%"``).

    Returns nothing, so the cell shows the figures once (:func:`kpi_payload` gives the JSON).
    """
    from IPython.display import display

    payload = kpi_payload(kpis, title=title)
    display({KPI_MIME: payload, "text/html": kpi_html(payload), "text/plain": _kpi_text(payload)}, raw=True)


def notebook_display() -> None:
    """Pandas display settings for report notebooks: whole explanations, no "..." cut in a cell.

    A report is read, not scrolled in a terminal: a rate-card explanation cut at 50 characters
    hides the reason for a dispute. Call once at the top of a notebook.
    """
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.max_rows", 200)


def rejected_rows(**rejects_by_input: "pd.DataFrame") -> Any:
    """All inputs' rejected rows in one table with an ``input`` column, or one sentence when none.

    A report must show that nothing was dropped: an empty table says nothing to a reader, so when every
    input loaded fully this says so in words, naming each input.
    """
    import pandas as pd
    from IPython.display import HTML

    parts = [frame.assign(input=name) for name, frame in rejects_by_input.items() if len(frame)]
    if not parts:
        names = ", ".join(escape(name) for name in rejects_by_input)
        return HTML(f"<p>No rows were rejected 没有被拒绝的行 ({names}): every row was loaded.</p>")
    table = pd.concat(parts, ignore_index=True)
    return table[["input", *[c for c in table.columns if c != "input"]]]


def _kpi_text(payload: Mapping[str, Any]) -> str:
    return "\n".join(f"{k['label']}: {k['display']}" for k in payload["kpis"])


def read_kpis(notebook: Any) -> list[dict]:
    """The figures a notebook recorded (the last :func:`record_kpis` output wins); [] if none."""
    found: list[dict] = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if KPI_MIME in data:
                payload = data[KPI_MIME]
                if isinstance(payload, str):
                    payload = json.loads(payload)
                found = list(payload.get("kpis", []))
    return found


# --------------------------------------------------------------------------------------------
# one notebook
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NotebookJob:
    """Everything a worker process needs to run and export one notebook."""

    notebook: str
    out_dir: str
    offered: dict
    kernel_name: str = "python3"
    timeout_s: int = 1800


@dataclass
class NotebookOutcome:
    """What happened to one notebook: status ``ok`` or ``failed``, its error, figures and files."""

    name: str
    title: str
    status: str
    error: str | None = None
    seconds: float = 0.0
    html: str | None = None
    executed: str | None = None
    kpis: list[dict] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


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
        extra_template_basedirs=[str(REPORT_TEMPLATES_DIR / "nbconvert")],
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
    executed = out_dir / f"{source.stem}.ipynb"
    html_path = out_dir / f"{source.stem}.html"
    kpi_path = out_dir / f"{source.stem}.kpis.json"
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

    title, kpis, html = _source_title(source), [], None
    if executed.exists():
        kpis = read_kpis(nbformat.read(str(executed), as_version=4))
        try:
            export_html(executed, html_path, title=title)
            html = html_path.name
        except Exception as exc:
            status = "failed"
            error = error or f"HTML export failed: {error_line(exc)}"
    if kpis:
        kpi_path.write_text(json.dumps({"notebook": source.stem, "kpis": kpis}, ensure_ascii=False, indent=2), encoding="utf-8")
    return NotebookOutcome(
        name=source.stem,
        title=title,
        status=status,
        error=error,
        seconds=round(time.perf_counter() - started, 1),
        html=html,
        executed=executed.name if executed.exists() else None,
        kpis=kpis,
        parameters=parameters,
    )


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
    """The notebooks a report runs: ``*.ipynb`` in the folder, sorted, checkpoints ignored."""
    if not notebooks_dir.is_dir():
        raise UsageError(f"notebooks folder {notebooks_dir} does not exist: pass --notebooks with the folder of .ipynb files")
    found = sorted(p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith("."))
    if not found:
        raise UsageError(f"notebooks folder {notebooks_dir} has no .ipynb files: pass --notebooks with the folder of report notebooks")
    return found


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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def input_files(data_dir: Path) -> list[dict]:
    """Every file under the data folder with its size and sha256, so a report can be traced to its inputs."""
    return [
        {"path": p.relative_to(data_dir).as_posix(), "bytes": p.stat().st_size, "sha256": sha256_of(p)}
        for p in sorted(data_dir.rglob("*"))
        if p.is_file()
    ]


def package_version() -> str:
    from . import __version__

    return __version__


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def run_jobs(jobs: list[NotebookJob], *, workers: int) -> list[NotebookOutcome]:
    """Run notebooks one after the other, or in ``workers`` processes; results keep the input order."""
    if workers <= 1 or len(jobs) <= 1:
        return [run_notebook(job) for job in jobs]
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(run_notebook, jobs))


def run_reports(
    *,
    period: str,
    data_dir: str | Path,
    out_dir: str | Path,
    notebooks_dir: str | Path | None = None,
    jobs: int = 1,
    kernel_name: str = "python3",
) -> ReportRun:
    """Run every notebook for ``period`` on ``data_dir`` and write ``out_dir/<period>/index.html``.

    Parameters
    ----------
    period : the month, ``YYYY-MM``.
    data_dir : folder with the downloads (e.g. the demo month made by ``recon demo``).
    out_dir : reports root; everything lands in ``out_dir/<period>/``.
    notebooks_dir : folder of ``.ipynb`` files; default the repository's ``notebooks/``.
    jobs : notebooks run at the same time (processes); 1 runs them one after the other.

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
    notebooks = find_notebooks(Path(notebooks_dir) if notebooks_dir is not None else DEFAULT_NOTEBOOKS_DIR)
    root = Path(out_dir)
    folder = prepare_out_dir(root / month)

    started = _now()
    offered = {"period": month, "data_dir": str(data.resolve()), "output_dir": str(root.resolve())}
    job_list = [
        NotebookJob(notebook=str(nb.resolve()), out_dir=str(folder.resolve()), offered=offered, kernel_name=kernel_name)
        for nb in notebooks
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


def write_manifest(run: ReportRun) -> Path:
    """``manifest.json``: what ran, on which inputs (sha256), with which version, and how it went."""
    manifest = {
        "period": run.period,
        "data_dir": str(run.data_dir.resolve()),
        "inputs": input_files(run.data_dir),
        "package": "recon-workbench",
        "package_version": package_version(),
        "notebooks": [
            {k: v for k, v in asdict(o).items() if k in ("name", "title", "status", "error", "seconds", "html", "parameters")}
            for o in run.outcomes
        ],
        "started": run.started,
        "finished": run.finished,
    }
    run.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return run.manifest


def render_index(run: ReportRun) -> str:
    """index.html from the Jinja2 template ``templates/report/index.html.j2``."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(REPORT_TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    try:
        template = env.get_template("index.html.j2")
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"report template {REPORT_TEMPLATES_DIR / 'index.html.j2'} is missing: reinstall the workbench") from exc
    return template.render(
        period=run.period,
        data_dir=str(run.data_dir),
        reports=run.outcomes,
        failed=len(run.failed),
        started=run.started,
        finished=run.finished,
        version=package_version(),
    )


def write_index(run: ReportRun) -> Path:
    run.index.write_text(render_index(run), encoding="utf-8")
    return run.index
