"""`recon report`: notebooks run with papermill, offline HTML without code, an index with figures.

Most tests use tiny notebooks written here (fast, independent of the scenario modules); the last
ones run the real notebooks on the small demo month.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import nbformat
import pytest

from recon_helpers import report
from recon_helpers.cli import main
from recon_helpers.errors import UsageError
from recon_helpers.scenarios import with_notebooks

EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']?https?:", re.IGNORECASE)
EXTERNAL_STYLESHEET = re.compile(r"<link[^>]*\bhref=[\"']?https?:", re.IGNORECASE)


def write_notebook(path: Path, *, title: str, parameters: str | None, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n\nA test notebook."))
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells.extend(nbformat.v4.new_code_cell(src) for src in cells)
    nbformat.write(nb, str(path))
    return path


HELLO_CELLS = [
    "from decimal import Decimal\nfrom recon_helpers import report\nimport plotly.graph_objects as go\nSECRET_INPUT_MARKER = 1",
    "report.record_kpis({'Rows 行数': 1234, 'Total 金额': Decimal('98765.40'), 'Period 期间': period})",
    "report.show(go.Figure(go.Bar(x=['a', 'b'], y=[1, 2])))",
    "report.show(go.Figure(go.Bar(x=['c'], y=[3])))",
]


def make_small_notebooks(folder: Path) -> Path:
    """A good notebook that records figures and draws two charts, and one that raises."""
    folder.mkdir()
    write_notebook(folder / "a_hello.ipynb", title="Hello 你好", cells=HELLO_CELLS,
                   parameters='period: str = "2000-01"  # month\ndata_dir: str = "nowhere"  # data\n'
                              'workspace: str = None  # review workspace')
    write_notebook(folder / "b_broken.ipynb", title="Broken 坏的", parameters=None,
                   cells=["x = 1", "raise ValueError('boom: the bill is missing')", "never = 'reached'"])
    return folder


def make_small_data(folder: Path) -> Path:
    (folder / "bank").mkdir(parents=True)
    (folder / "bank" / "statement.csv").write_text("交易日,金额\n2026-10-01,1.00\n", encoding="utf-8")
    (folder / "orders.csv").write_bytes(b"id,amount\n1,2.50\n")
    return folder


@pytest.fixture()
def small_notebooks(tmp_path: Path) -> Path:
    return make_small_notebooks(tmp_path / "notebooks")


@pytest.fixture()
def small_data(tmp_path: Path) -> Path:
    return make_small_data(tmp_path / "data")


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------
def test_figures_keep_money_exact_and_read_with_separators():
    payload = report.kpi_payload({"Billed 账单金额": Decimal("1234567.8"), "Lines": 12034, "Rate": "97.5%"})
    assert payload["kpis"] == [
        {"label": "Billed 账单金额", "value": "1234567.80", "display": "1,234,567.80"},
        {"label": "Lines", "value": 12034, "display": "12,034"},
        {"label": "Rate", "value": "97.5%", "display": "97.5%"},
    ]


def test_figures_must_be_a_non_empty_mapping():
    with pytest.raises(UsageError, match="record_kpis needs"):
        report.kpi_payload({})


def test_the_last_recorded_figures_are_read_back_from_a_notebook():
    nb = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell("")
    first.outputs = [nbformat.v4.new_output("display_data", data={report.KPI_MIME: report.kpi_payload({"a": 1})})]
    second = nbformat.v4.new_code_cell("")
    second.outputs = [nbformat.v4.new_output("display_data", data={report.KPI_MIME: report.kpi_payload({"b": 2})})]
    nb.cells = [first, second]
    assert report.read_kpis(nb) == [{"label": "b", "value": 2, "display": "2"}]
    assert report.read_kpis(nbformat.v4.new_notebook()) == []


# ---------------------------------------------------------------------------------------------
# the batch on small notebooks
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """`recon report` once on the two small notebooks: (exit code, stderr, the month's folder, data)."""
    base = tmp_path_factory.mktemp("small_run")
    notebooks, data, out = make_small_notebooks(base / "notebooks"), make_small_data(base / "data"), base / "reports"
    err, printed = io.StringIO(), io.StringIO()
    (base / "ws").mkdir()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(printed):
        code = main(["report", "--period", "2026-10", "--data", str(data), "--out", str(out), "--notebooks", str(notebooks),
                     "--workspace", str(base / "ws"), "--jobs", "1"])
    (base / "stdout.txt").write_text(printed.getvalue(), encoding="utf-8")
    return code, err.getvalue(), out / "2026-10", data


def test_a_failing_notebook_fails_the_command_but_not_the_others(small_run):
    code, err, folder, _ = small_run
    assert code == 1
    assert "b_broken" in err and "1 of 2 notebooks failed" in err
    assert (folder / "a_hello" / "all" / "a_hello.html").is_file()
    assert (folder / "b_broken" / "all" / "b_broken.html").is_file(), "the failed notebook is exported too, to show where it stopped"


def test_the_command_ends_with_a_table_of_status_time_and_figures(small_run):
    printed = (small_run[2].parents[1] / "stdout.txt").read_text(encoding="utf-8")
    assert "recon report 2026-10" in printed and "headline figures" in printed
    table = printed[:printed.index("ok     a_hello")]
    assert "a_hello" in table and "Rows 行数 1,234" in table and "FAILED" in table and "boom" in table


def test_a_failure_shows_its_cell_and_error_on_its_page_and_in_the_index(small_run):
    _, _, folder, _ = small_run
    page = (folder / "b_broken" / "all" / "b_broken.html").read_text(encoding="utf-8")
    box = page[page.index('id="recon-failed"'):]
    assert "raise ValueError(&#39;boom: the bill is missing&#39;)" in box or "raise ValueError('boom: the bill is missing')" in box
    assert "ValueError: boom: the bill is missing" in box
    index = (folder / "index.html").read_text(encoding="utf-8")
    broken = index[index.index('id="b_broken-all"'):]
    assert "Failing cell" in broken and "boom: the bill is missing" in broken[broken.index("Failing cell"):]


def test_the_workspace_is_passed_to_notebooks_that_declare_it(small_run):
    _, _, folder, _ = small_run
    executed = nbformat.read(str(folder / "a_hello" / "all" / "a_hello.ipynb"), as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'workspace = "<workspace>"' in injected.source, "the workspace is named by its label, not its path"
    assert str(folder.parents[1]) not in injected.source, "the executed notebook names no absolute path"
    broken = nbformat.read(str(folder / "b_broken" / "all" / "b_broken.ipynb"), as_version=4)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in broken.cells)


def test_pdf_prints_each_page_and_the_index_links_it(tmp_path, small_notebooks, small_data):
    pytest.importorskip("recon_helpers.pdf")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    browser()  # skips without Chromium
    run = report.run_reports(period="2026-10", data_dir=small_data, out_dir=tmp_path / "p", notebooks_dir=small_notebooks,
                             only=["a_hello"], pdf=True)
    pdf = run.out_dir / "a_hello" / "all" / "a_hello.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "98,765.40" in text and "recon-workbench" in text
    assert 'href="a_hello/all/a_hello.pdf"' in run.index.read_text(encoding="utf-8")


def test_no_mask_is_stated_on_the_index_the_pages_and_the_manifest(tmp_path, small_notebooks, small_data):
    run = report.run_reports(period="2026-10", data_dir=small_data, out_dir=tmp_path / "r", notebooks_dir=small_notebooks,
                             only=["a_hello"], mask=False)
    assert 'id="unmasked"' in run.index.read_text(encoding="utf-8")
    assert "personal data NOT masked" in (run.out_dir / "a_hello" / "all" / "a_hello.html").read_text(encoding="utf-8")
    assert json.loads(run.manifest.read_text(encoding="utf-8"))["masked"] is False


def test_index_shows_each_report_with_status_error_and_figures(small_run):
    _, _, folder, _ = small_run
    index = (folder / "index.html").read_text(encoding="utf-8")
    hello = index[index.index('id="a_hello-all"'):index.index('id="b_broken-all"')]
    broken = index[index.index('id="b_broken-all"'):]
    assert 'href="a_hello/all/a_hello.html"' in hello and "Hello 你好" in hello and "成功 ok" in hello
    assert "1,234" in hello and "98,765.40" in hello
    assert "失败 failed" in broken and "ValueError: boom: the bill is missing" in broken
    assert "1 of 2 report(s) failed" in index
    assert not EXTERNAL_SCRIPT.search(index) and not EXTERNAL_STYLESHEET.search(index)


def test_report_html_has_figures_and_charts_but_no_code_and_works_offline(small_run):
    _, _, folder, _ = small_run
    html = (folder / "a_hello" / "all" / "a_hello.html").read_text(encoding="utf-8")
    assert "98,765.40" in html and "1,234" in html
    assert html.count('class="plotly-graph-div"') == 2
    assert "SECRET_INPUT_MARKER" not in html and "record_kpis" not in html, "input cells must not be exported"
    assert not EXTERNAL_SCRIPT.search(html), "an external <script src> would break the report offline"
    assert not EXTERNAL_STYLESHEET.search(html)
    # plotly.js is embedded exactly once, before the first chart needs it
    assert len(re.findall(r"\* plotly\.js v\d", html)) == 1
    assert html.index("Plotly.newPlot") > html.index("* plotly.js v")


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    pytest.skip("no headless Chromium/Chrome on PATH to open the report offline")


def test_report_charts_draw_in_a_browser_without_network(small_run):
    """Open the exported page in headless Chromium whose every request goes to a dead proxy:
    plotly draws its SVG only if plotly.js ran from the page itself."""
    _, _, folder, _ = small_run
    dom = subprocess.run(
        [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
         "--virtual-time-budget=5000", "--dump-dom", (folder / "a_hello" / "all" / "a_hello.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout
    assert dom.count('<g class="trace bars"') == 2, "both bar charts are drawn offline"


def test_only_declared_parameters_are_injected(small_run):
    _, _, folder, _ = small_run
    kpis = json.loads((folder / "a_hello" / "all" / "kpis.json").read_text(encoding="utf-8"))["kpis"]
    assert {"label": "Period 期间", "value": "2026-10", "display": "2026-10"} in kpis
    executed = nbformat.read(str(folder / "a_hello" / "all" / "a_hello.ipynb"), as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'period = "2026-10"' in injected.source
    assert "data_dir = " in injected.source and "output_dir" not in injected.source


def test_manifest_records_inputs_with_hashes_and_each_status(small_run):
    _, _, folder, small_data = small_run
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["period"] == "2026-10"
    inputs = {i["path"]: i["sha256"] for i in manifest["inputs"]}
    assert inputs == {
        "bank/statement.csv": hashlib.sha256((small_data / "bank" / "statement.csv").read_bytes()).hexdigest(),
        "orders.csv": hashlib.sha256(b"id,amount\n1,2.50\n").hexdigest(),
    }
    statuses = {n["name"]: (n["status"], n["error"]) for n in manifest["notebooks"]}
    assert statuses == {"a_hello": ("ok", None), "b_broken": ("failed", "ValueError: boom: the bill is missing")}
    assert manifest["package_version"] and manifest["started"] <= manifest["finished"]


def test_parallel_jobs_give_the_same_outcomes(tmp_path, small_notebooks, small_data):
    run = report.run_reports(period="2026-10", data_dir=small_data, out_dir=tmp_path / "par", notebooks_dir=small_notebooks, jobs=2)
    assert [(o.name, o.status) for o in run.outcomes] == [("a_hello", "ok"), ("b_broken", "failed")]
    assert [k["display"] for k in run.outcomes[0].kpis] == ["1,234", "98,765.40", "2026-10"]


def test_a_rerun_replaces_the_previous_results(tmp_path, small_notebooks, small_data):
    out = tmp_path / "again"
    report.run_reports(period="2026-10", data_dir=small_data, out_dir=out, notebooks_dir=small_notebooks)
    write_notebook(small_notebooks / "b_broken.ipynb", title="Broken 坏的", parameters=None, cells=["fixed = True"])
    run = report.run_reports(period="2026-10", data_dir=small_data, out_dir=out, notebooks_dir=small_notebooks)
    assert run.ok
    assert "失败 failed" not in run.index.read_text(encoding="utf-8")


def test_a_folder_without_notebooks_is_a_usage_error(tmp_path, small_data):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="has no .ipynb files"):
        report.run_reports(period="2026-10", data_dir=small_data, out_dir=tmp_path / "r", notebooks_dir=tmp_path / "empty")


# ---------------------------------------------------------------------------------------------
# the real notebooks on the demo month
# ---------------------------------------------------------------------------------------------
@pytest.mark.notebook
def test_report_on_the_demo_month_runs_every_scenario_run(tmp_path, demo_dir, notebooks_dir, capsys):
    """The demo month's report holds one page per registry scenario x run (courier_bill: all four
    carriers), each in its own folder with its figures and tables, beside a broken extra notebook."""
    folder = tmp_path / "notebooks"
    shutil.copytree(notebooks_dir, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    write_notebook(folder / "zz_broken.ipynb", title="Broken", parameters=None, cells=["1 / 0"])
    out = tmp_path / "reports"

    code = main(["report", "--period", "2026-10", "--data", str(demo_dir), "--out", str(out), "--notebooks", str(folder), "--jobs", "2"])
    captured = capsys.readouterr()

    month = out / "2026-10"
    runs = [(s.name, run) for s in with_notebooks() for run in s.run_names()]
    assert ("courier_bill", "jdl") in runs and len([r for r in runs if r[0] == "courier_bill"]) == 4
    assert code == 1 and "zz_broken" in captured.err
    index = (month / "index.html").read_text(encoding="utf-8")
    for name, run in runs:
        page = month / name / run / f"{name}.html"
        html = page.read_text(encoding="utf-8")
        kpis = json.loads((month / name / run / "kpis.json").read_text(encoding="utf-8"))["kpis"]
        assert kpis, f"{name} {run} records its headline figures"
        for figure in kpis:
            assert figure["display"] in html
        assert 'class="plotly-graph-div"' in html
        assert "recon_helpers.load(" not in html and "import recon_helpers" not in html
        assert not EXTERNAL_SCRIPT.search(html)
        assert (month / name / run / "exceptions.csv").is_file()
        assert f'href="{name}/{run}/{name}.html"' in index
    assert index.count("成功 ok") == len(runs) and "ZeroDivisionError: division by zero" in index


def test_rejected_rows_says_so_in_words_when_nothing_was_rejected():
    import pandas as pd

    from recon_helpers.report import rejected_rows

    empty = pd.DataFrame(columns=["source_file", "source_row", "column", "value", "reason", "code"])
    note = rejected_rows(shipments=empty, bill=empty)
    assert "No rows were rejected" in note.data and "shipments, bill" in note.data
    one = pd.DataFrame([{"source_file": "b.xlsx", "source_row": 7, "column": "运费", "value": "x",
                         "reason": "not an amount", "code": "bad_amount"}])
    table = rejected_rows(shipments=empty, bill=one)
    assert list(table["input"]) == ["bill"] and list(table["source_row"]) == [7]
