"""The courier's side of an outbound: did the carrier pick up what the warehouse says it shipped?

A courier records every parcel it picks up (揽收): its bill lists one line per waybill picked up (with
the pieces, 件数, where the bill carries them), a pickup list does the same. Against the warehouse's
shipped outbound rows, per waybill and per order:

* ``not_picked_up`` (已出库未揽收): the warehouse shipped the waybill, the carrier's records never name
  it (the parcel is still at the dock, lost, or left with another carrier);
* ``pickup_count_mismatch`` (揽收件数不符): the order left the warehouse in N parcels (waybills), the
  carrier picked up M pieces under those waybills.

Only carriers whose records are in the data folder are compared, and only up to the last day those
records reach (a parcel shipped after the carrier's last pickup line is not yet due: next bill).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from recon_helpers import cycles

#: the scenario's categories of a courier pickup difference
CATEGORIES = {
    "not_picked_up": "已出库未揽收 — the warehouse shipped the waybill, the carrier never picked it up",
    "pickup_count_mismatch": "揽收件数不符 — the carrier picked up another number of parcels than the warehouse shipped",
}


@dataclass(frozen=True)
class Pickups:
    """One carrier's pickup records: the names the warehouse writes for it, and its rows
    (``waybill_no``, ``txn_time``, optional ``qty`` = pieces, ``source_file``, ``source_row``)."""

    carrier: str
    aliases: Sequence[str]
    table: pd.DataFrame


def _waybills(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.upper().str.replace(" ", "", regex=False)


def _pieces(table: pd.DataFrame) -> dict[str, int]:
    """Waybill -> pieces the carrier picked up under it (件数; 1 where the records carry none). A waybill
    billed twice is one pickup: the larger count of its lines, never their sum."""
    keys = _waybills(table["waybill_no"])
    qty = table["qty"] if "qty" in table.columns else pd.Series(pd.NA, index=table.index)
    out: dict[str, int] = {}
    for k, q in zip(keys, qty):
        if k is pd.NA or not k:
            continue
        n = 1 if q is None or pd.isna(q) else int(q)
        out[k] = max(out.get(k, 0), n)
    return out


def differences(outbound: pd.DataFrame, pickups: Sequence[Pickups], shipped_statuses: Sequence[str],
                columns: Sequence[str]) -> pd.DataFrame:
    """Exception rows (in ``columns``, side ``right``, key = order id) for every shipped waybill no
    pickup names and every order whose picked-up pieces differ from its parcels."""
    rows: list[dict] = []
    if not len(outbound) or "waybill_no" not in outbound.columns or "carrier" not in outbound.columns:
        return pd.DataFrame(rows, columns=list(columns))
    shipped = outbound[outbound["status"].astype("string").isin(list(shipped_statuses)).fillna(False).to_numpy(dtype=bool)
                       & outbound["waybill_no"].notna().to_numpy(dtype=bool)]
    shipped = shipped.assign(_wb=_waybills(shipped["waybill_no"]), _day=cycles.day_of(shipped["txn_time"]),
                             _carrier=shipped["carrier"].astype("string").str.strip())
    for records in pickups:
        mine = shipped[shipped["_carrier"].isin(list(records.aliases)).fillna(False).to_numpy(dtype=bool)]
        if not len(mine) or not len(records.table):
            continue
        last = cycles.day_of(records.table["txn_time"]).max()
        mine = mine[(mine["_day"] <= last).fillna(False).to_numpy(dtype=bool)]
        pieces = _pieces(records.table)
        for (order, waybill), part in mine.groupby(["order_id", "_wb"], sort=True, dropna=False):
            if waybill not in pieces:
                first = part.iloc[0]
                rows.append(_row(first, "not_picked_up",
                                 f"仓库{first['_day']}出库运单{first['waybill_no']}，{records.carrier}无揽收记录"))
        for order, part in mine.groupby("order_id", sort=True):
            taken = [w for w in dict.fromkeys(part["_wb"]) if w in pieces]
            if not taken:
                continue
            got = sum(pieces[w] for w in taken)
            if got != len(taken):
                first = part[part["_wb"].isin(taken)].iloc[0]
                rows.append(_row(first, "pickup_count_mismatch",
                                 f"仓库出库{len(taken)}个包裹（{'、'.join(taken)}），{records.carrier}揽收{got}件"))
    return pd.DataFrame(rows, columns=list(columns))


def _row(outbound_row: pd.Series, category: str, detail: str) -> dict:
    return {"side": "right", "source_file": outbound_row["source_file"], "source_row": outbound_row["source_row"],
            "key": outbound_row["order_id"], "amount": None, "category": category, "detail": detail,
            "candidates": None, "group_id": None, "rule": None}

