"""Match recipes: how the rows of two (or three) tables correspond, written as data.

A recipe is a YAML file (built-ins live in ``templates/recipes/``) validated on load. It names the
two sides (``left`` and ``right``, optionally a ``third``), the key, how keys are normalised, which
fields are compared with which tolerance, and an ordered cascade of named rules. The first rule that
links a row wins; every later rule only sees the rows still unmatched (splink's "ordered levels").

Schema (every key is optional unless marked required; unknown keys are refused)::

    name: courier_bill                          # required, unique among recipes
    description: 自有发货记录 vs 快递账单
    left:  {kind: shipment, label: 发货记录}      # required; kind from canonical.TABLE_KINDS
    right: {kind: courier_bill_line, label: 快递账单}   # required
    third: {kind: receipt, label: 退货入库, key: waybill_no, joins: right}   # three-way only
    key: waybill_no                             # or {left: order_id, right: merchant_order_id}
                                                # or [order_id, sku] (composite: same names on both sides)
                                                # or {left: [order_id, sku], right: [order_no, sku_code]}
    normalise: {waybill_no: [trim, fullwidth, zero_width, upper, strip_separators, {strip_prefix: [T200P]}]}
    amount: {left: expected_fee, right: amount} # money shown and used by keyless rules
    date:   {left: txn_time, right: txn_time}   # date used by day windows
    sign:   {left: 1, right: -1}                # multiply amounts before comparing
    filters: {left: "amount > 0"}               # rows outside are reported as out_of_scope
    compare:                                    # checked on every 1:1 candidate link
      - {name: fee, left: expected_fee, right: amount, abs_tol: "0.00", rel_tol: "0", category: rate_card_violation}
      - {name: date, left: txn_time, right: txn_time, days: 3}
      - {name: qty, left: qty, third: qty}                  # exact; compares left with third
      - {name: status, left: status, right: status, mapping: {已发货: [已出库], "*": [已出库]}}   # "*": any other left value
    rules:                                      # required, ordered, first match wins
      - {name: exact_key, type: exact_key}
      - {name: normalised_key, type: normalised_key}
      - {name: amount_and_date, type: amount_date, days: 3, abs_tol: "0.00"}
      - {name: payout_batch, type: group_sum, group_left: [batch_id], days: 2}
      - {name: daily_payout, type: group_sum, group_left: [{date: txn_time}, channel], days: 3}
      - {name: instalments, type: group_sum, group_right: [invoice_no]}
      - {name: subset, type: subset_sum, days: 5, max_items: 5, same: [customer_id]}
      - {name: fuzzy_payer, type: fuzzy, left: counterparty, right: counterparty, accept: 95, suggest: 70}
    categories: {rate_card_violation: billed fee differs from the rate card}   # recipe categories
    category_names: {missing_on_third: not_received}     # rename engine categories for this scenario
    prepare:                                    # per side, applied by prepare() BEFORE match() (pure pandas)
      left:
        - {derive: {column: payer, from: template, contains: {jd_: jd, pdd_: pdd}}}   # first needle found
        - {extract: {column: invoice_no, from: memo, pattern: '\\d{20}'}}         # only when exactly one
        - {coalesce: {column: payout_id, from: [batch_id, {date: txn_time}]}}      # first present + filled
        - {concat: {column: order_line, from: [order_id, sku]}}                    # a one-column composite key
        - {sum_by: {by: [payer, payout_id], sum: [amount], latest: [txn_time]}}    # one row per group

Tolerance rule: |left - right| <= abs_tol + rel_tol * |right|. Dates: |right - left| <= days.
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import pandas as pd
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .canonical import TABLE_KINDS
from .errors import MatchInputError, RecipeError

RECIPES_DIR = Path(__file__).resolve().parents[1] / "templates" / "recipes"

#: categories the engine itself produces, with what they mean
BUILTIN_CATEGORIES: dict[str, str] = {
    "missing_on_right": "a left row with no counterpart on the right",
    "missing_on_left": "a right row with no counterpart on the left",
    "missing_on_third": "a linked pair whose third row is missing",
    "duplicate_on_left": "the key occurs again on the left; the best row was linked, this one was not",
    "duplicate_on_right": "the key occurs again on the right; the best row was linked, this one was not",
    "duplicate_on_third": "the key occurs again on the third side",
    "amount_mismatch": "paired rows whose amounts differ by more than the tolerance",
    "qty_mismatch": "paired rows whose quantities differ",
    "date_out_of_window": "paired rows whose dates are further apart than the window",
    "status_mismatch": "paired rows whose statuses do not correspond",
    "ambiguous": "several equally good counterparts: not linked, candidates listed",
    "out_of_scope": "outside the recipe's filters: not matched on purpose",
}

NORMALISE_STEPS = ("trim", "fullwidth", "zero_width", "upper", "lower", "strip_separators", "strip_leading_zeros")
DEFAULT_KEY_STEPS: tuple[Any, ...] = ("trim", "fullwidth", "zero_width", "upper", "strip_separators")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _non_negative(value: Decimal | int | None, name: str) -> Decimal | int | None:
    if value is not None and value < 0:
        raise ValueError(f"{name} cannot be negative")
    return value


def _decimal(value: Any) -> Any:
    """Read tolerances as exact decimals (YAML floats go through str, never binary float)."""
    if isinstance(value, float):
        return Decimal(str(value))
    return value


class SideSpec(_Strict):
    """One side of a match: the kind of table expected and the label people see."""

    kind: str
    label: str

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in TABLE_KINDS:
            raise ValueError(f"unknown table kind {v!r}; use one of {', '.join(sorted(TABLE_KINDS))}")
        return v


class ThirdKey(_Strict):
    third: str
    partner: str


class ThirdSpec(SideSpec):
    """The third side of a three-way match: joined by its own key to the partner side after the cascade."""

    key: Union[str, ThirdKey]
    joins: Literal["left", "right"] = "right"
    required: bool = True

    @property
    def third_field(self) -> str:
        return self.key if isinstance(self.key, str) else self.key.third

    @property
    def partner_field(self) -> str:
        return self.key if isinstance(self.key, str) else self.key.partner


class PairField(_Strict):
    """A field named per side, e.g. ``{left: order_id, right: merchant_order_id}``."""

    left: str
    right: str
    third: str | None = None


class KeyPair(_Strict):
    """A key named per side, one field or several (composite): ``{left: [order_id, sku], right: [...]}``."""

    left: Union[str, list[str]]
    right: Union[str, list[str]]

    @model_validator(mode="after")
    def _same_length(self) -> "KeyPair":
        n_left = 1 if isinstance(self.left, str) else len(self.left)
        n_right = 1 if isinstance(self.right, str) else len(self.right)
        if n_left != n_right:
            raise ValueError(f"key names {n_left} left field(s) but {n_right} right field(s); a composite key "
                             "pairs the fields in order, so both sides need the same number")
        if n_left == 0:
            raise ValueError("key lists no field")
        return self


class SameField(_Strict):
    left: str
    right: str


class DateGroup(_Strict):
    """Group on the calendar day of a timestamp field: ``{date: txn_time}``."""

    date: str


class Signs(_Strict):
    left: Literal[1, -1] = 1
    right: Literal[1, -1] = 1
    third: Literal[1, -1] = 1


class Filters(_Strict):
    left: str | None = None
    right: str | None = None
    third: str | None = None


class _ToleranceChecks(_Strict):
    """Checks shared by every model with money tolerances and a date window: exact, never negative."""

    @field_validator("abs_tol", "rel_tol", mode="before", check_fields=False)
    @classmethod
    def _as_decimal(cls, v):
        return _decimal(v)

    @field_validator("abs_tol", "rel_tol", "days", check_fields=False)
    @classmethod
    def _not_negative(cls, v, info):
        return _non_negative(v, info.field_name)


class Compare(_ToleranceChecks):
    """A field compared on every 1:1 candidate link; outside tolerance the link becomes exceptions.

    Kind: ``days`` given -> date window; ``mapping`` given -> status mapping; ``abs_tol``/``rel_tol``
    given or a money column -> |left - right| <= abs_tol + rel_tol * |right|; otherwise exact equality.
    """

    name: str
    left: str | None = None
    right: str | None = None
    third: str | None = None
    abs_tol: Decimal | None = None
    rel_tol: Decimal | None = None
    days: int | None = None
    mapping: dict[str, list[str]] | None = None
    category: str | None = None

    @field_validator("mapping", mode="before")
    @classmethod
    def _mapping_lists(cls, v):
        if isinstance(v, dict):
            return {str(k): ([str(x) for x in val] if isinstance(val, list) else [str(val)]) for k, val in v.items()}
        return v

    @model_validator(mode="after")
    def _two_sides(self) -> "Compare":
        given = [s for s in ("left", "right", "third") if getattr(self, s)]
        if len(given) != 2:
            raise ValueError(f"compare {self.name!r} must name exactly two of left/right/third, got {given or 'none'}")
        kinds = [k for k, on in (("days", self.days is not None), ("mapping", self.mapping is not None),
                                 ("tolerance", self.abs_tol is not None or self.rel_tol is not None)) if on]
        if len(kinds) > 1:
            raise ValueError(f"compare {self.name!r} mixes {' and '.join(kinds)}: a compare is one kind")
        return self

    @property
    def sides(self) -> tuple[str, str]:
        given = [s for s in ("left", "right", "third") if getattr(self, s)]
        return given[0], given[1]

    @property
    def kind(self) -> str:
        """date, mapping, money or exact (money is also chosen later for decimal columns)."""
        if self.days is not None:
            return "date"
        if self.mapping is not None:
            return "mapping"
        if self.abs_tol is not None or self.rel_tol is not None:
            return "money"
        return "exact"

    @property
    def default_category(self) -> str:
        return {"date": "date_out_of_window", "mapping": "status_mismatch", "money": "amount_mismatch"}.get(
            self.kind, "qty_mismatch")

    @property
    def effective_category(self) -> str:
        return self.category or self.default_category


class _RuleBase(_Strict):
    name: str
    #: skip the rule (instead of refusing the tables) when they lack the columns it needs, e.g. a
    #: batch id that only some platforms' settlement files carry
    optional: bool = False


class _Tolerant(_RuleBase, _ToleranceChecks):
    days: int | None = None
    abs_tol: Decimal = Decimal("0")
    rel_tol: Decimal = Decimal("0")
    same: list[Union[str, SameField]] = []

    def same_pairs(self) -> list[SameField]:
        return [SameField(left=s, right=s) if isinstance(s, str) else s for s in self.same]


class ExactKeyRule(_RuleBase):
    """Join on the key as written; blank keys never match."""

    type: Literal["exact_key"]


class NormalisedKeyRule(_RuleBase):
    """Join on the key after the recipe's normalisation steps."""

    type: Literal["normalised_key"]


