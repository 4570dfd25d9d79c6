"""Courier rate cards as data: the schema of ``templates/rate_cards/*.yaml``, validated on load.

A card is one service of one carrier (顺丰标快, 顺丰特快: one card each) for a date range, as the
contract states it: zones by destination (and by origin, for a shop with several warehouses), first
and additional weight per zone with per-band additional prices, weight rounding per band, the
service's volumetric divisor, a minimum charge, a remote-area surcharge by city/county list,
insurance, COD, return and packaging fees, monthly volume discount tiers. Every new rule is optional,
so a simple card stays simple. The fee rule itself is in :mod:`.pricing`; a carrier's dated cards are
a :class:`~recon_helpers.scenarios.courier_bill.rate_book.RateBook`. Provinces are normalised here so
a card's zones and a shipment's destination compare alike (``广东省`` / ``广东``).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

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
_SHORT_LONGEST_FIRST = sorted(PROVINCES, key=len, reverse=True)


def normalise_province(name: object) -> str:
    """Short province name for ``广东``, ``广东省``, ``广东省深圳市``, ``广东深圳`` or ``新疆维吾尔自治区``.

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
    for short in _SHORT_LONGEST_FIRST:
        if text.startswith(short):  # 新疆喀什, 广东深圳: the short name with the city written after it
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


class PriceBand(FrozenModel):
    """The additional-unit price for a chargeable weight <= ``up_to_kg`` (none: every heavier weight)."""

    up_to_kg: Kg | None = None
    price: MoneyText


class Zone(FrozenModel):
    """Destination provinces that share one price: ``first_price`` for the first weight, then per unit.

    ``origins`` (provinces, cities or warehouse names, e.g. ``[广东, 深圳仓]``) limits the zone to parcels
    sent from there; ``additional_bands`` prices the additional units by the parcel's chargeable weight
    band (the band the whole parcel falls in), instead of the one ``additional_price``.
    """

    name: str = Field(min_length=1)
    origins: list[str] | None = None
    provinces: list[str]
    first_price: MoneyText
    additional_price: MoneyText
    additional_bands: list[PriceBand] | None = None

    @model_validator(mode="after")
    def _bands_end_open(self) -> "Zone":
        bands = self.additional_bands or []
        if bands and bands[-1].up_to_kg is not None:
            raise ValueError(f"zone {self.name}: the last additional_bands entry must have no up_to_kg")
        limits = [b.up_to_kg for b in bands[:-1]]
        if any(x is None for x in limits) or limits != sorted(set(limits)):
            raise ValueError(f"zone {self.name}: additional_bands need increasing up_to_kg, only the last open-ended")
        return self

    def serves(self, origin: object) -> bool:
        """True when a parcel sent from ``origin`` may be priced in this zone."""
        if self.origins is None:
            return True
        text = "" if origin is None or (isinstance(origin, float) and origin != origin) else str(origin).strip()
        short = normalise_province(text)
        return any(token == short or (token and token in text) for token in self.origins)


class FeePercent(FrozenModel):
    """A fee of ``pct`` percent of a value, at least ``min_fee`` (COD 代收货款手续费)."""

    pct: Percent
    min_fee: MoneyText = Decimal("0.00")


class RemoteAreas(FrozenModel):
    """偏远附加费: ``fee`` per parcel to a destination whose city or county is listed in ``places``."""

    fee: MoneyText
    places: list[str] = Field(min_length=1)


class DiscountTier(FrozenModel):
    """Monthly volume discount: ``pct`` off the freight from ``from_parcels`` parcels a month on."""

    from_parcels: int = Field(ge=0)
    pct: Percent


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

    carrier: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    service: str = ""
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
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
    minimum_charge: MoneyText = Decimal("0.00")
    remote_areas: RemoteAreas | None = None
    cod: FeePercent | None = None
    return_fee: MoneyText | None = None
    packaging_fee: MoneyText = Decimal("0.00")
    volume_discounts: list[DiscountTier] = Field(default_factory=list)

    _zone_of: dict[str, list[int]] = PrivateAttr(default_factory=dict)
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
        zone_of: dict[str, list[int]] = {}
        names = [z.name for z in self.zones]
        for zi, zone in enumerate(self.zones):
            if names.count(zone.name) > 1:
                raise ValueError(f"zone name {zone.name!r} is used twice")
            for raw in zone.provinces:
                short = normalise_province(raw)
                if short not in _SHORT:
                    raise ValueError(f"zones[{zi}] ({zone.name}): {raw!r} is not a mainland province; "
                                     f"use one of {', '.join(PROVINCES)}")
                for other in zone_of.get(short, []):
                    mine, theirs = set(zone.origins or ["*"]), set(self.zones[other].origins or ["*"])
                    if "*" in mine or "*" in theirs or mine & theirs:
                        raise ValueError(f"province {short!r} is in zone {self.zones[other].name!r} "
                                         f"and again in {zone.name!r} for the same origin")
                zone_of.setdefault(short, []).append(zi)
        if self.default_zone not in names:
            raise ValueError(f"default_zone {self.default_zone!r} is not one of the zones ({', '.join(names)})")
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} is before effective_from {self.effective_from}")
        tiers = [t.from_parcels for t in self.volume_discounts]
        if tiers != sorted(set(tiers)):
            raise ValueError("volume_discounts need increasing from_parcels, each once")
        self._zone_of = zone_of
        return self

    @property
    def by_origin(self) -> bool:
        """True when some zone is limited to an origin (the shipment's origin is then needed)."""
        return any(z.origins is not None for z in self.zones)

    def applies_on(self, day: dt.date) -> bool:
        """True when the card's price is in force on ``day`` (both ends included)."""
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to)

    def discount_pct(self, monthly_parcels: int | None) -> Decimal:
        """The volume discount for a month of ``monthly_parcels`` parcels (0 without tiers or a count)."""
        if monthly_parcels is None:
            return Decimal("0")
        pct = Decimal("0")
        for tier in self.volume_discounts:
            if monthly_parcels >= tier.from_parcels:
                pct = tier.pct
        return pct

    def is_remote(self, *places: object) -> bool:
        """True when any of the texts (destination, city, county) names a listed remote place."""
        if self.remote_areas is None:
            return False
        text = "".join(str(p) for p in places if p is not None and not (isinstance(p, float) and p != p))
        return any(place in text for place in self.remote_areas.places)

    @property
    def source_file(self) -> str | None:
        """The YAML file the card was read from (None when built in code)."""
        return self._source_file

    def zone_index(self, destination: object, origin: object = None) -> int:
        """Index into ``zones`` for a destination (sent from ``origin``); unknown or foreign provinces, or
        no zone for that origin, go to ``default_zone``."""
        short = normalise_province(destination)
        for zi in self._zone_of.get(short, []):
            if self.zones[zi].serves(origin):
                return zi
        return next(i for i, z in enumerate(self.zones) if z.name == self.default_zone)

    def zone_for(self, destination: object, origin: object = None) -> Zone:
        """The zone that prices parcels to ``destination`` (from ``origin``)."""
        return self.zones[self.zone_index(destination, origin)]

    def lists(self, destination: object, origin: object = None) -> bool:
        """True when a zone names this destination for this origin (else the default zone prices it)."""
        return any(self.zones[zi].serves(origin) for zi in self._zone_of.get(normalise_province(destination), []))


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


