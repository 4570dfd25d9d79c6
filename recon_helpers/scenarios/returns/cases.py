"""One row per return: the request, its courier waybill and the warehouse receipt side by side, and why.

The ``returns`` recipe links the three files (request -> waybill by 售后单号, waybill -> receipt by
运单号); what a return's problem *is* depends on row values the recipe does not compare: whether the
platform already refunded, whether the waybill was signed or is still on its way, the condition the
warehouse wrote. :func:`assemble` lays each match group out as one case; :func:`classify` names the
first thing wrong with it (the order of :data:`CATEGORIES` is the order of the checks).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recon_helpers import cycles
from recon_helpers.engine.result import MatchResult

SIDES = ("left", "right", "third")

#: the scenario's categories, in the order they are checked (the first that applies names the case)
CATEGORIES: dict[str, str] = {
    "received_not_requested": "入库无退货申请 — the warehouse received goods no request asked to return",
    "waybill_without_request": "退货运单无申请 — a return waybill with no platform return request",
    "status_mismatch": "已退款未入库 — the platform refunded, the goods are not in the warehouse",
    "missing_waybill": "申请退货未寄回 — the request says goods come back, the courier has no waybill",
    "not_received": "已签收未入库 — the waybill was signed for, the warehouse booked no receipt",
    "qty_mismatch": "数量不符 — the warehouse received another quantity than requested",
    "sku_mismatch": "商品不符 — the warehouse received another SKU than requested",
    "damaged": "商品破损/缺件 — the goods came back damaged or incomplete",
    "received_not_refunded": "已入库未退款 — received in good order, the refund is still open",
}
#: a return still on its way: open, not a difference (it is on the follow-up list)
IN_TRANSIT = "out_of_scope"


def cycle_rows(requests: pd.DataFrame, waybills: pd.DataFrame, receipts: pd.DataFrame, cycle: cycles.Cycle,
               settings: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The rows one cycle judges: requests of the cycle plus earlier ones (``carry_days`` back) with no
    receipt before it starts; waybills sent and receipts booked by its end, as known at its end."""
    carry = dt.timedelta(days=int(settings.get("carry_days", 60)))
    req_day, rec_day = cycles.day_of(requests["txn_time"]), cycles.day_of(receipts["txn_time"])
    received_before = set(receipts.loc[(rec_day < cycle.first_day).fillna(False).to_numpy(dtype=bool), "refund_id"].dropna()) \
        if "refund_id" in receipts.columns else set()
    inside = ((req_day >= cycle.first_day) & (req_day <= cycle.last_day)).fillna(True)
    carried = ((req_day < cycle.first_day) & (req_day >= cycle.first_day - carry)).fillna(False) \
        & ~requests["refund_id"].isin(received_before)
    way_day = cycles.day_of(waybills["txn_time"])
    known = waybills[((way_day <= cycle.last_day) & (way_day >= cycle.first_day - carry)).fillna(True).to_numpy(dtype=bool)]
    if "value_date" in known.columns and "status" in known.columns:
        later = (cycles.day_of(known["value_date"]) > cycle.last_day).fillna(False).to_numpy(dtype=bool)
        known = known.copy()
        known.loc[later, "status"] = "运输中"           # signed after the cycle: on its way as of its end
        known.loc[later, "value_date"] = None
    booked = receipts[((rec_day >= cycle.first_day) & (rec_day <= cycle.last_day)).fillna(True).to_numpy(dtype=bool)]
    return (requests[(inside | carried).to_numpy(dtype=bool)].reset_index(drop=True), known.reset_index(drop=True),
            booked.reset_index(drop=True))