class AmountDateRule(_Tolerant):
    """No shared key: equal amount (within tolerance) and date within ``days``; optimal one-to-one."""

    type: Literal["amount_date"]
    days: int = 0


class GroupSumRule(_Tolerant):
    """Several rows sharing group fields on one side sum to one row on the other side."""

    type: Literal["group_sum"]
    group_left: list[Union[str, DateGroup]] | None = None
    group_right: list[Union[str, DateGroup]] | None = None

    @model_validator(mode="after")
    def _one_side(self) -> "GroupSumRule":
        if (self.group_left is None) == (self.group_right is None):
            raise ValueError(f"group_sum rule {self.name!r} needs exactly one of group_left or group_right")
        if not (self.group_left or self.group_right):
            raise ValueError(f"group_sum rule {self.name!r} has an empty group list")
        return self

    @property
    def many_side(self) -> str:
        return "left" if self.group_left is not None else "right"

    @property
    def groups(self) -> list[Union[str, DateGroup]]:
        return list(self.group_left if self.group_left is not None else self.group_right)


class SubsetSumRule(_RuleBase):
    """A bounded subset of rows on ``many`` side sums exactly to one row of the other side."""

    type: Literal["subset_sum"]
    days: int | None = None
    max_items: int = Field(5, ge=2, le=8)
    max_candidates: int = Field(30, ge=2, le=200)
    many: Literal["left", "right"] = "left"
    same: list[Union[str, SameField]] = []

    @field_validator("days")
    @classmethod
    def _days(cls, v):
        return _non_negative(v, "days")

    def same_pairs(self) -> list[SameField]:
        return [SameField(left=s, right=s) if isinstance(s, str) else s for s in self.same]


