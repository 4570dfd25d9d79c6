"""The demo month's report in a real browser (playwright driving Debian's chromium, no browser download).

index.html and every page open with no console error and no request outside file://; every plotly
chart drew its points; a searchable table filters on a typed word; the index's figures equal each
run's summary.json; payloads stay text. A screenshot of the index is kept in test-artifacts/.
"""
from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebook

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("RECON_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
LOCAL_SCHEMES = ("file:", "blob:", "data:", "about:")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed (pip install playwright)")
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: install the Debian chromium package (.ci/system-packages)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


class Opened:
    """A page opened from disk, with what it logged and asked for."""

    def __init__(self, browser, path: Path):
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(800)

    @property
    def outside(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]


def pages(month: Path) -> list[Path]:
    return sorted(p for p in month.rglob("*.html") if p.name != "index.html")


def test_index_and_every_page_open_offline_without_errors(browser, demo_report):
    for path in [demo_report.month / "index.html", *pages(demo_report.month)]:
        opened = Opened(browser, path)
        assert opened.errors == [], (path.name, opened.errors[:3])
        assert opened.outside == [], (path.name, opened.outside[:3])
        assert opened.dialogs == [], f"{path.name}: a payload ran as script: {opened.dialogs}"
        opened.page.close()


def test_every_chart_drew_its_points(browser, demo_report):
    charted = 0
    for path in pages(demo_report.month):
        opened = Opened(browser, path)
        counts = opened.page.eval_on_selector_all(
            ".plotly-graph-div",
            "divs => divs.map(d => d.querySelector('svg.main-svg') ? d.querySelectorAll('.point, .trace path.js-line').length : -1)")
        assert all(n > 0 for n in counts), (path.name, counts)
        charted += len(counts)
        opened.page.close()
    assert charted >= 12, "the four courier pages hold three charts each"


def test_every_action_list_fits_a_laptop_window_without_scrolling_sideways(browser, demo_report):
    """At 1280 px an action list fits its page: long text wraps, columns are sized to what they hold."""
    for path in pages(demo_report.month):
        opened = Opened(browser, path)
        wide = opened.page.eval_on_selector_all(
            ".recon-table", "tables => tables.map(t => { const s = t.querySelector('.dt-scroll-body') || t;"
                            " return s.scrollWidth - s.clientWidth; }).filter(excess => excess > 2)")
        assert wide == [], f"{path.relative_to(demo_report.month)}: tables wider than the page by {wide} px"
        opened.page.close()


def test_a_searchable_table_filters_on_a_typed_word(browser, demo_report):
    page_path = demo_report.month / "courier_bill" / "sf" / "courier_bill.html"
    opened = Opened(browser, page_path)
    tables = opened.page.locator("div.dt-container")
    assert tables.count() >= 4, "each action list is a searchable table"
    fees = tables.nth(3)
    rows = fees.locator("tbody tr")
    before = rows.count()
    word = rows.nth(1).locator("td").first.inner_text().strip()
    assert before > 1 and word
    fees.locator("input[type=search]").fill(word)
    opened.page.wait_for_timeout(300)
    assert rows.count() == 1 and word in rows.first.inner_text()
    fees.locator("input[type=search]").fill("no-such-waybill-zzz")
    opened.page.wait_for_timeout(300)
    assert "No matching records" in fees.locator("tbody").inner_text()
    opened.page.close()


def expected_tile(summary: dict, recorded: list[dict] | None = None) -> dict[str, str]:
    """What a run's tile must say, from its summary.json (a collections run holds one summary per hop) and
    the auto-match rate its notebook states (kpis.json: over the rows in scope)."""
    hops = [summary] if "rows" in summary else [v for v in summary.values() if isinstance(v, dict) and "rows" in v]
    open_ = [c for h in hops for c in h["exceptions"] if c["category"] != "out_of_scope"]
    amount = sum((abs(Decimal(c["amount"])) for c in open_), Decimal("0.00"))
    stated = [k["display"] for k in recorded or [] if k["label"].startswith("Auto-match rate")]
    stated += [v for k, v in summary.get("kpis", {}).items() if k.startswith("Auto-match rate")]
    return {"rows": " + ".join(f"{h['rows']:,}" for h in hops),
            "auto_match_rate": stated[0] if stated else f"{100 * hops[0]['auto_match_rate']:.1f}%",
            "open_exceptions": f"{sum(c['rows'] for c in open_):,}", "open_amount": f"{amount:,.2f}"}


def test_index_figures_equal_each_summary_and_a_screenshot_is_kept(browser, demo_report):
    opened = Opened(browser, demo_report.month / "index.html")
    tiles = opened.page.locator("div.tile")
    runs = json.loads((demo_report.month / "manifest.json").read_text(encoding="utf-8"))["notebooks"]
    with_summary = [n for n in runs if (demo_report.month / n["name"] / n["run"] / "summary.json").is_file()]
    assert tiles.count() == len(with_summary) >= 12, "a tile for every scenario run that wrote a summary"
    for i in range(tiles.count()):
        tile = tiles.nth(i)
        scenario, run = tile.get_attribute("data-run").rsplit("-", 1)
        summary = json.loads((demo_report.month / scenario / run / "summary.json").read_text(encoding="utf-8"))
        kpis = demo_report.month / scenario / run / "kpis.json"
        recorded = json.loads(kpis.read_text(encoding="utf-8"))["kpis"] if kpis.is_file() else []
        expected = expected_tile(summary, recorded)
        shown = {f: tile.locator(f'[data-figure="{f}"]').inner_text().strip() for f in expected}
        assert shown == expected, (scenario, run)
        card = opened.page.locator(f"section#{scenario}-{run} .kpis .kpi", has_text="Auto-match rate")
        if card.count():
            assert card.first.locator(".value").inner_text().strip() == shown["auto_match_rate"], "tile and headline agree"
    alerts = json.loads((demo_report.month / "alerts.json").read_text(encoding="utf-8"))["alerts"]
    if alerts:
        assert opened.page.locator("#alerts li").count() == len(alerts)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-index.png"
    opened.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    opened.page.close()


def test_payloads_show_as_text(browser, demo_report):
    opened = Opened(browser, demo_report.month / "shared_probe" / "all" / "shared_probe.html")
    text = opened.page.locator("body").inner_text()
    assert "<img src=x onerror=alert(1)>" in text and "=cmd|' /C calc'!A0" in text
    assert opened.dialogs == []
    opened.page.close()


# --------------------------------------------------------------------------------------------
# what a reader sees (from looking at screenshots of the demo month)
# --------------------------------------------------------------------------------------------
def link_look(locator) -> dict:
    return locator.evaluate("a => { const s = getComputedStyle(a), b = getComputedStyle(document.body);"
                            " return {color: s.color, body: b.color, line: s.textDecorationLine}; }")


def test_the_files_box_and_footer_links_look_like_links(browser, demo_report):
    opened = Opened(browser, demo_report.month / "customer_statement" / "all" / "customer_statement.html")
    links = opened.page.locator("#recon-files a")
    assert links.count() >= 2, "the workbook and the statements"
    for locator in [links.nth(i) for i in range(links.count())] + [opened.page.locator("#recon-footer a").first]:
        look = link_look(locator)
        assert look["line"] == "underline" and look["color"] != look["body"], (locator.inner_text(), look)
    opened.page.close()


def test_pages_show_no_python_reprs_and_name_folders_by_their_label(browser, demo_report):
    for path in pages(demo_report.month):
        if path.parent.name == "statements":
            continue
        opened = Opened(browser, path)
        text = opened.page.locator("body").inner_text()
        assert "VBox(children" not in text and "PosixPath(" not in text, path.name
        if opened.page.locator(".recon-review").count():
            assert "<workspace>/" in opened.page.locator(".recon-review").first.inner_text(), path.name
            assert opened.page.locator(".recon-widget-note").count() == 1, "where to work the review instead of a widget"
        opened.page.close()


def test_list_headers_read_in_chinese_and_english_and_money_has_separators(browser, demo_report):
    opened = Opened(browser, demo_report.month / "customer_statement" / "all" / "customer_statement.html")
    headers = opened.page.locator("div.dt-container").first.locator("thead th").all_inner_texts()
    assert "客户编码 Customer" in [h.strip() for h in headers] and "customer_id" not in [h.strip() for h in headers]
    invoiced = opened.page.locator("div.dt-container").first.locator("tbody tr td:nth-child(4)").all_inner_texts()
    assert any("," in v for v in invoiced), invoiced
    opened.page.close()


def test_each_alert_on_the_index_says_what_to_do(browser, demo_report):
    opened = Opened(browser, demo_report.month / "index.html")
    items = opened.page.locator("#alerts li")
    assert items.count() >= 1
    for i in range(items.count()):
        assert items.nth(i).locator(".alert-message").inner_text().strip()
        assert items.nth(i).locator(".alert-action").inner_text().startswith("建议 To do:")
    opened.page.close()
