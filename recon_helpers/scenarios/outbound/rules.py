"""The outbound rules the recipe cannot express: promised ship times, closed orders, SKU lines, parcels.

The ``outbound`` recipe sums both sides per order and compares quantity and status. What else an
analyst needs depends on the platform and on row values: each platform promises shipment within so
many hours of the order (``promise_hours`` in the registry entry); a closed order that never reached
the warehouse needs nothing; an order placed shortly before the cut-off is not late yet; JD's export
repeats the order total on every line. These functions answer those questions on the loaded tables.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from recon_helpers.canonical import MONEY_DTYPE
from recon_helpers.errors import UsageError

#: order-export template -> platform code (the key of ``promise_hours``)
PLATFORM_OF_TEMPLATE = {"taobao_orders": "taobao", "jd_orders": "jd", "pdd_orders": "pdd", "douyin_orders": "douyin"}


def platform_of(templates: pd.Series) -> pd.Series:
    """The platform code of each order row, from the template its file was read with."""
    return templates.astype("string").map(lambda t: PLATFORM_OF_TEMPLATE.get(str(t), str(t).removesuffix("_orders")))


def promise_hours(platforms: pd.Series, settings: Mapping[str, Any]) -> pd.Series:
    """Hours each platform gives the shop to ship (``default`` for a platform the entry does not name)."""
    hours = dict(settings["promise_hours"])
    if "default" not in hours:
        raise UsageError("templates/scenarios/outbound.yaml: promise_hours needs a default: entry (hours to ship)")
    return platforms.map(lambda p: int(hours.get(str(p), hours["default"]))).astype("int64")


def is_closed(statuses: pd.Series, settings: Mapping[str, Any]) -> pd.Series:
    """True for an order the platform closed, cancelled or refunded before shipment."""
    return statuses.astype("string").str.strip().isin(list(settings["closed_statuses"])).fillna(False)


def order_amounts(orders: pd.DataFrame, settings: Mapping[str, Any]) -> pd.DataFrame:
    """order_id, source_file -> the order's money, exact.

    Exports with one row per SKU line either give each line's amount (Douyin: summed) or repeat the
    order's total on every line (JD, named in ``order_total_repeated_on_lines``: the first is taken).
    An order without any amount has none. Computed over all orders at once (a month has 200,000).
    """
    if "amount" not in orders.columns:
        return pd.DataFrame({"order_id": pd.Series(dtype="string"), "source_file": pd.Series(dtype="string"),
                             "order_amount": pd.Series(dtype=MONEY_DTYPE)})
    repeated = set(settings.get("order_total_repeated_on_lines", []))
    frame = orders[["order_id", "source_file", "template", "amount"]].astype({"source_file": "string"})
    frame = frame.assign(amount=frame["amount"].astype(MONEY_DTYPE))
    groups = frame.groupby(["order_id", "source_file"], sort=False)
    out = groups[["template"]].first().reset_index()
    first_amount = groups["amount"].first().to_numpy(dtype=object)
    number = groups.ngroup()
    keyed = number.notna().to_numpy(dtype=bool)  # a row without an order number belongs to no order
    line_sum = _exact_sums(frame["amount"][keyed], number[keyed].to_numpy(dtype="int64"), len(out))
    takes_first = out["template"].astype("string").isin(repeated).to_numpy(dtype=bool)
    out["order_amount"] = pd.array(np.where(takes_first, first_amount, line_sum).tolist(), dtype=MONEY_DTYPE)
    return out[["order_id", "source_file", "order_amount"]].astype({"order_id": "string", "source_file": "string"})


def _exact_sums(amounts: pd.Series, group: np.ndarray, groups: int) -> np.ndarray:
    """Per group number (0..groups-1), the exact sum of its amounts; None where it has none."""
    table = pa.table({"g": pa.array(group, pa.int64()), "v": pa.array(amounts.array)})
    sums = table.group_by("g").aggregate([("v", "sum")]).sort_by("g")
    out = np.full(groups, None, dtype=object)
    out[sums["g"].to_numpy()] = sums["v_sum"].to_pylist()
    return out


def hours_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Hours from ``start`` to ``end`` (float, for comparing with a promise of whole hours)."""
    a = pd.to_datetime(start.astype("datetime64[s]"))
    b = pd.to_datetime(end.astype("datetime64[s]"))
    return (b - a).dt.total_seconds() / 3600


def due_by(order_time: pd.Series, hours: pd.Series) -> pd.Series:
    """When each order has to be shipped: order time + the platform's promised hours."""
    return pd.to_datetime(order_time.astype("datetime64[s]")) + pd.to_timedelta(hours, unit="h")


