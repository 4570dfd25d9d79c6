"""The customer-statement scenario on the demo month: findings, balances, aging, statements, replies."""
from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from recon_helpers.errors import UsageError
from recon_helpers.scenarios import customer_statement
from recon_helpers.scenarios.base import age_bucket
from recon_helpers.scenarios.customer_statement import AGING_BUCKETS
from recon_helpers.scenarios.customer_statement.statement import render_html
from recon_helpers.testing import truth_rows


@pytest.fixture(scope="module")
def check(demo_dir):
    return customer_statement.check(period="2026-10", data_dir=demo_dir)


def test_finds_exactly_the_injected_problems(check, demo_dir):
    truth = truth_rows(demo_dir, "customer_statement")
    found = {(r.category, r.key) for r in check.exceptions().itertuples() if r.category != "out_of_scope"}
    assert found == {(t["category"], t["key"]) for t in truth}


def test_short_and_over_payments_and_unpaid_invoices_carry_their_amounts(check, demo_dir):
    truth = truth_rows(demo_dir, "customer_statement")
    diffs = check.payment_differences()
    assert {(r.category, r.invoice_no): r.difference for r in diffs.itertuples()} == {
        (t["category"], t["key"]): Decimal(t["amount_diff"]) for t in truth if t["category"] in ("amount_mismatch", "overpayment")}
    unpaid = check.unpaid_invoices()
    assert dict(zip(unpaid["invoice_no"], unpaid["amount"])) == {
        t["key"]: -Decimal(t["amount_diff"]) for t in truth if t["category"] == "missing_on_right"}
    breaches = check.credit_limit_breaches()
    assert dict(zip(breaches["customer_id"], breaches["excess"])) == {
        t["key"]: Decimal(t["amount_diff"]) for t in truth if t["category"] == "credit_limit_breach"}


def test_every_closing_balance_is_opening_plus_invoices_less_payments_and_credits(check):
    balances = check.balances()
    assert len(balances) == 20
    items = check.open_items()
    for b in balances.itertuples():
        assert b.closing == b.opening + b.invoices - b.payments - b.credits
        # and it is what the open items add up to, to the fen
        assert sum(items.loc[items["customer_id"] == b.customer_id, "amount"], Decimal("0.00")) == b.closing
    aging = check.aging().set_index("customer_id")
    assert (aging["balance"] == balances.set_index("customer_id")["closing"]).all()


