"""The customer-statement check: invoices against payments, balances per customer, aging, limits, statements."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from recon_helpers.canonical import DATE_DTYPE, INT_DTYPE, TEXT_DTYPE, TIME_DTYPE, money
from recon_helpers.engine import match
from recon_helpers.export import write_csv, write_text
from recon_helpers.periods import Period
from recon_helpers.scenarios.base import (
    Check,
    age_bucket,
    as_of_day,
    in_scope_match_rate,
    record_ages,
    refine_summary,
    total,
    write_workbook,
)
from recon_helpers.scenarios.customer_statement import replies as reply_book
from recon_helpers.scenarios.customer_statement.statement import (
    Company,
    Line,
    Statement,
    StatementPreview,
    company,
    render_html,
    write_statements,
)
from recon_helpers.scenarios.registry import scenario
from recon_helpers.sources.loading import load
from recon_helpers.sources.result import LoadResult

NAME = "customer_statement"
ZERO = Decimal("0.00")

#: receivables aging by days past the due date (from the payment terms)
AGING_BUCKETS = (("current 未到期", -100_000, 0), ("1-30 days 逾期1-30天", 1, 30), ("31-60 days 逾期31-60天", 31, 60),
                 ("61-90 days 逾期61-90天", 61, 90), ("over 90 days 逾期90天以上", 91, None))


def _carried_invoices(carried: dict[str, reply_book.Carried], source: str) -> pd.DataFrame:
    """Open invoices brought forward, as invoice rows the match can pay (negative items are credits on
    account and stay in the opening balance only)."""
    rows = [(i["doc"], i["date"], c.customer_id, i.get("name", ""), i["amount"], i.get("due", i["date"]))
            for c in carried.values() for i in c.items if Decimal(i["amount"]) > 0]
    frame = pd.DataFrame(rows, columns=["invoice_no", "txn_time", "customer_id", "counterparty", "amount", "due_date"])
    return pd.DataFrame({
        "invoice_no": pd.array(frame["invoice_no"].astype(str), dtype=TEXT_DTYPE),
        "txn_time": pd.Series(pd.to_datetime(frame["txn_time"])).astype(TIME_DTYPE),
        "customer_id": pd.array(frame["customer_id"].astype(str), dtype=TEXT_DTYPE),
        "counterparty": pd.array(frame["counterparty"].astype(str), dtype=TEXT_DTYPE),
        "amount": money(frame["amount"].tolist()),
        "due_date": pd.Series(pd.to_datetime(frame["due_date"]).dt.date).astype(DATE_DTYPE),
        "source_file": pd.array([source] * len(frame), dtype=TEXT_DTYPE),
        "source_row": pd.array(range(1, len(frame) + 1), dtype=INT_DTYPE),
    })


def check(*, period: str, data_dir: str | Path, opening: str | Path | None = None, as_of: str | None = None) -> StatementCheck:
    """Load the month's invoices, credit notes, deliveries, payments and customers; match; build balances.

    ``opening``: the previous period's ``carry_forward.json`` (or its folder): its open items are
    invoices the month's payments may pay, its balances the customers' opening. ``as_of`` dates the
    aging (YYYY-MM-DD; the period's last day by default).
    """
    entry = scenario(NAME)
    # delivery notes are optional: without them the statement lists invoices and payments only
    inputs: dict[str, LoadResult] = {name: load(entry.input_path(name, data_dir)) for name in entry.inputs
                                     if name != "deliveries" or entry.input_path(name, data_dir).is_file()}
    invoices = inputs["invoices"].table
    is_credit = (invoices["amount"] < 0).fillna(False).to_numpy(dtype=bool)
    carried: dict[str, reply_book.Carried] = {}
    to_match = invoices[~is_credit]
    if opening:
        _, carried = reply_book.read_carry_forward(opening)
        brought = _carried_invoices(carried, str(reply_book.CARRY_FILE))
        to_match = pd.concat([brought, to_match], ignore_index=True) if len(brought) else to_match
    result = match(to_match.reset_index(drop=True), inputs["payments"].table, entry.recipes[0])
    the_period = Period.parse(period)
    return StatementCheck(scenario=entry, period=the_period, data_dir=Path(data_dir), result=result, inputs=inputs,
                          matched_invoices=to_match.reset_index(drop=True), credit_notes=invoices[is_credit],
                          carried=carried, header=company(),
                          as_of=as_of_day(as_of, the_period))


@dataclass
class StatementCheck(Check):
    """The month's receivables (see :mod:`recon_helpers.scenarios.customer_statement`)."""

    matched_invoices: pd.DataFrame | None = None
    credit_notes: pd.DataFrame | None = None
    carried: dict[str, reply_book.Carried] = field(default_factory=dict)
    header: Company | None = None
    as_of: dt.date | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def customers(self) -> pd.DataFrame:
        return self.inputs["customers"].table

    @property
    def payments(self) -> pd.DataFrame:
        return self.inputs["payments"].table

    @property
    def auto_match_rate(self) -> str:
        """Rows in scope matched automatically (rows the recipe leaves out of scope left out)."""
        return in_scope_match_rate([self.result])

    # -- findings -------------------------------------------------------------------------------
    def match_exceptions(self) -> pd.DataFrame:
        """The match's exceptions as a collector reads them: a pair paid above the invoice is an
        ``overpayment`` (the engine calls every difference amount_mismatch), and a payment row of a
        pair carries the invoice number it pays in ``key`` (its own reference in ``row_key``)."""
        if "exceptions" in self._cache:
            return self._cache["exceptions"]
        exc = self.result.exceptions.copy()
        exc["row_key"] = exc["key"]
        grouped = exc.dropna(subset=["group_id"])
        sums = grouped.groupby(["group_id", "side"])["amount"].agg(lambda s: sum(s.tolist(), ZERO)).unstack()
        over = set(sums.index[(sums.get("right", ZERO) > sums.get("left", ZERO))]) if len(sums) else set()
        left_key = grouped[grouped["side"] == "left"].drop_duplicates("group_id").set_index("group_id")["key"]
        pair = exc["group_id"].isin(list(over)).fillna(False).to_numpy(dtype=bool)
        exc.loc[pair & (exc["category"] == "amount_mismatch").to_numpy(dtype=bool), "category"] = "overpayment"
        right_pair = ((exc["side"] == "right") & exc["group_id"].isin(list(left_key.index))).fillna(False).to_numpy(dtype=bool)
        exc.loc[right_pair, "key"] = exc.loc[right_pair, "group_id"].map(left_key)
        self._cache["exceptions"] = exc
        return exc

    @property
    def exception_table(self) -> pd.DataFrame:
        """Exceptions of the match and the credit-limit breaches (side ``customer``)."""
        return pd.concat([self.match_exceptions(), self._breach_rows()], ignore_index=True)

    def _breach_rows(self) -> pd.DataFrame:
        b = self.credit_limit_breaches()
        return pd.DataFrame({"side": "customer", "source_file": self.inputs["customers"].report.source_file,
                             "source_row": b["source_row"], "key": b["customer_id"], "amount": b["excess"],
                             "category": "credit_limit_breach",
                             "detail": [f"balance {c} above the credit limit {lim} by {e}" for c, lim, e in
                                        zip(b["closing"], b["credit_limit"], b["excess"])],
                             "row_key": b["customer_id"]})

    def _invoice_rows(self, category: str) -> pd.DataFrame:
        exc = self.match_exceptions()
        rows = exc[((exc["category"] == category) & (exc["side"] == "left")).fillna(False).to_numpy(dtype=bool)]
        inv = self._invoices_by_row()
        return inv.loc[list(zip(rows["source_file"], rows["source_row"]))].reset_index(drop=True) if len(rows) else inv.iloc[0:0]

    def _invoices_by_row(self) -> pd.DataFrame:
        """The matched invoices indexed by (file, row): invoices brought forward come from another file."""
        return self.matched_invoices.set_index(["source_file", "source_row"], drop=False)

    def unpaid_invoices(self) -> pd.DataFrame:
        """Invoices no payment pays."""
        return self._invoice_rows("missing_on_right")[["invoice_no", "customer_id", "counterparty", "txn_time", "due_date",
                                                        "amount", "source_row"]]

    def payment_differences(self) -> pd.DataFrame:
        """Short payments and overpayments: invoice(s), paid, difference = paid - invoiced."""
        exc = self.match_exceptions()
        rows = exc[exc["category"].isin(["amount_mismatch", "overpayment"]).fillna(False).to_numpy(dtype=bool)]
        txn_of = dict(zip(self.payments["source_row"], self.payments["txn_id"]))
        out = []
        for group, part in rows.groupby("group_id", sort=True):
            left, right = part[part["side"] == "left"], part[part["side"] == "right"]
            invoiced, paid = total(left["amount"]), total(right["amount"])
            out.append([", ".join(left["key"].astype(str)), part["category"].iloc[0], invoiced, paid, paid - invoiced,
                        ", ".join(str(txn_of.get(r, r)) for r in right["source_row"])])
        frame = pd.DataFrame(out, columns=["invoice_no", "category", "invoiced", "paid", "difference", "payment"])
        frame.insert(2, "what", frame["category"].map(self.labels))
        for column in ("invoiced", "paid", "difference"):
            frame[column] = money(frame[column].tolist())
        return frame.sort_values(["category", "invoice_no"], kind="stable").reset_index(drop=True)

    def unapplied_payments(self) -> pd.DataFrame:
        """Payments that pay no invoice (money on account until someone says what it is for)."""
        exc = self.match_exceptions()
        rows = exc[((exc["category"] == "missing_on_left") & (exc["side"] == "right")).fillna(False).to_numpy(dtype=bool)]
        pays = self.payments.set_index("source_row", drop=False)
        return pays.loc[rows["source_row"].tolist()].reset_index(drop=True) if len(rows) else pays.iloc[0:0]

    # -- open items, balances, aging ------------------------------------------------------------
    def open_items(self) -> pd.DataFrame:
        """What each customer still owes, item by item (credits on account negative): unpaid invoices,
        the unpaid part of short-paid ones, overpayments, unapplied payments and credit notes."""
        if "open" in self._cache:
            return self._cache["open"]
        inv = self._invoices_by_row()
        exc = self.match_exceptions()
        items: list[list] = []

        terms = dict(zip(self.customers["customer_id"], self.customers["payment_terms_days"]))

        def due_of(row: pd.Series) -> dt.date:
            """The invoice's 到期日, else its date plus the customer's payment terms (账期)."""
            if "due_date" in row.index and not pd.isna(row["due_date"]):
                return row["due_date"]
            days = terms.get(row["customer_id"])
            return pd.Timestamp(row["txn_time"]).date() + dt.timedelta(days=0 if days is None or pd.isna(days) else int(days))

        def invoice_item(row: pd.Series, amount: Decimal, what: str) -> None:
            items.append([row["customer_id"], row["invoice_no"], pd.Timestamp(row["txn_time"]).date(), due_of(row),
                          amount, what])

        for r in exc[((exc["category"] == "missing_on_right") & (exc["side"] == "left")).fillna(False).to_numpy(dtype=bool)].itertuples():
            invoice_item(inv.loc[(r.source_file, r.source_row)], r.amount, "unpaid invoice 未付发票")
        paired = exc[exc["category"].isin(["amount_mismatch", "overpayment"]).fillna(False).to_numpy(dtype=bool)]
        pays = self.payments.set_index("source_row", drop=False)
        for _, part in paired.groupby("group_id", sort=True):
            left, right = part[part["side"] == "left"], part[part["side"] == "right"]
            gap = total(left["amount"]) - total(right["amount"])
            if gap > 0:
                last = inv.loc[list(zip(left["source_file"], left["source_row"]))].sort_values("txn_time").iloc[-1]
                invoice_item(last, gap, "short payment 少付余额")
            elif gap < 0:
                pay = pays.loc[right["source_row"].iloc[0]]
                items.append([pay["customer_id"], pay["txn_id"], pd.Timestamp(pay["txn_time"]).date(),
                              pd.Timestamp(pay["txn_time"]).date(), gap, "overpayment 多付"])
        for pay in self.unapplied_payments().itertuples():
            items.append([pay.customer_id, pay.txn_id, pd.Timestamp(pay.txn_time).date(), pd.Timestamp(pay.txn_time).date(),
                          -pay.amount, "payment on account 未核销回款"])
        for note in self.credit_notes.itertuples():
            items.append([note.customer_id, note.invoice_no, pd.Timestamp(note.txn_time).date(), pd.Timestamp(note.txn_time).date(),
                          note.amount, "credit note 红字发票"])
        for c in self.carried.values():  # credits on account brought forward (open invoices were matched above)
            for i in c.items:
                if Decimal(i["amount"]) < 0:
                    items.append([c.customer_id, i["doc"], dt.date.fromisoformat(str(i["date"])),
                                  dt.date.fromisoformat(str(i.get("due", i["date"]))), Decimal(i["amount"]), i.get("what", "")])
        frame = pd.DataFrame(items, columns=["customer_id", "doc", "date", "due", "amount", "what"])
        frame["days_past_due"] = [(self.as_of - d).days for d in frame["due"]]
        frame["bucket"] = [age_bucket(d, AGING_BUCKETS) if a > 0 else "credit 贷方余额" for d, a in
                           zip(frame["days_past_due"], frame["amount"])]
        disputed = {i["doc"]: i for c in self.carried.values() for i in c.items if i.get("disputed")}
        frame["in_dispute"] = frame["doc"].isin(list(disputed))
        frame["amount"] = money(frame["amount"].tolist())
        self._cache["open"] = frame.sort_values(["customer_id", "date", "doc"], kind="stable").reset_index(drop=True)
        return self._cache["open"]

    def opening_balances(self) -> dict[str, Decimal]:
        return {c: carried.closing for c, carried in self.carried.items()}

    def balances(self) -> pd.DataFrame:
        """Per customer: opening + invoices - payments - credit notes = closing, with the credit limit."""
        if "balances" in self._cache:
            return self._cache["balances"]
        period_invoices = self.matched_invoices[self.matched_invoices["source_file"] != reply_book.CARRY_FILE]
        opening = self.opening_balances()
        rows = []
        for c in self.customers.itertuples():
            code = c.customer_id
            invoiced = total(period_invoices.loc[(period_invoices["customer_id"] == code).fillna(False).to_numpy(dtype=bool), "amount"])
            paid = total(self.payments.loc[(self.payments["customer_id"] == code).fillna(False).to_numpy(dtype=bool), "amount"])
            credits = -total(self.credit_notes.loc[(self.credit_notes["customer_id"] == code).fillna(False).to_numpy(dtype=bool), "amount"])
            start = opening.get(code, ZERO)
            rows.append([code, c.counterparty, start, invoiced, paid, credits, start + invoiced - paid - credits,
                         c.credit_limit, c.payment_terms_days, c.salesperson, c.source_row])
        out = pd.DataFrame(rows, columns=["customer_id", "name", "opening", "invoices", "payments", "credits", "closing",
                                          "credit_limit", "terms_days", "salesperson", "source_row"])
        for column in ("opening", "invoices", "payments", "credits", "closing", "credit_limit"):
            out[column] = money(out[column].tolist())
        self._cache["balances"] = out
        return out

    def aging(self) -> pd.DataFrame:
        """Receivables aging per customer: open invoices by days past due; credits on account apart."""
        items = self.open_items()
        labels = [b[0] for b in AGING_BUCKETS]
        rows = []
        for b in self.balances().itertuples():
            mine = items[items["customer_id"] == b.customer_id]
            by_bucket = [total(mine.loc[mine["bucket"] == label, "amount"]) for label in labels]
            credit = total(mine.loc[mine["amount"] < 0, "amount"])
            rows.append([b.customer_id, b.name, *by_bucket, credit, b.closing])
        out = pd.DataFrame(rows, columns=["customer_id", "name", *labels, "credit 贷方余额", "balance"])
        for column in out.columns[2:]:
            out[column] = money(out[column].tolist())
        return out

    def overdue(self) -> pd.DataFrame:
        """Open invoices past their due date, most overdue first: the collector's call list."""
        items = self.open_items()
        late = items[(items["days_past_due"] > 0) & (items["amount"] > 0)]
        names = dict(zip(self.customers["customer_id"], self.customers["counterparty"]))
        late = late.assign(name=late["customer_id"].map(names))
        return late.sort_values(["days_past_due", "amount"], ascending=False, kind="stable").reset_index(drop=True)

    def credit_limit_breaches(self) -> pd.DataFrame:
        """Customers whose balance is above their credit limit: stop shipping on credit, call them."""
        b = self.balances()
        over = b[(b["closing"] > b["credit_limit"]).fillna(False).to_numpy(dtype=bool)].copy()
        over["excess"] = money([c - lim for c, lim in zip(over["closing"], over["credit_limit"])]).array
        return over[["customer_id", "name", "closing", "credit_limit", "excess", "salesperson", "source_row"]].reset_index(drop=True)

    @property
    def deliveries(self) -> pd.DataFrame:
        """The period's delivery notes (empty when the data folder has none)."""
        if "deliveries" in self.inputs:
            return self.inputs["deliveries"].table
        return pd.DataFrame({"doc_no": pd.Series(dtype="string"), "invoice_no": pd.Series(dtype="string"),
                             "amount": money([])})

    def deliveries_not_invoiced(self) -> pd.DataFrame:
        """Delivery notes whose invoice is not among the period's invoices, and invoices whose delivery
        notes add up to another amount (difference = delivered - invoiced)."""
        deliveries = self.deliveries
        invoiced = dict(zip(self.inputs["invoices"].table["invoice_no"], self.inputs["invoices"].table["amount"]))
        rows = []
        for invoice_no, part in deliveries.groupby("invoice_no", dropna=False):
            delivered = total(part["amount"])
            billed = invoiced.get(invoice_no)
            if billed is None or delivered != billed:
                rows.append([invoice_no, ", ".join(part["doc_no"].astype(str)), delivered, billed,
                             delivered - (billed or ZERO), "not invoiced 未开票" if billed is None else "amount differs 金额不符"])
        out = pd.DataFrame(rows, columns=["invoice_no", "delivery_notes", "delivered", "invoiced", "difference", "problem"])
        for column in ("delivered", "invoiced", "difference"):
            out[column] = money(out[column].tolist())
        return out

    # -- statements -----------------------------------------------------------------------------
    def statement(self, customer_id: str) -> Statement:
        """One customer's statement of account for the period."""
        balances = self.balances().set_index("customer_id", drop=False)
        if customer_id not in balances.index:
            from recon_helpers.errors import UsageError

            raise UsageError(f"no customer {customer_id!r} in b2b/customers.csv; customers: {', '.join(balances.index[:5])} ...")
        b = balances.loc[customer_id]
        invoices = self.inputs["invoices"].table
        invoices = invoices[(invoices["customer_id"] == customer_id).fillna(False).to_numpy(dtype=bool)]
        deliveries = self.deliveries
        notes_of = deliveries.groupby("invoice_no")["doc_no"].agg(lambda s: "、".join(s.astype(str))).to_dict()
        pays = self.payments[(self.payments["customer_id"] == customer_id).fillna(False).to_numpy(dtype=bool)]
        entries = []
        for i in invoices.itertuples():
            day = pd.Timestamp(i.txn_time).date()
            if i.amount < 0:
                entries.append((day, 1, i.invoice_no, "红字发票 / 折让 Credit note", None, -i.amount))
            else:
                notes = notes_of.get(i.invoice_no, "")
                entries.append((day, 0, i.invoice_no, f"销售发票 Invoice，到期 {i.due_date}" + (f"；送货单 {notes}" if notes else ""),
                                i.amount, None))
        for p in pays.itertuples():
            memo = "" if pd.isna(p.memo) else f"（{p.memo}）"
            entries.append((pd.Timestamp(p.txn_time).date(), 2, p.txn_id, f"收款 Payment {memo}", None, p.amount))
        balance = b.opening
        lines = []
        for day, _, doc, description, debit, credit in sorted(entries, key=lambda e: (e[0], e[1], str(e[2]))):
            balance = balance + (debit or ZERO) - (credit or ZERO)
            lines.append(Line(str(day), str(doc), description, debit, credit, balance))
        items = self.open_items()
        mine = items[(items["customer_id"] == customer_id) & (items["amount"] > 0)]
        open_rows = [{"doc": r.doc, "date": str(r.date), "due": str(r.due), "days_past_due": max(r.days_past_due, 0),
                      "bucket": r.bucket, "open": r.amount} for r in mine.itertuples()]
        carried = self.carried.get(customer_id)
        disputed = [{"doc": i["doc"], "note": i.get("note", ""), "amount": Decimal(i["amount"])}
                    for i in (carried.items if carried else []) if i.get("disputed")]
        totals = {"opening": b.opening, "invoices": b.invoices, "payments": b.payments, "credits": b.credits, "closing": b.closing}
        period = {"label": str(self.period), "first_day": str(self.period.first_day), "last_day": str(self.period.last_day)}
        customer = {"code": customer_id, "name": b["name"], "terms": b.terms_days, "limit": b.credit_limit,
                    "salesperson": b.salesperson}
        return Statement(customer, period, lines, totals, open_rows, disputed, issued=str(self.as_of))

    def preview(self, customer_id: str | None = None) -> StatementPreview:
        """One statement as the customer will see it (shown inline in the notebook and the report);
        the customer who owes the most by default."""
        if customer_id is None:
            b = self.balances()
            customer_id = str(b.sort_values("closing", ascending=False, kind="stable")["customer_id"].iloc[0])
        return StatementPreview(render_html(self.statement(customer_id), self.header), customer_id)

    def write_statements(self, output_dir: str | Path, *, pdf: bool = True, customers: list[str] | None = None) -> pd.DataFrame:
        """Write every customer's statement (HTML, and PDF unless ``pdf=False``) into
        ``<run folder>/statements/``; returns what was written per customer."""
        folder = self.output_folder(output_dir) / "statements"
        codes = customers or list(self.balances()["customer_id"])
        written = write_statements([self.statement(code) for code in codes], self.header, folder, pdf=pdf)
        closing = self.balances().set_index("customer_id")["closing"]
        rows = [[code, closing.loc[code], paths["html"].name, paths["pdf"].name if "pdf" in paths else ""]
                for code, paths in zip(codes, written)]
        out = pd.DataFrame(rows, columns=["customer_id", "closing", "html", "pdf"])
        out["closing"] = money(out["closing"].tolist())
        return out

    # -- replies and the next period --------------------------------------------------------------
    def record_reply(self, output_dir: str | Path, customer_id: str, *, confirmed: bool,
                     disputed_lines: list[str] | tuple[str, ...] = (), note: str = "", received: str = "") -> Path:
        """Record a customer's reply (kept in the run folder's replies.json across re-runs)."""
        if customer_id not in set(self.balances()["customer_id"]):
            from recon_helpers.errors import UsageError

            raise UsageError(f"no customer {customer_id!r} in this period's statements")
        reply = reply_book.Reply(customer_id, "confirmed" if confirmed else "disputed", tuple(disputed_lines), note, received)
        return reply_book.save_reply(self.output_folder(output_dir), reply)

    def replies(self, output_dir: str | Path) -> pd.DataFrame:
        """Every customer's reply so far (``no reply`` where none was recorded)."""
        got = reply_book.read_replies(self.output_folder(output_dir))
        rows = [[c, n, got[c].status if c in got else "no reply", "、".join(got[c].disputed_lines) if c in got else "",
                 got[c].note if c in got else ""] for c, n in zip(self.balances()["customer_id"], self.balances()["name"])]
        return pd.DataFrame(rows, columns=["customer_id", "name", "reply", "disputed_lines", "note"])

    def carry_forward(self, output_dir: str | Path) -> Path:
        """Write the next period's opening (carry_forward.json in the run folder) from the open items and
        the replies: the next check reads it with ``opening=<that file>``."""
        folder = self.output_folder(output_dir)
        items = [{"customer_id": r.customer_id, "doc": str(r.doc), "date": str(r.date), "due": str(r.due), "amount": r.amount,
                  "what": r.what} for r in self.open_items().itertuples()]
        closings = dict(zip(self.balances()["customer_id"], self.balances()["closing"]))
        carried = reply_book.carry_forward(str(self.period), items, closings, reply_book.read_replies(folder))
        return reply_book.write_carry_forward(folder, str(self.period), carried)

    # -- figures and files ----------------------------------------------------------------------
    def kpis(self) -> dict[str, Any]:
        b = self.balances()
        breaches = self.credit_limit_breaches()
        overdue = self.overdue()
        diffs = self.payment_differences()
        return {
            "Customers 客户数": len(b),
            "Invoiced 本期开票": total(b["invoices"]),
            "Received 本期回款": total(b["payments"]),
            "Closing receivables 期末应收": total(b["closing"]),
            "Unpaid invoices 未回款发票": len(self.unpaid_invoices()),
            "Short paid 少付": -total(diffs.loc[diffs["category"] == "amount_mismatch", "difference"]),
            "Overpaid 多付": total(diffs.loc[diffs["category"] == "overpayment", "difference"]),
            "Overdue 逾期金额": total(overdue["amount"]),
            "Over credit limit 超额度客户": len(breaches),
            "Auto-match rate 自动核对率": self.auto_match_rate,
        }

    def lists(self) -> dict[str, pd.DataFrame]:
        return {"balances 余额": self.balances(), "aging 账龄": self.aging(), "overdue 逾期": self.overdue(),
                "credit limit 超额度": self.credit_limit_breaches(), "unpaid 未回款": self.unpaid_invoices(),
                "short-over 少付多付": self.payment_differences(), "on account 未核销": self.unapplied_payments(),
                "open items 未清项": self.open_items(), "deliveries 送货": self.deliveries_not_invoiced()}

    def write(self, output_dir: str | Path) -> dict[str, Path]:
        """Links, exceptions (with the credit-limit breaches), summary.json and the Excel workbook."""
        folder = self.output_folder(output_dir)
        paths = {"links": write_csv(self.result.links, folder / "links.csv"),
                 "exceptions": write_csv(self.exceptions()[[*self.exception_columns, "row_key"]].astype({"candidates": "string"}),
                                         folder / "exceptions.csv")}
        summary = self.result.summary.to_dict()
        summary["kpis"] = {k: str(v) for k, v in self.kpis().items()}
        paths["summary"] = folder / "summary.json"
        write_text(paths["summary"], json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        refine_summary(paths["summary"], self.exceptions())  # counts as exceptions.csv lists them
        record_ages(paths["summary"], "overdue_invoices", self.overdue(), days="days_past_due")  # for the alerts
        paths["workbook"] = write_workbook(self.lists(), folder / f"{NAME}.xlsx")
        return paths
