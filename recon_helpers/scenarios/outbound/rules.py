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
from decimal import Decimal
from typing import Any

import pandas as pd

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
    """
    if "amount" not in orders.columns:
        return pd.DataFrame({"order_id": pd.Series(dtype="string"), "source_file": pd.Series(dtype="string"),
                             "order_amount": pd.Series(dtype=MONEY_DTYPE)})
    repeated = set(settings.get("order_total_repeated_on_lines", []))
    frame = orders[["order_id", "source_file", "template", "amount"]].astype({"source_file": "string"})
    rows = []
    for (order_id, source_file), part in frame.groupby(["order_id", "source_file"], sort=False):
        values = [a for a in part["amount"] if a is not None and not pd.isna(a)]
        if not values:
            money = None
        elif str(part["template"].iloc[0]) in repeated:
            money = values[0]
        else:
            money = sum(values, Decimal("0.00"))
        rows.append({"order_id": order_id, "source_file": source_file, "order_amount": money})
    out = pd.DataFrame(rows, columns=["order_id", "source_file", "order_amount"])
    out["order_amount"] = pd.array(out["order_amount"].tolist(), dtype=MONEY_DTYPE)
    return out.astype({"order_id": "string", "source_file": "string"})


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
    ordered = sku_lines(orders)
    shipped = sku_lines(outbound, only_statuses=settings["shipped_statuses"])
    complete = set(orders.loc[orders["sku"].isna().to_numpy(dtype=bool), "order_id"]) if "sku" in orders.columns else set()
    both = sorted((set(ordered["order_id"]) & set(shipped["order_id"])) - complete)

    def text(frame: pd.DataFrame, order_id: str) -> str:
        part = frame[frame["order_id"] == order_id]
        return "、".join(f"{s}×{int(q)}" for s, q in zip(part["sku"], part["qty"]))

    rows = [{"order_id": o, "ordered": text(ordered, o), "shipped": text(shipped, o)} for o in both]
    return pd.DataFrame([r for r in rows if r["ordered"] != r["shipped"]], columns=["order_id", "ordered", "shipped"])


def parcels(outbound: pd.DataFrame, settings: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(split, merged): orders shipped in several parcels, and parcels that carry several orders."""
    shipped = outbound[outbound["status"].astype("string").isin(list(settings["shipped_statuses"])).fillna(False).to_numpy(dtype=bool)]
    shipped = shipped[shipped["waybill_no"].notna().to_numpy(dtype=bool)] if "waybill_no" in shipped.columns else shipped.iloc[0:0]
    per_order = shipped.groupby("order_id")["waybill_no"].agg(lambda s: sorted(set(s)))
    split = per_order[per_order.map(len) > 1]
    per_waybill = shipped.groupby("waybill_no")["order_id"].agg(lambda s: sorted(set(s)))
    merged = per_waybill[per_waybill.map(len) > 1]
    return (pd.DataFrame({"order_id": split.index, "waybills": split.map("、".join).to_numpy(),
                          "parcels": split.map(len).to_numpy()}),
            pd.DataFrame({"waybill_no": merged.index, "orders": merged.map("、".join).to_numpy(),
                          "order_count": merged.map(len).to_numpy()}))


def as_of_moment(last_day: dt.date, as_of: str | None) -> dt.datetime:
    """The cut-off: the end of the period's last day unless given (``2026-11-01 09:00``)."""
    if as_of in (None, ""):
        return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time())
    try:
        return dt.datetime.fromisoformat(str(as_of))
    except ValueError:
        raise UsageError(f"as_of {as_of!r} is not a date: write it as YYYY-MM-DD or YYYY-MM-DD HH:MM") from None
