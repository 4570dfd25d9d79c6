"""The data-only preparation steps a recipe may declare (schema); :mod:`.prepare` applies them."""
from __future__ import annotations

import re
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# --- preparation (applied by prepare() before match(); pure pandas) ---------------------------------

class RecipeModel(BaseModel):
    """Base of every recipe schema: unknown keys refused, values frozen once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DateGroup(RecipeModel):
    """Group on the calendar day of a timestamp field: ``{date: txn_time}``."""

    date: str



class _Step(RecipeModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DeriveSpec(_Step):
    """``column`` = the value of the first ``contains`` needle found in ``from`` (empty when none is)."""

    column: str
    source: str = Field(alias="from")
    contains: dict[str, str] = Field(min_length=1)


class ExtractSpec(_Step):
    """``column`` = the text in ``from`` that ``pattern`` finds, only when it finds exactly one distinct
    value (a memo naming two invoices names neither for sure). With a capture group the value is
    that group (``pattern: '订单号[:：]?(\\d{18})'`` keeps the 18 digits): ``group`` names which (a
    number or a ``(?P<name>...)`` name), default the first group when the pattern has one, else the
    whole match."""

    column: str
    source: str = Field(alias="from")
    pattern: str
    group: Union[int, str, None] = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"pattern {v!r} is not a valid regular expression: {exc}; e.g. "
                             "pattern: '(\\d{20})' keeps 20 digits") from None
        return v

    @model_validator(mode="after")
    def _group_exists(self) -> "ExtractSpec":
        rx = re.compile(self.pattern)
        if isinstance(self.group, int) and not 0 <= self.group <= rx.groups:
            raise ValueError(f"extract {self.column}: group {self.group} does not exist; the pattern has "
                             f"{rx.groups} capture group(s) (0 = the whole match)")
        if isinstance(self.group, str) and self.group not in rx.groupindex:
            raise ValueError(f"extract {self.column}: the pattern has no group named {self.group!r}; "
                             f"name one with (?P<{self.group}>...)")
        return self

    @property
    def group_used(self) -> "int | str":
        if self.group is not None:
            return self.group
        return 1 if re.compile(self.pattern).groups else 0


class ComputeSpec(_Step):
    """``column`` = the sum of the ``plus`` columns minus the ``minus`` columns, exact (money stays
    decimal yuan, measures keep their precision): ``{compute: {column: net, plus: [amount], minus:
    [fee]}}``; a sign flip is ``{compute: {column: amount, minus: [amount]}}``. An empty input makes
    the result empty (cannot be confirmed) unless ``empty: zero`` says an empty value counts as 0."""

    column: str
    plus: list[str] = []
    minus: list[str] = []
    empty: Literal["empty", "zero"] = "empty"

    @model_validator(mode="after")
    def _some_input(self) -> "ComputeSpec":
        if not (self.plus or self.minus):
            raise ValueError(f"compute {self.column}: name the columns to add (plus) and/or subtract (minus), "
                             "e.g. {compute: {column: net, plus: [amount], minus: [fee]}}")
        return self


class ConstantSpec(_Step):
    """``column`` = the same text for every row, e.g. ``{constant: {column: currency, value: CNY}}``."""

    column: str
    value: str


class MapSpec(_Step):
    """``column`` = ``from`` looked up in a small table (``values``); a value not listed becomes
    ``default`` (empty when no default is given): ``{map: {column: payer, from: channel, values:
    {支付宝: alipay, 微信: wechat}}}``."""

    column: str
    source: str = Field(alias="from")
    values: dict[str, str] = Field(min_length=1)
    default: str | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _as_text(cls, v):
        return {str(k): str(x) for k, x in v.items()} if isinstance(v, dict) else v


class CoalesceSpec(_Step):
    """``column`` = the first filled value among ``from`` fields the table has (``{date: f}`` = the day
    of timestamp ``f`` as YYYY-MM-DD); fields a table lacks are skipped, so one recipe serves files
    that identify the same thing differently."""

    column: str
    source: list[Union[str, DateGroup]] = Field(alias="from", min_length=1)


class ConcatSpec(_Step):
    """``column`` = the ``from`` fields joined by ``sep`` (empty when any part is empty): a one-column
    composite key."""

    column: str
    source: list[str] = Field(alias="from", min_length=2)
    sep: str = "|"


class SumBySpec(_Step):
    """One row per group of ``by``: ``sum`` fields added (exact), ``latest`` fields the group's maximum,
    other fields kept where the group agrees (else empty). ``source_row`` is the group's first row and
    ``source_rows`` lists them all, so every original row stays traceable. Rows with an empty ``by``
    value are not grouped (kept as they are)."""

    by: list[str] = Field(min_length=1)
    sum: list[str] = Field(min_length=1)
    latest: list[str] = []


class ComputeStep(_Step):
    compute: ComputeSpec


class ConstantStep(_Step):
    constant: ConstantSpec


class MapStep(_Step):
    map: MapSpec


class DeriveStep(_Step):
    derive: DeriveSpec


class ExtractStep(_Step):
    extract: ExtractSpec


class CoalesceStep(_Step):
    coalesce: CoalesceSpec


class ConcatStep(_Step):
    concat: ConcatSpec


class SumByStep(_Step):
    sum_by: SumBySpec


PrepareStep = Union[DeriveStep, ExtractStep, CoalesceStep, ConcatStep, SumByStep, ComputeStep, ConstantStep, MapStep]
PREPARE_STEPS = ("derive", "extract", "coalesce", "concat", "sum_by", "compute", "constant", "map")
STEP_SPECS: dict[str, type[_Step]] = {
    "derive": DeriveSpec, "extract": ExtractSpec, "coalesce": CoalesceSpec, "concat": ConcatSpec, "sum_by": SumBySpec,
    "compute": ComputeSpec, "constant": ConstantSpec, "map": MapSpec}


def step_help(name: str) -> str:
    """What a prepare step takes, with the example of its docstring: for errors a person can act on."""
    spec = STEP_SPECS[name]
    keys = [f.alias or key for key, f in spec.model_fields.items()]
    example = re.search(r"``(\{.*?\})``", " ".join((spec.__doc__ or "").split()))
    return f"{name} takes {', '.join(keys)}" + (f", e.g. {example.group(1)}" if example else "")