def sku_lines(table: pd.DataFrame, *, only_statuses: Sequence[str] | None = None) -> pd.DataFrame:
    """order_id, sku -> quantity, for rows that name a SKU (an export without SKUs gives nothing)."""
    if "sku" not in table.columns:
        return pd.DataFrame(columns=["order_id", "sku", "qty"])
    rows = table
    if only_statuses is not None and "status" in rows.columns:
        rows = rows[rows["status"].astype("string").isin(list(only_statuses)).fillna(False).to_numpy(dtype=bool)]
    rows = rows[rows["sku"].notna().to_numpy(dtype=bool)]
    return rows.groupby(["order_id", "sku"], sort=True)["qty"].sum().reset_index()


def sku_differences(orders: pd.DataFrame, outbound: pd.DataFrame, settings: Mapping[str, Any]) -> pd.DataFrame:
    """Orders whose SKU lines differ from what left the warehouse (compared only where both name SKUs
    for every line): order_id, ordered (``SKU×qty``), shipped."""
    ordered = _sku_text(sku_lines(orders))
    shipped = _sku_text(sku_lines(outbound, only_statuses=settings["shipped_statuses"]))
    complete = set(orders.loc[orders["sku"].isna().to_numpy(dtype=bool), "order_id"]) if "sku" in orders.columns else set()
    both = sorted((set(ordered.index) & set(shipped.index)) - complete)
    table = pd.DataFrame({"order_id": both, "ordered": ordered.reindex(both).to_numpy(dtype=object),
                          "shipped": shipped.reindex(both).to_numpy(dtype=object)}, columns=["order_id", "ordered", "shipped"])
    return table[(table["ordered"] != table["shipped"]).to_numpy(dtype=bool)].reset_index(drop=True)


def _sku_text(lines: pd.DataFrame) -> pd.Series:
    """order_id -> its SKU lines as one text, ``SKU×qty`` joined by 、 (in SKU order)."""
    if not len(lines):
        return pd.Series(dtype=object)
    pieces = [f"{s}×{int(q)}" for s, q in zip(lines["sku"], lines["qty"])]
    orders = lines["order_id"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, orders[1:] != orders[:-1]])  # lines come sorted by order, then SKU
    ends = np.r_[starts[1:], len(orders)]
    return pd.Series(["、".join(pieces[a:b]) for a, b in zip(starts, ends)], index=orders[starts], dtype=object)


def parcels(outbound: pd.DataFrame, settings: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(split, merged): orders shipped in several parcels, and parcels that carry several orders."""
    shipped = outbound[outbound["status"].astype("string").isin(list(settings["shipped_statuses"])).fillna(False).to_numpy(dtype=bool)]
    shipped = shipped[shipped["waybill_no"].notna().to_numpy(dtype=bool)] if "waybill_no" in shipped.columns else shipped.iloc[0:0]
    pairs = shipped[["order_id", "waybill_no"]].dropna().drop_duplicates()
    split = _several(pairs, "order_id", "waybill_no")
    merged = _several(pairs, "waybill_no", "order_id")
    return (pd.DataFrame({"order_id": split.index, "waybills": split.map("、".join).to_numpy(),
                          "parcels": split.map(len).to_numpy()}),
            pd.DataFrame({"waybill_no": merged.index, "orders": merged.map("、".join).to_numpy(),
                          "order_count": merged.map(len).to_numpy()}))


def _several(pairs: pd.DataFrame, by: str, of: str) -> pd.Series:
    """``by`` -> the sorted distinct ``of`` values, for the ``by`` values that have more than one."""
    counts = pairs.groupby(by, sort=True)[of].size()
    several = pairs[pairs[by].isin(set(counts.index[counts.to_numpy() > 1]))]
    listed = several.groupby(by, sort=True)[of].agg(lambda s: sorted(s))
    return listed if len(listed) else pd.Series(dtype=object, index=pd.Index(pairs[by].iloc[:0], name=by))


def as_of_moment(last_day: dt.date, as_of: str | None) -> dt.datetime:
    """The cut-off: the end of the period's last day unless given (``2026-11-01 09:00``)."""
    if as_of in (None, ""):
        return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time())
    try:
        return dt.datetime.fromisoformat(str(as_of))
    except ValueError:
        raise UsageError(f"as_of {as_of!r} is not a date: write it as YYYY-MM-DD or YYYY-MM-DD HH:MM") from None
