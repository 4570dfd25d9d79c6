"""Contract fee rates (``templates/fees/<platform>.yaml``) and the check of the fees a platform took.

A schedule names each fee the platform may deduct and its rate: one rate, several allowed rates (a
creator commission of 0% or 3%), or a rate per product category (类目) with a default. The shop's
product master (``templates/fees/products.yaml``) says which category a product (SKU or title) is in.
Fixed fees per month (JD 平台使用费) are listed under ``monthly``.

:func:`check_fees` compares every fee line (a fee taken on one order, see :mod:`.flows`) with the
schedule: expected = round_half_up(base x rate) to the fen; a fee equal to one allowed expectation is
right, any other is a difference (taken - expected, > 0 = overcharged); a fee the schedule does not
name is listed as ``not in contract``, one whose order is unknown as ``no order to base it on``.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from html import escape
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import BeforeValidator, Field, field_validator

from recon_helpers import catalog
from recon_helpers.canonical import money
from recon_helpers.catalog import StrictModel
from recon_helpers.errors import TemplateError

_CENT = Decimal("0.01")


def _rate(value: Any) -> Any:
    """``"3%"`` -> 0.03, ``0.03`` -> 0.03 (as written, never a binary float)."""
    value = catalog.written_decimal(value)
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return Decimal(value.strip()[:-1]) / 100
        except ArithmeticError:
            raise ValueError(f"{value!r} is not a percentage; write e.g. \"0.6%\" or 0.006") from None
    return value


Rate = Annotated[Decimal, BeforeValidator(_rate), Field(ge=0, lt=1)]
Money = Annotated[Decimal, BeforeValidator(catalog.written_decimal), Field(ge=0, decimal_places=2)]


class FeeRate(StrictModel):
    """One fee: its rate (or the rates allowed), per category where the contract differs by category."""

    rate: Rate | list[Rate]
    categories: dict[str, Rate | list[Rate]] = {}

    def rates(self, category: str | None) -> list[Decimal]:
        chosen = self.categories.get(category, self.rate) if category else self.rate
        return list(chosen) if isinstance(chosen, list) else [chosen]


class FeeSchedule(StrictModel):
    """A platform's contract fee rates (see the module docstring)."""

    platform: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    contract: str = ""
    fees: dict[str, FeeRate] = Field(min_length=1)
    monthly: dict[str, Money] = {}

    def _repr_html_(self) -> str:
        def pct(rates: Decimal | list[Decimal]) -> str:
            rates = rates if isinstance(rates, list) else [rates]
            return " / ".join(f"{r * 100:.2f}%".replace(".00%", "%") for r in rates)

        rows = "".join(f"<tr><td>{escape(name)}</td><td>{pct(f.rate)}</td><td>"
                       + escape(", ".join(f"{c} {pct(r)}" for c, r in f.categories.items())) + "</td></tr>"
                       for name, f in self.fees.items())
        rows += "".join(f"<tr><td>{escape(name)}</td><td>{amount} / month</td><td></td></tr>" for name, amount in self.monthly.items())
        return (f"<b>{escape(self.title)}</b> &middot; {escape(self.contract)}<table><tr><th>fee</th><th>rate</th>"
                f"<th>by category</th></tr>{rows}</table>")


class Product(StrictModel):
    sku: str
    title: str


class ProductMaster(StrictModel):
    """category -> products: the category of a product, by SKU or by title."""

    name: str
    categories: dict[str, list[Product]]

    @field_validator("categories")
    @classmethod
    def _each_product_once(cls, categories: dict[str, list[Product]]) -> dict[str, list[Product]]:
        seen: dict[str, str] = {}
        for category, products in categories.items():
            for p in products:
                if p.sku in seen:
                    raise ValueError(f"SKU {p.sku} is listed under both {seen[p.sku]} and {category}; list it once")
                seen[p.sku] = category
        return categories

    def lookup(self) -> dict[str, str]:
        """SKU and title -> category."""
        out: dict[str, str] = {}
        for category, products in self.categories.items():
            for p in products:
                out[p.sku.strip().upper()] = category
                out[p.title.strip()] = category
        return out

    def category_of(self, sku_or_title: Any) -> str | None:
        if sku_or_title is None or sku_or_title is pd.NA or (isinstance(sku_or_title, float) and sku_or_title != sku_or_title):
            return None
        text = str(sku_or_title).strip()
        table = self.lookup()
        return table.get(text.upper()) or table.get(text)


