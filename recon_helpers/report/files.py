"""The files a run leaves for its readers besides its page: what the index tile and the page link to.

A courier run writes ``dispute_<carrier>.xlsx`` (the list to send to the carrier); a customer-statement
run writes each customer's statement of account into ``statements/`` (HTML, and PDF when its ``pdf``
parameter is on, the default); a scenario may write its own workbook of lists (``collections_taobao.xlsx``).
:func:`run_files` finds them in the run's folder and, for the statements, writes ``statements/index.html``
(one line per customer, linking its PDF and HTML) so a manager opens one page, not a folder.

A statement is addressed to its customer and shows that customer's own lines and our receiving account
as issued (it is the document we send); everything else of the month is masked.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path

from recon_helpers import export

#: a statement file as ``customer_statement`` names it: ``<customer code>_<period>.pdf|html``
_STATEMENT = re.compile(r"^(?P<customer>.+)_(?P<period>\d{4}-\d{2}(?:-\d{2})?|\d{4}-W\d{2})$")


@dataclass(frozen=True)
class RunFile:
    """One file of a run for its readers: what it is, how the link reads, where it is (from the period folder)."""

    kind: str  # dispute | statements | lists
    label: str
    href: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def statements_page(folder: Path, *, title: str) -> Path | None:
    """``statements/index.html``: every customer's statement with links to its PDF and HTML (None: none)."""
    by_customer: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("*")):
        match = _STATEMENT.match(path.stem)
        if path.suffix in (".pdf", ".html") and path.name != "index.html" and match:
            by_customer.setdefault(match["customer"], {})[path.suffix[1:]] = path.name
    if not by_customer:
        return None
    rows = "".join(
        f"<tr><td>{escape(code)}</td><td>{_link(files.get('pdf'), 'PDF')}</td><td>{_link(files.get('html'), 'HTML')}</td></tr>"
        for code, files in by_customer.items()
    )
    page = ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;margin:16px}}"
            "table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:4px 10px;text-align:left}</style></head>"
            f"<body><h1>{escape(title)}</h1><p>{len(by_customer)} 份对账单 statements of account, one per customer "
            "(each shows that customer's lines only) · <a href=\"../../../index.html\">返回 index</a></p>"
            f"<table><thead><tr><th>客户编码 Customer</th><th>PDF</th><th>HTML</th></tr></thead><tbody>{rows}</tbody></table>"
            "</body></html>")
    return export.write_text(folder / "index.html", page)


def _link(name: str | None, text: str) -> str:
    return f'<a href="{escape(name)}">{text}</a>' if name else "—"


def run_files(out_dir: Path, link: str, *, workbook: Path | None, title: str) -> list[RunFile]:
    """The run's files for its readers, in the order the tile lists them (links relative to the period)."""
    prefix = f"{link}/" if link else ""
    found: list[RunFile] = []
    for path in sorted(out_dir.glob("dispute_*.xlsx")):
        found.append(RunFile("dispute", f"争议清单 Dispute list · {path.stem.removeprefix('dispute_')}", prefix + path.name))
    statements = out_dir / "statements"
    if statements.is_dir():
        page = statements_page(statements, title=f"对账单 Statements of account · {title}")
        if page is not None:
            pdfs = len(list(statements.glob("*.pdf")))
            count = len([p for p in statements.glob("*.html") if p.name != "index.html"])
            what = f"{pdfs} PDF" if pdfs else f"{count} HTML"
            found.append(RunFile("statements", f"对账单 Statements ({what})", f"{prefix}statements/{page.name}"))
    for path in sorted(out_dir.glob("*.xlsx")):
        if path.name.startswith("dispute_") or (workbook is not None and path == workbook):
            continue
        found.append(RunFile("lists", f"Excel 清单 lists · {path.stem}", prefix + path.name))
    return found
