"""Our side of the courier check for a shop without an ERP: the platforms' own order exports.

Taobao/Tmall, JD, PDD and Douyin exports carry the parcel in a logistics column, written in several
ways: ``No:SF1234567890123``, ``顺丰速运:SF1234567890123``, ``SF1234567890123-顺丰速运`` or the bare
number, sometimes several parcels in one cell (``SF1;SF2``). :func:`split_logistics` reads the
waybill and the carrier out of it; :func:`platform_shipments` turns the exports into one row per
parcel, the shape the courier recipe expects of our shipments.

An export has no weights, so the parcel is priced at the weight the carrier billed and to the
destination on the bill: the card's price for that weight and zone. That still finds every waybill
outcome (billed not shipped, not billed, twice, returns, cancelled orders) and every price or zone
error, but not a weight dispute, which needs our own scale.
"""
from __future__ import annotations

import re

import pandas as pd

from recon_helpers.canonical import MEASURE_DTYPE

_SEPARATORS = re.compile(r"[;；,，、\s]+")
_NO_PREFIX = re.compile(r"^(?:No|NO|no)[:：]\s*")
_CARRIER_FIRST = re.compile(r"^(?P<carrier>[^\d:：A-Za-z][^:：]*)[:：]\s*(?P<waybill>[A-Za-z0-9]+)$")
_CARRIER_LAST = re.compile(r"^(?P<waybill>[A-Za-z0-9]+)\s*[-—]\s*(?P<carrier>[^\d].*)$")
_WAYBILL = re.compile(r"^[A-Za-z]{0,6}\d{6,}$")


def split_logistics(text: object) -> list[tuple[str, str | None]]:
    """(waybill, carrier or None) for each parcel a logistics cell names; [] for an empty cell.

    ``"No:SF1234567890123"`` -> [("SF1234567890123", None)]; ``"顺丰速运:SF1;中通快递:7833"`` -> two parcels.
    A piece that does not look like a waybill number is left out (it is a note, not a parcel).
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return []
    out: list[tuple[str, str | None]] = []
    for piece in _SEPARATORS.split(str(text).strip()):
        piece = _NO_PREFIX.sub("", piece.strip())
        if not piece:
            continue
        carrier = None
        for pattern in (_CARRIER_FIRST, _CARRIER_LAST):
            m = pattern.match(piece)
            if m:
                piece, carrier = m.group("waybill"), m.group("carrier").strip()
                break
        if _WAYBILL.match(piece):
            out.append((piece.upper(), carrier))
    return out


def platform_shipments(orders: pd.DataFrame, bill: pd.DataFrame) -> pd.DataFrame:
    """One row per parcel named in the order exports, with the bill's weight and destination.

    Columns: waybill_no, carrier, order_id, channel, txn_time (the bill's date, else the order's),
    destination, weight, order_rows (how many export rows named the parcel), source_file, source_row,
    template. Lines of one order (JD, Douyin) that name the same parcel are one parcel.
    """
    if "waybill_no" not in orders.columns:
        return pd.DataFrame(columns=["waybill_no", "carrier", "order_id", "txn_time", "destination", "weight",
                                     "source_file", "source_row", "template"])
    rows = []
    carriers = orders["carrier"] if "carrier" in orders.columns else pd.Series(None, index=orders.index)
    for order, cell, carrier in zip(orders.itertuples(index=False), orders["waybill_no"], carriers):
        for waybill, named in split_logistics(cell):
            rows.append({"waybill_no": waybill, "carrier": named or (None if pd.isna(carrier) else str(carrier)),
                         "order_id": order.order_id, "channel": getattr(order, "channel", None),
                         "order_time": order.txn_time, "source_file": order.source_file,
                         "source_row": order.source_row, "template": order.template})
    parcels = pd.DataFrame(rows, columns=["waybill_no", "carrier", "order_id", "channel", "order_time", "source_file",
                                          "source_row", "template"])
    counts = parcels.groupby("waybill_no", sort=False).size()
    parcels = parcels.drop_duplicates("waybill_no").reset_index(drop=True)
    parcels["order_rows"] = parcels["waybill_no"].map(counts).astype("int64")
    billed = bill.assign(waybill_no=bill["waybill_no"].astype("string").str.strip().str.upper()).drop_duplicates("waybill_no")
    weight = billed["billed_weight"] if "billed_weight" in billed.columns else billed.get("weight")
    if weight is not None and "weight" in billed.columns:
        weight = weight.fillna(billed["weight"])
    facts = pd.DataFrame({"waybill_no": billed["waybill_no"], "bill_time": billed["txn_time"],
                          "destination": billed["destination"] if "destination" in billed.columns else pd.NA,
                          "weight": weight if weight is not None else pd.NA})
    out = parcels.astype({"waybill_no": "string"}).merge(facts, on="waybill_no", how="left")
    out["txn_time"] = out["bill_time"].fillna(out["order_time"])
    out["weight"] = out["weight"].astype(MEASURE_DTYPE)
    return out.drop(columns=["bill_time", "order_time"])
