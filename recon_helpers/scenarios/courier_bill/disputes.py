"""What to claim back from a courier, and why: the rule a fee breaks, the dispute list, the totals.

A fee difference is only useful to a carrier's account manager when it says which clause of the
contract the bill broke: the zone (billed at another zone's price), the weight (billed heavier than we
weighed), or the price itself. :func:`rule_broken` tries the card's alternatives for the parcel we
shipped and names the one that reproduces the billed fee. :func:`dispute_rows` turns every
over-charge of a run into one line of the dispute list (waybill, billed, expected, difference, reason
in Chinese, the card's own calculation) ready to send as Excel.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from recon_helpers.canonical import MONEY_DTYPE
from recon_helpers.export import atomic_path
from recon_helpers.scenarios.courier_bill import pricing
from recon_helpers.scenarios.courier_bill.rate_card import RateCard, normalise_province

#: the reason for each category of over-charge, as it reads in a dispute sent to the carrier
REASONS = {
    "missing_on_left": "非我方发出的运单，请核实后退费",
    "duplicate_on_right": "同一运单重复计费，请退还重复部分",
    "return_billed_as_outbound": "退货运单按寄件月结计费，退货运费不应由我方月结承担",
    "cancelled_before_pickup": "订单揽收前已取消、未交寄，不应计费",
    "weight_mismatch": "计费重量高于我方称重",
    "rate_card_violation": "运费与合同价目表不符",
}

DISPUTE_COLUMNS = ["waybill_no", "category", "billed", "expected", "difference", "reason", "rate_card", "source_row_bill"]


def _value(row: Any, name: str) -> Any:
    v = row.get(name) if hasattr(row, "get") else getattr(row, name, None)
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _quote(card: RateCard, shipment: Any, *, weight: Any = None, destination: Any = None, **options: Any) -> pricing.Quote:
    return pricing.quote(card, weight=weight if weight is not None else _value(shipment, "weight"),
                         length_cm=_value(shipment, "length_cm"), width_cm=_value(shipment, "width_cm"),
                         height_cm=_value(shipment, "height_cm"),
                         destination=destination if destination is not None else _value(shipment, "destination"),
                         **options)


def rule_broken(card: RateCard, shipment: Any, billed_fee: Decimal, billed_weight: Decimal | None, **options: Any) -> str:
    """The contract rule a bill line breaks, in one Chinese sentence.

    Checked in this order: a heavier chargeable weight; another zone's price for our weight; the
    same weight and zone at another price (the unit price or a surcharge).
    """
    ours = _quote(card, shipment, **options)
    if billed_weight is not None and billed_weight > ours.chargeable_weight:
        at_billed = _quote(card, shipment, weight=billed_weight, **options)
        volumetric = f"、体积重{ours.volume_weight}kg" if ours.volume_weight is not None else ""
        same = "，按账单重量计价正确" if at_billed.total == billed_fee else f"，按账单重量也应为{at_billed.total}元"
        return (f"计费重量：账单{billed_weight.normalize():f}kg，我方实重{ours.weight.normalize():f}kg{volumetric}，"
                f"应计{ours.chargeable_weight.normalize():f}kg{same}")
    own = ours.zone
    for zone in card.zones:
        if zone.name == own or not zone.provinces:
            continue
        other = _quote(card, shipment, destination=zone.provinces[0], **{**options, "origin": None}) \
            if zone.origins is None else _quote(card, shipment, destination=zone.provinces[0],
                                                 **{**options, "origin": zone.origins[0]})
        if other.total == billed_fee:
            where = normalise_province(_value(shipment, "destination")) or "目的地"
            first = card.zone_for(_value(shipment, "destination"), options.get("origin")).first_price
            return f"区域：按{zone.name}区价格计费，{where}在合同中属{own}区（首重{first}元）"
    return f"单价：{own}区{ours.chargeable_weight.normalize():f}kg按价目表应为{ours.total}元，账单{billed_fee}元"


def dispute_rows(lines: pd.DataFrame, category: str, *, billed: str = "amount", expected: str | None = None,
                 rate_card: str | None = None) -> pd.DataFrame:
    """Lines of one category as dispute rows (expected 0.00 when nothing should have been billed)."""
    if not len(lines):
        return pd.DataFrame(columns=DISPUTE_COLUMNS)
    billed_fee = lines[billed]
    expected_fee = lines[expected] if expected else pd.Series([Decimal("0.00")] * len(lines), index=lines.index)
    out = pd.DataFrame({
        "waybill_no": lines["waybill_no"].to_numpy(),
        "category": category,
        "billed": billed_fee.to_numpy(),
        "expected": expected_fee.to_numpy(),
        "reason": lines["reason"].to_numpy() if "reason" in lines.columns else REASONS.get(category, ""),
        "rate_card": lines[rate_card].to_numpy() if rate_card else "",
        "source_row_bill": lines["source_row_bill"].to_numpy() if "source_row_bill" in lines.columns else lines["source_row"].to_numpy(),
    })
    for col in ("billed", "expected"):
        out[col] = pd.array([None if pd.isna(v) else Decimal(v) for v in out[col]], dtype=MONEY_DTYPE)
    out["difference"] = (out["billed"] - out["expected"]).astype(MONEY_DTYPE)
    return out[DISPUTE_COLUMNS]


def write_dispute_xlsx(disputes: pd.DataFrame, path: Path, *, title: str, labels: dict[str, str]) -> Path:
    """The dispute list as an Excel workbook a carrier's account manager can read: Chinese headers,
    money as numbers with two decimals, a total row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    headers = {"waybill_no": "运单号", "category": "差异类型", "billed": "账单金额", "expected": "应付金额",
               "difference": "多收金额", "reason": "原因", "rate_card": "价目表计算", "source_row_bill": "账单行号"}
    book = Workbook()
    sheet = book.active
    sheet.title = "争议明细"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    sheet.append([headers[c] for c in DISPUTE_COLUMNS])
    for row in disputes.itertuples(index=False):
        values = row._asdict()
        values["category"] = labels.get(values["category"], values["category"])
        sheet.append([None if (not isinstance(values[c], str) and pd.isna(values[c])) else values[c] for c in DISPUTE_COLUMNS])
    money_cols = [DISPUTE_COLUMNS.index(c) + 1 for c in ("billed", "expected", "difference")]
    total = sum((d for d in disputes["difference"] if not pd.isna(d)), Decimal("0.00"))
    sheet.append(["合计", None, None, None, total])
    for r in range(3, sheet.max_row + 1):
        for c in money_cols:
            sheet.cell(row=r, column=c).number_format = "0.00"
    for col, width in zip("ABCDEFGH", (20, 22, 10, 10, 10, 40, 70, 8)):
        sheet.column_dimensions[col].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:  # a failed save keeps the previous dispute list whole
        book.save(temp)
    return path