def allow_booking_time(cases: pd.DataFrame, as_of: dt.datetime, receipt_days: int, ship_back_days: int = 7) -> None:
    """Still open, not a problem yet: a waybill signed for within ``receipt_days`` of ``as_of`` without a
    receipt (the warehouse books it), a request younger than ``ship_back_days`` without a waybill (the
    buyer has that long to send the goods)."""
    asked = pd.to_datetime(cases["request_time"].astype("datetime64[s]"), errors="coerce")
    young = (cases["category"] == "missing_waybill").fillna(False) & \
        (asked > pd.Timestamp(as_of) - pd.Timedelta(days=ship_back_days)).fillna(False)
    cases.loc[young.to_numpy(dtype=bool), "category"] = IN_TRANSIT
    signed = pd.to_datetime(cases["signed_date"].astype("datetime64[s]"), errors="coerce")
    recent = (cases["category"] == "not_received").fillna(False) & \
        (signed > pd.Timestamp(as_of) - pd.Timedelta(days=receipt_days)).fillna(False)
    cases.loc[recent.to_numpy(dtype=bool), "category"] = IN_TRANSIT


def received_later(cases: pd.DataFrame, all_receipts: pd.DataFrame, cycle: cycles.Cycle) -> None:
    """A return not received by the cycle's end whose receipt the files show after it: a timing
    difference (received in a later cycle), still open here, not a problem of this cycle."""
    if "refund_id" not in all_receipts.columns:
        return
    later = all_receipts[(cycles.day_of(all_receipts["txn_time"]) > cycle.last_day).fillna(False).to_numpy(dtype=bool)]
    waiting = cases["category"].isin(["status_mismatch", "not_received", "missing_waybill"]).fillna(False) & ~cases["has_receipt"]
    arrives = cases["key"].astype("string").isin(set(later["refund_id"].astype("string").dropna())).fillna(False)
    cases.loc[(waiting & arrives).to_numpy(dtype=bool), "category"] = IN_TRANSIT


def leave_other_periods(cases: pd.DataFrame, all_requests: pd.DataFrame) -> None:
    """A waybill or receipt whose request exists but belongs to another cycle is not this cycle's."""
    known = set(all_requests["refund_id"].astype("string").dropna())
    orphan = cases["category"].isin(["waybill_without_request", "received_not_requested"]).fillna(False)
    theirs = cases["key"].astype("string").isin(known).fillna(False)
    cases.loc[(orphan & theirs).to_numpy(dtype=bool), "category"] = None


def _group_of(result: MatchResult) -> pd.DataFrame:
    """side, source_file, source_row -> group_id and rule, from the links and the exceptions."""
    cols = ["side", "source_file", "source_row", "group_id", "rule"]
    rows = pd.concat([result.links[cols], result.exceptions[cols]], ignore_index=True)
    rows = rows[rows["group_id"].notna()].drop_duplicates(["side", "source_file", "source_row"])
    return rows.astype({"source_file": "string", "side": "string"})


def _with_case(table: pd.DataFrame, side: str, groups: pd.DataFrame, start: int) -> pd.DataFrame:
    """``table`` with the case (= match group) of each row; a row in no group is a case of its own."""
    mine = groups[groups["side"] == side].drop(columns="side")
    frame = table.astype({"source_file": "string"}).merge(mine, on=["source_file", "source_row"], how="left")
    lonely = frame["group_id"].isna().to_numpy()
    case = frame["group_id"].astype("Int64").to_numpy(dtype=object, na_value=None)
    case[lonely] = np.arange(start, start + int(lonely.sum()))
    return frame.assign(case=case.astype(np.int64))


#: columns every case has, null when no file gives them
_CASE_COLUMNS = ("request_file", "request_row", "refund_id", "order_id", "channel", "sku", "qty", "refund_amount",
                 "request_time", "request_status", "request_waybill", "rule", "waybill_file", "waybill_row",
                 "waybill_no", "carrier", "waybill_status", "signed_date", "waybill_refund_id")


