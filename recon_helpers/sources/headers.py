"""Header names as compared: one normal form for detection and mapping, and the unit a header states.

Why a module of its own: real exports write the same column many ways - ``运费`` / ``运费(元)`` /
``运费（元）`` / ``运费[元]``, ``实际重量(kg)`` / ``实际重量（公斤）``, ``交易日期：``, ``日 志 号``, a
line break inside an Excel header cell, full-width letters. Detection (which template fits) and
mapping (which column feeds which field) must agree on what "the same name" is, so both call
:func:`name_key` for a template's names and :func:`cell_keys` for a file's header cells.

The unit is not thrown away: :func:`header_unit` returns it, and the mapping scales a measure by it
(``重量(g)`` -> kg) or refuses a unit it cannot convert (``金额(万元)`` is not silently read as 元).

A template pins an exact name with the prefix ``exact:`` (``exact:运费(元)``): then only a cell that
reads so (apart from spaces and full-width forms) matches, units and colons included.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from decimal import Decimal

EXACT = "exact:"

#: units a header may state, per family, as the factor to the canonical unit (元, kg, cm, cm³)
UNITS: dict[str, dict[str, Decimal]] = {
    "money": {"元": Decimal(1), "rmb": Decimal(1), "cny": Decimal(1), "人民币": Decimal(1), "人民币元": Decimal(1),
              "万元": Decimal(10000), "分": Decimal("0.01")},
    "weight": {"kg": Decimal(1), "公斤": Decimal(1), "千克": Decimal(1), "g": Decimal("0.001"), "克": Decimal("0.001"),
               "t": Decimal(1000), "吨": Decimal(1000), "lb": Decimal("0.45359237"), "oz": Decimal("0.028349523125")},
    "length": {"cm": Decimal(1), "厘米": Decimal(1), "mm": Decimal("0.1"), "毫米": Decimal("0.1"),
               "m": Decimal(100), "米": Decimal(100)},
    "volume": {"cm3": Decimal(1), "立方厘米": Decimal(1), "m3": Decimal(1000000), "立方米": Decimal(1000000)},
    "count": {"件": Decimal(1), "个": Decimal(1), "笔": Decimal(1), "单": Decimal(1), "票": Decimal(1)},
    "days": {"天": Decimal(1), "日": Decimal(1)},
}

#: which unit family each canonical measure field is in (money fields are all "money")
MEASURE_FAMILY = {"weight": "weight", "billed_weight": "weight", "volume_weight": "weight",
                  "length_cm": "length", "width_cm": "length", "height_cm": "length"}

_KNOWN_UNITS = {unit for family in UNITS.values() for unit in family}
_UNIT_SUFFIX = re.compile(r"^(?P<name>.+?)[(\[【](?:单位:?)?(?P<unit>[^()\[\]【】]+)[)\]】]$")


def _squeezed(text: str) -> str:
    """NFKC (full-width -> ASCII), no whitespace or line breaks, no quote marks, no leading ``=``."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\s\"'`\ufeff\u200b]", "", text)
    if text.startswith("="):
        text = text[1:]
    return text.lower()


@functools.lru_cache(maxsize=65536)
def _split(text: str) -> tuple[str, str | None]:
    name = _squeezed(text).rstrip(":")
    found = _UNIT_SUFFIX.match(name)
    if found and found.group("unit") in _KNOWN_UNITS:
        return found.group("name").rstrip(":"), found.group("unit")
    return name, None


def header_key(name: object) -> str:
    """The loose form of a header name: ``运费（元）``, ``运费 (元)``, ``运费：`` and ``运费`` all give ``运费``."""
    return _split("" if name is None else str(name))[0]


def header_unit(name: object) -> str | None:
    """The unit a header states in brackets (``实际重量(kg)`` -> ``kg``), or None."""
    return _split("" if name is None else str(name))[1]


@functools.lru_cache(maxsize=65536)
def _exact(text: str) -> str:
    return EXACT + _squeezed(text)


def name_key(name: str) -> str:
    """How a template's column name is compared: loosely, or exactly after an ``exact:`` prefix."""
    if name.startswith(EXACT):
        return _exact(name[len(EXACT):])
    return header_key(name)


def cell_keys(cell: object) -> tuple[str, str]:
    """The keys under which a file's header cell is found: its loose form and its exact form."""
    return _cell_keys("" if cell is None else str(cell))


@functools.lru_cache(maxsize=65536)
def _cell_keys(text: str) -> tuple[str, str]:
    return _split(text)[0], _exact(text)


def unit_factor(unit: str | None, family: str) -> Decimal | None:
    """The factor from ``unit`` to the family's canonical unit; 1 without a unit; None if not of the family."""
    if unit is None:
        return Decimal(1)
    return UNITS.get(family, {}).get(unit)
