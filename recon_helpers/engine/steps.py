"""The data-only preparation steps a recipe may declare (schema); :mod:`.prepare` applies them."""
from __future__ import annotations

import re
from typing import Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    value (a memo naming two invoices names neither for sure)."""

    column: str
    source: str = Field(alias="from")
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"pattern {v!r} is not a valid regular expression: {exc}") from None
        return v


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


PrepareStep = Union[DeriveStep, ExtractStep, CoalesceStep, ConcatStep, SumByStep]
PREPARE_STEPS = ("derive", "extract", "coalesce", "concat", "sum_by")


