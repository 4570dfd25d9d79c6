"""The courier-bill scenario: own shipments against a courier's monthly bill.

Helpers that keep ``notebooks/courier_bill.ipynb`` free of logic: which file and template belong to
a carrier, the carrier's own shipments, the headline figures, and the four lists an analyst acts on:

* billed but not shipped (``missing_on_left``): dispute the line, we never sent that waybill;
* shipped but not billed (``missing_on_right``): expect it on next month's bill (accrue it);
* charged twice (``duplicate_on_right``): claim the second charge back;
* fee differences (``weight_mismatch``: the courier billed a higher chargeable weight than ours;
  ``rate_card_violation``: same weight, different price), each with the rate-card calculation that
  shows what the fee should be.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import MatchInputError, UsageError


@dataclass(frozen=True)
class Carrier:
    """A courier: its code, the name our ERP writes in 快递公司, and where its bill lives in a data folder."""

    code: str
    name: str
    aliases: tuple[str, ...]
    bill_file: str
    bill_template: str

    def bill_path(self, data_dir: str | Path) -> Path:
        return Path(data_dir) / self.bill_file

    def rate_card_path(self, data_dir: str | Path) -> Path:
        return Path(data_dir) / "rate_cards" / f"{self.code}.yaml"

    def __str__(self) -> str:
        return f"{self.name} ({self.code}): bill {self.bill_file}, template {self.bill_template}, rate card rate_cards/{self.code}.yaml"

    def _repr_html_(self) -> str:
        return f"<b>{escape(self.name)}</b> ({escape(self.code)}) &middot; bill <code>{escape(self.bill_file)}</code> &middot; template <code>{escape(self.bill_template)}</code> &middot; rate card <code>rate_cards/{escape(self.code)}.yaml</code>"


CARRIERS: dict[str, Carrier] = {
    "sf": Carrier("sf", "顺丰速运", ("顺丰速运", "顺丰", "顺丰快递", "SF", "SF Express"), "courier/sf_bill.xlsx", "sf_bill"),
    "zto": Carrier("zto", "中通快递", ("中通快递", "中通", "ZTO"), "courier/zto_bill.xlsx", "zto_bill"),
    "yto": Carrier("yto", "圆通速递", ("圆通速递", "圆通", "圆通快递", "YTO"), "courier/yto_bill.csv", "yto_bill"),
    "jdl": Carrier("jdl", "京东物流", ("京东物流", "京东快递", "JD Logistics", "JDL"), "courier/jd_bill.xlsx", "jdl_bill"),
}

#: how the match categories read in this scenario
CATEGORY_LABELS: dict[str, str] = {
    "missing_on_right": "shipped, not billed 已发未计费",
    "missing_on_left": "billed, not shipped 计费但未发货",
    "duplicate_on_right": "charged twice 重复计费",
    "duplicate_on_left": "shipped twice 重复发货记录",
    "rate_card_violation": "fee ≠ rate card 运费与价目表不符",
    "weight_mismatch": "billed weight too high 计费重量偏高",
}

#: categories of a bill line whose fee differs from the rate card (first failing compare of the recipe)
FEE_CATEGORIES = ("weight_mismatch", "rate_card_violation")


def carrier(code: str) -> Carrier:
    """The carrier for a code (sf, zto, yto, jdl); a clear error for anything else."""
    try:
        return CARRIERS[str(code).strip().lower()]
    except KeyError:
        raise UsageError(f"carrier {code!r} is unknown: use one of {', '.join(CARRIERS)}") from None


def for_carrier(shipments: pd.DataFrame, which: Carrier | str) -> pd.DataFrame:
    """Our shipments sent with this carrier (the ``carrier`` column holds 快递公司)."""
    which = carrier(which) if isinstance(which, str) else which
    if "carrier" not in shipments.columns:
        raise MatchInputError("the shipments table has no 'carrier' column (快递公司): load erp/shipments.csv with its template")
    names = shipments["carrier"].astype("string").str.strip()
    return shipments[names.isin(which.aliases).fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def priced_shipments(shipments: pd.DataFrame, card: Any) -> pd.DataFrame:
    """Our shipments with this rate card's carrier, each priced by the card: the courier_bill recipe's left side."""
    from . import rates

    return rates.price(for_carrier(shipments, card.carrier), card)


def output_folder(output_dir: str | Path, period: str) -> Path:
    """Where the notebook writes its tables: ``<output_dir>/<period>/courier_bill/`` (created)."""
    folder = Path(output_dir) / str(period) / "courier_bill"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------
def total(series: pd.Series) -> Decimal:
    """Exact sum of a money column (nulls ignored), 0.00 when empty."""
    value = pc.sum(pa.array(series, type=pa.decimal128(18, 2)) if len(series) else pa.array([], pa.decimal128(18, 2))).as_py()
    return (value if value is not None else Decimal("0")).quantize(Decimal("0.01"))


def _exceptions(result: Any, category: str | tuple[str, ...], side: str | None = None) -> pd.DataFrame:
    exc = result.exceptions
    categories = (category,) if isinstance(category, str) else category
    mask = exc["category"].astype("string").isin(categories)
    if side is not None:
        mask &= exc["side"].astype("string") == side
    return exc[mask.fillna(False).to_numpy(dtype=bool)]


def _matched_waybills(result: Any) -> int:
    """Our shipments that found their bill line with the right fee."""
    return int(result.summary.sides["left"].matched_rows)


def fee_pairs(result: Any) -> pd.DataFrame:
    """One row per waybill whose bill line differs from the rate card: expected and billed fee.

    The match puts both rows of such a pair in the exceptions (shipment on the left with its expected
    fee, bill line on the right with the billed amount) under one ``group_id``; the category says
    why (:data:`FEE_CATEGORIES`).
    """
    rows = _exceptions(result, FEE_CATEGORIES)
    left = rows[rows["side"] == "left"][["group_id", "key", "amount", "category", "source_file", "source_row"]]
    right = rows[rows["side"] == "right"][["group_id", "amount", "source_file", "source_row"]]
    pairs = left.merge(right, on="group_id", suffixes=("_shipment", "_bill"), how="outer")
    pairs = pairs.rename(columns={"key": "waybill_no", "amount_shipment": "expected_fee", "amount_bill": "billed_fee"})
    pairs["difference"] = (pairs["billed_fee"] - pairs["expected_fee"]).astype(pairs["billed_fee"].dtype)
    return pairs.sort_values(["waybill_no", "source_row_bill"], kind="stable").reset_index(drop=True)


def overcharge(result: Any) -> Decimal:
    """Money billed that we should not pay: lines for waybills we never shipped, second charges,
    and the part of a fee above the rate card."""
    billed_not_ours = total(_exceptions(result, "missing_on_left", "right")["amount"])
    twice = total(_exceptions(result, "duplicate_on_right", "right")["amount"])
    diffs = fee_pairs(result)["difference"]
    above = total(diffs[(diffs > 0).fillna(False).to_numpy(dtype=bool)])
    return billed_not_ours + twice + above


def auto_match_rate(result: Any) -> str:
    """Share of all rows (both sides) matched automatically, as a percentage text."""
    return f"{100 * result.summary.auto_match_rate:.1f}%"


def kpis(priced: pd.DataFrame, bill: pd.DataFrame, result: Any) -> dict[str, Any]:
    """The headline figures of the courier check, in the order the report shows them."""
    return {
        "Shipments 发货单数": len(priced),
        "Bill lines 账单行数": len(bill),
        "Billed total 账单金额": total(bill["amount"]).copy_abs(),
        "Expected total 按价目表应付": total(priced["expected_fee"]),
        "Matched 已核对": _matched_waybills(result),
        "Auto-match rate 自动核对率": auto_match_rate(result),
        "Overcharge 多收金额": overcharge(result),
    }


# ---------------------------------------------------------------------------------------------
# the lists an analyst acts on
# ---------------------------------------------------------------------------------------------
_LIST_COLUMNS = {"key": "waybill_no", "amount": "amount", "source_file": "source_file", "source_row": "source_row", "detail": "detail"}


def _waybill_list(result: Any, category: str, side: str) -> pd.DataFrame:
    rows = _exceptions(result, category, side)
    cols = [c for c in _LIST_COLUMNS if c in rows.columns]
    return rows[cols].rename(columns=_LIST_COLUMNS).sort_values(["waybill_no", "source_row"], kind="stable").reset_index(drop=True)


def shipped_not_billed(result: Any) -> pd.DataFrame:
    """Waybills we shipped that the bill does not charge (amount = our expected fee)."""
    return _waybill_list(result, "missing_on_right", "left")


def billed_not_shipped(result: Any) -> pd.DataFrame:
    """Bill lines for waybills we never shipped (amount = billed)."""
    return _waybill_list(result, "missing_on_left", "right")


def charged_twice(result: Any) -> pd.DataFrame:
    """Second (and further) charges of a waybill already on the bill (amount = the extra charge)."""
    return _waybill_list(result, "duplicate_on_right", "right")


def fee_differences(result: Any, priced: pd.DataFrame, bill: pd.DataFrame, card: Any) -> pd.DataFrame:
    """Bill lines whose fee differs from the rate card, each with the rate-card calculation.

    ``category`` separates a weight dispute (weight_mismatch: the courier charged a higher chargeable
    weight than ours) from a price dispute (rate_card_violation: same weight, different price); the
    ``rate_card`` column is the card's own calculation for the parcel we shipped. Kept narrow so it
    reads in a report: the row in the bill is ``source_row_bill``.
    """
    from . import rates

    pairs = fee_pairs(result)
    ours = priced[["source_row", "destination", "weight", "chargeable_weight"]].rename(columns={"source_row": "source_row_shipment"})
    pairs = pairs.merge(ours, on="source_row_shipment", how="left")
    if "billed_weight" in bill.columns:
        billed = bill[["source_row", "billed_weight"]].rename(columns={"source_row": "source_row_bill"})
        pairs = pairs.merge(billed, on="source_row_bill", how="left")
    else:
        pairs["billed_weight"] = pd.NA
    explain_rows = priced.set_index("source_row", drop=False)
    pairs["rate_card"] = [
        _rate_card_line(rates, card, explain_rows.loc[row]) if pd.notna(row) and row in explain_rows.index else ""
        for row in pairs["source_row_shipment"]
    ]
    columns = ["waybill_no", "category", "destination", "chargeable_weight", "billed_weight", "expected_fee",
               "billed_fee", "difference", "rate_card", "source_row_bill"]
    return pairs[columns]


def _rate_card_line(rates: Any, card: Any, shipment: pd.Series) -> str:
    """The rate card's own explanation of the fee for one of our shipments."""
    def value(name: str) -> Any:
        v = shipment.get(name)
        return None if v is None or pd.isna(v) else v

    q = rates.quote(card, weight=value("weight"), length_cm=value("length_cm"), width_cm=value("width_cm"),
                    height_cm=value("height_cm"), destination=value("destination"))
    return rates.explain(card, q)
