"""Personal data masked in everything shared: names 张*, mobiles 138****1234, ID cards, accounts ****1234, addresses.

Which columns are personal is data, not code: ``templates/masking.yaml`` maps canonical fields (and
the people's-words column names a report shows) to a kind, and each kind has one masking rule
(:data:`MASKERS`). A pattern scan (:func:`scan_text`) is the second line of defence: it masks mobile
numbers, ID-card numbers (valid check digit and birth date) and numbers after 账号 / 卡号 / account in
any text, whatever the column, so a phone number typed into a memo does not leave the workspace.

``recon report`` masks by default; the in-workspace tables (Parquet, DuckDB) keep the raw values.
:func:`enabled` says whether the current process masks: off only when ``RECON_MASKING=off`` was set by
an explicit ``recon report --no-mask`` (which the index then states).
"""
from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recon_helpers import catalog
from recon_helpers.errors import TemplateError

#: environment variable the batch sets for its notebook kernels: "on" (default) or "off"
MASKING_ENV = "RECON_MASKING"
STAR = "*"

_MOBILE = re.compile(r"(?<![\dA-Za-z])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![\dA-Za-z])")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])([1-9]\d{5})((?:18|19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(\d{3}[\dXx])(?![\dA-Za-z])")
_ACCOUNT_AFTER_WORD = re.compile(r"((?:账号|帐号|卡号|账户|帐户|户号|account(?: no\.?)?|acct\.?|iban)\s*[:：#]?\s*)(\d[\d -]{6,}\d)",
                                 re.IGNORECASE)
#: the cells :func:`scan_text` could change, as one RE2 test that pyarrow runs over a whole column: a
#: mobile or an ID-card number standing alone, or an account word. RE2 has no look-behind, so "standing
#: alone" is spelt as a boundary character (not a digit, not a Latin letter) or the text's start or end;
#: ``\p{Nd}`` is every Unicode digit as Python's ``\d`` is, and the Turkish i's are spelt out because
#: Python's IGNORECASE folds them into ``iban`` and RE2 does not. Every cell the scan changes matches
#: this (tests/report/test_masking.py); the few that match go through the exact Python rules.
_EDGE_BEFORE, _EDGE_AFTER = r"(?:^|[^\p{Nd}A-Za-z])", r"(?:$|[^\p{Nd}A-Za-z])"
_SCAN_CANDIDATE = (
    _EDGE_BEFORE + r"(?:\+?86[- ]?)?1[3-9]\p{Nd}[- ]?\p{Nd}{4}[- ]?\p{Nd}{4}" + _EDGE_AFTER
    + "|" + _EDGE_BEFORE + r"[1-9]\p{Nd}{5}(?:18|19|20)\p{Nd}{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\p{Nd}|3[01])\p{Nd}{3}[\p{Nd}Xx]"
    + _EDGE_AFTER
    + r"|(?i:账号|帐号|卡号|账户|帐户|户号|account|acct|[iİı]ban)"
)
_CITY = re.compile(r"^(.*?(?:省|自治区|特别行政区))?(.*?(?:自治州|地区|盟|市))?")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


# --------------------------------------------------------------------------------------------
# one value
# --------------------------------------------------------------------------------------------
def mask_name(value: str, *, organisation_words: tuple[str, ...] = ()) -> str:
    """张三 -> 张*; an organisation's name (公司, 银行, Ltd ...) is kept, it is not personal data."""
    text = value.strip()
    if not text or text.count(STAR) >= len(text) - 1:
        return value
    if any(word.lower() in text.lower() for word in organisation_words):
        return value
    return text[0] + STAR * min(len(text) - 1, 8)


def mask_mobile(value: str) -> str:
    """13812341234 -> 138****1234 (any mobile found in the text)."""
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", value)


def mask_id_card(value: str) -> str:
    """110101199003071234 -> 110***********1234; a value that is not an ID number keeps only its last 4."""
    text = value.strip()
    if _ID_CARD.fullmatch(text):
        return text[:3] + STAR * 11 + text[-4:]
    return mask_account(value)


def mask_account(value: str) -> str:
    """A bank account or card number keeps its last 4 digits: ****1234 (the length is not shown)."""
    digits = re.sub(r"[\s-]", "", value)
    if len(digits) <= 4 or digits.count(STAR) >= len(digits) - 4:
        return value
    return STAR * 4 + digits[-4:]


def mask_address(value: str) -> str:
    """江苏省苏州市新城区黄河路386号 -> 江苏省苏州市***; a bare province or city stays as it is."""
    text = value.strip()
    m = _CITY.match(text)
    kept = (m.group(1) or "") + (m.group(2) or "") if m else ""
    if not kept:
        return STAR * 3 if text else value
    return kept if kept == text else kept + STAR * 3


def _valid_id_card(m: re.Match) -> bool:
    number = m.group(0).upper()
    check = _ID_CHECK[sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS)) % 11]
    return number[17] == check


