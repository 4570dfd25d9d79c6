"""Cell cleaning and vectorised value parsing for raw exports.

Why a module of its own: every Chinese export dresses its cells differently - ids wrapped as
``="123"`` or prefixed with a backtick so Excel keeps them as text, cells padded with spaces and a
trailing TAB, ``/`` or ``--`` for "no value", amounts with ``¥``/``￥``/``元`` and thousands separators.
The loader hands whole columns (pyarrow string arrays) to the functions here, so a million rows are
cleaned and parsed without a Python loop. Each parser returns the parsed values *and* a mask of the
cells it could not parse, so the loader can reject exactly those rows and say why.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc

#: characters trimmed from both ends of every cell (ASCII space, TAB, CR/LF, ideographic space, NBSP, BOM)
TRIM_CHARS = " \t\r\n\u3000\u00a0\ufeff"

#: cell values that mean "no value" in the exports we know (after trimming)
NULL_MARKERS = ("", "/", "-", "--", "---", "null", "NULL", "None")

#: date/time formats always accepted besides a template's own: unambiguous ISO forms
ISO_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")
ISO_DATE_FORMATS = ("%Y-%m-%d",)

#: formats tried when a template names none
DEFAULT_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y年%m月%d日",
)
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日")
DEFAULT_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%H%M%S")

_MONEY_NOISE = r"[¥￥元,\s]|RMB|CNY"
#: a leading plus sign is dropped only before a digit: ``+-5`` keeps both signs and is refused
_PLUS = (r"^\+([^+-])", r"\1")
_NOISE_TOKENS = ("¥", "￥", "元", ",", " ", "+", "RMB", "CNY", "\t")
_NUMBER = r"^-?(\d{1,16}(\.\d{0,10})?|\.\d{1,10})([eE][+-]?\d{1,2})?$"
_INTEGER = r"^[+-]?\d{1,18}(\.0*)?$"

#: a number written with thousands separators where they belong: ``1,234.50``, ``¥12,345``, ``(1,000.00)``
#: - never ``1,2,3`` or ``12,34``; decoration without digits may stand before and after
_GROUPED = r"^[^\d,]*\d{1,3}(,\d{3})+(\.\d*)?[^\d,]*$"
#: the same number written the continental way (``1.234,50``, ``1,5``), for templates that declare it
_DECIMAL_COMMA = r"^[^\d,.]*\d{1,3}(\.\d{3})*(,\d+)?[^\d,.]*$|^[^\d,.]*\d+,\d+[^\d,.]*$"

#: invisible characters that cut a key in two (zero-width space, joiners, word joiner, BOM)
ZERO_WIDTH = "[\u200b\u200c\u200d\u2060\ufeff]"


# --------------------------------------------------------------------------- names

@functools.lru_cache(maxsize=65536)
def _loose_key_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\s\"'`\ufeff]", "", text)
    if text.startswith("="):
        text = text[1:]
    return text.lower()


def loose_key(name: object) -> str:
    """The form in which header names are compared: NFKC (full-width -> ASCII), no spaces, lower case.

    ``收入金额（+元）`` and ``收入金额(+元)`` and ``收入金额 (+元)`` all become ``收入金额(+元)``; the space
    inside ABC's ``日 志 号`` disappears. Quote marks, backticks and a leading ``=`` are dropped too, as
    some exports dress their header cells like their data cells.
    """
    return _loose_key_text("" if name is None else str(name))


def clean_scalar(value: object) -> str | None:
    """Clean one cell the way :func:`clean_cells` cleans a column (used for headers and footers)."""
    if value is None:
        return None
    text = str(value).strip(TRIM_CHARS)
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        text = text[2:-1]
    elif text[:1] in ("`", "'"):
        text = text[1:]
    text = text.strip(TRIM_CHARS)
    return None if text in NULL_MARKERS or re.fullmatch(r"-{3,}", text) else text


# --------------------------------------------------------------------------- cleaning

def _any(mask: pa.ChunkedArray | pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def clean_cells(values: pa.ChunkedArray | pa.Array, *, null_values: Iterable[str] = (),
                quirks: bool = True) -> pa.ChunkedArray | pa.Array:
    """Strip padding and Excel-protection quirks from a string column; null markers become null.

    Handles: surrounding spaces/TABs/ideographic spaces (Alipay pads every field and ends ids with a TAB;
    Douyin wraps ids as ``"\\t123"``), ``="123"`` wrappers (Taobao), a leading backtick (WeChat merchant
    bills) or apostrophe, and the null markers ``/``, ``-``, ``--``, a run of dashes, empty.
    ``quirks=False`` skips the wrapper checks when the caller knows the file has none of those characters.
    """
    out = pc.utf8_trim(values, TRIM_CHARS)
    if not quirks:
        pass
    elif _any(pc.starts_with(out, '="')):
        out = pc.replace_substring_regex(out, r'^="(.*)"$', r"\1")
    if quirks and (_any(pc.starts_with(out, "`")) or _any(pc.starts_with(out, "'"))):
        out = pc.replace_substring_regex(out, r"^[`']", "")
        out = pc.utf8_trim(out, TRIM_CHARS)
    markers = list(NULL_MARKERS) + [v for v in null_values if v not in NULL_MARKERS]
    is_null = pc.is_in(out, value_set=pa.array(markers, pa.string()))
    if _any(pc.starts_with(out, "---")):
        is_null = pc.or_(is_null, pc.match_substring_regex(out, r"^-{3,}$"))
    if not _any(is_null):
        return out
    return pc.if_else(is_null, pa.scalar(None, pa.string()), out)


def fold_key(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Keys (waybills, order and transaction ids) in the one form two files can agree on.

    Zero-width characters (U+200B, U+200C, U+200D, U+2060, U+FEFF) are removed and the text is
    NFKC-normalised, which folds full-width letters and digits to ASCII: ``ＳＦ１２３`` -> ``SF123``.
    Only keys are folded; names and memos keep what the file wrote.
    """
    if _any(pc.match_substring_regex(values, ZERO_WIDTH)):
        values = pc.replace_substring_regex(values, ZERO_WIDTH, "")
    if not _any(pc.invert(pc.fill_null(pc.string_is_ascii(values), True))):
        return values
    return pc.utf8_normalize(values, form="NFKC")


