"""ISO 20022 camt.053 statements, camt.052 intraday reports and camt.054 debit/credit notifications
(see :mod:`recon_helpers.sources.structured`): one entry layout, read into the same canonical columns.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler

import defusedxml
import defusedxml.sax
import pandas as pd

from recon_helpers.errors import SourceFileError
from recon_helpers.sources import limits
from recon_helpers.sources.bankformat import (
    EntryProblem,
    StatementResult,
    bank_date,
    bank_money,
    direction_of,
)

# ---------------------------------------------------------------------------------------------
# camt.053
# ---------------------------------------------------------------------------------------------


class _Node:
    """A tiny XML element: local tag name, attributes, text, children and the line it starts on."""

    __slots__ = ("tag", "attrs", "text", "children", "line")

    def __init__(self, tag: str, attrs: dict, line: int):
        self.tag, self.attrs, self.line = tag, attrs, line
        self.text = ""
        self.children: list[_Node] = []

    def find(self, path: str) -> "_Node | None":
        """First descendant along ``A/B/C`` (local names), or None."""
        node: _Node | None = self
        for step in path.split("/"):
            node = next((c for c in node.children if c.tag == step), None) if node else None
        return node

    def findall(self, tag: str) -> list["_Node"]:
        return [c for c in self.children if c.tag == tag]

    def value(self, path: str) -> str | None:
        node = self.find(path)
        return node.text if node is not None and node.text != "" else None

    def iter(self, tag: str):
        for child in self.children:
            if child.tag == tag:
                yield child
            yield from child.iter(tag)


class _TreeBuilder(ContentHandler):
    """SAX handler that builds ``_Node`` trees with line numbers and namespace prefixes dropped."""

    def __init__(self, source_file: str = ""):
        super().__init__()
        self.source_file = source_file
        self.max_depth = limits.get("max_xml_depth")
        self.root: _Node | None = None
        self._stack: list[_Node] = []
        self._text: list[list[str]] = []
        self._locator = None

    def setDocumentLocator(self, locator):  # noqa: N802 - SAX API name
        self._locator = locator

    def startElement(self, name, attrs):  # noqa: N802
        node = _Node(name.rsplit(":", 1)[-1], {k.rsplit(":", 1)[-1]: v for k, v in attrs.items()},
                     self._locator.getLineNumber() if self._locator else 0)
        if len(self._stack) >= self.max_depth:  # a hostile nesting would overflow every walk of the tree
            raise SourceFileError(f"the XML nests elements more than {self.max_depth} deep (a bank statement needs "
                                  f"about 12); {limits.how_to_raise('max_xml_depth')}",
                                  source_file=self.source_file, row=node.line)
        if self._stack:
            self._stack[-1].children.append(node)
        else:
            self.root = node
        self._stack.append(node)
        self._text.append([])

    def characters(self, content):
        if self._text:
            self._text[-1].append(content)

    def endElement(self, name):  # noqa: N802
        node = self._stack.pop()
        node.text = "".join(self._text.pop()).strip()


def _xml_tree(data: bytes, source_file: str) -> _Node:
    builder = _TreeBuilder(source_file)
    try:
        defusedxml.sax.parseString(data, builder)
    except SAXParseException as exc:
        raise SourceFileError(f"not well-formed XML ({exc.getMessage()}); the file may be truncated",
                              source_file=source_file, row=exc.getLineNumber()) from None
    except defusedxml.DefusedXmlException as exc:
        raise SourceFileError(f"refused: the XML uses entities or external references ({exc}); bank "
                              f"statements never need them, so this file is not read", source_file=source_file) from None
    if builder.root is None:
        raise SourceFileError("empty XML document", source_file=source_file)
    return builder.root


def _iso_day(text: str, column: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text.strip())
    if not m:
        raise EntryProblem(column, text, f"{text!r} is not a date (YYYY-MM-DD)", "bad_date")
    return bank_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), column, text)


def _iso_time(text: str, column: str) -> dt.datetime:
    """``2015-01-02`` or ``2015-01-02T10:00:00+01:00`` as the wall time written (offset dropped)."""
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?",
                     text.strip())
    if not m:
        raise EntryProblem(column, text, f"{text!r} is not a date or date-time", "bad_date")
    day = _iso_day(m.group(1), column)
    hh, mm, ss = (int(g or 0) for g in m.group(2, 3, 4))
    try:
        return dt.datetime(day.year, day.month, day.day, hh, mm, ss)
    except ValueError:
        raise EntryProblem(column, text, f"{text!r} is not a valid time", "bad_date") from None


def _camt_date_node(node: _Node | None) -> str | None:
    if node is None:
        return None
    return node.value("DtTm") or node.value("Dt")


def _camt_account(node: _Node | None) -> str | None:
    if node is None:
        return None
    return node.value("Id/IBAN") or node.value("Id/Othr/Id")


def _camt_party(details: _Node, role: str) -> tuple[str | None, str | None]:
    """Name and account of Dbtr or Cdtr in RltdPties (v2-v7 ``Dbtr/Nm``, v8+ ``Dbtr/Pty/Nm``)."""
    parties = details.find("RltdPties")
    if parties is None:
        return None, None
    name = parties.value(f"{role}/Nm") or parties.value(f"{role}/Pty/Nm") or parties.value(f"Ultmt{role}/Nm")
    return name, _camt_account(parties.find(f"{role}Acct"))


def _camt_tx_code(node: _Node | None) -> str | None:
    if node is None:
        return None
    domain = [node.value("Domn/Cd"), node.value("Domn/Fmly/Cd"), node.value("Domn/Fmly/SubFmlyCd")]
    if any(domain):
        return "/".join(p for p in domain if p)
    return node.value("Prtry/Cd")


def _camt_entry(entry: _Node, *, account: str | None, currency: str | None) -> dict:
    amount_node = entry.find("Amt")
    if amount_node is None:
        raise EntryProblem("amount", None, "entry has no <Amt>", "missing_amount")
    amount = bank_money(amount_node.text, "amount", comma_decimal=False)
    indicator = entry.value("CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise EntryProblem("direction", indicator, "CdtDbtInd must be CRDT or DBIT", "bad_direction")
    if indicator == "DBIT":
        amount = -amount
    booking = _camt_date_node(entry.find("BookgDt"))
    value = _camt_date_node(entry.find("ValDt"))
    if booking is None and value is None:
        raise EntryProblem("txn_time", None, "entry has neither BookgDt nor ValDt", "missing_date")
    txn_time = _iso_time(booking or value, "txn_time")
    value_date = _iso_time(value, "value_date").date() if value else None
    details = [tx for d in entry.findall("NtryDtls") for tx in d.findall("TxDtls")]
    # the party that is not us: the debtor pays us on a credit, the creditor is paid on a debit
    roles = ("Dbtr", "Cdtr") if amount > 0 else ("Cdtr", "Dbtr")
    names, accounts, memos, refs = [], [], [], []
    for tx in details:
        for role in roles:
            name, acct = _camt_party(tx, role)
            if name or acct:
                names.append(name)
                accounts.append(acct)
                break
        memos += [n.text for r in tx.findall("RmtInf") for n in r.findall("Ustrd") if n.text]
        memos += [n.text for r in tx.findall("RmtInf") for n in r.iter("Ref") if n.text]
        refs += [tx.value(f"Refs/{k}") for k in ("AcctSvcrRef", "EndToEndId", "TxId", "InstrId", "MsgId")]
    memos.append(entry.value("AddtlNtryInf") or "")
    status = entry.value("Sts/Cd") or entry.value("Sts")

    def distinct(values):
        return "; ".join(dict.fromkeys(v for v in values if v and v != "NOTPROVIDED")) or None

    return {
        "txn_id": entry.value("AcctSvcrRef") or entry.value("NtryRef") or next((r for r in refs if r and r != "NOTPROVIDED"), None),
        "txn_time": txn_time,
        "value_date": value_date,
        "amount": amount,
        "currency": amount_node.attrs.get("Ccy") or currency,
        "direction": direction_of(amount),
        "counterparty": distinct(names),
        "counterparty_account": distinct(accounts),
        "memo": distinct(memos),
        "account": account,
        "txn_type": _camt_tx_code(entry.find("BkTxCd")),
        "status": status,
        "source_row": entry.line,
    }


def _camt_balance(stmt: _Node, codes: tuple[str, ...], result: StatementResult) -> Decimal | None:
    for code in codes:
        for bal in stmt.findall("Bal"):
            if (bal.value("Tp/CdOrPrtry/Cd") or bal.value("Tp/CdOrPrtry/Prtry")) != code:
                continue
            try:
                amount = bank_money(bal.value("Amt") or "", "balance", comma_decimal=False)
            except EntryProblem as problem:
                result.warnings.append(f"line {bal.line}: balance {code}: {problem.reason}; balance not checked")
                return None
            return -amount if bal.value("CdtDbtInd") == "DBIT" else amount
    return None


#: the three camt messages that carry entries: message element -> (format, the element per account)
_MESSAGES = {"BkToCstmrStmt": ("camt053", "Stmt"), "BkToCstmrAcctRpt": ("camt052", "Rpt"),
             "BkToCstmrDbtCdtNtfctn": ("camt054", "Ntfctn")}


def read_camt053(data: bytes, source_file: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read an ISO 20022 camt.053 statement file (any version; also camt.052 reports and camt.054
    notifications, which share the entry layout). Entries count towards the balance check when their
    status is BOOK (or absent); PDNG/INFO entries are loaded with their status but not summed."""
    root = _xml_tree(data, source_file)
    message = next((c for c in root.children if c.tag in _MESSAGES), None)
    if root.tag != "Document" or message is None:
        inner = root.children[0].tag if root.children else root.tag
        raise SourceFileError(f"not a camt.052/053/054 bank statement (the XML holds {inner!r}; expected "
                              "Document/BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn)",
                              source_file=source_file)
    fmt, item = _MESSAGES[message.tag]
    result = StatementResult(fmt, source_file)
    statements = list(message.iter(item))
    if not statements:
        raise SourceFileError(f"the {fmt[:4]}.{fmt[4:]} file holds no <{item}>; nothing to load", source_file=source_file)
    for stmt in statements:
        account = _camt_account(stmt.find("Acct"))
        currency = stmt.value("Acct/Ccy")
        amounts = []
        for entry in stmt.findall("Ntry"):
            try:
                row = _camt_entry(entry, account=account, currency=currency)
            except EntryProblem as problem:
                result.reject(entry.line, problem)
                continue
            if result.add_row(row) and row["status"] in (None, "BOOK"):
                amounts.append(row["amount"])
        result.add_statement(stmt_id=stmt.value("Id"), account=account, currency=currency,
                             opening=_camt_balance(stmt, ("OPBD", "PRCD"), result),
                             closing=_camt_balance(stmt, ("CLBD", "ITBD"), result), amounts=amounts, line=stmt.line)
    return result.finish()


