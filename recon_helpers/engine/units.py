"""Units of the numbers a recipe compares: money is decimal yuan, measures have their own exact type.

Why: a file that gives money as integer fen (分) or cents, or weights in grams, looks like a plain
number; matched as it is, it is 100 or 1000 times off. A recipe declares the unit of such a column
(``units: {right: {amount: fen, billed_weight: g}}``) and the engine converts it exactly, before the
``prepare`` steps, to the canonical unit of its kind:

=========  ==================  ====================  ========================
kind       canonical unit      SQL / Arrow type      units a recipe may name
=========  ==================  ====================  ========================
money      yuan (CNY, 0.01)    DECIMAL(18,2)         yuan, fen, cents, jiao
weight     kg (0.001 = 1 g)    DECIMAL(18,3)         kg, g, t
length     cm (0.001)          DECIMAL(18,3)         cm, mm, m
volume     l (0.001 = 1 ml)    DECIMAL(18,3)         l, ml, cm3, m3
quantity   pieces              BIGINT                pcs
=========  ==================  ====================  ========================

A compare of two measures is checked at the measure's own precision (a 4 g difference is 0.004 kg,
never rounded to 0.00 as money would be), and its tolerance may be written in any unit of its kind
(``abs_tol: "10 g"``). Two columns of different kinds are never compared: that is a recipe error.
An integer column used as money without a declared unit is refused: the engine cannot know
whether 1999 means 1999 yuan or 19.99 yuan.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa

from recon_helpers.canonical import CANONICAL_FIELDS


@dataclass(frozen=True)
class Kind:
    """A kind of quantity: its canonical unit and the exact scale values are kept at."""

    name: str
    unit: str
    scale: int

    @property
    def arrow_type(self) -> pa.DataType:
        return pa.int64() if self.scale == 0 else pa.decimal128(18, self.scale)

    @property
    def sql_type(self) -> str:
        return "BIGINT" if self.scale == 0 else f"DECIMAL(18,{self.scale})"


KINDS = {k.name: k for k in (Kind("money", "yuan", 2), Kind("weight", "kg", 3), Kind("length", "cm", 3),
                             Kind("volume", "l", 3), Kind("quantity", "pcs", 0))}

#: unit -> (kind, how many canonical units one of it is)
UNITS: dict[str, tuple[str, Decimal]] = {
    "yuan": ("money", Decimal("1")), "jiao": ("money", Decimal("0.1")), "fen": ("money", Decimal("0.01")),
    "cents": ("money", Decimal("0.01")), "cent": ("money", Decimal("0.01")),
    "kg": ("weight", Decimal("1")), "g": ("weight", Decimal("0.001")), "t": ("weight", Decimal("1000")),
    "cm": ("length", Decimal("1")), "mm": ("length", Decimal("0.1")), "m": ("length", Decimal("100")),
    "l": ("volume", Decimal("1")), "ml": ("volume", Decimal("0.001")), "cm3": ("volume", Decimal("0.001")),
    "m3": ("volume", Decimal("1000")),
    "pcs": ("quantity", Decimal("1")),
}

#: columns whose kind is known without a declaration (canonical fields, and what rates.price adds)
_KNOWN_COLUMNS = {"chargeable_weight": "weight", "expected_fee": "money"}
_MEASURE_FIELDS = {"weight": "weight", "billed_weight": "weight", "volume_weight": "weight",
                   "length_cm": "length", "width_cm": "length", "height_cm": "length", "qty": "quantity"}

_WITH_UNIT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*([A-Za-z][A-Za-z0-9]*)\s*$")


def unit_names() -> str:
    """Every unit a recipe may name, grouped by kind, for error messages."""
    by_kind: dict[str, list[str]] = {}
    for unit, (kind, _) in UNITS.items():
        by_kind.setdefault(kind, []).append(unit)
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in by_kind.items())


def check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; use one of {unit_names()}")
    return unit


def kind_of_unit(unit: str) -> str:
    return UNITS[unit][0]


def column_kind(name: str) -> str | None:
    """The kind a column name implies by itself (canonical money and measure fields), else None."""
    if name in _KNOWN_COLUMNS:
        return _KNOWN_COLUMNS[name]
    if name in _MEASURE_FIELDS:
        return _MEASURE_FIELDS[name]
    spec = CANONICAL_FIELDS.get(name)
    return "money" if spec is not None and spec.kind == "money" else None


def split_amount(text: object) -> tuple[str, str] | None:
    """``"10 g"`` -> ("10", "g"); None when ``text`` is not a number followed by a unit."""
    if not isinstance(text, str):
        return None
    found = _WITH_UNIT.match(text)
    return (found.group(1), found.group(2)) if found else None


def to_canonical(value: Decimal, unit: str) -> Decimal:
    """A number written in ``unit`` expressed in its kind's canonical unit (exact)."""
    return value * UNITS[unit][1]


def convert_array(values: pa.Array | pa.ChunkedArray, unit: str) -> pa.ChunkedArray:
    """An integer or decimal column in ``unit`` as exact canonical values of its kind.

    Raises ValueError (with the first offending position) when a value is finer than the kind's
    precision (e.g. 1234.5 g is finer than 0.001 kg) or a float (never exact)."""
    kind = KINDS[kind_of_unit(unit)]
    data = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    if pa.types.is_floating(data.type):
        raise ValueError("holds floats, which are never exact; load it as text or decimal")
    if not (pa.types.is_integer(data.type) or pa.types.is_decimal(data.type) or pa.types.is_null(data.type)):
        raise ValueError(f"holds {data.type}, not numbers")
    factor = UNITS[unit][1]
    out, target = [], kind.arrow_type
    for i, v in enumerate(data.to_pylist()):
        if v is None:
            out.append(None)
            continue
        exact = Decimal(v) * factor
        shown = exact.quantize(Decimal(1).scaleb(-kind.scale)) if kind.scale else exact.to_integral_value()
        if shown != exact:
            raise ValueError(f"row {i + 1}: {v} {unit} is finer than the {kind.name} precision "
                             f"(0.{'0' * (kind.scale - 1)}1 {kind.unit})" if kind.scale else
                             f"row {i + 1}: {v} {unit} is not a whole number of {kind.unit}")
        out.append(shown if kind.scale else int(shown))
    return pa.chunked_array([pa.array(out, type=target)], type=target)