# --------------------------------------------------------------------------- parsed result

@dataclass
class Parsed:
    """Values parsed from a column, with the cells that failed and why.

    ``bad`` is a boolean array, True where the cell held text that does not parse (a null cell is never
    bad here; whether a value is required is the loader's business). ``rounded`` counts cells that had
    more decimals than the target type and were rounded half-up.
    """

    values: pa.ChunkedArray | pa.Array
    bad: pa.ChunkedArray | pa.Array
    code: str
    reason: str
    rounded: int = 0


def _all_false(values) -> pa.Array:
    import numpy as np

    return pa.array(np.zeros(len(values), dtype=bool))


def _bad_where(values, ok) -> pa.ChunkedArray | pa.Array:
    """True where the cell is non-null and not ok."""
    return pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(ok, False)))


# --------------------------------------------------------------------------- numbers

def _separators(values, *, decimal_comma: bool):
    """Cells whose commas stand where no thousands separator can (``1,2,3``): bad; the rest rewritten.

    With ``decimal_comma`` (a template declares it) the comma is the decimal mark and a dot groups
    thousands (``1.234,50`` -> ``1234.50``); otherwise a comma only ever groups thousands.
    """
    has_comma = pc.fill_null(pc.match_substring(values, ","), False)
    if not _any(has_comma):
        return values, None
    if decimal_comma:
        ok = pc.match_substring_regex(values, _DECIMAL_COMMA)
        fixed = pc.replace_substring(pc.replace_substring(values, ".", ""), ",", ".")
        values = pc.if_else(has_comma, fixed, values)
    else:
        ok = pc.match_substring_regex(values, _GROUPED)
    misplaced = pc.and_(has_comma, pc.invert(pc.fill_null(ok, False)))
    if not _any(misplaced):
        return values, None
    return pc.if_else(misplaced, pa.scalar(None, pa.string()), values), misplaced