def read_schedule(path: str | Path) -> FeeSchedule:
    """One fee schedule file, validated; every problem named with the file and the field."""
    schedule = catalog.read_entry(path, FeeSchedule, what="fee schedule", keys="platform:, title:, fees: ...")
    if schedule.platform != Path(path).stem:
        raise TemplateError(f"platform {schedule.platform!r} differs from the file name {Path(path).stem!r}; make them equal",
                            template_file=catalog.display_path(path), field="platform")
    return schedule


def fee_schedule(platform_or_path: str | Path) -> FeeSchedule:
    """The contract rates of a platform (``templates/fees/<platform>.yaml``) or of a file of one's own."""
    if catalog.looks_like_path(platform_or_path):
        return read_schedule(Path(platform_or_path))
    path = catalog.folder("fees") / f"{platform_or_path}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in catalog.folder("fees").glob("*.yaml") if p.stem != "products")
        raise TemplateError(f"no fee schedule for platform {platform_or_path!r} in templates/fees/; "
                            f"known: {', '.join(known)} (or pass a path to a .yaml file)")
    return read_schedule(path)


def product_master(path: str | Path | None = None) -> ProductMaster:
    """The shop's product categories (``templates/fees/products.yaml`` unless a path is given)."""
    path = Path(path) if path is not None else catalog.folder("fees") / "products.yaml"
    return catalog.read_entry(path, ProductMaster, what="product master", keys="name:, categories: ...")


def fee_at(base: Decimal, rate: Decimal) -> Decimal:
    """round_half_up(base x rate) to the fen, the way platforms compute a percentage fee."""
    return (Decimal(base) * rate).quantize(_CENT, rounding=ROUND_HALF_UP)


FEE_CHECK_COLUMNS = ["key", "fee", "category", "base", "taken", "expected", "difference", "rate", "verdict",
                     "source_row"]


def check_fees(lines: pd.DataFrame, schedule: FeeSchedule) -> pd.DataFrame:
    """Every fee line checked against the schedule (columns :data:`FEE_CHECK_COLUMNS`).

    ``lines`` has ``key, fee, category, base, taken, source_row`` (taken > 0 is money the platform kept).
    ``expected`` is the allowed fee nearest to what was taken; ``verdict`` is ``ok``, ``over`` (taken
    more), ``under`` or ``not in contract``.
    """
    rows = []
    for line in lines.itertuples(index=False):
        taken = Decimal(line.taken)
        rule = schedule.fees.get(line.fee)
        category = None if pd.isna(line.category) else line.category
        if rule is None or line.base is None or pd.isna(line.base):
            verdict = "not in contract" if rule is None else "no order to base it on"
            rows.append([line.key, line.fee, category, None if pd.isna(line.base) else line.base, taken, None, None, "",
                         verdict, line.source_row])
            continue
        rates = rule.rates(category)
        options = [(fee_at(Decimal(line.base), r), r) for r in rates]
        expected, rate = min(options, key=lambda o: (abs(taken - o[0]), o[1]))
        difference = taken - expected
        verdict = "ok" if difference == 0 else ("over" if difference > 0 else "under")
        rows.append([line.key, line.fee, category, line.base, taken, expected, difference,
                     " / ".join(f"{r * 100:.2f}%".replace(".00%", "%") for r in rates), verdict, line.source_row])
    out = pd.DataFrame(rows, columns=FEE_CHECK_COLUMNS)
    for column in ("base", "taken", "expected", "difference"):
        out[column] = money(out[column].tolist())
    return out


def check_monthly(totals: dict[str, Decimal], schedule: FeeSchedule) -> pd.DataFrame:
    """Fixed monthly fees taken (fee -> total) against the schedule's ``monthly`` amounts."""
    rows = []
    for fee, taken in totals.items():
        expected = schedule.monthly.get(fee)
        difference = None if expected is None else taken - expected
        verdict = "not in contract" if expected is None else ("ok" if difference == 0 else ("over" if difference > 0 else "under"))
        rows.append([fee, taken, expected, difference, verdict])
    for fee, expected in schedule.monthly.items():
        if fee not in totals:
            rows.append([fee, Decimal("0.00"), expected, -expected, "under"])
    out = pd.DataFrame(rows, columns=["fee", "taken", "expected", "difference", "verdict"])
    for column in ("taken", "expected", "difference"):
        out[column] = money(out[column].tolist())
    return out
