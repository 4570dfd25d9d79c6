"""End to end in a real JupyterLab: run the courier notebook, match and write off through the widgets,
re-run it, and see both decisions applied and the open exceptions fall by three.

JupyterLab starts on a free localhost port with a token; Debian's chromium (installed by
.ci/system-packages, never downloaded) is driven headless by playwright. A screenshot of the app after
the re-run is kept in tests/review/artifacts/ (or $RECON_TEST_ARTIFACTS).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
except ImportError:  # the test says so and skips
    PlaywrightTimeout, sync_playwright = TimeoutError, None

from recon_helpers.review import journal
from recon_helpers.review.session import ReviewSession
from recon_helpers.review.workspace import Workspace

pytestmark = pytest.mark.notebook

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]
WAIT = 180_000  # ms: two cores shared by many


def _browser_or_skip():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no chromium at {CHROMIUM}: run .ci/system-packages (Debian package chromium) to run the browser test")
    if sync_playwright is None:
        pytest.skip("the playwright package is missing: pip install -e .[dev]")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook_for(folder: Path, *, data_dir: Path, workspace: Path, reports: Path) -> None:
    """The repository's notebook with its parameter defaults pointed at the test's folders (what a user edits)."""
    nb = json.loads((REPO / "notebooks" / "courier_bill.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    source = "".join(cell["source"])
    source = source.replace('"../data/demo"', json.dumps(str(data_dir))).replace('"../reports"', json.dumps(str(reports)))
    source = source.replace("workspace: str | None = None", f"workspace: str | None = {json.dumps(str(workspace))}")
    cell["source"] = source
    (folder / "courier_bill.ipynb").write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    port, token = _free_port(), "recon-test-token"
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"],
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("JupyterLab did not start: " + (tmp_path / "lab.log").read_text()[-2000:])
            time.sleep(0.5)
    yield root, url, token
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


_MAX_PROMPT = """() => Math.max(0, ...[...document.querySelectorAll('.jp-InputPrompt')]
    .map(p => parseInt((p.textContent.match(/\\d+/) || ['0'])[0])))"""


def _run_all(page) -> None:
    """Run > Run All Cells, again if the first click came before the kernel was ready (seen under load)."""
    before = page.evaluate(_MAX_PROMPT)
    for _attempt in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(f"() => ({_MAX_PROMPT})() > {before}", timeout=30_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError("Run All Cells did not start the notebook")


def _wait_idle(page) -> None:
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=WAIT)


def test_match_and_write_off_in_jupyterlab_survive_a_rerun(lab, demo_dir, sf_check, tmp_path):
    sync_playwright = _browser_or_skip()
    root, url, token = lab
    ws = tmp_path / "ws"
    _notebook_for(root, data_dir=demo_dir, workspace=ws, reports=tmp_path / "reports")
    plan = ReviewSession(sf_check, tmp_path / "plan", actor="plan")  # only to pick the rows; writes nothing
    open_before = plan.counts()["open"]
    amounts = plan.items.assign(size=plan.items["amount"].map(abs)).groupby("size")["side"].agg(list)
    size = next(a for a, sides in amounts.items() if sorted(sides) == ["left", "right"])  # a balanced 1-to-1 pair
    duplicate = plan.check.labels["duplicate_on_right"]
    code = "carrier_claim"
    code_option = f"{code} · {plan.policy.reason_codes[code].label}"
    artifacts = Path(os.environ.get("RECON_TEST_ARTIFACTS", REPO / "tests" / "review" / "artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            page.goto(f"{url}/lab/tree/courier_bill.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook", timeout=WAIT)
            page.wait_for_timeout(2000)
            if page.locator(".jp-Dialog .jp-mod-accept").count():  # the kernel dialog, when JupyterLab asks
                page.locator(".jp-Dialog .jp-mod-accept").click()
            _wait_idle(page)
            _run_all(page)
            app = page.locator(".widget-vbox", has_text="复核 Review").first
            app.wait_for(timeout=WAIT)
            _wait_idle(page)

            # a manual match: the two rows of one amount, left and right, balance
            app.locator(".widget-text", has_text="金额 ≥").locator("input").fill(str(size))
            app.locator(".widget-text", has_text="金额 ≤").locator("input").fill(str(size))
            rows = app.locator("table.dataTable tbody tr")
            page.wait_for_function("n => document.querySelectorAll('.widget-vbox table.dataTable tbody tr').length == n",
                                   arg=2, timeout=WAIT)
            rows.nth(0).click()
            rows.nth(1).click()
            app.locator(".widget-html", has_text="running difference").filter(has_text="已选 2 rows").wait_for(timeout=WAIT)
            assert "0.00" in app.locator(".widget-html", has_text="running difference").inner_text()
            app.locator("button", has_text="手工匹配 Match").click()
            app.locator(".widget-html", has_text="saved 已保存: match").wait_for(timeout=WAIT)

            # a write-off of a second charge, with a reason code
            app.locator(".widget-text", has_text="金额 ≥").locator("input").fill("")
            app.locator(".widget-text", has_text="金额 ≤").locator("input").fill("")
            app.locator(".widget-dropdown", has_text="类别 category").locator("select").select_option(value=duplicate)
            page.wait_for_function("n => document.querySelectorAll('.widget-vbox table.dataTable tbody tr').length == n",
                                   arg=len(sf_check.exceptions("duplicate_on_right")), timeout=WAIT)
            rows.nth(0).click()
            app.locator(".widget-html", has_text="已选 1 rows").wait_for(timeout=WAIT)
            app.locator(".widget-dropdown", has_text="原因 reason").locator("select").select_option(value=code_option)
            app.locator("button", has_text="核销 Write off").click()
            app.locator(".widget-html", has_text="saved 已保存: write_off").wait_for(timeout=WAIT)

            # re-run the whole notebook: both decisions come back from the workspace
            _run_all(page)
            page.wait_for_timeout(1000)
            _wait_idle(page)
            summary = page.locator(".recon-review").first
            summary.filter(has_text=f"open 待处理 {open_before - 3}").wait_for(timeout=WAIT)
            assert "resolved 已处理 3" in summary.inner_text()
            news = page.get_by_role("button", name="No", exact=True)
            if news.count():  # JupyterLab's news prompt would hide part of the app
                news.first.click()
            summary.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "review_after_rerun.png"), full_page=False)
        except Exception:
            page.screenshot(path=str(artifacts / "review_failure.png"), full_page=False)
            raise
        finally:
            browser.close()
    logged = journal.read(Workspace(ws))
    assert logged["action"].tolist() == ["match", "write_off"] and logged["reason_code"].tolist()[1] == code
