"""Courier rate cards as data: the schema of ``templates/rate_cards/*.yaml``, validated on load.

The fee rule itself is in :mod:`.pricing`; provinces are normalised here so a card's zones and a
shipment's destination compare alike (``广东省`` / ``广东``).
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, model_validator

from recon_helpers import catalog
from recon_helpers.catalog import FrozenModel

#: the 31 mainland province-level divisions, short form
PROVINCES: tuple[str, ...] = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆",
    "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆",
)
_AUTONOMOUS_FULL = {
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
}
_MUNICIPALITIES = {"北京", "天津", "上海", "重庆"}


def _full_form(short: str) -> str:
    if short in _AUTONOMOUS_FULL:
        return _AUTONOMOUS_FULL[short]
    return short + ("市" if short in _MUNICIPALITIES else "省")


#: full form -> short form, longest first so that a prefix test finds the whole name
_FULL_FORMS: list[tuple[str, str]] = sorted(
    ((_full_form(p), p) for p in PROVINCES), key=lambda item: -len(item[0])
)
_SHORT = frozenset(PROVINCES)


def normalise_province(name: object) -> str:
    """Short province name for ``广东``, ``广东省``, ``广东省深圳市`` or ``新疆维吾尔自治区``.

    Why: bills, orders and ERP exports write provinces in full, short, or with the city appended; a
    rate card lists short names. A value that is not a mainland province comes back stripped but
    otherwise unchanged (``香港``, a city code), so the caller can route it to the default zone.
    """
    if name is None or (isinstance(name, float) and name != name):
        return ""
    text = str(name).strip().replace(" ", "").replace("\u3000", "")
    if text in _SHORT:
        return text
    for full, short in _FULL_FORMS:
        if text.startswith(full):
            return short
    return text


# ---------------------------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------------------------


def _exact_decimal(value: Any) -> Any:
    """Refuse YAML floats for money: ``12.3`` in YAML is a binary float, ``"12.30"`` is exact."""
    if isinstance(value, float):
        raise ValueError(f'write money as a quoted string, e.g. "{value:.2f}" (a YAML float is not exact)')
    return value


MoneyText = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, decimal_places=2)]
Percent = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, le=100, decimal_places=4)]
Kg = Annotated[Decimal, BeforeValidator(catalog.written_decimal), Field(gt=0, decimal_places=3)]


class WeightBand(FrozenModel):
    """Round weights up to ``step_kg`` while they are <= ``up_to_kg`` (no up_to_kg = every heavier weight)."""

    up_to_kg: Kg | None = None
    step_kg: Kg


class Zone(FrozenModel):
    """Destination provinces that share one price: ``first_price`` for the first weight, then per unit."""

    name: str = Field(min_length=1)
    provinces: list[str]
    first_price: MoneyText
    additional_price: MoneyText


class Insurance(FrozenModel):
    """保价费: ``pct`` percent of the declared value, at least ``min_fee``."""

    pct: Percent
    min_fee: MoneyText = Decimal("0.00")


class Surcharges(FrozenModel):
    """Fuel surcharge (percent of the freight) and a flat per-waybill fee (e.g. ZTO 面单费)."""

    fuel_pct: Percent = Decimal("0")
    per_waybill: MoneyText = Decimal("0.00")
    insurance: Insurance | None = None


class RateCard(FrozenModel):
    """One carrier's contract price sheet; see the module docstring for the fee rule it feeds."""

    carrier: Literal["sf", "zto", "yto", "jdl"]
    name: str = Field(min_length=1)
    service: str = ""
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    source: str = ""
    volumetric_divisor: int | None = Field(default=None, gt=0)
    dims_round_up_cm: bool = True
    weight_rounding: list[WeightBand] = Field(min_length=1)
    first_weight_kg: Kg
    additional_unit_kg: Kg
    zones: list[Zone] = Field(min_length=1)
    default_zone: str
    surcharges: Surcharges = Surcharges()

    _zone_of: dict[str, int] = PrivateAttr(default_factory=dict)
    _source_file: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_bands_and_zones(self) -> "RateCard":
        bands = self.weight_rounding
        for i, band in enumerate(bands[:-1]):
            if band.up_to_kg is None:
                raise ValueError(f"weight_rounding[{i}] needs up_to_kg: only the last band may be open-ended")
            if i and bands[i - 1].up_to_kg is not None and band.up_to_kg <= bands[i - 1].up_to_kg:
                raise ValueError(f"weight_rounding[{i}].up_to_kg must be larger than the band before it")
        if bands[-1].up_to_kg is not None:
            raise ValueError("the last weight_rounding band must have no up_to_kg, so every weight has a step")
        zone_of: dict[str, int] = {}
        names = [z.name for z in self.zones]
        for zi, zone in enumerate(self.zones):
            if names.count(zone.name) > 1:
                raise ValueError(f"zone name {zone.name!r} is used twice")
            for raw in zone.provinces:
                short = normalise_province(raw)
                if short not in _SHORT:
                    raise ValueError(f"zones[{zi}] ({zone.name}): {raw!r} is not a mainland province; "
                                     f"use one of {', '.join(PROVINCES)}")
                if short in zone_of:
                    raise ValueError(f"province {short!r} is in zone {self.zones[zone_of[short]].name!r} "
                                     f"and again in {zone.name!r}")
                zone_of[short] = zi
        if self.default_zone not in names:
            raise ValueError(f"default_zone {self.default_zone!r} is not one of the zones ({', '.join(names)})")
        self._zone_of = zone_of
        return self

    @property
    def source_file(self) -> str | None:
        """The YAML file the card was read from (None when built in code)."""
        return self._source_file

    def zone_index(self, destination: object) -> int:
        """Index into ``zones`` for a destination; unknown or foreign provinces go to ``default_zone``."""
        short = normalise_province(destination)
        if short in self._zone_of:
            return self._zone_of[short]
        return next(i for i, z in enumerate(self.zones) if z.name == self.default_zone)

    def zone_for(self, destination: object) -> Zone:
        """The zone that prices parcels to ``destination``."""
        return self.zones[self.zone_index(destination)]


def load_rate_card(name_or_path: str | Path) -> RateCard:
    """Read and validate a rate card: a name (``"sf"`` -> templates/rate_cards/sf.yaml) or a path.

    Raises
    ------
    TemplateError
        No card of that name (the message lists close ones), or the YAML is broken or breaks the
        schema: names the file and every bad field.
    """
    if isinstance(name_or_path, str) and not catalog.looks_like_path(name_or_path):
        return RATE_CARDS.get(name_or_path)
    return read_rate_card(Path(name_or_path))


def read_rate_card(path: Path) -> RateCard:
    """One rate card file, validated."""
    card = catalog.read_entry(path, RateCard, what="rate card", keys="carrier:, zones:, ...")
    card._source_file = catalog.display_path(path)
    return card


#: the built-in rate cards (templates/rate_cards/<carrier>.yaml)
RATE_CARDS: catalog.Shelf[RateCard] = catalog.Shelf("rate_cards", read=read_rate_card, name_of=lambda c: c.carrier,
                                                    noun="rate card")


def list_rate_cards() -> list[RateCard]:
    """Every built-in card, sorted by carrier code."""
    return RATE_CARDS.all()


def as_card(card: RateCard | str | Path) -> RateCard:
    return card if isinstance(card, RateCard) else load_rate_card(card)


