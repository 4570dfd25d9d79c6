"""Courier rate cards and the fee they imply: the one place where fee rules live.

A rate card is a YAML file in ``templates/rate_cards/<carrier>.yaml`` (schema: :class:`RateCard`).
The demo generator prices its bills with this module and the courier-bill recipe checks bills with
it, so a bill line and its expected fee can never disagree about the rule.

Fee rule, one line each (all weights in kg, money in yuan):

1. volumetric = L x W x H / volumetric_divisor, dims rounded up to whole cm first when
   ``dims_round_up_cm``; not charged when the divisor is null or a dimension is missing.
2. chargeable = round_up(max(actual, volumetric), step of the first band whose up_to_kg >= that weight).
3. first_fee = zone.first_price (the zone of the destination province for the parcel's origin; unknown
   province -> default_zone).
4. additional_fee = ceil((chargeable - first_weight_kg) / additional_unit_kg) x unit price, 0 when
   chargeable <= first_weight_kg; unit price = the zone's additional_bands price of the band holding
   the chargeable weight, else zone.additional_price.
5. minimum_topup = max(0, minimum_charge - (first_fee + additional_fee)); freight = first + additional + topup.
6. discount = round_half_up(freight x volume discount % / 100, 0.01), the tier of the month's parcel count.
7. fuel = round_half_up((freight - discount) x fuel_pct / 100, 0.01).
8. insurance = max(min_fee, round_half_up(declared_value x pct / 100, 0.01)) when the card has an
   insurance rule and a declared value > 0, else 0; cod = the same with the COD rule and amount.
9. remote = remote_areas.fee when the destination (or its city/county) is listed; packaging =
   packaging_fee for a parcel marked as packed by the courier.
10. surcharge = fuel + per_waybill + insurance + cod + remote + packaging;
    total = freight - discount + surcharge.

Everything is computed on integers (grams, milli-centimetres, fen), so :func:`quote` (one parcel,
Python ints) and :func:`price` (a whole table, numpy int64 per zone and band) agree to the fen.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from recon_helpers.canonical import MEASURE_DTYPE, MEASURE_TYPE, MONEY_DTYPE, MONEY_TYPE, TEXT_DTYPE
from recon_helpers.errors import UsageError
from recon_helpers.scenarios.courier_bill.rate_card import RateCard, as_card, normalise_province

# ---------------------------------------------------------------------------------------------
# integer units shared by quote() and price()
# ---------------------------------------------------------------------------------------------

_MILLI = 1000
#: dimensions above this (cm) are refused: they overflow int64 volume maths and are almost
#: always millimetres typed into a centimetre column
MAX_DIM_CM = 2000


@dataclass(frozen=True)
class _IntCard:
    """The card in integer units: grams, milli-cm, fen, and percentages as (numerator, denominator)."""

    divisor: int | None
    round_dims: bool
    band_limits_g: tuple[int | None, ...]
    band_steps_g: tuple[int, ...]
    first_g: int
    unit_g: int
    first_fen: tuple[int, ...]
    add_fen: tuple[int, ...]
    fuel: tuple[int, int]
    per_waybill_fen: int
    insurance: tuple[tuple[int, int], int] | None
    band_prices: tuple[tuple[tuple[int | None, ...], tuple[int, ...]] | None, ...] = ()
    min_fen: int = 0
    cod: tuple[tuple[int, int], int] | None = None
    remote_fen: int = 0
    packaging_fen: int = 0


def _milli(value: Decimal) -> int:
    return int(value * _MILLI)


def _fen(value: Decimal) -> int:
    return int(value * 100)


def _ratio(pct: Decimal) -> tuple[int, int]:
    """pct percent as numerator/denominator of a fraction of 1: 3 -> (3, 100), 2.5 -> (25, 1000)."""
    sign, digits, exp = pct.as_tuple()
    num = int("".join(map(str, digits)) or "0")
    den = 100 * (10 ** -exp if exp < 0 else 1)
    if exp > 0:
        num *= 10 ** exp
    return num, den


def _int_card(card: RateCard) -> _IntCard:
    s = card.surcharges
    return _IntCard(
        divisor=card.volumetric_divisor,
        round_dims=card.dims_round_up_cm,
        band_limits_g=tuple(None if b.up_to_kg is None else _milli(b.up_to_kg) for b in card.weight_rounding),
        band_steps_g=tuple(_milli(b.step_kg) for b in card.weight_rounding),
        first_g=_milli(card.first_weight_kg),
        unit_g=_milli(card.additional_unit_kg),
        first_fen=tuple(_fen(z.first_price) for z in card.zones),
        add_fen=tuple(_fen(z.additional_price) for z in card.zones),
        fuel=_ratio(s.fuel_pct),
        per_waybill_fen=_fen(s.per_waybill),
        insurance=None if s.insurance is None else (_ratio(s.insurance.pct), _fen(s.insurance.min_fee)),
        band_prices=tuple(None if not z.additional_bands else (
            tuple(None if b.up_to_kg is None else _milli(b.up_to_kg) for b in z.additional_bands),
            tuple(_fen(b.price) for b in z.additional_bands)) for z in card.zones),
        min_fen=_fen(card.minimum_charge),
        cod=None if card.cod is None else (_ratio(card.cod.pct), _fen(card.cod.min_fee)),
        remote_fen=0 if card.remote_areas is None else _fen(card.remote_areas.fee),
        packaging_fen=_fen(card.packaging_fee),
    )


def _unit_fen(ic: _IntCard, zi: int, chargeable_g: int) -> int:
    """The price of one additional unit in zone ``zi`` for a parcel of ``chargeable_g`` grams."""
    bands = ic.band_prices[zi] if ic.band_prices else None
    if bands is None:
        return ic.add_fen[zi]
    for limit, fen in zip(*bands):
        if limit is None or chargeable_g <= limit:
            return fen
    return bands[1][-1]


def _packed(value: object) -> bool:
    """A packaging mark that means yes (是, 1, Y, a count > 0); empty, 否, 0 and N mean no."""
    if value is None or (isinstance(value, float) and value != value):
        return False
    return str(value).strip().lower() not in ("", "否", "0", "n", "no", "false", "无")


def _kg(grams: int | None) -> Decimal | None:
    return None if grams is None else Decimal(grams).scaleb(-3).quantize(Decimal("0.001"))


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2).quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------------------------
# one parcel
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """The fee one parcel should cost under a card, with every step shown (Decimals, kg and yuan)."""

    zone: str
    volume_weight: Decimal | None  # None: volumetric weight not charged (no divisor or no dimensions)
    chargeable_weight: Decimal
    first_fee: Decimal
    additional_fee: Decimal
    surcharge: Decimal
    total: Decimal
    # the inputs and parts, so explain() can tell the whole story
    destination: str = ""
    weight: Decimal | None = None
    additional_units: int = 0
    fuel_fee: Decimal = Decimal("0.00")
    insurance_fee: Decimal = Decimal("0.00")
    unit_price: Decimal = Decimal("0.00")
    minimum_topup: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    discount_pct: Decimal = Decimal("0")
    cod_fee: Decimal = Decimal("0.00")
    remote_fee: Decimal = Decimal("0.00")
    packaging_fee: Decimal = Decimal("0.00")
    origin: str = ""


def _to_decimal(value: object, what: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise UsageError(f"{what} {value!r} is not a number") from None


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _round_half_up_ratio(amount_fen: int, ratio: tuple[int, int]) -> int:
    """round_half_up(amount x num / den) for amount >= 0, in integer fen."""
    num, den = ratio
    return (2 * amount_fen * num + den) // (2 * den)


def _volume_grams(ic: _IntCard, dims_milli: list[int]) -> int:
    if ic.round_dims:
        dims_milli = [_ceil_div(d, _MILLI) * _MILLI for d in dims_milli]
    volume = dims_milli[0] * dims_milli[1] * dims_milli[2]  # in 1e-9 cm3
    return _ceil_div(volume, ic.divisor * 10**6)


def _step_for(ic: _IntCard, grams: int) -> int:
    for limit, step in zip(ic.band_limits_g, ic.band_steps_g):
        if limit is None or grams <= limit:
            return step
    return ic.band_steps_g[-1]


def quote(
    card: RateCard | str | Path,
    *,
    weight: object,
    length_cm: object = None,
    width_cm: object = None,
    height_cm: object = None,
    destination: object,
    declared_value: object = None,
    origin: object = None,
    city: object = None,
    cod_amount: object = None,
    packaging: object = None,
    monthly_parcels: int | None = None,
) -> Quote:
    """Price one parcel: weight in kg, dimensions in cm, destination province (any form), sent from
    ``origin`` (province, city or warehouse); ``city`` (or the destination text) for the remote-area
    list; ``cod_amount`` collected on delivery; ``packaging`` marks a parcel the courier packed;
    ``monthly_parcels`` picks the volume discount tier.

    Raises
    ------
    UsageError
        destination missing, weight missing or <= 0, a dimension given without the others, a dimension <= 0 or
        above ``MAX_DIM_CM``, or a value that is not a number.
    """
    card = as_card(card)
    ic = _int_card(card)
    if normalise_province(destination) == "":
        raise UsageError("destination is missing: a parcel needs its destination province to pick a zone")
    if card.by_origin and (origin is None or str(origin).strip() == ""):
        raise UsageError("origin is missing: this rate card prices by origin (warehouse); give origin=...")
    if weight is None:
        raise UsageError("weight is missing: a parcel needs its actual weight in kg")
    weight_d = _to_decimal(weight, "weight")
    grams = int((weight_d * _MILLI).to_integral_value(rounding="ROUND_CEILING"))
    if grams <= 0:
        raise UsageError(f"weight {weight_d} kg is not a parcel weight: it must be > 0")
    dims = [length_cm, width_cm, height_cm]
    given = [d is not None for d in dims]
    vol_g: int | None = None
    if any(given) and not all(given):
        raise UsageError("give all three of length_cm, width_cm, height_cm, or none of them")
    if all(given) and ic.divisor is not None:
        dims_milli = []
        for label, d in zip(("length_cm", "width_cm", "height_cm"), dims):
            dd = _to_decimal(d, label)
            if not 0 < dd <= MAX_DIM_CM:
                raise UsageError(f"{label} {dd} cm must be > 0 and <= {MAX_DIM_CM} (millimetres by mistake?)")
            dims_milli.append(int((dd * _MILLI).to_integral_value(rounding="ROUND_CEILING")))
        vol_g = _volume_grams(ic, dims_milli)
    raw_g = max(grams, vol_g or 0)
    step = _step_for(ic, raw_g)
    chargeable_g = _ceil_div(raw_g, step) * step
    units = _ceil_div(chargeable_g - ic.first_g, ic.unit_g) if chargeable_g > ic.first_g else 0
    zi = card.zone_index(destination, origin)
    first_fen = ic.first_fen[zi]
    unit_fen = _unit_fen(ic, zi, chargeable_g)
    add_fen = units * unit_fen
    topup_fen = max(0, ic.min_fen - first_fen - add_fen)
    freight_fen = first_fen + add_fen + topup_fen
    pct = card.discount_pct(monthly_parcels)
    discount_fen = _round_half_up_ratio(freight_fen, _ratio(pct))
    fuel_fen = _round_half_up_ratio(freight_fen - discount_fen, ic.fuel)
    cod_fen = 0
    if ic.cod is not None and cod_amount is not None:
        cod_value = int((_to_decimal(cod_amount, "cod_amount") * 100).to_integral_value(rounding="ROUND_HALF_UP"))
        if cod_value > 0:
            cod_fen = max(ic.cod[1], _round_half_up_ratio(cod_value, ic.cod[0]))
    remote_fen = ic.remote_fen if card.is_remote(destination, city) else 0
    packaging_fen = ic.packaging_fen if _packed(packaging) else 0
    insurance_fen = 0
    if ic.insurance is not None and declared_value is not None:
        declared_fen = int((_to_decimal(declared_value, "declared_value") * 100).to_integral_value(rounding="ROUND_HALF_UP"))
        if declared_fen > 0:
            ratio, min_fen = ic.insurance
            insurance_fen = max(min_fen, _round_half_up_ratio(declared_fen, ratio))
    surcharge_fen = fuel_fen + ic.per_waybill_fen + insurance_fen + cod_fen + remote_fen + packaging_fen
    return Quote(
        zone=card.zones[zi].name,
        volume_weight=_kg(vol_g),
        chargeable_weight=_kg(chargeable_g),
        first_fee=_yuan(first_fen),
        additional_fee=_yuan(add_fen),
        surcharge=_yuan(surcharge_fen),
        total=_yuan(freight_fen - discount_fen + surcharge_fen),
        destination=normalise_province(destination),
        weight=_kg(grams),
        additional_units=units,
        fuel_fee=_yuan(fuel_fen),
        insurance_fee=_yuan(insurance_fen),
        unit_price=_yuan(unit_fen),
        minimum_topup=_yuan(topup_fen),
        discount=_yuan(discount_fen),
        discount_pct=pct,
        cod_fee=_yuan(cod_fen),
        remote_fee=_yuan(remote_fen),
        packaging_fee=_yuan(packaging_fen),
        origin="" if origin is None else str(origin).strip(),
    )


def _fmt_kg(value: Decimal | None) -> str:
    """1.500 -> '1.5', 2.000 -> '2.0', 1.250 -> '1.25'."""
    if value is None:
        return "-"
    text = f"{value.normalize():f}"
    return text if "." in text else text + ".0"


def explain(card: RateCard | str | Path, quote: Quote) -> str:
    """One line a person can check by hand, e.g.
    ``广东 zone 同城/省内: 1.5 kg -> 2.0 kg chargeable; 10.00 first + 1 x 2.00 additional + 0.00 surcharge = 12.00``.
    """
    card = as_card(card)
    zone = next(z for z in card.zones if z.name == quote.zone)
    where = quote.destination or "(no destination)"
    if quote.origin:
        where = f"{quote.origin} -> {where}"
    if not card.lists(quote.destination, quote.origin or None):
        where += " (not listed: default zone)"
    weights = f"{_fmt_kg(quote.weight)} kg"
    if quote.volume_weight is not None:
        weights += f" (volumetric {_fmt_kg(quote.volume_weight)} kg)"
    unit = quote.unit_price if zone.additional_bands else zone.additional_price
    parts = [f"{quote.first_fee} first", f"{quote.additional_units} x {unit} additional"]
    if quote.minimum_topup:
        parts.append(f"{quote.minimum_topup} up to the minimum {card.minimum_charge}")
    discount = f" - {quote.discount} volume discount {quote.discount_pct}%" if quote.discount else ""
    extras = []
    if quote.fuel_fee:
        extras.append(f"fuel {card.surcharges.fuel_pct}% {quote.fuel_fee}")
    if card.surcharges.per_waybill:
        extras.append(f"per waybill {card.surcharges.per_waybill}")
    for label, fee in (("insurance", quote.insurance_fee), ("COD", quote.cod_fee), ("remote area", quote.remote_fee),
                       ("packaging", quote.packaging_fee)):
        if fee:
            extras.append(f"{label} {fee}")
    surcharge = f"{quote.surcharge} surcharge" + (f" ({', '.join(extras)})" if extras else "")
    return (f"{where} zone {quote.zone}: {weights} -> {_fmt_kg(quote.chargeable_weight)} kg chargeable; "
            f"{' + '.join(parts)}{discount} + {surcharge} = {quote.total}")


# ---------------------------------------------------------------------------------------------
# a whole table, vectorised
# ---------------------------------------------------------------------------------------------


def _arrow(series: pd.Series) -> pa.Array | None:
    if not isinstance(series.dtype, pd.ArrowDtype):
        return None
    arr = pa.array(series)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _decimal_unscaled(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Unscaled int64 values of a decimal128 array read straight from its buffer, and a fits-mask."""
    raw = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset * 2:(arr.offset + len(arr)) * 2]
    raw = raw.reshape(-1, 2)
    low, high = raw[:, 0], raw[:, 1]
    return low.copy(), high == (low >> 63)