def _with_optional(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``table`` with each optional column present (null when the file has none)."""
    return table.assign(**{c: pd.Series(pd.NA, index=table.index, dtype="object") for c in columns if c not in table.columns})


def _blank_as_null(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def _first(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    present = {c: new for c, new in columns.items() if c in frame.columns}
    return frame.groupby("case", sort=True).first()[list(present)].rename(columns=present)


def _joined(values: pd.Series) -> str:
    return "、".join(sorted({str(v) for v in values.dropna()}))


def assemble(result: MatchResult, requests: pd.DataFrame, waybills: pd.DataFrame, receipts: pd.DataFrame) -> pd.DataFrame:
    """One row per return (match group), the three sides' facts in columns.

    Columns: case, request_row/waybill_row/receipt_rows (source rows), refund_id, order_id, channel,
    sku, qty, refund_amount, request_time, request_status, waybill_no, carrier, waybill_status,
    signed_date, received_qty, received_sku, condition, receipt_time, rule; missing sides are null.
    """
    groups = _group_of(result)
    start = int(groups["group_id"].max()) + 1 if len(groups) else 0
    req = _with_case(requests, "left", groups, start)
    start += int(req["case"].ge(start).sum())
    way = _with_case(waybills, "right", groups, start)
    start += int(way["case"].ge(start).sum())
    rec = _with_case(_with_optional(receipts, ("sku", "qty", "condition", "txn_time", "refund_id", "waybill_no")),
                     "third", groups, start)

    money = "refund_amount" if "refund_amount" in req.columns else "amount"
    left = _first(req, {"source_file": "request_file", "source_row": "request_row", "refund_id": "refund_id",
                        "order_id": "order_id", "channel": "channel", "sku": "sku", "qty": "qty",
                        money: "refund_amount", "txn_time": "request_time", "status": "request_status",
                        "waybill_no": "request_waybill", "rule": "rule"})
    right = _first(way, {"source_file": "waybill_file", "source_row": "waybill_row", "waybill_no": "waybill_no",
                         "carrier": "carrier", "status": "waybill_status", "value_date": "signed_date",
                         "refund_id": "waybill_refund_id"})
    third = rec.groupby("case", sort=True).agg(
        receipt_file=("source_file", "first"), receipt_rows=("source_row", lambda s: ";".join(map(str, s))),
        received_qty=("qty", "sum"), received_sku=("sku", _joined), condition=("condition", _joined),
        receipt_time=("txn_time", "max"), receipt_waybill=("waybill_no", "first"),
        receipt_refund_id=("refund_id", "first"))
    cases = left.join(right, how="outer").join(third, how="outer").reset_index()
    cases = _with_optional(cases, _CASE_COLUMNS)
    cases["has_request"] = cases["request_row"].notna()
    cases["has_waybill"] = cases["waybill_row"].notna()
    cases["has_receipt"] = cases["receipt_rows"].notna()
    key = _blank_as_null(cases["refund_id"])
    for fallback in ("waybill_refund_id", "receipt_refund_id", "waybill_no", "receipt_waybill"):
        key = key.fillna(_blank_as_null(cases[fallback]))
    cases["key"] = key
    return cases


def _isin(series: pd.Series, words: Sequence[str]) -> np.ndarray:
    return series.astype("string").str.strip().isin(list(words)).fillna(False).to_numpy(dtype=bool)


def classify(cases: pd.DataFrame, settings: Mapping[str, Any]) -> pd.Series:
    """The first problem of each return (see :data:`CATEGORIES`), ``IN_TRANSIT`` for a return still on
    its way, null when the return is complete and right (or the request was withdrawn)."""
    req, way, rec = (cases[c].to_numpy(dtype=bool) for c in ("has_request", "has_waybill", "has_receipt"))
    refunded = _isin(cases["request_status"], settings["refunded_statuses"])
    withdrawn = _isin(cases["request_status"], settings["withdrawn_statuses"])
    signed = _isin(cases["waybill_status"], settings["signed_statuses"])
    good = _isin(cases["condition"], settings["good_conditions"])
    qty_differs = (cases["received_qty"].astype("Int64") != cases["qty"].astype("Int64")).fillna(False).to_numpy(dtype=bool)
    sku_differs = (cases["received_sku"].astype("string") != cases["sku"].astype("string")).fillna(False).to_numpy(dtype=bool)
    checks = [
        ("received_not_requested", rec & ~req),
        ("waybill_without_request", way & ~req),
        (None, withdrawn & ~rec),
        ("status_mismatch", refunded & ~rec),
        ("missing_waybill", ~way & ~rec),
        ("not_received", ~rec & signed),
        (IN_TRANSIT, ~rec),
        ("qty_mismatch", qty_differs),
        ("sku_mismatch", sku_differs & cases["sku"].notna().to_numpy()),
        ("damaged", ~good),
        ("received_not_refunded", ~refunded),
    ]
    out = np.full(len(cases), None, dtype=object)
    decided = np.zeros(len(cases), dtype=bool)
    for category, applies in checks:
        now = applies & ~decided
        out[now] = category
        decided |= now
    return pd.Series(out, index=cases.index, dtype="string")


def age_days(cases: pd.DataFrame, as_of: dt.datetime) -> pd.Series:
    """Whole days from the request (or, without one, the first row we saw) to ``as_of``."""
    since = pd.to_datetime(cases["request_time"].astype("datetime64[s]"))
    if "receipt_time" in cases.columns:
        since = since.fillna(pd.to_datetime(cases["receipt_time"].astype("datetime64[s]")))
    return ((pd.Timestamp(as_of) - since).dt.days).astype("Int64")


def age_bucket(days: pd.Series, limits: Sequence[int]) -> pd.Series:
    """``0-7``, ``8-15``, ``16-30``, ``>30`` days (limits ``[7, 15, 30]``)."""
    names, low = [], 0
    for high in limits:
        names.append(f"{low}-{high}")
        low = high + 1
    names.append(f">{limits[-1]}")
    bins = [-10**9, *limits, 10**9]
    return pd.Series(pd.cut(days.astype("float64"), bins=bins, labels=names, right=True), index=days.index)


def describe(case: pd.Series, category: str | None) -> str:
    """One sentence in Chinese a person acts on."""
    def v(name: str) -> Any:
        x = case.get(name)
        return None if x is None or (not isinstance(x, str) and pd.isna(x)) else x

    money = v("refund_amount")
    category = None if category is None or pd.isna(category) else str(category)
    if category == "status_mismatch":
        where = f"退货运单{v('waybill_no')}{v('waybill_status') or ''}" if v("has_waybill") else "快递无退货运单"
        return f"平台已退款{money}元，货物未入库（{where}）：找快递或买家追回货物"
    if category == "missing_waybill":
        named = f"退货运单{v('request_waybill')}" if v("request_waybill") else "未填写退货运单"
        return f"售后单{named}，快递无此运单记录：联系买家确认是否寄回"
    if category == "not_received":
        return f"退货运单{v('waybill_no')}已签收，仓库未登记入库：请仓库查找"
    if category == "qty_mismatch":
        return f"申请退货{v('qty')}件，仓库实收{v('received_qty')}件（差{int(v('received_qty')) - int(v('qty')):+d}）"
    if category == "sku_mismatch":
        return f"申请退货{v('sku')}，仓库收到{v('received_sku')}"
    if category == "damaged":
        return f"退货入库商品状况：{v('condition')}：向买家或快递索赔"
    if category == "received_not_refunded":
        return f"货物已入库（{v('condition')}），售后状态{v('request_status')}：请在平台确认退款"
    if category == "waybill_without_request":
        return f"退货运单{v('waybill_no')}（{v('carrier')}）无对应售后单"
    if category == "received_not_requested":
        return f"仓库入库（运单{v('receipt_waybill')}）无对应售后单"
    if category == IN_TRANSIT:
        return f"退货运单{v('waybill_no')}运输中，尚未到仓：不算差异，列入跟进清单"
    return ""
