"""SWIFT MT940 customer statements (see :mod:`recon_helpers.sources.structured`).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from recon_helpers.errors import SourceFileError
from recon_helpers.sources.bankformat import (
    EntryProblem,
    StatementResult,
    at_midnight,
    bank_date,
    bank_money,
    decode_text,
    direction_of,
    split_lines,
)

# ---------------------------------------------------------------------------------------------
# MT940
# ---------------------------------------------------------------------------------------------

_TAG = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_BALANCE = re.compile(r"^(?P<dc>[CD])(?P<date>\d{6})(?P<ccy>[A-Z]{3})(?P<amount>\d+,\d*)$")
_STATEMENT_LINE = re.compile(
    r"^(?P<vdate>\d{6})(?P<edate>\d{4}|\s{4})?(?P<dc>RC|RD|C|D)(?P<funds>[A-Z](?=[^A-Z]))?"
    r"(?P<amount>[^NFS]*?)(?P<type>[NFS][A-Z0-9]{3})(?P<cref>.*?)(?://(?P<bref>.*))?$"
)
_SUBFIELD = re.compile(r"\?(\d{2})")


@dataclass
class _Tag:
    name: str
    lines: list[str]
    line_no: int


def _swift_year(yy: int) -> int:
    """SWIFT two-digit years: 80-99 are 1980-1999, 00-79 are 2000-2079."""
    return 1900 + yy if yy >= 80 else 2000 + yy


def _mt940_tags(text: str) -> list[list[_Tag]]:
    """Split the file into statements of tags; lines before the first tag (bank envelopes) are skipped."""
    statements: list[list[_Tag]] = []
    current: list[_Tag] = []
    for no, line in enumerate(split_lines(text), start=1):
        if "{4:" in line:
            line = line.split("{4:", 1)[1]
        m = _TAG.match(line)
        if m:
            if m.group(1) == "20" and current:
                statements.append(current)
                current = []
            current.append(_Tag(m.group(1), [m.group(2)], no))
        elif line.strip() in ("-", "-}") or (line.startswith("-") and current and not line.strip("-}").strip()):
            if current:
                statements.append(current)
            current = []
        elif current and line.strip():
            current[-1].lines.append(line)
    if current:
        statements.append(current)
    return statements


def _mt940_balance(tag: _Tag, result: StatementResult) -> tuple[Decimal | None, str | None]:
    raw = "".join(tag.lines).strip()
    m = _BALANCE.match(raw)
    if not m:
        result.warnings.append(f"line {tag.line_no}: balance :{tag.name}:{raw} cannot be read; balance not checked")
        return None, None
    amount = Decimal(m.group("amount").replace(",", "."))
    return (amount if m.group("dc") == "C" else -amount), m.group("ccy")


def _mt940_details(lines: list[str]) -> dict:
    """Read ``:86:``: German-style ``GVC?00..?63`` subfields when present, else plain text."""
    structured = "".join(lines).strip()
    if re.match(r"^\d{3}\?", structured):
        parts: dict[str, str] = {}
        pieces = _SUBFIELD.split(structured)
        for key, value in zip(pieces[1::2], pieces[2::2]):
            parts[key] = parts.get(key, "") + value
        purpose = " ".join(v.strip() for k, v in sorted(parts.items())
                           if ("20" <= k <= "29" or "60" <= k <= "63") and v.strip())
        account = parts.get("38") or ("/".join(p for p in (parts.get("30"), parts.get("31")) if p) or None)
        name = "".join(parts.get(k, "") for k in ("32", "33")).strip() or None
        return {"memo": purpose or parts.get("00") or None, "counterparty": name, "counterparty_account": account}
    text = ""
    for line in lines:
        text += ("" if not text or len(text.split("\n")[-1]) >= 65 else " ") + line.strip()
    return {"memo": text.strip() or None, "counterparty": None, "counterparty_account": None}


def _mt940_entry(tag: _Tag, details: list[str] | None, *, currency, account) -> dict:
    first = tag.lines[0].strip()
    m = _STATEMENT_LINE.match(first)
    if not m:
        raise EntryProblem(":61:", first, "statement line :61: does not follow date, C/D mark, amount, type code",
                            "bad_statement_line")
    vtext = m.group("vdate")
    value_day = bank_date(_swift_year(int(vtext[:2])), int(vtext[2:4]), int(vtext[4:]), "value_date", vtext)
    booking_day = value_day
    etext = (m.group("edate") or "").strip()
    if etext:
        # the entry date has no year: take the one closest to the value date (Dec 31 -> Jan 1 crosses a year)
        candidates = []
        for year in (value_day.year - 1, value_day.year, value_day.year + 1):
            try:
                candidates.append(dt.date(year, int(etext[:2]), int(etext[2:])))
            except ValueError:
                pass
        if not candidates:
            raise EntryProblem("txn_time", etext, f"entry date {etext!r} (MMDD) is not a calendar date", "bad_date")
        booking_day = min(candidates, key=lambda d: abs((d - value_day).days))
    amount = bank_money(m.group("amount"), "amount", comma_decimal=True)
    if m.group("dc") in ("D", "RC"):
        amount = -amount
    cref = m.group("cref").strip()
    bref = (m.group("bref") or "").strip()
    info = _mt940_details(details or [])
    supplementary = " ".join(line.strip() for line in tag.lines[1:] if line.strip())
    return {
        "txn_id": bref or (cref if cref and cref.upper() != "NONREF" else None),
        "txn_time": at_midnight(booking_day),
        "value_date": value_day,
        "amount": amount,
        "currency": currency,
        "direction": direction_of(amount),
        "counterparty": info["counterparty"],
        "counterparty_account": info["counterparty_account"],
        "memo": info["memo"] or supplementary or None,
        "account": account,
        "txn_type": m.group("type"),
        "status": None,
        "source_row": tag.line_no,
    }


def read_mt940(data: bytes, source_file: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read a SWIFT MT940 file (one or more statements, optional SWIFT/bank envelope)."""
    result = StatementResult("mt940", source_file)
    statements = _mt940_tags(decode_text(data))
    if not any(t.name == "61" or t.name.startswith("60") for s in statements for t in s):
        raise SourceFileError("no MT940 statement found (no :60F: opening balance or :61: line); "
                              "is this really an MT940 file?", source_file=source_file)
    for tags in statements:
        stmt_id = account = currency = None
        opening = closing = None
        amounts: list[Decimal] = []
        for i, tag in enumerate(tags):
            text = "".join(tag.lines).strip()
            if tag.name == "20":
                stmt_id = text
            elif tag.name == "25":
                account = text
            elif tag.name in ("28C", "28") and stmt_id:
                stmt_id = f"{stmt_id} {text}"
            elif tag.name in ("60F", "60M"):
                opening, currency = _mt940_balance(tag, result)
            elif tag.name in ("62F", "62M"):
                closing, ccy = _mt940_balance(tag, result)
                currency = currency or ccy
            elif tag.name == "61":
                details = tags[i + 1].lines if i + 1 < len(tags) and tags[i + 1].name == "86" else None
                try:
                    row = _mt940_entry(tag, details, currency=currency, account=account)
                except EntryProblem as problem:
                    result.reject(tag.line_no, problem)
                    continue
                result.rows.append(row)
                amounts.append(row["amount"])
        result.add_statement(stmt_id=stmt_id, account=account, currency=currency, opening=opening,
                             closing=closing, amounts=amounts, line=tags[0].line_no)
    return result.finish()


