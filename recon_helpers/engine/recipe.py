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

Tolerance rule: |left - right| <= abs_tol + rel_tol * |right|. Dates: |right - left| <= days, or
``days: {min: 0, max: 3}``: right - left between 0 and 3 days (see :mod:`.windows`).
"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, ValidationError, field_validator, model_validator

from recon_helpers import catalog
from recon_helpers.canonical import TABLE_KINDS
from recon_helpers.engine.steps import (
    PREPARE_STEPS,
    DateGroup,
    PrepareStep,
    RecipeModel,
)
from recon_helpers.engine.taxonomy import BUILTIN_CATEGORIES
from recon_helpers.engine.windows import Days, check_days
from recon_helpers.errors import RecipeError

NORMALISE_STEPS = ("trim", "fullwidth", "zero_width", "upper", "lower", "strip_separators", "strip_leading_zeros")
DEFAULT_KEY_STEPS: tuple[Any, ...] = ("trim", "fullwidth", "zero_width", "upper", "strip_separators")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _non_negative(value: Decimal | int | None, name: str) -> Decimal | int | None:
    if value is not None and value < 0:
        raise ValueError(f"{name} cannot be negative")
    return value


class SideSpec(RecipeModel):
    """One side of a match: the kind of table expected and the label people see."""

    kind: str
    label: str

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in TABLE_KINDS:
            raise ValueError(f"unknown table kind {v!r}; use one of {', '.join(sorted(TABLE_KINDS))}")
        return v


class ThirdKey(RecipeModel):
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


class PairField(RecipeModel):
    """A field named per side, e.g. ``{left: order_id, right: merchant_order_id}``."""

    left: str
    right: str
    third: str | None = None


class KeyPair(RecipeModel):
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


class SameField(RecipeModel):
    left: str
    right: str


class Signs(RecipeModel):
    left: Literal[1, -1] = 1
    right: Literal[1, -1] = 1
    third: Literal[1, -1] = 1


class Filters(RecipeModel):
    left: str | None = None
    right: str | None = None
    third: str | None = None


class _ToleranceChecks(RecipeModel):
    """Checks shared by every model with money tolerances and a date window: exact, never negative."""

    @field_validator("abs_tol", "rel_tol", mode="before", check_fields=False)
    @classmethod
    def _as_decimal(cls, v):
        return catalog.written_decimal(v)

    @field_validator("abs_tol", "rel_tol", check_fields=False)
    @classmethod
    def _not_negative(cls, v, info):
        return _non_negative(v, info.field_name)

    @field_validator("days", check_fields=False)
    @classmethod
    def _window(cls, v):
        return check_days(v)


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
    days: Days | None = None
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


class _RuleBase(RecipeModel):
    name: str
    #: skip the rule (instead of refusing the tables) when they lack the columns it needs, e.g. a
    #: batch id that only some platforms' settlement files carry
    optional: bool = False
    #: only the rows of each side this SQL condition keeps are this rule's business (the others wait
    #: for later rules), e.g. ``where: {left: "store_id IN ('S07', 'S12')"}``: stores paid one by one
    where: Filters = Filters()


class _Tolerant(_RuleBase, _ToleranceChecks):
    days: Days | None = None
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
    """No shared key: equal amount (within tolerance) and date within ``days``; optimal one-to-one.

    ``prefer``: ``nearest_date`` - a nearer date is evidence (the nearer of two candidates wins);
    ``none`` - any date inside the window is as good, so every tie is refused (see :mod:`.keyless`).
    """

    type: Literal["amount_date"]
    days: Days = 0
    prefer: Literal["nearest_date", "none"] = "nearest_date"


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
    days: Days | None = None
    max_items: int = Field(5, ge=2, le=8)
    max_candidates: int = Field(30, ge=2, le=200)
    many: Literal["left", "right"] = "left"
    same: list[Union[str, SameField]] = []

    @field_validator("days")
    @classmethod
    def _days(cls, v):
        return check_days(v)

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



class Preparation(RecipeModel):
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


class Recipe(RecipeModel):
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
catalog.register_branch_names("exact_key", "normalised_key", "amount_date", "group_sum", "subset_sum", "fuzzy")


def recipe_from_dict(data: dict[str, Any], *, source: str = "<recipe>") -> Recipe:
    """Validate a recipe given as a dict; every problem is named in one RecipeError (file and fields)."""
    if not isinstance(data, dict):
        raise RecipeError("a recipe must be a YAML mapping (name:, left:, right:, rules: ...)", template_file=source)
    try:
        return Recipe.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise catalog.schema_error(exc, origin=source, error=RecipeError, what="recipe file") from None


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate one recipe YAML file."""
    return recipe_from_dict(catalog.read_yaml(path, error=RecipeError), source=catalog.display_path(path))


#: the built-in recipes (templates/recipes/*.yaml)
RECIPES: catalog.Shelf[Recipe] = catalog.Shelf("recipes", read=load_recipe, name_of=lambda r: r.name,
                                                error=RecipeError, noun="recipe")


def list_recipes() -> list[Recipe]:
    """The built-in recipes in ``templates/recipes/``, sorted by name."""
    return RECIPES.all()


def get_recipe(name_or_path: "str | Path | Recipe") -> Recipe:
    """A Recipe by built-in name, by path to a YAML file, or passed through if it is one already."""
    if isinstance(name_or_path, Recipe):
        return name_or_path
    return RECIPES.get(name_or_path)