class FuzzyRule(_Tolerant):
    """Similar text (counterparty, memo) among rows with equal amount; links only at ``accept`` or above."""

    type: Literal["fuzzy"]
    left: str
    right: str
    accept: float = Field(95, ge=0, le=100)
    suggest: float = Field(70, ge=0, le=100)

    @model_validator(mode="after")
    def _thresholds(self) -> "FuzzyRule":
        if self.suggest > self.accept:
            raise ValueError(f"fuzzy rule {self.name!r}: suggest ({self.suggest}) cannot exceed accept ({self.accept})")
        return self


Rule = Annotated[
    Union[ExactKeyRule, NormalisedKeyRule, AmountDateRule, GroupSumRule, SubsetSumRule, FuzzyRule],
    Field(discriminator="type"),
]
KEY_RULES = ("exact_key", "normalised_key")


# --- preparation (applied by prepare() before match(); pure pandas) ---------------------------------
class _Step(_Strict):
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


class Preparation(_Strict):
    """Per side, the ordered steps :func:`prepare` applies before matching."""

    left: list[PrepareStep] = []
    right: list[PrepareStep] = []
    third: list[PrepareStep] = []

    @field_validator("left", "right", "third", mode="before")
    @classmethod
    def _known_steps(cls, v):
        if isinstance(v, list):
            for i, step in enumerate(v):
                if not (isinstance(step, dict) and len(step) == 1 and next(iter(step)) in PREPARE_STEPS):
                    raise ValueError(f"step [{i}] must be one of {', '.join(PREPARE_STEPS)} "
                                     f"written as {{step: {{...}}}}, got {step!r}")
        return v

    def steps(self, side: str) -> list[Any]:
        """The step specs of one side, in order."""
        return [getattr(step, next(iter(type(step).model_fields))) for step in getattr(self, side)]

    def __bool__(self) -> bool:
        return bool(self.left or self.right or self.third)


