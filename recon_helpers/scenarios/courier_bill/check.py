"""The courier-bill check: carriers from the registry entry, the priced shipments, the lists to act on."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from recon_helpers.engine.cascade import match
from recon_helpers.errors import MatchInputError
from recon_helpers.periods import Period
from recon_helpers.scenarios.base import Check, total
from recon_helpers.scenarios.courier_bill import pricing
from recon_helpers.scenarios.courier_bill.rate_card import RateCard, load_rate_card
from recon_helpers.scenarios.registry import scenario
from recon_helpers.sources.loading import load

NAME = "courier_bill"

#: categories of a bill line whose fee differs from the rate card (first failing compare of the recipe)
FEE_CATEGORIES = ("weight_mismatch", "rate_card_violation")


@dataclass(frozen=True)
class Carrier:
    """A courier: its code, the name our ERP writes in 快递公司 and where its bill lives in a data folder."""

    code: str
    name: str
    aliases: tuple[str, ...]
    bill_file: str
    bill_template: str

    def __str__(self) -> str:
        return f"{self.name} ({self.code}): bill {self.bill_file}, template {self.bill_template}, rate card rate_cards/{self.code}.yaml"

    def _repr_html_(self) -> str:
        return (f"<b>{escape(self.name)}</b> ({escape(self.code)}) &middot; bill <code>{escape(self.bill_file)}</code> "
                f"&middot; template <code>{escape(self.bill_template)}</code> &middot; rate card "
                f"<code>rate_cards/{escape(self.code)}.yaml</code>")

    @classmethod
    def of(cls, code: str) -> Carrier:
        """The carrier for a code (sf, zto, yto, jdl), from the registry entry; a clear error otherwise."""
        settings = scenario(NAME).run_settings(code)
        return cls(settings["carrier"], settings["name"], tuple(settings["aliases"]), settings["bill"], settings["template"])


#: the carrier for a code: ``carrier("zto")``
carrier = Carrier.of


def for_carrier(shipments: pd.DataFrame, which: Carrier | str) -> pd.DataFrame:
    """Our shipments sent with this carrier (the ``carrier`` column holds 快递公司)."""
    which = Carrier.of(which) if isinstance(which, str) else which
    if "carrier" not in shipments.columns:
        raise MatchInputError("the shipments table has no 'carrier' column (快递公司): load erp/shipments.csv with its template")
    names = shipments["carrier"].astype("string").str.strip()
    return shipments[names.isin(which.aliases).fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def priced_shipments(shipments: pd.DataFrame, card: RateCard) -> pd.DataFrame:
    """Our shipments with this rate card's carrier, each priced by the card: the recipe's left side."""
    return pricing.price(for_carrier(shipments, card.carrier), card)


def check(*, period: str, data_dir: str | Path, carrier: str = "sf") -> CourierCheck:
    """Load, price and match one carrier's month: the result object the notebook interrogates."""
    entry = scenario(NAME)
    run = entry.run_parameters(carrier)["carrier"]
    which = Carrier.of(run)
    shipments = load(entry.input_path("shipments", data_dir, run))
    bill = load(entry.input_path("bill", data_dir, run), template=which.bill_template)
    card = load_rate_card(entry.input_path("rate_card", data_dir, run))
    priced = priced_shipments(shipments.table, card)
    result = match(priced, bill.table, entry.recipes[0])
    return CourierCheck(scenario=entry, period=Period.parse(period), data_dir=Path(data_dir), result=result,
                        inputs={"shipments": shipments, "bill": bill}, run=run,
                        carrier=which, card=card, priced=priced)


_LIST_COLUMNS = {"key": "waybill_no", "amount": "amount", "source_file": "source_file", "source_row": "source_row",
                 "detail": "detail"}


