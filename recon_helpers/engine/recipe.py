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
                                                # also {keep: 'A-Z0-9'}, {remove: '-_ '},
                                                # {replace: {pattern: '^NO\\.?', with: ''}} (validated regexes)
    units: {right: {amount: fen, billed_weight: g}}   # converted exactly to yuan / kg / cm / l (engine.units)
    ids: {left: [order_id], right: [txn_id]}    # the rows' own ids carried into links and exceptions (<= 3)
    amount: {left: expected_fee, right: amount} # money shown and used by keyless rules
    date:   {left: txn_time, right: txn_time}   # date used by day windows
    sign:   {left: 1, right: -1}                # multiply amounts before comparing
    filters: {left: "amount > 0"}               # rows outside are reported as out_of_scope
    compare:                                    # checked on every 1:1 candidate link
      - {name: fee, left: expected_fee, right: amount, abs_tol: "0.00", rel_tol: "0", category: rate_card_violation}
      - {name: date, left: txn_time, right: txn_time, days: 3}          # or days: {min: 0, max: 3}
      - {name: weight, left: chargeable_weight, right: billed_weight, abs_tol: "10 g"}   # a measure: 0.001 kg
      - {name: qty, left: qty, third: qty}                  # exact; compares left with third
      - {name: status, left: status, right: status, mapping: {已发货: [已出库], "*": [已出库]}}   # "*": any other left value
    rules:                                      # required, ordered, first match wins
      - {name: exact_key, type: exact_key}
      - {name: normalised_key, type: normalised_key}
      - {name: amount_and_date, type: amount_date, days: {min: 0, max: 3}, abs_tol: "0.00", prefer: none,
         where: {left: "batch_id IS NULL"}}     # prefer: none | nearest_date; where: rows this rule may see
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
        - {extract: {column: order_id, from: memo, pattern: '订单号(\\d{18})'}}      # keeps the capture group
        - {compute: {column: net, plus: [amount], minus: [fee], empty: zero}}    # exact money / measure sums
        - {map: {column: payer, from: channel, values: {支付宝: alipay}, default: other}}
        - {constant: {column: currency, value: CNY}}