def parse_decimal(values, *, scale: int = 2, precision: int = 18, decimal_comma: bool = False) -> Parsed:
    """Parse cleaned text as an exact decimal with ``scale`` places (money: 2, measures: 3).

    Currency signs (``¥`` U+00A5, ``￥`` U+FFE5, ``元``), ``RMB``/``CNY``, thousands separators and a
    leading ``+`` are removed; ``(12.30)`` means ``-12.30``. More decimals than ``scale`` (WeChat fees
    are written ``0.32000``) are rounded half-up; ``rounded`` says how many changed. Scientific notation
    as Excel writes it (``1.5E+3``) is exact and accepted. Anything else - letters, two dots, two signs
    (``+-5``, ``--5``), ``NaN``, a float overflow (``1e309``), commas where no thousands separator can
    stand (``1,2,3``; a decimal comma ``1,5`` only with ``decimal_comma``) - is bad.
    """
    target = pa.decimal128(precision, scale)
    try:  # the usual case, one pass: plain numbers with no more decimals than the target keeps
        return Parsed(pc.cast(values, target), _all_false(values), "bad_number", "not a number", 0)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text, misplaced = _separators(values, decimal_comma=decimal_comma)
    if any(_any(pc.match_substring(text, token)) for token in _NOISE_TOKENS):
        text = pc.replace_substring_regex(text, _MONEY_NOISE, "")
        text = pc.replace_substring_regex(text, *_PLUS)
    if _any(pc.starts_with(text, "(")):
        text = pc.replace_substring_regex(text, r"^\((.*)\)$", r"-\1")
    ok = pc.match_substring_regex(text, _NUMBER)
    bad = _bad_where(values, ok)
    if misplaced is not None:
        bad = pc.or_(bad, misplaced)
    if _any(bad):
        text = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    try:  # no cell has more decimals than the target keeps
        return Parsed(pc.cast(text, target), bad, "bad_number", "not a number", 0)
    except pa.ArrowInvalid:
        pass
    wide = pc.cast(text, pa.decimal128(38, 10))
    rounded = pc.round(wide, ndigits=scale, round_mode="half_towards_infinity")
    n_rounded = int(pc.sum(pc.fill_null(pc.not_equal(rounded, wide), False)).as_py() or 0)
    limit = Decimal(10) ** (precision - scale)
    too_big = pc.fill_null(pc.greater_equal(pc.abs(rounded), pa.scalar(limit, pa.decimal128(38, 10))), False)
    if _any(too_big):
        bad = pc.or_(bad, too_big)
        rounded = pc.if_else(too_big, pa.scalar(None, rounded.type), rounded)
    return Parsed(pc.cast(rounded, target), bad, "bad_number", "not a number (or too large)", n_rounded)


def parse_money(values, *, decimal_comma: bool = False) -> Parsed:
    """Money: exact ``decimal128(18, 2)`` (see :func:`parse_decimal`)."""
    parsed = parse_decimal(values, scale=2, precision=18, decimal_comma=decimal_comma)
    parsed.code, parsed.reason = "bad_amount", "not an amount"
    return parsed


def _refuse_negative(parsed: Parsed, allow_negative: bool, what: str) -> Parsed:
    """Weights, sizes and quantities below zero are bad unless the template allows them (returns)."""
    if allow_negative:
        return parsed
    kind = parsed.values.type
    zero = pa.scalar(Decimal(0) if pa.types.is_decimal(kind) else 0, kind)
    negative = pc.fill_null(pc.less(parsed.values, zero), False)
    if _any(negative):
        parsed.bad = pc.or_(parsed.bad, negative)
        parsed.values = pc.if_else(negative, pa.scalar(None, parsed.values.type), parsed.values)
    parsed.reason = (f"not {what} of 0 or more (a negative value needs `allow_negative: true` on the field "
                     "in the template, e.g. for returns)")
    return parsed


def parse_measure(values, *, allow_negative: bool = False, decimal_comma: bool = False) -> Parsed:
    """Weights and dimensions: exact ``decimal128(12, 3)``, >= 0; a trailing ``kg``/``cm`` is allowed."""
    text = pc.replace_substring_regex(values, r"(?i)(kg|cm|公斤|千克|厘米)$", "")
    parsed = parse_decimal(text, scale=3, precision=12, decimal_comma=decimal_comma)
    parsed.bad = pc.and_(parsed.bad, pc.is_valid(values))
    parsed.code = "bad_measure"
    return _refuse_negative(parsed, allow_negative, "a number")