class Recipe(_Strict):
    """A validated recipe. ``source`` is the file it came from (None for one built in code)."""

    name: str
    description: str = ""
    left: SideSpec
    right: SideSpec
    third: ThirdSpec | None = None
    key: Union[str, list[str], KeyPair, PairField, None] = None
    normalise: dict[str, list[Union[str, dict[str, list[str]]]]] = {}
    amount: Union[str, PairField, None] = None
    date: Union[str, PairField, None] = None
    sign: Signs = Signs()
    filters: Filters = Filters()
    compare: list[Compare] = []
    rules: list[Rule] = Field(min_length=1)
    categories: dict[str, str] = {}
    category_names: dict[str, str] = {}
    prepare: Preparation = Preparation()
    source: str | None = None

    @field_validator("key", mode="before")
    @classmethod
    def _key_form(cls, v):
        """A list is a composite key; a mapping with list values is a per-side composite key."""
        if isinstance(v, list) and not v:
            raise ValueError("key lists no field")
        if isinstance(v, dict) and set(v) == {"left", "right"} and any(isinstance(x, list) for x in v.values()):
            return KeyPair.model_validate(v)
        if isinstance(v, dict) and set(v) <= {"left", "right", "third"} and "third" not in v:
            return KeyPair.model_validate(v)
        return v

    @field_validator("normalise")
    @classmethod
    def _steps(cls, v):
        for fname, steps in v.items():
            for step in steps:
                if isinstance(step, dict):
                    if set(step) != {"strip_prefix"} or not all(isinstance(p, str) for p in step["strip_prefix"]):
                        raise ValueError(f"normalise.{fname}: a dict step must be {{strip_prefix: [PREFIX, ...]}}")
                elif step not in NORMALISE_STEPS:
                    raise ValueError(f"normalise.{fname}: unknown step {step!r}; use {', '.join(NORMALISE_STEPS)} or strip_prefix")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Recipe":
        problems: list[str] = []
        names = [r.name for r in self.rules]
        for n in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"rule name {n!r} is used twice; rule names must be unique")
        cnames = [c.name for c in self.compare]
        for n in sorted({n for n in cnames if cnames.count(n) > 1}):
            problems.append(f"compare name {n!r} is used twice")
        for c in self.compare:
            if not _NAME.match(c.name):
                problems.append(f"compare name {c.name!r} must be letters, digits and _ (it names a diff column)")
        known = set(BUILTIN_CATEGORIES) | set(self.categories)
        for c in self.compare:
            if c.effective_category not in known:
                problems.append(f"compare {c.name!r}: category {c.effective_category!r} is neither built in nor declared under categories")
            if "third" in c.sides and self.third is None:
                problems.append(f"compare {c.name!r} names a third field but the recipe has no third side")
        for old in self.category_names:
            if old not in BUILTIN_CATEGORIES:
                problems.append(f"category_names: {old!r} is not a built-in category")
        for r in self.rules:
            if r.type in KEY_RULES and self.key is None:
                problems.append(f"rule {r.name!r} ({r.type}) needs a key: add key: FIELD")
            if r.type not in KEY_RULES and self.amount is None:
                problems.append(f"rule {r.name!r} ({r.type}) compares amounts: add amount: FIELD")
            if getattr(r, "days", None) is not None and self.date is None:
                problems.append(f"rule {r.name!r} uses a day window: add date: FIELD")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- per-side accessors -------------------------------------------------------------------
    def field_for(self, spec: Union[str, PairField, None], side: str) -> str | None:
        if spec is None:
            return None
        if isinstance(spec, str):
            return spec
        return getattr(spec, side, None) or (spec.left if side == "third" else None)

    def key_fields(self, side: str) -> list[str]:
        """The key column(s) of a side, in order: one for a simple key, several for a composite key."""
        if side == "third":
            return [self.third.third_field] if self.third else []
        spec = self.key
        if spec is None:
            return []
        if isinstance(spec, str):
            return [spec]
        if isinstance(spec, list):
            return list(spec)
        value = getattr(spec, side, None)
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    @property
    def has_composite_key(self) -> bool:
        return len(self.key_fields("left")) > 1

    def key_field(self, side: str) -> str | None:
        """The single key column of a side (None without a key).

        Raises RecipeError for a composite key: callers that understand several key columns use
        :meth:`key_fields`; the others must not silently match on the first column only.
        """
        fields = self.key_fields(side)
        if len(fields) > 1:
            raise RecipeError(
                f"recipe {self.name!r} has a composite key ({', '.join(fields)}) but this caller matches on one "
                "key column; use an engine with composite keys, or derive one column with "
                "prepare: {concat: {column: ..., from: [...]}} and key on it", template_file=self.source, field="key")
        return fields[0] if fields else None

    def amount_field(self, side: str) -> str | None:
        return self.field_for(self.amount, side)

    def date_field(self, side: str) -> str | None:
        return self.field_for(self.date, side)

    def key_steps(self, side: str, position: int = 0) -> list[Any]:
        """Normalisation steps for a side's key (``position``: which field of a composite key): its own
        field's entry, else the other side's, else the ``key`` entry, else defaults."""
        own = self.key_fields(side)
        other = self.key_fields("right" if side == "left" else "left")
        for f in (own[position] if position < len(own) else None,
                  other[position] if position < len(other) else None, "key"):
            if f and f in self.normalise:
                return list(self.normalise[f])
        return list(DEFAULT_KEY_STEPS)

    def steps_for_field(self, field: str) -> list[Any]:
        return list(self.normalise.get(field, DEFAULT_KEY_STEPS))

    def category_label(self, category: str) -> str:
        return self.category_names.get(category, category)

    def sides(self) -> list[str]:
        return ["left", "right"] + (["third"] if self.third else [])

    def side_label(self, side: str) -> str:
        spec = getattr(self, side)
        return spec.label if spec else side

    def has_keyless_rules(self) -> bool:
        return any(r.type not in KEY_RULES for r in self.rules)

    def rule_columns(self, rule: Any, side: str) -> list[str]:
        """The columns of one side a rule reads (key, date, group, same and text fields)."""
        cols: list[str | None] = []
        if side not in ("left", "right"):
            return []
        if rule.type in KEY_RULES:
            cols += self.key_fields(side)
        else:
            cols.append(self.amount_field(side))
        if getattr(rule, "days", None) is not None:
            cols.append(self.date_field(side))
        if isinstance(rule, GroupSumRule) and rule.many_side == side:
            cols += [g.date if isinstance(g, DateGroup) else g for g in rule.groups]
        if isinstance(rule, (AmountDateRule, GroupSumRule, SubsetSumRule, FuzzyRule)):
            cols += [getattr(x, side) for x in rule.same_pairs()]
        if isinstance(rule, FuzzyRule):
            cols.append(getattr(rule, side))
        return [c for c in dict.fromkeys(cols) if c]

    def required_columns(self, side: str) -> dict[str, list[str]]:
        """Column -> the recipe parts that need it, for one side (to list every missing column at once).
        Optional rules are left out: they are skipped when their columns are absent."""
        need: dict[str, list[str]] = {}

        def add(col: str | None, why: str) -> None:
            if col:
                need.setdefault(col, [])
                if why not in need[col]:
                    need[col].append(why)

        if side in ("left", "right"):
            add(self.amount_field(side), "amount")
            for r in self.rules:
                if not r.optional:
                    for col in self.rule_columns(r, side):
                        add(col, "key" if r.type in KEY_RULES and col in self.key_fields(side) else f"rule {r.name!r}")
        if side == "third" and self.third:
            add(self.third.third_field, "third.key")
            add(self.amount_field("third") if isinstance(self.amount, PairField) and self.amount.third else None, "amount")
        if self.third and side == self.third.joins:
            add(self.third.partner_field, "third.key")
        for c in self.compare:
            if side in c.sides:
                add(getattr(c, side), f"compare {c.name!r}")
        return need


