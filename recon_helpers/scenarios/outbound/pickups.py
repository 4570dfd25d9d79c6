"""The courier's side of an outbound: did the carrier pick up what the warehouse says it shipped?

A courier records every parcel it picks up (揽收): its bill lists one line per waybill picked up (with
the pieces, 件数, where the bill carries them), a pickup list does the same. Against the warehouse's
shipped outbound rows, per waybill and per order:

* ``not_picked_up`` (已出库未揽收): the warehouse shipped the waybill, the carrier's records never name
  it (the parcel is still at the dock, lost, or left with another carrier);
* ``pickup_count_mismatch`` (揽收件数不符): the order left the warehouse in N pieces (one per waybill, or
  the WMS's 件数 where it records a multi-piece consignment, 子母件), the carrier picked up M pieces
  under those waybills.

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
    pieces = pd.Series([1 if q is None or pd.isna(q) else int(q) for q in qty], index=table.index, dtype="int64")
    named = (keys.notna() & (keys != "")).fillna(False).to_numpy(dtype=bool)
    return pieces[named].groupby(keys[named].to_numpy(dtype=object), sort=False).max().to_dict()


def differences(outbound: pd.DataFrame, pickups: Sequence[Pickups], shipped_statuses: Sequence[str],
                columns: Sequence[str]) -> pd.DataFrame:
    """Exception rows (in ``columns``, side ``right``, key = order id) for every shipped waybill no
    pickup names and every order whose picked-up pieces differ from its parcels."""
    if not len(outbound) or "waybill_no" not in outbound.columns or "carrier" not in outbound.columns:
        return pd.DataFrame([], columns=list(columns))
    shipped = outbound[outbound["status"].astype("string").isin(list(shipped_statuses)).fillna(False).to_numpy(dtype=bool)
                       & outbound["waybill_no"].notna().to_numpy(dtype=bool)]
    shipped = shipped.assign(_wb=_waybills(shipped["waybill_no"]), _day=cycles.day_of(shipped["txn_time"]),
                             _carrier=shipped["carrier"].astype("string").str.strip())
    rows: list[dict] = []
    for records in pickups:
        mine = shipped[shipped["_carrier"].isin(list(records.aliases)).fillna(False).to_numpy(dtype=bool)]
        if not len(mine) or not len(records.table):
            continue
        last = cycles.day_of(records.table["txn_time"]).max()
        mine = mine[(mine["_day"] <= last).fillna(False).to_numpy(dtype=bool)]
        pieces = _pieces(records.table)
        rows += _not_picked_up(mine, pieces, records.carrier)
        rows += _count_differences(mine, pieces, records.carrier)
    return pd.DataFrame(rows, columns=list(columns))


def _not_picked_up(mine: pd.DataFrame, pieces: dict[str, int], carrier: str) -> list[dict]:
    """One row per order and shipped waybill the carrier's records never name (its first outbound row)."""
    missing = mine[~mine["_wb"].isin(set(pieces)).to_numpy(dtype=bool)]
    firsts = missing.drop_duplicates(["order_id", "_wb"]).sort_values(["order_id", "_wb"], kind="stable")
    return [_row(first, "not_picked_up", f"仓库{first['_day']}出库运单{first['waybill_no']}，{carrier}无揽收记录")
            for _, first in firsts.iterrows()]


def _count_differences(mine: pd.DataFrame, pieces: dict[str, int], carrier: str) -> list[dict]:
    """One row per order whose picked-up waybills carry another number of pieces than the warehouse sent
    under them (its ``pieces`` per waybill where the WMS records them, else 1 parcel per waybill)."""
    taken = mine[mine["_wb"].isin(set(pieces)).to_numpy(dtype=bool) & mine["order_id"].notna().to_numpy(dtype=bool)]
    sent = _sent_pieces(taken)
    parcels = taken.drop_duplicates(["order_id", "_wb"])
    parcels = parcels.assign(_sent=parcels["_wb"].map(sent).astype("int64"),
                             _pieces=parcels["_wb"].map(pieces).astype("int64"))
    per_order = parcels.groupby("order_id", sort=True).agg(sent=("_sent", "sum"), got=("_pieces", "sum"))
    differ = per_order[(per_order["got"] != per_order["sent"]).to_numpy(dtype=bool)]
    listed = parcels[parcels["order_id"].isin(set(differ.index)).to_numpy(dtype=bool)]
    return [_row(part.iloc[0], "pickup_count_mismatch", _count_text(part, differ.loc[order], carrier))
            for order, part in listed.groupby("order_id", sort=True)]


def _sent_pieces(rows: pd.DataFrame) -> dict[str, int]:
    """Waybill -> pieces the warehouse sent under it: the WMS's 件数 (the largest of the waybill's rows,
    which repeat it per order line), 1 where it records none."""
    if "pieces" not in rows.columns:
        return dict.fromkeys(rows["_wb"], 1)
    given = pd.to_numeric(rows["pieces"], errors="coerce").astype("Float64").fillna(1).astype("int64")
    return given.groupby(rows["_wb"].to_numpy(dtype=object), sort=False).max().to_dict()


def _count_text(parcels: pd.DataFrame, counts: pd.Series, carrier: str) -> str:
    waybills = "、".join(parcels["_wb"])
    if int(counts["sent"]) == len(parcels):
        return f"仓库出库{len(parcels)}个包裹（{waybills}），{carrier}揽收{int(counts['got'])}件"
    return f"仓库出库{len(parcels)}个运单共{int(counts['sent'])}件（{waybills}），{carrier}揽收{int(counts['got'])}件"


def _row(outbound_row: pd.Series, category: str, detail: str) -> dict:
    return {"side": "right", "source_file": outbound_row["source_file"], "source_row": outbound_row["source_row"],
            "key": outbound_row["order_id"], "amount": None, "category": category, "detail": detail,
            "candidates": None, "group_id": None, "rule": None}