def test_aging_buckets_by_days_past_due(check, demo_dir):
    got = [age_bucket(d, AGING_BUCKETS).split()[0] for d in (-30, 0, 1, 30, 31, 60, 61, 90, 91)]
    assert got == ["current", "current", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90", "over"]
    assert check.overdue().empty  # every October invoice is due in November or later
    late = customer_statement.check(period="2026-10", data_dir=demo_dir, as_of="2027-03-15")
    item = late.open_items().set_index("doc").loc["26332010000000000507"]  # due 2026-12-10
    assert item["days_past_due"] == 95 and item["bucket"].startswith("over 90")
    assert "26332010000000000507" in set(late.overdue()["doc"])


def test_without_a_due_date_an_invoice_is_due_after_the_customer_payment_terms(demo_dir):
    check = customer_statement.check(period="2026-10", data_dir=demo_dir)
    check.matched_invoices["due_date"] = pd.Series([None] * len(check.matched_invoices), dtype=check.matched_invoices["due_date"].dtype)
    item = check.open_items().set_index("doc").loc["26332010000000000507"]  # 2026-10-11, KH0010 has 60 days
    assert str(item["due"]) == "2026-12-10"


def test_a_credit_note_lowers_the_balance_and_shows_on_the_statement(demo_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_dir / "b2b", data / "b2b")
    book = openpyxl.load_workbook(data / "b2b" / "invoices.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    row = {"发票号码": "26332010000000099999", "开票日期": "2026-10-20", "客户编码": "KH0010", "客户名称": "合肥庐阳区百合婚庆用品店",
           "价税合计": -1200.5, "税额": -138.11, "到期日": "2026-10-20", "业务员": "刘洋", "订单号": "XS2610200099"}
    sheet.append([row.get(h) for h in header])
    book.save(data / "b2b" / "invoices.xlsx")
    check = customer_statement.check(period="2026-10", data_dir=data)
    b = check.balances().set_index("customer_id").loc["KH0010"]
    assert b["credits"] == Decimal("1200.50") and b["closing"] == Decimal("18545.70")
    lines = check.statement("KH0010").lines
    assert any(line.doc == "26332010000000099999" and line.credit == Decimal("1200.50") for line in lines)
    assert lines[-1].balance == b["closing"]


def test_a_statement_escapes_what_it_prints(check):
    statement = check.statement("KH0010")
    statement.customer["name"] = "<script>alert(1)</script>"
    html = render_html(statement, check.header)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "确认无误" in html and "如有不符请列明" in html


def test_a_date_inside_a_description_is_kept_on_one_line_and_still_escaped(check):
    statement = check.statement("KH0010")
    line = statement.lines[0]
    statement.lines[0] = type(line)(**{**line.__dict__, "description": "<b>发票</b> 到期 2026-12-02"})
    html = render_html(statement, check.header)
    assert '&lt;b&gt;发票&lt;/b&gt; 到期 <span class="date">2026-12-02</span>' in html
    assert "span.date { white-space: nowrap; }" in html.split("</style>")[0].replace("td.date, span.date", "span.date")


@pytest.mark.skipif(any(shutil.which(t) is None for t in ("pdftotext", "chromium", "fc-list")),
                    reason="needs chromium, poppler and fontconfig (.ci/system-packages)")
def test_the_pdf_statement_holds_this_customer_only_in_chinese_with_fonts_embedded(check, tmp_path):
    written = check.write_statements(tmp_path, customers=["KH0010", "KH0012"])
    folder = check.output_folder(tmp_path) / "statements"
    pdf = folder / written.set_index("customer_id").loc["KH0010", "pdf"]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "合肥庐阳区百合婚庆用品店" in text and "KH0010" in text and "2026-10" in text
    assert "19,746.20" in text and "确认无误" in text and "如有不符请列明" in text
    assert "青岛崂山温泉度假村有限公司" not in text and "KH0012" not in text and "34,761.40" not in text
    assert "\ufffd" not in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), "every font embedded"
    # no missing-glyph boxes: the page's first font (Noto Sans CJK SC, installed by .ci/system-packages) has a
    # glyph for every character the PDF holds, so Chromium never fell back to .notdef boxes
    wide = sorted({ord(c) for c in text if ord(c) > 127})
    charset = "Noto Sans CJK SC:charset=" + " ".join(f"{c:x}" for c in wide)
    assert subprocess.run(["fc-list", charset, "family"], capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 10_000


def test_a_disputed_statement_opens_the_next_period_with_the_disputed_line_open(check, tmp_path_factory, tmp_path):
    from recon_helpers.demo import generate

    out = tmp_path / "reports"
    check.record_reply(out, "KH0010", confirmed=False, disputed_lines=["26332010000000000507"], note="货未收齐")
    check.record_reply(out, "KH0002", confirmed=True)
    replies = check.replies(out).set_index("customer_id")
    assert replies.loc["KH0010", "reply"] == "disputed" and replies.loc["KH0002", "reply"] == "confirmed"
    assert replies.loc["KH0001", "reply"] == "no reply"
    carry = check.carry_forward(out)

    november = tmp_path_factory.mktemp("nov") / "demo"
    generate(november, period="2026-11", seed=7, orders=50)
    nxt = customer_statement.check(period="2026-11", data_dir=november, opening=carry)
    assert nxt.carried["KH0010"].confirmed_balance == Decimal("0.00")  # 19746.20 closing, all of it in dispute
    assert nxt.carried["KH0002"].confirmed_balance == Decimal("670.00") and nxt.carried["KH0002"].status == "confirmed"
    b = nxt.balances().set_index("customer_id")
    assert b.loc["KH0010", "opening"] == Decimal("19746.20")
    assert b.loc["KH0010", "closing"] == b.loc["KH0010", "opening"] + b.loc["KH0010", "invoices"] - b.loc["KH0010", "payments"] - b.loc["KH0010", "credits"]
    statement = nxt.statement("KH0010")
    assert [d["doc"] for d in statement.disputed_open] == ["26332010000000000507"]
    assert statement.totals["opening"] == Decimal("19746.20")
    items = nxt.open_items().set_index("doc")
    assert bool(items.loc["26332010000000000507", "in_dispute"]) and items.loc["26332010000000000507", "amount"] == Decimal("19746.20")


def test_replies_are_checked(check, tmp_path):
    with pytest.raises(UsageError, match="name the disputed lines"):
        check.record_reply(tmp_path, "KH0010", confirmed=False)
    check.record_reply(tmp_path, "KH0004", confirmed=False, disputed_lines=["NOT-OPEN"])
    with pytest.raises(UsageError, match="NOT-OPEN, which are not open items of 2026-10"):
        check.carry_forward(tmp_path)
    with pytest.raises(UsageError, match="no customer 'KH9999'"):
        check.record_reply(tmp_path, "KH9999", confirmed=True)


def test_the_workbook_lists_every_list(check, tmp_path):
    written = check.write(tmp_path)
    book = openpyxl.load_workbook(written["workbook"])
    assert len(book.sheetnames) == len(check.lists())
    sheet = book[book.sheetnames[0]]
    header = [c.value for c in sheet[1]]
    closing = header.index("closing") + 1
    assert sheet.cell(row=2, column=closing).number_format.startswith("#,##0.00")
    assert isinstance(sheet.cell(row=2, column=closing).value, (int, float, Decimal))


def test_the_preview_shows_the_largest_balance_in_a_frame_of_its_own(check):
    preview = check.preview()
    assert preview.customer_id == check.balances().sort_values("closing").iloc[-1]["customer_id"]
    html = preview._repr_html_()
    assert html.startswith("<iframe") and "<!DOCTYPE" not in html and "&lt;!DOCTYPE html&gt;" in html


def test_without_delivery_notes_the_statement_lists_invoices_and_payments(demo_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_dir / "b2b", data / "b2b")
    (data / "b2b" / "deliveries.xlsx").unlink()
    check = customer_statement.check(period="2026-10", data_dir=data)
    assert "deliveries" not in check.inputs and check.deliveries_not_invoiced().empty
    lines = check.statement("KH0010").lines
    assert lines and not any("送货单" in line.description for line in lines)


def test_a_bad_as_of_day_is_a_usage_error(demo_dir):
    with pytest.raises(UsageError, match=r"as_of='31/10/2026' is not a day: write it as YYYY-MM-DD"):
        customer_statement.check(period="2026-10", data_dir=demo_dir, as_of="31/10/2026")