def parse_int(values, *, allow_negative: bool = False) -> Parsed:
    """Whole numbers (quantities), >= 0; ``3.0`` is accepted as 3 because spreadsheets write it that way."""
    grouped, misplaced = _separators(values, decimal_comma=False)
    text = pc.replace_substring_regex(grouped, r"[,\s]|(件|个|pcs)$", "")
    ok = pc.match_substring_regex(text, _INTEGER)
    bad = _bad_where(values, ok)
    if misplaced is not None:
        bad = pc.or_(bad, misplaced)
    text = pc.replace_substring_regex(pc.if_else(ok, text, pa.scalar(None, pa.string())), r"\.0*$", "")
    parsed = Parsed(pc.cast(text, pa.int64()), bad, "bad_integer", "not a whole number")
    return _refuse_negative(parsed, allow_negative, "a whole number")


# --------------------------------------------------------------------------- dates and times

def _format_day_regex(fmt: str) -> str:
    """A regex that finds the day-of-month digits of a strptime format, to catch ``02-30`` overflow."""
    parts = {"%Y": r"\d{4}", "%m": r"\d{1,2}", "%d": r"(?P<d>\d{1,2})", "%H": r"\d{1,2}", "%M": r"\d{1,2}",
             "%S": r"\d{1,2}", "%y": r"\d{2}"}
    out, i = "", 0
    while i < len(fmt):
        tok = fmt[i:i + 2]
        if tok in parts:
            out += parts[tok]
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    return r"^\s*" + out


def _strptime_strict(text, fmt: str):
    """``pc.strptime`` that refuses impossible days: Arrow turns ``2023-02-30`` into March 2nd."""
    ts = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
    if "%d" not in fmt:
        return ts
    days = pc.day(ts)
    suspicious = pc.fill_null(pc.less_equal(days, 3), False)
    if not _any(suspicious):
        return ts
    # only the few rows parsed as day 1-3 can be an overflow (02-30 -> 03-02): check their written day
    day_text = pc.struct_field(pc.extract_regex(pc.filter(text, suspicious), _format_day_regex(fmt)), [0])
    overflow_sub = pc.fill_null(pc.not_equal(pc.cast(day_text, pa.int64()), pc.filter(days, suspicious)), True)
    overflow = pc.replace_with_mask(_as_array(suspicious), _as_array(suspicious), _as_array(overflow_sub))
    return pc.if_else(overflow, pa.scalar(None, ts.type), ts)


def _as_array(values):
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def parse_datetime(values, *, formats: Iterable[str] = (), date_only: bool = False) -> Parsed:
    """Parse cleaned text as naive local time (``timestamp[s]``) or as a date (``date32``).

    ``formats`` are tried in order (the first that fits wins); the ISO forms are always accepted.
    A cell that fits none of them is bad - so a file with mixed formats rejects exactly the rows
    written in a format the template does not declare.
    """
    fmts = list(formats) or list(DEFAULT_DATE_FORMATS if date_only else DEFAULT_DATETIME_FORMATS)
    for iso in ISO_DATETIME_FORMATS + ISO_DATE_FORMATS:
        if iso not in fmts:
            fmts.append(iso)
    result = None
    for fmt in fmts:
        pending = values if result is None else pc.if_else(pc.is_null(result), values, pa.scalar(None, pa.string()))
        if result is not None and not _any(pc.is_valid(pending)):
            break
        ts = _strptime_strict(pending, fmt)
        result = ts if result is None else pc.coalesce(result, ts)
    bad = _bad_where(values, pc.is_valid(result))
    if date_only:
        result = pc.cast(result, pa.date32())
    shown = ", ".join(fmts)
    return Parsed(result, bad, "bad_date", f"not a date/time in any of the formats {shown}")


def join_date_time(dates, times):
    """Date and time kept in two columns (banks, CCB) joined as ``"<date> <time>"`` for parsing."""
    joined = pc.binary_join_element_wise(dates, times, " ")
    return pc.if_else(pc.is_null(times), dates, joined)