# --- loading ---------------------------------------------------------------------------------------
class _NoDatesLoader(yaml.SafeLoader):
    """Safe YAML that keeps ``2026-03-01`` as text (papermill's NoDatesSafeLoader idea)."""


_NoDatesLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("exact_key", "normalised_key", "amount_date", "group_sum", "subset_sum", "fuzzy",
                      "str", "PairField", "ThirdKey", "SameField", "DateGroup", "dict[str,list[str]]"):
            continue  # pydantic's union branch names: not part of the user's field path
        else:
            out += ("." if out else "") + str(part)
    return out or "(recipe)"


def _recipe_error(exc: ValidationError, source: str) -> RecipeError:
    parts, first = [], None
    for err in exc.errors():
        where = _loc_text(tuple(err["loc"]))
        first = first or where
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where != "(recipe)" else msg)
    return RecipeError("; ".join(parts) + "; fix the recipe file", template_file=source, field=first)


def recipe_from_dict(data: dict[str, Any], *, source: str = "<recipe>") -> Recipe:
    """Validate a recipe given as a dict; errors raise RecipeError naming the source and the field."""
    if not isinstance(data, dict):
        raise RecipeError("a recipe must be a YAML mapping (name:, left:, right:, rules: ...)", template_file=source)
    try:
        return Recipe.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise _recipe_error(exc, source) from None


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate one recipe YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"cannot read the recipe: {exc}; check the path", template_file=p.as_posix()) from None
    try:
        data = yaml.load(text, Loader=_NoDatesLoader)
    except yaml.YAMLError as exc:
        raise RecipeError(f"not valid YAML: {exc}", template_file=p.as_posix()) from None
    return recipe_from_dict(data, source=p.as_posix())