@dataclass
class CourierCheck(Check):
    """One carrier's month (see the module docstring of :mod:`recon_helpers.scenarios.courier_bill`)."""

    carrier: Carrier | None = None
    card: RateCard | None = None
    priced: pd.DataFrame | None = None

    @property
    def title(self) -> str:
        """``快递账单核对 Courier bill check · 顺丰速运 sf · 2026-10``."""
        return f"{self.scenario.title} · {self.carrier.name} {self.run} · {self.period}"

    @property
    def bill(self) -> pd.DataFrame:
        return self.inputs["bill"].table

    # -- the lists an analyst acts on ----------------------------------------------------------
    def _waybills(self, category: str, side: str) -> pd.DataFrame:
        rows = self.exceptions(category, side)
        cols = [c for c in _LIST_COLUMNS if c in rows.columns]
        listed = rows[cols].rename(columns=_LIST_COLUMNS).sort_values(["waybill_no", "source_row"], kind="stable")
        return self.relative_files(listed.reset_index(drop=True))

    def shipped_not_billed(self) -> pd.DataFrame:
        """Waybills we shipped that the bill does not charge (amount = our expected fee)."""
        return self._waybills("missing_on_right", "left")

    def billed_not_shipped(self) -> pd.DataFrame:
        """Bill lines for waybills we never shipped (amount = billed)."""
        return self._waybills("missing_on_left", "right")

    def charged_twice(self) -> pd.DataFrame:
        """Second (and further) charges of a waybill already on the bill (amount = the extra charge)."""
        return self._waybills("duplicate_on_right", "right")

    def fee_pairs(self) -> pd.DataFrame:
        """One row per waybill whose bill line differs from the rate card: expected and billed fee.

        The match puts both rows of such a pair in the exceptions (shipment on the left with its expected
        fee, bill line on the right with the billed amount) under one ``group_id``; the category says why.
        """
        rows = self.exceptions(FEE_CATEGORIES)
        left = rows[rows["side"] == "left"][["group_id", "key", "amount", "category", "source_file", "source_row"]]
        right = rows[rows["side"] == "right"][["group_id", "amount", "source_file", "source_row"]]
        pairs = left.merge(right, on="group_id", suffixes=("_shipment", "_bill"), how="outer")
        pairs = pairs.rename(columns={"key": "waybill_no", "amount_shipment": "expected_fee", "amount_bill": "billed_fee"})
        pairs["difference"] = (pairs["billed_fee"] - pairs["expected_fee"]).astype(pairs["billed_fee"].dtype)
        return pairs.sort_values(["waybill_no", "source_row_bill"], kind="stable").reset_index(drop=True)

    def fee_differences(self) -> pd.DataFrame:
        """Bill lines whose fee differs from the rate card, each with the rate card's calculation.

        ``category`` separates a weight dispute (weight_mismatch) from a price dispute
        (rate_card_violation); ``rate_card`` is the card's own calculation for the parcel we shipped.
        Kept narrow so it reads in a report: the row in the bill is ``source_row_bill``.
        """
        pairs = self.fee_pairs()
        ours = self.priced[["source_row", "destination", "weight", "chargeable_weight"]].rename(
            columns={"source_row": "source_row_shipment"})
        pairs = pairs.merge(ours, on="source_row_shipment", how="left")
        if "billed_weight" in self.bill.columns:
            billed = self.bill[["source_row", "billed_weight"]].rename(columns={"source_row": "source_row_bill"})
            pairs = pairs.merge(billed, on="source_row_bill", how="left")
        else:
            pairs["billed_weight"] = pd.NA
        by_row = self.priced.set_index("source_row", drop=False)
        pairs["rate_card"] = [self._rate_card_line(by_row.loc[row]) if pd.notna(row) and row in by_row.index else ""
                              for row in pairs["source_row_shipment"]]
        columns = ["waybill_no", "category", "destination", "chargeable_weight", "billed_weight", "expected_fee",
                   "billed_fee", "difference", "source_row_bill", "rate_card"]
        return pairs[columns]

    def _rate_card_line(self, shipment: pd.Series) -> str:
        def value(name: str) -> Any:
            v = shipment.get(name)
            return None if v is None or pd.isna(v) else v

        q = pricing.quote(self.card, weight=value("weight"), length_cm=value("length_cm"), width_cm=value("width_cm"),
                          height_cm=value("height_cm"), destination=value("destination"))
        return pricing.explain(self.card, q)

    # -- figures --------------------------------------------------------------------------------
    def overcharge(self) -> Decimal:
        """Money billed that we should not pay: lines for waybills we never shipped, second charges,
        and the part of a fee above the rate card."""
        diffs = self.fee_pairs()["difference"]
        above = total(diffs[(diffs > 0).fillna(False).to_numpy(dtype=bool)])
        return self.amount("missing_on_left", "right") + self.amount("duplicate_on_right", "right") + above

    def kpis(self) -> dict[str, Any]:
        """The headline figures of the courier check, in the order the report shows them."""
        return {
            "Shipments 发货单数": len(self.priced),
            "Bill lines 账单行数": len(self.bill),
            "Billed total 账单金额": total(self.bill["amount"]).copy_abs(),
            "Expected total 按价目表应付": total(self.priced["expected_fee"]),
            "Matched 已核对": int(self.result.summary.sides["left"].matched_rows),
            "Auto-match rate 自动核对率": self.auto_match_rate,
            "Overcharge 多收金额": self.overcharge(),
        }