Tolerance rule: |left - right| <= abs_tol + rel_tol * |right|. Dates: |right - left| <= days, or
``days: {min: 0, max: 3}``: right - left between 0 and 3 days (see :mod:`.windows`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Union

from pydantic import Field, ValidationError, field_validator, model_validator

from recon_helpers import catalog
from recon_helpers.engine import units as unit_table
from recon_helpers.engine.rules import (
    KEY_RULES,
    AmountDateRule,
    Compare,
    Filters,
    FuzzyRule,
    GroupSumRule,
    KeyPair,
    PairField,
    Rule,
    SideSpec,
    Signs,
    SubsetSumRule,
    ThirdSpec,
)
from recon_helpers.engine.rules import ExactKeyRule as ExactKeyRule  # re-exported: callers import rules from here
from recon_helpers.engine.rules import NormalisedKeyRule as NormalisedKeyRule
from recon_helpers.engine.rules import SameField as SameField
from recon_helpers.engine.steps import (
    PREPARE_STEPS,
    DateGroup,
    PrepareStep,
    RecipeModel,
    step_help,
)
from recon_helpers.engine.taxonomy import BUILTIN_CATEGORIES
from recon_helpers.errors import RecipeError

NORMALISE_STEPS = ("trim", "fullwidth", "zero_width", "upper", "lower", "strip_separators", "strip_leading_zeros")
DEFAULT_KEY_STEPS: tuple[Any, ...] = ("trim", "fullwidth", "zero_width", "upper", "strip_separators")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RULE_STEPS_HELP = ("{strip_prefix: [T200P]}, {keep: 'A-Z0-9'} (keep only these characters), "
                    "{remove: '-_ '} (drop these characters), {replace: {pattern: '^0+', with: ''}}")
#: regex features DuckDB's engine (RE2) lacks: refused up front rather than failing mid-match
_UNPORTABLE = re.compile(r"\(\?<?[=!]|\\[1-9]")
_CHAR_CLASS = re.compile(r"^(?:\\.|[^\[\]\\])+$")


def _check_rule_step(where: str, step: dict[str, Any]) -> None:
    """A normalisation step written as data: strip_prefix, keep, remove or replace - validated here."""
    if len(step) != 1 or next(iter(step)) not in ("strip_prefix", "keep", "remove", "replace"):
        raise ValueError(f"{where}: a step written as a mapping must be one of {_RULE_STEPS_HELP}; got {step!r}")
    name, arg = next(iter(step.items()))
    if name == "strip_prefix":
        if not (isinstance(arg, list) and arg and all(isinstance(p, str) for p in arg)):
            raise ValueError(f"{where}: strip_prefix takes a list of prefixes, e.g. {{strip_prefix: [T200P, JD]}}")
    elif name in ("keep", "remove"):
        if not isinstance(arg, str) or not _CHAR_CLASS.match(arg):
            raise ValueError(f"{where}: {name} takes the characters of a class as text, without brackets, e.g. "
                             f"{{{name}: 'A-Z0-9'}} ({'keep only' if name == 'keep' else 'drop'} A to Z and 0 to 9); "
                             f"got {arg!r}")
        _compiles(where, f"[{arg}]")
    else:
        if not (isinstance(arg, dict) and set(arg) == {"pattern", "with"} and all(isinstance(x, str) for x in arg.values())):
            raise ValueError(f"{where}: replace takes {{pattern: REGEX, with: TEXT}}, e.g. "
                             "{replace: {pattern: '^0+', with: ''}} to drop leading zeros")
        if _UNPORTABLE.search(arg["pattern"]):
            raise ValueError(f"{where}: pattern {arg['pattern']!r} uses a look-around or a back-reference, which "
                             "the matcher's SQL engine does not support; rewrite it without them")
        _compiles(where, arg["pattern"])


def _compiles(where: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where}: {pattern!r} is not a valid regular expression: {exc}") from None





class Units(RecipeModel):
    """Per side, the unit of columns that are not in canonical units: ``{right: {amount: fen}}``.
    Converted exactly before the prepare steps (see :mod:`.units`)."""

    left: dict[str, str] = {}
    right: dict[str, str] = {}
    third: dict[str, str] = {}

    @field_validator("left", "right", "third")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        for column, unit in v.items():
            if unit not in unit_table.UNITS:
                raise ValueError(f"column {column}: unknown unit {unit!r}; use one of {unit_table.unit_names()}, "
                                 "e.g. units: {right: {amount: fen, billed_weight: g}}")
            implied = unit_table.column_kind(column)
            if implied and implied != unit_table.kind_of_unit(unit):
                raise ValueError(f"column {column} holds {implied} but unit {unit!r} is a "
                                 f"{unit_table.kind_of_unit(unit)} unit; a unit converts within its kind only")
        return v

    def __bool__(self) -> bool:
        return bool(self.left or self.right or self.third)


class Ids(RecipeModel):
    """Per side, up to three of the rows' own id columns to carry into links and exceptions
    (``ids: {left: [order_id], right: [txn_id, doc_no]}``), so joining back to a table is one merge."""

    left: list[str] = Field([], max_length=3)
    right: list[str] = Field([], max_length=3)
    third: list[str] = Field([], max_length=3)

    def names(self) -> list[str]:
        return list(dict.fromkeys([*self.left, *self.right, *self.third]))


#: result columns an id column may not be named after (it would hide them)
RESULT_COLUMNS = frozenset({"group_id", "side", "source_file", "source_row", "key", "amount", "rule", "status",
                            "score", "category", "detail", "candidates"})


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
    normalise: dict[str, list[Union[str, dict[str, Any]]]] = {}
    amount: Union[str, PairField, None] = None
    date: Union[str, PairField, None] = None
    sign: Signs = Signs()
    filters: Filters = Filters()
    compare: list[Compare] = []
    rules: list[Rule] = Field(min_length=1)
    categories: dict[str, str] = {}
    category_names: dict[str, str] = {}
    prepare: Preparation = Preparation()
    units: Units = Units()
    ids: Ids = Ids()
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
            for i, step in enumerate(steps):
                where = f"normalise.{fname}[{i}]"
                if isinstance(step, dict):
                    _check_rule_step(where, step)
                elif step not in NORMALISE_STEPS:
                    raise ValueError(f"{where}: unknown step {step!r}; use {', '.join(NORMALISE_STEPS)}, "
                                     f"or one of {_RULE_STEPS_HELP}")
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
        for c in self.compare:
            problems += self._unit_problems(c)
        for name in self.ids.names():
            if name in RESULT_COLUMNS or name.startswith("diff_"):
                problems.append(f"ids: {name!r} is also a column of the results; rename it in prepare, e.g. "
                                f"{{coalesce: {{column: {name}_id, from: [{name}]}}}}")
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

    def column_kind(self, side: str, column: str | None) -> str | None:
        """money, weight, length, volume, quantity - by declared unit, else by the column's name."""
        if not column:
            return None
        declared = getattr(self.units, side, {}).get(column)
        return unit_table.kind_of_unit(declared) if declared else unit_table.column_kind(column)

    def _unit_problems(self, c: "Compare") -> list[str]:
        """A compare between two kinds, or a tolerance in a unit of another kind, cannot be meant."""
        if c.kind != "money":
            return []
        kinds = {side: self.column_kind(side, getattr(c, side)) for side in c.sides}
        known = {k for k in kinds.values() if k}
        out = []
        if len(known) > 1:
            named = " with ".join(f"{s} {getattr(c, s)} ({k or '?'})" for s, k in kinds.items())
            out.append(f"compare {c.name!r} compares {named}: "
                       "a compare needs two columns of the same kind (money with money, weight with weight)")
        if c.unit and known and unit_table.kind_of_unit(c.unit) not in known:
            out.append(f"compare {c.name!r}: abs_tol is in {c.unit} ({unit_table.kind_of_unit(c.unit)}) but the "
                       f"columns hold {', '.join(sorted(known))}; write it in a unit of that kind, e.g. "
                       f"abs_tol: \"0.00\" for money or \"10 g\" for weight")
        return out

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
        for col in getattr(self.ids, side, []):
            add(col, "ids")
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
        err = catalog.schema_error(exc, origin=source, error=RecipeError, what="recipe file")
        steps = sorted({str(e["loc"][-2]) for e in exc.errors() if e["type"] == "extra_forbidden"
                        and len(e["loc"]) > 1 and e["loc"][-2] in PREPARE_STEPS and e["loc"][0] == "prepare"})
        if not steps:
            raise err from None
        hint = "; ".join(step_help(s) for s in steps)
        prefix = f"{err.template_file}" + (f", field {err.field!r}" if err.field else "") + ": "
        raise RecipeError(f"{err.message.removeprefix(prefix)}. {hint}", template_file=err.template_file,
                          field=err.field) from None


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


