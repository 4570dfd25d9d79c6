"""A customer's statement of account (对账单): its lines, rendered to HTML (jinja2, every value escaped)
and to PDF (Chromium via :mod:`recon_helpers.pdf`, Noto Sans CJK embedded; a month's statements are
printed by one browser, :func:`write_statements`).

The company header is data (``templates/statements/company.yaml``), the page is
``templates/statements/statement.html.j2``; money is printed with thousands separators and two places.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from markupsafe import escape as markup_escape

from recon_helpers import catalog, export
from recon_helpers.catalog import StrictModel
from recon_helpers.pdf import html_to_pdfs

TEMPLATE = "statement.html.j2"


class Company(StrictModel):
    """The header of every statement: who sends it and where to pay."""

    name: str
    company: str
    address: str = ""
    phone: str = ""
    contact: str = ""
    email: str = ""
    bank: str = ""
    bank_account: str = ""
    reply_days: int = 10


def company(path: str | Path | None = None) -> Company:
    """The company header (``templates/statements/company.yaml`` unless a path is given)."""
    path = Path(path) if path is not None else catalog.folder("statements") / "company.yaml"
    return catalog.read_entry(path, Company, what="statement header", keys="name:, company:, address: ...")


@dataclass(frozen=True)
class Line:
    """One line of the statement: an invoice (debit), a payment or a credit note (credit)."""

    date: str
    doc: str
    description: str
    debit: Decimal | None
    credit: Decimal | None
    balance: Decimal


@dataclass
class Statement:
    """Everything one customer's statement shows (the template's context)."""

    customer: dict[str, Any]
    period: dict[str, str]
    lines: list[Line]
    totals: dict[str, Decimal]
    open_items: list[dict[str, Any]] = field(default_factory=list)
    disputed_open: list[dict[str, Any]] = field(default_factory=list)
    issued: str = ""

    @property
    def closing(self) -> Decimal:
        return self.totals["closing"]


def money_text(value: Any) -> str:
    """``12345.6`` -> ``12,345.60``; empty for a missing amount."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(value):,.2f}"
    except (ArithmeticError, ValueError, TypeError):
        return str(value)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def dates_unbroken(text: Any) -> Markup:
    """Text escaped, with every ISO date kept on one line: a narrow column broke "2026-12-02" after
    its second hyphen, and a customer reads "2026-12-" / "02" as two things."""
    escaped = str(markup_escape("" if text is None else text))
    return Markup(_ISO_DATE.sub(lambda m: f'<span class="date">{m.group(0)}</span>', escaped))


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(catalog.folder("statements"))), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2", "html.j2"], default_for_string=True, default=True))
    env.filters["money"] = money_text
    env.filters["dates_unbroken"] = dates_unbroken
    return env


def render_html(statement: Statement, header: Company) -> str:
    """The statement as one HTML page (values escaped by the template's autoescape)."""
    return _environment().get_template(TEMPLATE).render(
        company=header, customer=statement.customer, period=statement.period, lines=statement.lines,
        totals=statement.totals, open_items=statement.open_items, disputed_open=statement.disputed_open,
        issued=statement.issued)


@dataclass(frozen=True)
class StatementPreview:
    """A rendered statement shown in a notebook: the page in a frame of its own (its styles stay inside)."""

    html: str
    customer_id: str

    def _repr_html_(self) -> str:
        return (f'<iframe title="statement {escape(self.customer_id)}" srcdoc="{escape(self.html, quote=True)}" '
                'style="width: 100%; max-width: 820px; height: 1100px; border: 1px solid #d0d7de;"></iframe>')


def write_statement(statement: Statement, header: Company, folder: str | Path, *, pdf: bool = True) -> dict[str, Path]:
    """Write ``<code>_<period>.html`` (and ``.pdf``) into ``folder``; returns the paths."""
    return write_statements([statement], header, folder, pdf=pdf)[0]


def write_statements(statements: list[Statement], header: Company, folder: str | Path, *,
                     pdf: bool = True) -> list[dict[str, Path]]:
    """Write each statement's ``<code>_<period>.html`` into ``folder``, then print all their PDFs through
    one browser (:func:`recon_helpers.pdf.html_to_pdfs`); returns each statement's paths, in order."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for statement in statements:
        stem = f"{statement.customer['code']}_{statement.period['label']}"
        paths = {"html": out / f"{stem}.html"}
        export.write_text(paths["html"], render_html(statement, header))
        if pdf:
            paths["pdf"] = out / f"{stem}.pdf"
        written.append(paths)
    if pdf:
        html_to_pdfs([(paths["html"], paths["pdf"]) for paths in written])
    return written
