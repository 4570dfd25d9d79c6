"""SWIFT MT940 customer statements and MT942 interim reports (see :mod:`recon_helpers.sources.structured`).

Dialects read alike: blank, padded or non-SWIFT type codes in ``:61:`` (``S   X``, ``FTRF``, four spaces),
funds codes, statements without the closing ``-``, ``:86:`` as German/Polish sub-fields or ``/CODE/``
keywords, and non-standard tags (``:NS:``) kept by name instead of being glued to the tag before them.
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

#: a tag line: SWIFT tags (:61:, :28C:) and the non-standard ones some banks add (:NS:, :NSA:)
_TAG = re.compile(r"^:(\d{2}[A-Z]?|[A-Z]{2}[A-Z0-9]?):(.*)$")
_BALANCE = re.compile(r"^(?P<dc>[CD])(?P<date>\d{6})(?P<ccy>[A-Z]{3})(?P<amount>\d+,\d*)$")
#: ``:61:`` = value date, [entry date], D/C mark, [funds code], amount, type code, references. The type code
#: is 4 characters (``NTRF``, ``FTRF``, ``N426``); dialects leave it blank (4 spaces), write ``S`` + 3 spaces
#: (``S   X``: type ``S``, customer reference ``X``, as the mt-940 library reads it) or leave it out before ``//``.
_STATEMENT_LINE = re.compile(
    r"^(?P<vdate>\d{6})(?P<edate>\d{4}|\s{4})?(?P<dc>RC|RD|C|D)(?P<funds>[A-Z](?=[\d,]))?"
    r"(?P<amount>[^/]*?)(?P<type>[NFS][A-Za-z0-9]{3}|[NFS] {3}|\s{4}|(?=//)|$)(?P<cref>.*?)(?://(?P<bref>.*))?$"
)
#: ``:86:`` sub-fields: German ``166?00GUTSCHRIFT?20...``, Polish ``020~00...~20...`` or ``<00``
_SUBFIELDS = re.compile(r"^\d{3}(?P<sep>[?~<^])\d{2}")
#: ``:86:`` in SWIFT keyword form (ING, ABN AMRO, Rabobank): ``/TRTP/SEPA OVERBOEKING/IBAN/NL.../NAME/.../REMI/...``
_KEYWORDS = ("TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "ORDP", "BENM", "CSID", "MARF", "ADDR", "CNTP", "ID",
             "SVCL", "PREF", "RTRN", "ISDT", "CREF", "PURP", "ULTC", "ULTD", "ACCW", "INFO")
_KEYWORD = re.compile(r"/(" + "|".join(_KEYWORDS) + r")/")
#: tags this reader interprets; any other (:NS:, :23:, bank-specific) is kept as it is, by name
_KNOWN_TAGS = {"20", "21", "25", "25P", "28", "28C", "60F", "60M", "61", "62F", "62M", "64", "65", "86",
               "13", "13D", "34F", "90C", "90D"}
_COUNT_SUM = re.compile(r"^(?P<count>\d+)(?P<ccy>[A-Z]{3})(?P<amount>\d+,\d*)$")


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


def _keyword_details(text: str) -> dict:
    """``:86:`` as ``/CODE/value`` pairs (``/CNTP/`` holds account/BIC/name/city in the 2014+ Dutch form)."""
    pieces = _KEYWORD.split(text)
    parts: dict[str, str] = {}
    for key, value in zip(pieces[1::2], pieces[2::2]):
        parts.setdefault(key, value.strip("/ "))
    name = parts.get("NAME")
    account = parts.get("IBAN")
    for key in ("CNTP", "BENM", "ORDP"):
        if key in parts:
            sub = [p.strip() for p in parts[key].split("/")]
            account = account or (sub[0] or None)
            name = name or next((p for p in sub[2:3] if p), None) or (sub[1] if len(sub) > 1 and key != "CNTP" else None)
    remittance = parts.get("REMI", "")
    remittance = re.sub(r"^(USTD|STRD/CUR)//?", "", remittance).strip("/ ")
    memo = " ".join(p for p in (remittance, parts.get("EREF") and f"EREF {parts['EREF']}") if p)
    return {"memo": memo or parts.get("TRTP") or None, "counterparty": name or None,
            "counterparty_account": account or None}


def _mt940_details(lines: list[str]) -> dict:
    """Read ``:86:``: ``GVC?00..?63`` subfields (German ``?``, Polish ``~`` / ``<``), ``/CODE/`` keywords,
    else plain text."""
    structured = "".join(lines).strip()
    found = _SUBFIELDS.match(structured)
    if _KEYWORD.match(structured):
        return _keyword_details(structured)
    if found:
        parts: dict[str, str] = {}
        pieces = re.split(re.escape(found.group("sep")) + r"(\d{2})", structured)
        for key, value in zip(pieces[1::2], pieces[2::2]):
            parts[key] = parts.get(key, "") + value
        # German ?20-?29 and ?60-?63 are purpose, ?32-?33 the name; Polish ~20-~25 purpose, ~27-~28 the name
        polish = found.group("sep") != "?"
        last_purpose = "25" if polish else "29"
        purpose = " ".join(v.strip() for k, v in sorted(parts.items())
                           if ("20" <= k <= last_purpose or "60" <= k <= "63") and v.strip())
        account = parts.get("38") or ("/".join(p for p in (parts.get("30"), parts.get("31")) if p) or None)
        names = ("27", "28", "32", "33") if polish else ("32", "33")
        name = "".join(parts.get(k, "") for k in names).strip() or None
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
    type_code = (m.group("type") or "").strip() or None
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
        "txn_type": type_code,
        "status": None,
        "source_row": tag.line_no,
    }


def _count_and_sum(tag: _Tag) -> tuple[int, Decimal] | None:
    """MT942 ``:90D:``/``:90C:``: number of debit/credit entries, currency and their sum (``3EUR1234,56``)."""
    m = _COUNT_SUM.match("".join(tag.lines).strip())
    if not m:
        return None
    return int(m.group("count")), Decimal(m.group("amount").replace(",", "."))


def _interim_checks(stated: dict[str, tuple[int, Decimal]], amounts: list[Decimal], stmt_id) -> list[dict]:
    """An MT942 has no balances; its :90D:/:90C: count and sum are checked against the entries instead."""
    checks = []
    for tag, label, sign in (("90D", "debits", -1), ("90C", "credits", 1)):
        if tag not in stated:
            continue
        count, total = stated[tag]
        mine = [abs(a) for a in amounts if (a < 0 if sign < 0 else a > 0)]
        for measure, expected, actual in (("count", count, len(mine)), ("total", total, sum(mine, Decimal("0.00")))):
            checks.append({"label": f":{tag}: {label} of {stmt_id or 'statement'}", "measure": measure,
                           "expected": expected, "actual": actual, "ok": expected == actual})
    return checks


def _details_of(tags: list[_Tag], i: int) -> list[str] | None:
    """The ``:86:`` of the ``:61:`` at ``i``: the next tag, or after non-standard tags such as ``:NS:``."""
    for tag in tags[i + 1:]:
        if tag.name == "86":
            return tag.lines
        if tag.name in _KNOWN_TAGS:
            return None
    return None


def _is_interim(text: str, statements: list[list[_Tag]]) -> bool:
    names = {t.name for s in statements for t in s}
    return bool(re.search(r"\{2:[IO]942", text)) or (
        not names & {"60F", "60M", "62F", "62M"} and bool(names & {"13D", "34F", "90C", "90D"}))


def read_mt940(data: bytes, source_file: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read a SWIFT MT940 statement or MT942 interim report (one or more per file, optional envelope).

    Non-standard tags (``:NS:`` and the like) are kept by name: in the statement's ``tags`` when they sit
    among the statement's own tags, in ``meta["entry_tags"][source_row]`` when they follow an entry.
    """
    text = decode_text(data)
    statements = _mt940_tags(text)
    interim = _is_interim(text, statements)
    result = StatementResult("mt942" if interim else "mt940", source_file)
    if not any(t.name == "61" or t.name.startswith(("60", "90")) for s in statements for t in s):
        raise SourceFileError("no MT940 statement found (nor an MT942: no :60F: opening balance, :90D:/:90C: totals or "
                              ":61: line); is this really a SWIFT statement file?", source_file=source_file)
    entry_tags: dict[int, dict[str, str]] = {}
    checks: list[dict] = []
    for tags in statements:
        stmt_id = account = currency = None
        opening = closing = None
        amounts: list[Decimal] = []
        extra: dict[str, str] = {}
        stated: dict[str, tuple[int, Decimal]] = {}
        entry_line: int | None = None
        for i, tag in enumerate(tags):
            text = "".join(tag.lines).strip()
            if tag.name == "20":
                stmt_id = text
            elif tag.name in ("25", "25P"):
                account = text
            elif tag.name in ("28C", "28") and stmt_id:
                stmt_id = f"{stmt_id} {text}"
            elif tag.name in ("60F", "60M"):
                opening, currency = _mt940_balance(tag, result)
                entry_line = None
            elif tag.name in ("62F", "62M"):
                closing, ccy = _mt940_balance(tag, result)
                currency = currency or ccy
                entry_line = None
            elif tag.name in ("90D", "90C"):
                found = _count_and_sum(tag)
                if found is None:
                    result.warnings.append(f"line {tag.line_no}: :{tag.name}:{text} cannot be read; not checked")
                else:
                    stated[tag.name] = found
                entry_line = None
            elif tag.name == "34F" and currency is None:
                currency = text[:3] if re.match(r"[A-Z]{3}", text) else None
            elif tag.name == "61":
                entry_line = tag.line_no
                details = _details_of(tags, i)
                try:
                    row = _mt940_entry(tag, details, currency=currency, account=account)
                except EntryProblem as problem:
                    result.reject(tag.line_no, problem)
                    continue
                if result.add_row(row):
                    amounts.append(row["amount"])
            elif tag.name == "86" and entry_line is None:
                extra["86"] = (extra.get("86", "") + " " + text).strip()
            elif tag.name not in _KNOWN_TAGS:
                target = entry_tags.setdefault(entry_line, {}) if entry_line is not None else extra
                target[tag.name] = (target.get(tag.name, "") + " " + " ".join(x.strip() for x in tag.lines)).strip()
        result.add_statement(stmt_id=stmt_id, account=account, currency=currency, opening=opening,
                             closing=closing, amounts=amounts, line=tags[0].line_no)
        result.statements[-1]["tags"] = extra
        checks += _interim_checks(stated, amounts, stmt_id)
    table, rejects, meta = result.finish()
    meta["entry_tags"] = entry_tags
    meta["control_totals"] = meta.get("control_totals", []) + checks
    return table, rejects, meta