def date_time_formats(date_formats: Iterable[str], time_formats: Iterable[str]) -> list[str]:
    """Every ``date time`` combination, then the dates alone (rows whose time cell is empty)."""
    dfs = list(date_formats) or list(DEFAULT_DATE_FORMATS)
    tfs = list(time_formats) or list(DEFAULT_TIME_FORMATS)
    return [f"{d} {t}" for d in dfs for t in tfs] + dfs


# --------------------------------------------------------------------------- text helpers

def name_first_group(pattern: str) -> str:
    """Turn the first plain ``(...)`` group of a regex into ``(?P<v>...)`` (Arrow wants named groups)."""
    i, escaped = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "(" and not pattern.startswith("(?", i):
            return pattern[:i] + "(?P<v>" + pattern[i + 1:]
        i += 1
    raise ValueError(f"pattern {pattern!r} has no (group) to take the value from")


def extract(values, pattern: str):
    """The first group of ``pattern`` in each cell (null where it does not match), trimmed."""
    named = name_first_group(pattern)
    found = pc.struct_field(pc.extract_regex(values, named), [0])
    return pc.utf8_trim(found, TRIM_CHARS)


def strip_prefixes(values, prefixes: Iterable[str]):
    """Remove a known prefix, e.g. ``T200P`` before the Taobao order id in Alipay 商户订单号."""
    for prefix in prefixes:  # literal tests and slices: much cheaper than a regex over every cell
        has = pc.fill_null(pc.starts_with(values, prefix), False)
        if _any(has):
            values = pc.if_else(has, pc.utf8_slice_codeunits(values, len(prefix)), values)
    return values


def map_values(values, mapping: Mapping[str, str | None], *, unmapped: str = "keep") -> Parsed:
    """Translate source values (e.g. ``收入`` -> ``in``); keys compare loosely (see :func:`loose_key`).

    A mapping key ``""`` stands for an empty cell. ``unmapped`` says what happens to a value the mapping
    does not list: ``keep`` it, make it ``null``, or ``reject`` the row.
    """
    keys = [loose_key(k) for k in mapping if k != ""]
    targets = [mapping[k] for k in mapping if k != ""]
    loose = pc.utf8_lower(pc.replace_substring_regex(values, r"\s", ""))
    index = pc.index_in(loose, value_set=pa.array(keys, pa.string()))
    mapped = pc.take(pa.array(targets, pa.string()), index) if keys else pa.nulls(len(values), pa.string())
    found = pc.is_valid(index)
    if unmapped == "keep":
        result = pc.if_else(found, mapped, values)
    else:
        result = pc.if_else(found, mapped, pa.scalar(None, pa.string()))
    if "" in mapping:
        result = pc.if_else(pc.is_null(values), pa.scalar(mapping[""], pa.string()), result)
    bad = _bad_where(values, found) if unmapped == "reject" else pc.and_(pc.is_valid(values), False)
    allowed = ", ".join(repr(k) for k in mapping)
    return Parsed(result, bad, "bad_value", f"not one of the values the template knows ({allowed})")


# --------------------------------------------------------------------------- spreadsheet cells

def cell_text(value: object) -> str | None:
    """A spreadsheet cell as the text a person sees, so XLSX and CSV share one parsing path.

    Whole floats lose their ``.0`` (ids and quantities stored as numbers), other floats are written
    with Excel's 15 significant digits, so binary noise disappears (``1234.5600000000002`` ->
    ``1234.56``, ``4910126.5099999998`` -> ``4910126.51``); dates become ISO text.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(value, ".15g")  # Excel keeps 15 significant digits; more is binary noise
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # a time-of-day cell read as a duration
        seconds = int(value.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def scalar_decimal(text: object) -> Decimal | None:
    """One amount written in a footer or preamble (``1,234.56``, ```29``, ``¥0.35``) as a Decimal."""
    cleaned = clean_scalar(text)
    if cleaned is None:
        return None
    cleaned = re.sub(_PLUS[0], _PLUS[1], re.sub(_MONEY_NOISE, "", cleaned))
    if not re.fullmatch(_NUMBER, cleaned):
        return None
    return Decimal(cleaned)