@lru_cache(maxsize=None)
def _builtin(path: str, mtime: float) -> Recipe:
    return load_recipe(path)


def list_recipes() -> list[Recipe]:
    """The built-in recipes in ``templates/recipes/``, sorted by name."""
    out = [_builtin(str(p), p.stat().st_mtime) for p in sorted(RECIPES_DIR.glob("*.yaml"))]
    return sorted(out, key=lambda r: r.name)


def get_recipe(name_or_path: "str | Path | Recipe") -> Recipe:
    """A Recipe by built-in name, by path to a YAML file, or passed through if it is one already."""
    if isinstance(name_or_path, Recipe):
        return name_or_path
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        return load_recipe(text)
    for recipe in list_recipes():
        if recipe.name == text:
            return recipe
    names = ", ".join(r.name for r in list_recipes()) or "(none)"
    raise RecipeError(f"no built-in recipe named {text!r}; choose one of {names} or pass a path to a .yaml file")


# --- preparation -----------------------------------------------------------------------------------
PREPARED_ATTR = "recon_prepared_for"


def prepare(table: pd.DataFrame, recipe: "str | Path | Recipe", side: str) -> pd.DataFrame:
    """Apply the recipe's ``prepare:`` steps for ``side`` to a loaded table; returns a new DataFrame.

    Pure pandas, no input is changed. Steps run in recipe order (derive, extract, coalesce, concat,
    sum_by; see the module docstring). A table already prepared for this recipe and side is returned
    as is, so calling it twice is harmless. Without steps for the side, the table comes back unchanged.

    Raises
    ------
    MatchInputError
        A step names a column the table lacks (all of them listed; ``coalesce`` skips absent fields).
    """
    recipe = get_recipe(recipe)
    if side not in ("left", "right", "third"):
        raise MatchInputError(f"side must be left, right or third, not {side!r}")
    steps = recipe.prepare.steps(side)
    if not steps or table.attrs.get(PREPARED_ATTR) == (recipe.name, side):
        return table
    _check_step_columns(recipe, side, steps, table)
    out = table.copy()
    for spec in steps:
        out = _STEP_FUNCS[type(spec)](out, spec)
    out.attrs[PREPARED_ATTR] = (recipe.name, side)
    return out


