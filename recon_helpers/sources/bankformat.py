"""Pieces every structured bank-file reader shares: the entry problem, the result being built, money and
dates in bank notation, decoding and line splitting. See :mod:`recon_helpers.sources.structured`."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pandas as pd
import pyarrow as pa

from recon_helpers.canonical import MONEY_TYPE, field_type
from recon_helpers.sources import limits
from recon_helpers.sources.rejects import rejects_frame

#: the canonical columns every reader returns, in this order, then ``source_row``
COLUMNS = ("txn_id", "txn_time", "value_date", "amount", "currency", "direction", "counterparty",
           "counterparty_account", "memo", "account", "txn_type", "status")

_CENT = Decimal("0.01")

#: digits before the decimal point an amount may have (the canonical money type's precision minus its cents)
_MAX_AMOUNT_DIGITS = MONEY_TYPE.precision - MONEY_TYPE.scale

#: the text columns of an entry, bounded by ``max_cell_chars`` like any cell of a table
_TEXT_COLUMNS = ("txn_id", "counterparty", "counterparty_account", "memo", "account", "txn_type", "status")


# ---------------------------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------------------------


class EntryProblem(Exception):
    """One entry cannot be read; becomes a row of the rejects table."""

    def __init__(self, column: str, value: object, reason: str, code: str):
        super().__init__(reason)
        self.column, self.value, self.reason, self.code = column, value, reason, code


@dataclass
class StatementResult:
    """Rows, rejects and statements collected while reading one file."""

    fmt: str
    source_file: str
    rows: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    statements: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def reject(self, line: int, problem: EntryProblem) -> None:
        value = None if problem.value is None else str(problem.value)
        if value is not None and len(value) > 200:  # the rejects table shows the start of a huge field
            value = f"{value[:100]}… ({len(value):,} characters)"
        self.rejects.append({"source_row": line, "column": problem.column, "value": value,
                             "reason": problem.reason, "code": problem.code})

    def add_row(self, row: dict) -> bool:
        """Keep an entry read whole, or reject it when a text field is past ``max_cell_chars``.

        SWIFT caps a ``:86:`` at 6 x 65 characters and camt a remittance line at 140, so a field of a
        million characters is damage or a hostile file: its entry is rejected, not loaded.
        """
        cap = limits.get("max_cell_chars")
        for column in _TEXT_COLUMNS:
            value = row.get(column)
            if isinstance(value, str) and len(value) > cap:
                self.reject(row["source_row"], EntryProblem(
                    column, value, "the field is too long to be a value (a damaged or hostile file); "
                    + limits.how_to_raise("max_cell_chars"), "too_long"))
                return False
        self.rows.append(row)
        return True

    def add_statement(self, *, stmt_id, account, currency, opening, closing, amounts, line) -> None:
        credits = sum((a for a in amounts if a > 0), Decimal("0.00"))
        debits = -sum((a for a in amounts if a < 0), Decimal("0.00"))
        ok = None if opening is None or closing is None else opening + credits - debits == closing
        self.statements.append({
            "id": stmt_id, "account": account, "currency": currency, "opening": opening, "closing": closing,
            "sum_credits": credits, "sum_debits": debits, "entries": len(amounts), "balance_ok": ok,
            "source_row": line,
        })
        if ok is False:
            self.warnings.append(
                f"statement {stmt_id or '?'} (line {line}) does not balance: opening {opening} + credits {credits} "
                f"- debits {debits} = {opening + credits - debits}, but closing is {closing}; "
                f"look for rejected or missing entries")

    def finish(self) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
        accounts = [s["account"] for s in self.statements if s["account"]]
        currencies = [s["currency"] for s in self.statements if s["currency"]]
        meta = {
            "format": self.fmt,
            "account": accounts[0] if accounts else None,
            "currency": currencies[0] if currencies else None,
            "statements": self.statements,
            "warnings": self.warnings,
            "control_totals": [_balance_check(s) for s in self.statements if s["balance_ok"] is not None],
        }
        if len(set(accounts)) > 1:
            meta["warnings"].append(f"the file holds statements of {len(set(accounts))} accounts: "
                                    f"{', '.join(dict.fromkeys(accounts))}; see the account column")
        return _table(self.rows), rejects_frame(self.rejects, source_file=self.source_file), meta


def _balance_check(stmt: dict) -> dict:
    """A statement's balance as a control total: closing as stated against opening + credits - debits."""
    actual = stmt["opening"] + stmt["sum_credits"] - stmt["sum_debits"]
    return {"label": f"statement {stmt['id'] or '?'} (line {stmt['source_row']}) closing balance", "measure": "total",
            "expected": stmt["closing"], "actual": actual, "ok": stmt["balance_ok"]}


def _table(rows: list[dict]) -> pd.DataFrame:
    arrays = {name: pa.array([r.get(name) for r in rows], type=field_type(name)) for name in COLUMNS}
    arrays["source_row"] = pa.array([r["source_row"] for r in rows], type=pa.int64())
    return pa.table(arrays).to_pandas(types_mapper=pd.ArrowDtype)


def bank_money(text: str, column: str, *, comma_decimal: bool) -> Decimal:
    """Exact amount from ``1234,56`` (MT940) or ``1234.56`` (XML, OFX); refuses sub-cent digits."""
    raw = text.strip()
    pattern = r"\d+(,\d*)?" if comma_decimal else r"[+-]?\d+(\.\d*)?|[+-]?\.\d+"
    if not re.fullmatch(pattern, raw):
        if not comma_decimal and re.fullmatch(r"[+-]?\d+,\d{1,2}", raw):
            raw = raw.replace(",", ".")  # some OFX banks write a decimal comma
        else:
            raise EntryProblem(column, text, f"amount {text!r} is not a number", "bad_amount")
    whole = len(re.split(r"[.,]", raw.lstrip("+-"))[0])
    if whole > _MAX_AMOUNT_DIGITS:
        raise EntryProblem(column, text, f"the amount has {whole:,} digits before the decimal point; an amount "
                           f"has at most {_MAX_AMOUNT_DIGITS}", "bad_amount")
    try:
        value = Decimal(raw.replace(",", ".") if comma_decimal else raw)
    except InvalidOperation:
        raise EntryProblem(column, text, f"amount {text!r} is not a number", "bad_amount") from None
    if value != value.quantize(_CENT):
        raise EntryProblem(column, text, f"amount {text!r} has digits below a cent; it cannot be booked exactly",
                            "sub_cent_amount")
    return value.quantize(_CENT)


def bank_date(year: int, month: int, day: int, column: str, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise EntryProblem(column, text, f"{text!r} is not a calendar date", "bad_date") from None


def at_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def direction_of(amount: Decimal) -> str:
    return "in" if amount > 0 else "out" if amount < 0 else "neutral"


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else Windows-1252, else Latin-1 (never fails)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    return LINE_BREAK.split(text)



# ---------------------------------------------------------------------------------------------
# registry and sniffing
# ---------------------------------------------------------------------------------------------

