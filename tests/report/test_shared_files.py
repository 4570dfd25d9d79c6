"""Every shared file of the demo month's report: no personal number, no absolute path, no formula, no script.

Runs the real notebooks (plus the probe of conftest.py) once on a poisoned copy of the demo month.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from recon_helpers import catalog
from recon_helpers.sources.loading import load

pytestmark = pytest.mark.notebook

MOBILE = re.compile(r"(?<![\dA-Za-z])1[3-9]\d{9}(?![\dA-Za-z])")
ID_CARD = re.compile(r"(?<![\dA-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])")
SCRIPT = re.compile(r"<script\b.*?</script>", re.IGNORECASE | re.DOTALL)
SHARED_SUFFIXES = (".html", ".ipynb", ".csv", ".json", ".xlsx", ".pdf")


def shared_files(month: Path) -> list[Path]:
    return [p for p in sorted(month.rglob("*")) if p.is_file() and p.suffix in SHARED_SUFFIXES]


def file_text(path: Path) -> str:
    """A shared file as text; a workbook as the text of all its cells."""
    if path.suffix == ".pdf":
        import subprocess

        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        return "\n".join(str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    return path.read_text(encoding="utf-8-sig")


def outside_scripts(text: str) -> str:
    """What a reader sees of a page or notebook (scripts hold plotly.js and the table library)."""
    return SCRIPT.sub(" ", text)


def known_personal_numbers(data: Path) -> set[str]:
    """Account numbers of the demo's bank statement and the shop's consignee mobiles: each must not leak."""
    bank = load(str(data / "bank" / "bank_statement.csv")).table
    accounts = {str(a) for a in bank["counterparty_account"].dropna() if len(str(a)) >= 8}
    text = (data / "shop" / "taobao_orders.csv").read_bytes().decode("gbk")
    return accounts | set(MOBILE.findall(text))


def absolute_paths(report, text: str) -> list[str]:
    roots = {str(report.base), str(report.data), sys.prefix, str(Path.home()), str(Path(__file__).resolve().parents[2])}
    found = [root for root in roots if root in text]
    found += re.findall(r"(?<![\w.:/<>~-])/(?:tmp|home|root|work|Users|usr|opt|var)/[\w.-]+", text)
    found += re.findall(r"\b[A-Za-z]:\\{1,2}(?:Users|Windows|Program Files|ProgramData|[\w.-]{2,}\\)", text)
    return found


def test_the_report_ran(demo_report):
    assert demo_report.code == 0, demo_report.stderr
    assert (demo_report.month / "shared_probe" / "all" / "shared_probe.html").is_file()


def test_no_shared_file_holds_an_unmasked_mobile_id_card_or_account_number(demo_report):
    known = known_personal_numbers(demo_report.data)
    assert len(known) > 20, "the demo month has personal numbers to hide"
    # a statement of account prints our own company's receiving account from its header
    # (templates/statements/company.yaml): a company's published account, not a person's, meant to be there
    issuer = {str(v) for v in catalog.read_yaml(catalog.folder("statements") / "company.yaml").values()}
    known -= issuer
    leaks = {}
    for path in shared_files(demo_report.month):
        text = file_text(path)
        visible = outside_scripts(text)
        found = sorted({n for n in known if n in text} | set(MOBILE.findall(visible)) | set(ID_CARD.findall(visible)))
        if found:
            leaks[path.relative_to(demo_report.month).as_posix()] = found[:5]
    assert leaks == {}
    probe = (demo_report.month / "shared_probe" / "all" / "shared_probe.html").read_text(encoding="utf-8")
    assert "186****2937" in probe, "the printed mobile is shown masked"
    assert "梁*" in probe and "上海市***" in probe, "consignee names and street addresses are masked"


def test_no_shared_file_holds_an_absolute_path(demo_report):
    found = {p.relative_to(demo_report.month).as_posix(): absolute_paths(demo_report, file_text(p))[:3]
             for p in shared_files(demo_report.month)}
    assert {k: v for k, v in found.items() if v} == {}
    manifest = json.loads((demo_report.month / "manifest.json").read_text(encoding="utf-8"))
    inputs = {i["path"]: i["sha256"] for i in manifest["inputs"]}
    assert "bank/bank_statement.csv" in inputs and all(len(h) == 64 for h in inputs.values())
    assert manifest["package_version"] and manifest["run_id"] and manifest["parameters"]["mask"] is True


def test_payloads_are_text_in_pages_and_neutralised_in_csv_and_excel(demo_report):
    page = (demo_report.month / "shared_probe" / "all" / "shared_probe.html").read_text(encoding="utf-8")
    visible = outside_scripts(page)
    assert "<img src=x" not in visible and "<script>alert(2)" not in visible
    assert "&lt;img src=x onerror=alert(1)&gt;" in visible
    with (demo_report.month / "shared_probe" / "all" / "bank.csv").open(encoding="utf-8-sig", newline="") as fh:
        memos = [row["memo"] for row in csv.DictReader(fh)]
    assert "'=cmd|' /C calc'!A0" in memos and "=cmd|' /C calc'!A0" not in memos
    for path in demo_report.month.rglob("*.csv"):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            bad = [c for c in row if c and (c[0] in "=+@\t\r" or (c[0] == "-" and not re.fullmatch(r"-[\d,]+(\.\d+)?", c)))]
            assert not bad, f"{path.name}: {bad[:3]}"


def test_every_workbook_has_no_formula_and_its_totals_equal_the_summary(demo_report):
    for path in sorted(demo_report.month.rglob("*.xlsx")):  # the report's, the dispute lists, the scenarios' own
        book = openpyxl.load_workbook(path)
        formulas = [f"{ws.title}!{c.coordinate}" for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]
        assert formulas == [], path
    runs = json.loads((demo_report.month / "manifest.json").read_text(encoding="utf-8"))["notebooks"]
    workbooks = [demo_report.month / n["workbook"] for n in runs if n["workbook"]]
    assert len(workbooks) >= 14, "a workbook per scenario run"
    for path in workbooks:
        book = openpyxl.load_workbook(path)
        summary = json.loads((path.parent / "summary.json").read_text(encoding="utf-8"))
        if "exceptions" not in summary:  # a run of several hops (collections): its hops' summaries differ in shape
            continue
        listed = [dict(zip([c.value for c in book["汇总 Summary"][1]], r))
                  for r in book["汇总 Summary"].iter_rows(min_row=2, values_only=True) if r[0] and r[2]]
        assert [(r["category"], r["side"], r["rows"]) for r in listed] == \
               [(c["category"], c["side"], c["rows"]) for c in summary["exceptions"]]
        for row, c in zip(listed, summary["exceptions"]):
            ws = book[row["sheet"]]
            amount_col = 1 + [x.value for x in ws[1]].index("amount")
            totals = {ws.cell(r, 1).value: ws.cell(r, amount_col).value for r in range(2, ws.max_row + 1)
                      if str(ws.cell(r, 1).value or "").startswith("合计 Total · ")}
            assert f"合计 Total · {c['side']} ({c['rows']:,})" in totals, (path, row["sheet"], totals, c)
            assert totals[f"合计 Total · {c['side']} ({c['rows']:,})"] == pytest.approx(float(Decimal(c["amount"])), abs=0.001)
            assert Decimal(str(row["amount"])) == Decimal(c["amount"])
        assert book[book.sheetnames[1]].freeze_panes == "A2" and book[book.sheetnames[1]].auto_filter.ref


def test_pages_are_under_10_mb_and_say_what_ran(demo_report):
    pages = [p for p in demo_report.month.rglob("*.html") if p.name != "index.html"]
    assert pages and max(p.stat().st_size for p in pages) < 10 * 1024 * 1024
    for page in [p for p in pages if "statements" not in p.parts]:  # a statement is the customer's document
        html = page.read_text(encoding="utf-8")
        footer = html[html.index('id="recon-footer"'):]
        assert "recon-workbench" in footer and "personal data masked" in footer and "period=2026-10" in footer


def test_each_alert_is_on_the_index_and_on_its_run_page(demo_report):
    alerts = json.loads((demo_report.month / "alerts.json").read_text(encoding="utf-8"))["alerts"]
    assert alerts, "the demo month crosses at least one threshold (over-charges above CNY 50)"
    index = (demo_report.month / "index.html").read_text(encoding="utf-8")
    for alert in alerts:
        message = html.escape(alert["message"], quote=False)  # "3 rows > 0" is "3 rows &gt; 0" in the markup
        assert message in index
        page = (demo_report.month / alert["link"]).read_text(encoding="utf-8")
        box = page[page.index('id="recon-alerts"'):]
        assert message in box[:box.index("</div>")]
    raised = {a["name"] for a in alerts}
    assert {"credit_limit_breach", "unpaid_beyond_days", "overcharge"} <= raised, "each alert the demo month crosses"


def test_dispute_lists_and_statements_are_linked_from_the_index_and_the_run_page(demo_report):
    month = demo_report.month
    index = (month / "index.html").read_text(encoding="utf-8")
    disputes = sorted(month.glob("courier_bill/*/dispute_*.xlsx"))
    assert len(disputes) == 4, "a dispute list per carrier"
    for path in disputes:
        assert f'href="{path.relative_to(month).as_posix()}"' in index
        page = (path.parent / "courier_bill.html").read_text(encoding="utf-8")
        assert f'href="{path.name}"' in page[page.index('id="recon-files"'):]
    statements = month / "customer_statement" / "all" / "statements"
    pdfs = sorted(statements.glob("*.pdf"))
    assert len(pdfs) >= 10, "the report makes every customer's statement as PDF by default"
    assert 'href="customer_statement/all/statements/index.html"' in index
    listing = (statements / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{p.name}"' in listing for p in pdfs)
    page = (month / "customer_statement" / "all" / "customer_statement.html").read_text(encoding="utf-8")
    assert 'href="statements/index.html"' in page[page.index('id="recon-files"'):]


def test_a_customers_statement_shows_only_that_customers_data(demo_report):
    """Each PDF names its own customer and its own documents, and none of another customer's."""
    table = load(str(demo_report.data / "b2b" / "customers.csv")).table
    customers = dict(zip(table["customer_id"].astype(str), table["counterparty"].astype(str)))
    invoices = load(str(demo_report.data / "b2b" / "invoices.xlsx")).table
    docs = {c: set(invoices.loc[invoices["customer_id"] == c, "invoice_no"].astype(str)) for c in customers}
    statements = demo_report.month / "customer_statement" / "all" / "statements"
    checked = 0
    for pdf in sorted(statements.glob("*.pdf")):
        code = pdf.stem.split("_")[0]
        text = file_text(pdf)
        flat = "".join(text.split())
        assert code in text and customers[code] in flat
        others = [c for c in customers if c != code and (c in text or customers[c] in flat)]
        foreign = [d for c, ds in docs.items() if c != code for d in ds if d in flat]
        assert others == [] and foreign == [], (pdf.name, others[:3], foreign[:3])
        assert all(d in flat for d in docs[code]), f"{pdf.name} lists all its customer's invoices"
        checked += 1
    assert checked >= 10