def scan_text(value: str) -> str:
    """Second line of defence for any text: mask ID-card numbers, mobiles and numbers after 账号/卡号/account."""
    if not value or not any(ch.isdigit() for ch in value):
        return value
    text = _ID_CARD.sub(lambda m: mask_id_card(m.group(0)) if _valid_id_card(m) else m.group(0), value)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _ACCOUNT_AFTER_WORD.sub(lambda m: m.group(1) + mask_account(m.group(2)), text)


# --------------------------------------------------------------------------------------------
# the rules: templates/masking.yaml
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MaskingRules:
    """Column -> kind (canonical fields and report column names), and the organisation words."""

    columns: Mapping[str, str]
    organisation_words: tuple[str, ...]

    def kind(self, column: Any) -> str | None:
        """The personal kind of a column by its name (``counterparty``, ``对方账号``), None when not personal."""
        return self.columns.get(str(column).strip())

    def mask(self, value: Any, kind: str | None) -> Any:
        """One cell masked by its column's kind, then scanned; non-text values pass unchanged."""
        if not isinstance(value, str) or not value:
            return value
        if kind == "name":
            value = mask_name(value, organisation_words=self.organisation_words)
        elif kind in MASKERS:
            value = MASKERS[kind](value)
        return scan_text(value)


#: kind -> masking rule for one value ("name" needs the organisation words, see MaskingRules.mask)
MASKERS = {"mobile": mask_mobile, "id_card": mask_id_card, "account": mask_account, "address": mask_address,
           "text": lambda value: value}
KINDS = ("name", *MASKERS)


@functools.lru_cache(maxsize=1)
def rules() -> MaskingRules:
    """The masking rules of ``templates/masking.yaml`` (validated: every kind is one of :data:`KINDS`)."""
    path = catalog.root() / "masking.yaml"
    doc = catalog.read_yaml(path) or {}
    origin = catalog.display_path(path)
    if not isinstance(doc, dict) or set(doc) - {"fields", "columns", "organisation_words"}:
        raise TemplateError("expected the keys fields, columns and organisation_words", template_file=origin)
    columns = {**(doc.get("fields") or {}), **(doc.get("columns") or {})}
    wrong = sorted(f"{c}: {k}" for c, k in columns.items() if k not in KINDS)
    if wrong:
        raise TemplateError(f"unknown masking kind in {', '.join(wrong)}; use one of {', '.join(KINDS)}", template_file=origin)
    words = tuple(str(w) for w in doc.get("organisation_words") or ())
    return MaskingRules(columns={str(c): str(k) for c, k in columns.items()}, organisation_words=words)


def enabled() -> bool:
    """Whether this process masks what it shares: yes unless ``RECON_MASKING=off`` was set explicitly."""
    return os.environ.get(MASKING_ENV, "on").strip().lower() != "off"


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------
def mask_frame(frame: Any, *, extra: Mapping[str, str] | None = None) -> Any:
    """A copy of a pandas DataFrame with personal columns masked by kind and every text cell scanned.

    ``extra`` adds column -> kind for this table. Number, date and money columns are unchanged. Works
    column by column: a personal column masks each distinct value once; any other text column is
    scanned only in the cells that :data:`_SCAN_CANDIDATE` finds (a vectorised test over the column).
    """
    import pandas as pd

    masking = rules()
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not (pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)):
            continue
        kind = (extra or {}).get(str(column)) or masking.kind(column)
        if kind is None:  # only the scan applies
            out[column] = map_text_cells(series, scan_text, where=matching_cells(series, _SCAN_CANDIDATE))
        else:
            out[column] = map_text_cells(series, lambda v, kind=kind: masking.mask(v, kind))
    return out


def matching_cells(series: Any, pattern: str) -> Any:
    """Which cells of a column hold a match of ``pattern`` (RE2 syntax), as a numpy bool array; blank
    and non-text cells are read as their text (a number's digits), missing ones never match."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(series.astype("string"), type=pa.large_string())
    return pc.match_substring_regex(text, pattern).fill_null(False).to_numpy(zero_copy_only=False)


def map_text_cells(series: Any, change: Any, *, where: Any = None) -> Any:
    """``series`` with ``change`` applied to its text cells (only those ``where`` is true, when given).

    Each distinct value is changed once (a column of 300,000 rows often holds a few thousand values),
    and the series comes back as it was, dtype and all, when nothing changed.
    """
    import numpy as np

    values = series.astype(object)
    if where is not None:
        if not where.any():
            return series
        picked = values[where]
    else:
        picked = values
    changed = {}
    for value in dict.fromkeys(v for v in picked if isinstance(v, str)):
        new = change(value)
        if new != value:
            changed[value] = new
    if not changed:
        return series
    replaced = np.fromiter((isinstance(v, str) and v in changed for v in values), dtype=bool, count=len(values))
    out = values.copy()
    out[replaced] = [changed[v] for v in values[replaced]]
    return out


def mask_value_pairs(values: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping (e.g. one row or one set of figures) with each value masked by its key's kind."""
    masking = rules()
    return {key: masking.mask(value, masking.kind(key)) for key, value in values.items()}