def _scaled_ints(series: pd.Series, digits: int, *, ceil: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values x 10**digits as int64 (rounded up when ``ceil``, else half up), a present-mask and a bad-mask.

    Fast paths for arrow decimals (buffer read), ints and floats; other dtypes (text, Decimal objects)
    are parsed once per distinct value.
    """
    arr = _arrow(series)
    if arr is not None and pa.types.is_decimal128(arr.type):
        present = arr.is_valid().to_numpy(zero_copy_only=False)
        values, fits = _decimal_unscaled(arr)
        shift = digits - arr.type.scale
        if shift >= 0:
            values = values * 10**shift
        else:
            div = 10 ** -shift
            values = -(-values // div) if ceil else (2 * values + div) // (2 * div)
        return np.where(present, values, 0), present, present & ~fits
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_float_dtype(series.dtype):
        floats = series.to_numpy(dtype="float64", na_value=np.nan)
        present = ~np.isnan(floats)
        scaled = np.round(np.where(present, floats, 0.0) * 10**digits, 6)
        values = np.ceil(scaled) if ceil else np.floor(scaled + 0.5)
        bad = present & (np.abs(values) > 9e15)
        return np.where(bad, 0, values).astype(np.int64), present, bad
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    u_values = np.zeros(len(uniques) + 1, dtype=np.int64)
    u_present = np.zeros(len(uniques) + 1, dtype=bool)
    u_bad = np.zeros(len(uniques) + 1, dtype=bool)
    rounding = "ROUND_CEILING" if ceil else "ROUND_HALF_UP"
    for i, u in enumerate(uniques):
        text = str(u).strip()
        if text == "":
            continue
        u_present[i] = True
        try:
            u_values[i] = int((Decimal(repr(u) if isinstance(u, float) else text).scaleb(digits)).to_integral_value(rounding=rounding))
        except (InvalidOperation, OverflowError, ValueError):
            u_bad[i] = True
    idx = np.where(codes < 0, len(uniques), codes)
    return u_values[idx], u_present[idx], u_bad[idx]


def _decimal_array(values: np.ndarray, valid: np.ndarray, type_: pa.DataType) -> pa.Array:
    """Build a decimal128 array from unscaled int64 values without going through Python objects."""
    v = np.where(valid, values, 0).astype(np.int64)
    raw = np.empty((len(v), 2), dtype=np.int64)
    raw[:, 0] = v
    raw[:, 1] = v >> 63
    null_count = int((~valid).sum())
    validity = None if null_count == 0 else pa.array(valid, type=pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(type_, len(v), [validity, pa.py_buffer(raw.tobytes())], null_count=null_count)


def _series(arr: pa.Array, index: pd.Index, dtype: pd.ArrowDtype) -> pd.Series:
    return pd.Series(pd.array(arr, dtype=dtype), index=index)


def _add_problem(problems: np.ndarray, mask: np.ndarray, text: str) -> None:
    """Record ``text`` on rows in ``mask`` that have no problem yet (the first problem is the one to fix)."""
    hit = mask & (problems == None)  # noqa: E711 - elementwise test on an object array
    problems[hit] = text


def price(
    shipments: pd.DataFrame,
    card: RateCard | str | Path,
    *,
    weight: str = "weight",
    dims: tuple[str, str, str] | None = ("length_cm", "width_cm", "height_cm"),
    destination: str = "destination",
    declared_value: str | None = None,
    origin: str | None = "origin",
    city: str | None = None,
    cod_amount: str | None = None,
    packaging: str | None = None,
    monthly_parcels: int | None = None,
) -> pd.DataFrame:
    """Expected fee of every row: a copy of ``shipments`` plus zone, volume_weight, chargeable_weight,
    first_fee, additional_fee, minimum_topup, discount, fuel_fee, insurance_fee, cod_fee, remote_fee,
    packaging_fee, surcharge, expected_fee and pricing_problem.

    ``origin`` (a column, used when present; needed when the card prices by origin), ``city``,
    ``cod_amount`` and ``packaging`` name optional columns; ``monthly_parcels`` picks the discount tier.

    Same rule and same result as :func:`quote`, row by row. A row that cannot be priced (weight missing
    or <= 0, not a number, dimensions incomplete or implausible, destination missing) keeps its
    place with null fees and a ``pricing_problem`` text saying what to fix; nothing is dropped.
    Dimension columns that are absent from the table mean "no dimensions known" (volumetric weight not
    charged). Fast: integer grams and fen in numpy, one pass per weight band and zone.
    """
    card = as_card(card)
    ic = _int_card(card)
    for col in (weight, destination):
        if col not in shipments.columns:
            raise UsageError(f"price(): column {col!r} is not in the table (columns: {', '.join(map(str, shipments.columns))}); "
                             f"pass weight=... / destination=... to name yours")
    out = shipments.copy()
    n = len(out)
    problems = np.full(n, None, dtype=object)

    grams, w_present, w_bad = _scaled_ints(out[weight], 3, ceil=True)
    _add_problem(problems, ~w_present, f"weight missing ({weight!r} is empty): cannot price")
    _add_problem(problems, w_bad, f"weight in {weight!r} is not a number")
    _add_problem(problems, w_present & ~w_bad & (grams <= 0), f"weight in {weight!r} must be > 0 kg")

    has_origin = origin is not None and origin in out.columns
    dest_text = out[destination].astype("string").fillna("")
    if has_origin:  # zones may depend on where the parcel leaves: one code per (destination, origin)
        places = dest_text + "\x1f" + out[origin].astype("string").fillna("")
        codes, uniques = pd.factorize(places, use_na_sentinel=True)
        pairs = [str(u).split("\x1f", 1) for u in uniques]
    else:
        codes, uniques = pd.factorize(dest_text, use_na_sentinel=True)
        pairs = [(str(u), "") for u in uniques]
    u_short = [normalise_province(d) for d, _ in pairs]
    u_zone = np.array([card.zone_index(d, o or None) for d, o in pairs] + [0], dtype=np.int64)
    u_blank = np.array([s == "" for s in u_short] + [True])
    u_no_origin = np.array([card.by_origin and not o.strip() for _, o in pairs] + [card.by_origin])
    idx = np.where(codes < 0, len(uniques), codes)
    zone_idx = u_zone[idx]
    _add_problem(problems, u_blank[idx], f"destination missing ({destination!r} is empty): cannot pick a zone")
    _add_problem(problems, u_no_origin[idx], "origin missing: this rate card prices by origin (warehouse)")

    vol_g = np.zeros(n, dtype=np.int64)
    has_vol = np.zeros(n, dtype=bool)
    if dims is not None and ic.divisor is not None and all(c in out.columns for c in dims):
        parts = [_scaled_ints(out[c], 3, ceil=True) for c in dims]
        all_present = parts[0][1] & parts[1][1] & parts[2][1]
        any_present = parts[0][1] | parts[1][1] | parts[2][1]
        _add_problem(problems, any_present & ~all_present, f"dimensions incomplete: give all of {', '.join(dims)} or none")
        for (values, present, bad), col in zip(parts, dims):
            _add_problem(problems, bad, f"{col!r} is not a number")
            _add_problem(problems, present & ~bad & ((values <= 0) | (values > MAX_DIM_CM * _MILLI)),
                         f"{col!r} must be > 0 and <= {MAX_DIM_CM} cm (millimetres by mistake?)")
        ok_dims = all_present & (problems == None)  # noqa: E711
        d = [np.where(ok_dims, p[0], _MILLI) for p in parts]
        if ic.round_dims:
            d = [-(-x // _MILLI) * _MILLI for x in d]
        volume = d[0] * d[1] * d[2]  # <= (2e6)^3 = 8e18 < int64 max
        vol_g = np.where(ok_dims, -(-volume // (ic.divisor * 10**6)), 0)
        has_vol = ok_dims

    ok = problems == None  # noqa: E711
    raw_g = np.maximum(np.where(ok, grams, 1), vol_g)
    step = np.full(n, ic.band_steps_g[-1], dtype=np.int64)
    for limit, band_step in reversed(list(zip(ic.band_limits_g[:-1], ic.band_steps_g[:-1]))):
        step = np.where(raw_g <= limit, band_step, step)
    chargeable_g = -(-raw_g // step) * step
    over = chargeable_g - ic.first_g
    units = np.where(over > 0, -(-over // ic.unit_g), 0)
    first_fen = np.array(ic.first_fen, dtype=np.int64)[zone_idx]
    unit_fen = np.array(ic.add_fen, dtype=np.int64)[zone_idx]
    for zi, bands in enumerate(ic.band_prices):
        if bands is None:
            continue
        in_zone = zone_idx == zi
        band_fen = np.full(n, bands[1][-1], dtype=np.int64)
        for limit, fen in reversed(list(zip(bands[0][:-1], bands[1][:-1]))):
            band_fen = np.where(chargeable_g <= limit, fen, band_fen)
        unit_fen = np.where(in_zone, band_fen, unit_fen)
    add_fen = units * unit_fen
    topup_fen = np.maximum(0, ic.min_fen - first_fen - add_fen)
    freight_fen = first_fen + add_fen + topup_fen
    d_num, d_den = _ratio(card.discount_pct(monthly_parcels))
    discount_fen = (2 * freight_fen * d_num + d_den) // (2 * d_den)
    num, den = ic.fuel
    fuel_fen = (2 * (freight_fen - discount_fen) * num + den) // (2 * den)
    cod_fen = np.zeros(n, dtype=np.int64)
    if ic.cod is not None and cod_amount is not None:
        if cod_amount not in out.columns:
            raise UsageError(f"price(): cod_amount column {cod_amount!r} is not in the table")
        cv_fen, cv_present, cv_bad = _scaled_ints(out[cod_amount], 2, ceil=False)
        _add_problem(problems, cv_bad, f"COD amount in {cod_amount!r} is not a number")
        (c_num, c_den), c_min = ic.cod
        collect = cv_present & ~cv_bad & (cv_fen > 0)
        cod_fen = np.where(collect, np.maximum(c_min, (2 * np.where(collect, cv_fen, 0) * c_num + c_den) // (2 * c_den)), 0)
    remote_fen = np.zeros(n, dtype=np.int64)
    if card.remote_areas is not None:
        text = dest_text + (out[city].astype("string").fillna("") if city is not None and city in out.columns else "")
        t_codes, t_uniques = pd.factorize(text)
        remote_fen = np.array([ic.remote_fen if card.is_remote(t) else 0 for t in t_uniques] + [0], dtype=np.int64)[
            np.where(t_codes < 0, len(t_uniques), t_codes)]
    packaging_fen = np.zeros(n, dtype=np.int64)
    if ic.packaging_fen and packaging is not None and packaging in out.columns:
        packaging_fen = np.where([_packed(v) for v in out[packaging]], ic.packaging_fen, 0).astype(np.int64)
    insurance_fen = np.zeros(n, dtype=np.int64)
    if ic.insurance is not None and declared_value is not None:
        if declared_value not in out.columns:
            raise UsageError(f"price(): declared_value column {declared_value!r} is not in the table")
        dv_fen, dv_present, dv_bad = _scaled_ints(out[declared_value], 2, ceil=False)
        _add_problem(problems, dv_bad, f"declared value in {declared_value!r} is not a number")
        ok = problems == None  # noqa: E711
        (i_num, i_den), min_fen = ic.insurance
        insured = dv_present & ~dv_bad & (dv_fen > 0)
        insurance_fen = np.where(insured, np.maximum(min_fen, (2 * np.where(insured, dv_fen, 0) * i_num + i_den) // (2 * i_den)), 0)
    surcharge_fen = fuel_fen + ic.per_waybill_fen + insurance_fen + cod_fen + remote_fen + packaging_fen
    total_fen = freight_fen - discount_fen + surcharge_fen

    index = out.index
    zone_names = np.array([z.name for z in card.zones], dtype=object)
    zone_col = np.where(u_blank[idx], None, zone_names[zone_idx])
    out["zone"] = pd.Series(pd.array(zone_col.tolist(), dtype=TEXT_DTYPE), index=index)
    out["volume_weight"] = _series(_decimal_array(vol_g, has_vol & ok, MEASURE_TYPE), index, MEASURE_DTYPE)
    out["chargeable_weight"] = _series(_decimal_array(chargeable_g, ok, MEASURE_TYPE), index, MEASURE_DTYPE)
    for name, fen in (("first_fee", first_fen), ("additional_fee", add_fen), ("minimum_topup", topup_fen),
                      ("discount", discount_fen), ("fuel_fee", fuel_fen), ("insurance_fee", insurance_fen),
                      ("cod_fee", cod_fen), ("remote_fee", remote_fen), ("packaging_fee", packaging_fen),
                      ("surcharge", surcharge_fen), ("expected_fee", total_fen)):
        out[name] = _series(_decimal_array(fen, ok, MONEY_TYPE), index, MONEY_DTYPE)
    out["pricing_problem"] = pd.Series(pd.array(problems.tolist(), dtype=TEXT_DTYPE), index=index)
    return out
