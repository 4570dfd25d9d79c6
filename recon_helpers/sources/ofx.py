"""OFX / QFX statements, SGML and XML (see :mod:`recon_helpers.sources.structured`).
"""
from __future__ import annotations

import datetime as dt
import html
import re
from bisect import bisect_right
from dataclasses import dataclass, field

import pandas as pd

from recon_helpers.errors import SourceFileError
from recon_helpers.sources.bankformat import (
    LINE_BREAK,
    EntryProblem,
    StatementResult,
    bank_date,
    bank_money,
    decode_text,
    direction_of,
)

# ---------------------------------------------------------------------------------------------
# OFX
# ---------------------------------------------------------------------------------------------

_OFX_TOKEN = re.compile(
    r"<!\[CDATA\[(?P<cdata>.*?)\]\]>|<!--.*?-->|<\?.*?\?>|<(?P<close>/)?(?P<tag>[A-Za-z0-9_.]+)[^>]*>|(?P<text>[^<]+)",
    re.S,
)
#: aggregates we need to tell apart (LEDGERBAL/BALAMT vs AVAILBAL/BALAMT, BANKACCTTO/ACCTID ...)
_OFX_AGGREGATES = {"STMTRS", "CCSTMTRS", "BANKACCTFROM", "CCACCTFROM", "BANKACCTTO", "CCACCTTO", "BANKTRANLIST",
                   "STMTTRN", "LEDGERBAL", "AVAILBAL", "PAYEE", "CURRENCY", "ORIGCURRENCY"}
_OFX_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(?:(\d{2})(?:\.\d+)?)?)?\s*(?:\[[^\]]*\])?")


@dataclass
class _OfxStatement:
    line: int
    fields: dict = field(default_factory=dict)  # "LEDGERBAL/BALAMT" -> text
    txns: list[tuple[int, dict]] = field(default_factory=list)


def _ofx_statements(text: str) -> list[_OfxStatement]:
    """Tokenise OFX 1.x SGML or 2.x XML alike: leaves are tags followed by text (closing tag optional)."""
    line_starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]
    statements: list[_OfxStatement] = []
    stack: list[str] = []
    txn: dict | None = None
    leaf: str | None = None
    for m in _OFX_TOKEN.finditer(text):
        if m.group("tag"):
            name = m.group("tag").upper()
            leaf = None
            if m.group("close"):
                if name in stack:
                    while stack and stack.pop() != name:
                        pass
                    if name == "STMTTRN":
                        txn = None
                continue
            if name in _OFX_AGGREGATES:
                stack.append(name)
                if name in ("STMTRS", "CCSTMTRS"):
                    statements.append(_OfxStatement(bisect_right(line_starts, m.start())))
                elif name == "STMTTRN" and statements:
                    txn = {}
                    statements[-1].txns.append((bisect_right(line_starts, m.start()), txn))
            else:
                leaf = name
            continue
        value = m.group("cdata") if m.group("cdata") is not None else m.group("text")
        if value is None or leaf is None or not statements:
            continue
        if m.group("cdata") is None:
            value = html.unescape(value)
        inner = [s for s in stack if s not in ("STMTRS", "CCSTMTRS", "STMTTRN", "BANKTRANLIST")]
        key = "/".join(inner + [leaf])
        target = txn if txn is not None else statements[-1].fields
        target[key] = (target.get(key, "") + value.strip()) if value.strip() else target.get(key, "")
    return statements


def _ofx_time(text: str | None, column: str) -> dt.datetime:
    if not text:
        raise EntryProblem(column, text, f"{'DTPOSTED' if column == 'txn_time' else column} is missing", "missing_date")
    m = _OFX_TIME.fullmatch(text.strip())
    if not m:
        raise EntryProblem(column, text, f"{text!r} is not an OFX date (YYYYMMDD[HHMMSS])", "bad_date")
    y, mo, d, hh, mi, ss = (int(g) if g else 0 for g in m.groups())
    day = bank_date(y, mo, d, column, text)
    try:
        return dt.datetime(day.year, day.month, day.day, hh, mi, ss)
    except ValueError:
        raise EntryProblem(column, text, f"{text!r} is not a valid time", "bad_date") from None


def _ofx_entry(fields: dict, line: int, *, account, currency) -> dict:
    if "TRNAMT" not in fields:
        raise EntryProblem("amount", None, "STMTTRN has no TRNAMT", "missing_amount")
    amount = bank_money(fields["TRNAMT"], "amount", comma_decimal=False)
    posted = _ofx_time(fields.get("DTPOSTED"), "txn_time")
    available = _ofx_time(fields["DTAVAIL"], "value_date").date() if fields.get("DTAVAIL") else posted.date()
    name = fields.get("NAME") or fields.get("PAYEE/NAME") or None
    memo = fields.get("MEMO") or None
    if name and memo and name.strip() not in memo:
        memo = f"{name}; {memo}"
    return {
        "txn_id": fields.get("FITID") or None,
        "txn_time": posted,
        "value_date": available,
        "amount": amount,
        "currency": fields.get("CURRENCY/CURSYM") or currency,
        "direction": direction_of(amount),
        "counterparty": name,
        "counterparty_account": fields.get("BANKACCTTO/ACCTID") or fields.get("CCACCTTO/ACCTID") or None,
        "memo": memo or name,
        "account": account,
        "txn_type": fields.get("TRNTYPE") or None,
        "status": None,
        "source_row": line,
    }


def read_ofx(data: bytes, source_file: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read an OFX/QFX file, 1.x SGML or 2.x XML, bank or credit-card statements. ``txn_time`` is the
    DTPOSTED wall time as written (its [offset:TZ] is dropped, like every other source's local time).
    OFX carries no opening balance, so ``balance_ok`` is None; ``closing`` is LEDGERBAL."""
    result = StatementResult("ofx", source_file)
    statements = _ofx_statements(decode_text(data))
    if not statements:
        raise SourceFileError("no OFX statement found (no <STMTRS> or <CCSTMTRS>); is this an OFX bank file?",
                              source_file=source_file)
    for stmt in statements:
        account = stmt.fields.get("BANKACCTFROM/ACCTID") or stmt.fields.get("CCACCTFROM/ACCTID")
        currency = stmt.fields.get("CURDEF")
        amounts = []
        for line, fields in stmt.txns:
            try:
                row = _ofx_entry(fields, line, account=account, currency=currency)
            except EntryProblem as problem:
                result.reject(line, problem)
                continue
            if result.add_row(row):
                amounts.append(row["amount"])
        closing = None
        if stmt.fields.get("LEDGERBAL/BALAMT"):
            try:
                closing = bank_money(stmt.fields["LEDGERBAL/BALAMT"], "balance", comma_decimal=False)
            except EntryProblem as problem:
                result.warnings.append(f"statement at line {stmt.line}: LEDGERBAL {problem.reason}")
        period = [stmt.fields.get("DTSTART"), stmt.fields.get("DTEND")]
        result.add_statement(stmt_id="-".join(p for p in period if p) or None,
                             account=account, currency=currency, opening=None, closing=closing,
                             amounts=amounts, line=stmt.line)
    return result.finish()