def prepare_tables(recipe: "str | Path | Recipe", left: pd.DataFrame, right: pd.DataFrame,
                   third: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """:func:`prepare` each side: ``left, right, third = prepare_tables(recipe, left, right, third)``."""
    recipe = get_recipe(recipe)
    return (prepare(left, recipe, "left"), prepare(right, recipe, "right"),
            None if third is None else prepare(third, recipe, "third"))


def _step_inputs(spec: Any) -> list[str]:
    if isinstance(spec, (DeriveSpec, ExtractSpec)):
        return [spec.source]
    if isinstance(spec, ConcatSpec):
        return list(spec.source)
    if isinstance(spec, SumBySpec):
        return [*spec.by, *spec.sum, *spec.latest]
    return []  # coalesce: absent fields are skipped on purpose


def _check_step_columns(recipe: Recipe, side: str, steps: list[Any], table: pd.DataFrame) -> None:
    have = set(table.columns)
    missing: dict[str, list[str]] = {}
    for i, spec in enumerate(steps):
        for col in _step_inputs(spec):
            if col not in have:
                missing.setdefault(col, []).append(f"prepare.{side}[{i}]")
        have.add(getattr(spec, "column", None) or "")
    if missing:
        listed = "; ".join(f"{c} (needed by {', '.join(w)})" for c, w in missing.items())
        raise MatchInputError(f"recipe {recipe.name!r}: the {side} table lacks columns {listed}. "
                              "Load the file the recipe expects, or adjust the recipe's prepare steps")


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string[pyarrow]").str.strip()


def _derive(table: pd.DataFrame, spec: DeriveSpec) -> pd.DataFrame:
    text = _text(table[spec.source]).fillna("")
    out = pd.Series(pd.NA, index=table.index, dtype="string[pyarrow]")
    for needle, value in spec.contains.items():  # first needle in recipe order wins
        hit = out.isna() & text.str.contains(needle, regex=False)
        out = out.mask(hit, value)
    table[spec.column] = out
    return table


def _extract(table: pd.DataFrame, spec: ExtractSpec) -> pd.DataFrame:
    rx = re.compile(spec.pattern)

    def one(value: Any) -> Any:
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return pd.NA
        found = {m.group(0) for m in rx.finditer(str(value))}
        return found.pop() if len(found) == 1 else pd.NA

    table[spec.column] = pd.Series([one(v) for v in table[spec.source]], index=table.index, dtype="string[pyarrow]")
    return table


def _day_text(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.astype(object), errors="coerce").dt.strftime("%Y-%m-%d").astype("string[pyarrow]")


def _coalesce(table: pd.DataFrame, spec: CoalesceSpec) -> pd.DataFrame:
    out = pd.Series(pd.NA, index=table.index, dtype="string[pyarrow]")
    for part in spec.source:
        name = part.date if isinstance(part, DateGroup) else part
        if name not in table.columns:
            continue
        values = _day_text(table[name]) if isinstance(part, DateGroup) else _text(table[name])
        values = values.mask(values == "")
        out = out.fillna(values)
    table[spec.column] = out
    return table


def _concat(table: pd.DataFrame, spec: ConcatSpec) -> pd.DataFrame:
    parts = [_text(table[c]) for c in spec.source]
    out = parts[0]
    for part in parts[1:]:
        out = out + spec.sep + part
    blank = pd.concat([(p.isna() | (p == "")) for p in parts], axis=1).any(axis=1)
    table[spec.column] = out.mask(blank)
    return table


def _sum_by(table: pd.DataFrame, spec: SumBySpec) -> pd.DataFrame:
    keys = table[spec.by].apply(lambda s: _text(s))
    grouped = ~(keys.isna() | (keys == "")).any(axis=1)
    if "source_row" not in table.columns:
        table = table.assign(source_row=pd.Series(range(1, len(table) + 1), index=table.index, dtype="int64"))
    if "source_file" not in table.columns:
        table = table.assign(source_file="<table>")
    alone = table[~grouped].copy()
    alone["source_rows"] = alone["source_row"].astype("string[pyarrow]")
    alone["rows_summed"] = 1
    many = table[grouped].sort_values(["source_file", "source_row"], kind="stable")
    if many.empty:
        return pd.concat([alone], ignore_index=True)
    group_ids = keys[grouped].loc[many.index].apply(tuple, axis=1)
    parts: list[dict[str, Any]] = []
    for _, block in many.groupby(group_ids, sort=False):
        parts.append(_sum_block(block, spec))
    summed = pd.DataFrame(parts)
    for col in table.columns:
        if col in summed.columns:
            try:
                summed[col] = summed[col].astype(table[col].dtype)
            except (TypeError, ValueError, pa.ArrowInvalid):
                pass
    summed["source_rows"] = summed["source_rows"].astype("string[pyarrow]")
    summed["rows_summed"] = summed["rows_summed"].astype("int64")
    out = pd.concat([summed, alone], ignore_index=True) if len(alone) else summed
    return out.sort_values(["source_file", "source_row"], kind="stable").reset_index(drop=True)


def _sum_block(block: pd.DataFrame, spec: SumBySpec) -> dict[str, Any]:
    """One group as one row: sums exact (Decimal), latest = max, others kept where the group agrees."""
    row: dict[str, Any] = {}
    for col in block.columns:
        values = block[col]
        if col in spec.sum:
            row[col] = sum((v for v in values.dropna()), start=Decimal("0") if _is_decimal(values) else 0)
        elif col in spec.latest:
            row[col] = values.max()
        elif col == "source_row":
            row[col] = int(values.min())
        elif col == "source_file":
            row[col] = values.iloc[0]
        else:
            distinct = values.dropna().unique()
            row[col] = distinct[0] if len(distinct) == 1 and not values.isna().any() else None
    row["source_rows"] = ";".join(str(int(r)) for r in block["source_row"])
    row["rows_summed"] = len(block)
    return row


def _is_decimal(series: pd.Series) -> bool:
    dtype = series.dtype
    return isinstance(dtype, pd.ArrowDtype) and pa.types.is_decimal(dtype.pyarrow_dtype)


_STEP_FUNCS = {DeriveSpec: _derive, ExtractSpec: _extract, CoalesceSpec: _coalesce, ConcatSpec: _concat,
               SumBySpec: _sum_by}
