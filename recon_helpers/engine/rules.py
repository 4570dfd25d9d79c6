"""The parts of a recipe: its sides, fields named per side, compares and the rule types of the cascade.

:mod:`.recipe` assembles them into a :class:`~recon_helpers.engine.recipe.Recipe` and documents the
whole schema; this module holds the models one by one so each stays small and validated on its own.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

from recon_helpers import catalog
from recon_helpers.canonical import TABLE_KINDS
from recon_helpers.engine import units as unit_table
from recon_helpers.engine.steps import DateGroup, RecipeModel
from recon_helpers.engine.windows import Days, check_days


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
    #: the unit abs_tol is written in (``abs_tol: "10 g"`` says the same); default: the kind's own
    unit: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _tolerance_with_unit(cls, data):
        """``abs_tol: "10 g"`` -> abs_tol 10, unit g."""
        if isinstance(data, dict) and (parts := unit_table.split_amount(data.get("abs_tol"))):
            number, unit = parts
            if data.get("unit") not in (None, unit):
                raise ValueError(f"compare {data.get('name')!r}: abs_tol is written in {unit} but unit says "
                                 f"{data.get('unit')}; say it once")
            data = {**data, "abs_tol": number, "unit": unit}
        return data

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v):
        return None if v is None else unit_table.check_unit(v)

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
        if self.abs_tol is not None or self.rel_tol is not None or self.unit is not None:
            return "money"  # or a measure: decided with the columns' kinds (cascade._resolve_compare)
        return "exact"

    @property
    def tolerance(self) -> Decimal:
        """abs_tol in the canonical unit of its kind (``10 g`` -> 0.010 kg)."""
        tol = self.abs_tol or Decimal("0")
        return unit_table.to_canonical(tol, self.unit) if self.unit else tol

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
