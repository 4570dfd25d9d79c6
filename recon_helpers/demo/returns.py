"""Returns, three ways: platform return requests, courier return waybills, warehouse receipts.

Normal life of a return: the buyer asks (售后单), ships the goods back (退货运单, signed by our
warehouse), the warehouse books a receipt (退货入库, 完好) and the platform refunds (退款成功).
A few requests are still on their way (待商家收货 + 运输中, no receipt) - that is not a problem.

Injected (truth ``returns``, key = 售后单号, key2 = 退货运单号):

* ``missing_waybill`` - the request names a return waybill the courier has no record of;
* ``not_received`` - the waybill was signed but the warehouse booked no receipt (refund not yet paid);
* ``qty_mismatch`` - the warehouse received another quantity (qty_diff = received - requested);
* ``damaged`` - goods came back 破损 or 缺件;
* ``status_mismatch`` - the platform refunded (退款成功) but the warehouse never received the goods.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recon_helpers.demo import vocab
from recon_helpers.demo.model import DAY, HOUR, Month, Shop, increasing_ids
from recon_helpers.demo.truth import Truth
from recon_helpers.demo.writers import fen_text, grams_text, int_text, time_text, write_csv, write_xlsx

REQUESTS_HEADER = "售后单号,订单号,平台,SKU,申请数量,退款金额,申请时间,售后状态,退货运单号,退货快递公司,退货原因".split(",")
WAYBILLS_HEADER = "运单号,快递公司,寄件时间,签收时间,运单状态,关联单号,重量(kg)".split(",")
RECEIPTS_HEADER = "入库单号,退货运单号,售后单号,SKU,入库数量,入库时间,商品状况,仓库".split(",")

INJECTED = ("missing_waybill", "not_received", "qty_mismatch", "damaged", "status_mismatch")


@dataclass
class Refunds:
    """Refunds the platforms paid out (feed the settlement files): one row per refunded request."""

    table: pd.DataFrame  # order_idx, line_idx, refund_fen, refund_s

    @property
    def order_indexes(self) -> set[int]:
        return set(int(i) for i in self.table["order_idx"])


def build_returns(month: Month, shop: Shop) -> pd.DataFrame:
    """Draw the month's return requests and decide what happens to each (column ``fate``)."""
    rng = month.rng("returns")
    o = shop.orders
    ok = (o["kind"].to_numpy() == "normal") & (o["ship_s"].to_numpy() < month.end_s - 12 * DAY)
    eligible = np.flatnonzero(ok)
    k = month.count(len(eligible), 0.004)
    n = min(len(eligible), max(len(INJECTED) * k + 2 * k, int(round(len(eligible) * 0.04))))
    chosen = np.sort(rng.choice(eligible, size=n, replace=False))
    lines = shop.lines[shop.lines["line_no"] == 1].set_index("order_idx").loc[chosen]
    qty_line = lines["qty"].to_numpy()
    qty_req = np.where(rng.random(n) < 0.7, qty_line, 1)
    request_s = o.loc[chosen, "ship_s"].to_numpy() + rng.integers(2 * DAY, 5 * DAY, n)
    sent_s = request_s + rng.integers(2 * HOUR, 36 * HOUR, n)
    signed_s = sent_s + rng.integers(DAY, 3 * DAY, n)
    receipt_s = signed_s + rng.integers(2 * HOUR, DAY, n)
    refund_s = receipt_s + rng.integers(HOUR, 12 * HOUR, n)
    carriers = np.array(vocab.CARRIERS, dtype=object)[rng.choice(4, n, p=[0.3, 0.3, 0.3, 0.1])]
    req = pd.DataFrame({
        "order_idx": chosen, "order_no": o.loc[chosen, "order_no"].to_numpy(),
        "platform": o.loc[chosen, "platform"].to_numpy(), "sku_idx": lines["sku_idx"].to_numpy(),
        "unit_fen": lines["unit_fen"].to_numpy(), "qty_req": qty_req, "qty_recv": qty_req.copy(),
        "request_s": request_s, "sent_s": sent_s, "signed_s": signed_s, "receipt_s": receipt_s,
        "refund_s": refund_s, "carrier": carriers, "waybill": shop.waybills.issue_mixed(carriers),
        "warehouse": o.loc[chosen, "warehouse"].to_numpy(), "condition": "完好", "fate": "normal",
        "reason": np.array(vocab.RETURN_REASONS, dtype=object)[rng.integers(0, len(vocab.RETURN_REASONS), n)],
    })
    req["refund_fen"] = req["unit_fen"] * req["qty_req"]
    req["return_no"] = pd.Series(increasing_ids(rng, n, 202_610_000_000_000_000 + month.period.month * 10**12,
                                                10**5, 10**7)).astype(str).to_numpy()
    _decide_fates(rng, req, k)
    return req


def _decide_fates(rng: np.random.Generator, req: pd.DataFrame, k: int) -> None:
    """Pick the injected requests (``k`` per category) and a few harmless in-transit ones."""
    n = len(req)
    order = rng.permutation(n)
    # qty_mismatch prefers requests of 2+ pieces (one piece short is the usual story)
    is_multi = req["qty_req"].to_numpy() >= 2
    qty_pick = ([int(i) for i in order if is_multi[i]] + [int(i) for i in order if not is_multi[i]])[:k]
    taken = set(qty_pick)
    rest = [int(i) for i in order if int(i) not in taken]
    cats = [c for c in INJECTED if c != "qty_mismatch"]
    for j, cat in enumerate(cats):
        for i in rest[j * k:(j + 1) * k]:
            req.at[i, "fate"] = cat
    for i in rest[len(cats) * k:len(cats) * k + max(1, k // 2)]:
        req.at[i, "fate"] = "in_transit"
    for i in qty_pick:
        req.at[i, "fate"] = "qty_mismatch"
        q = int(req.at[i, "qty_req"])
        req.at[i, "qty_recv"] = q - 1 if q >= 2 else q + 1
    damaged = req["fate"] == "damaged"
    req.loc[damaged, "condition"] = np.array(["破损", "缺件"], dtype=object)[rng.integers(0, 2, int(damaged.sum()))]
    # a refund paid before anything arrived (极速退款)
    sm = req["fate"] == "status_mismatch"
    req.loc[sm, "refund_s"] = req.loc[sm, "request_s"] + rng.integers(HOUR, DAY, int(sm.sum()))


def refunds_of(req: pd.DataFrame) -> Refunds:
    paid = req[_refunded(req)]
    return Refunds(paid[["order_idx", "refund_fen", "refund_s"]].reset_index(drop=True))


def _refunded(req: pd.DataFrame) -> pd.Series:
    return ~req["fate"].isin(["missing_waybill", "not_received", "in_transit"])


def write_returns(month: Month, req: pd.DataFrame, truth: Truth) -> None:
    refunded = _refunded(req).to_numpy()
    fate = req["fate"].to_numpy()
    status = np.where(refunded, "退款成功", "待商家收货")
    requests = pd.DataFrame({
        "售后单号": req["return_no"].to_numpy(),
        "订单号": req["order_no"].to_numpy(),
        "平台": req["platform"].map(vocab.PLATFORM_NAMES).to_numpy(),
        "SKU": vocab.product_column(req["sku_idx"], 0),
        "申请数量": int_text(req["qty_req"]),
        "退款金额": fen_text(req["refund_fen"]),
        "申请时间": time_text(month.start, req["request_s"]),
        "售后状态": status,
        "退货运单号": req["waybill"].to_numpy(),
        "退货快递公司": req["carrier"].map(vocab.CARRIER_NAMES).to_numpy(),
        "退货原因": req["reason"].to_numpy(),
    })
    write_csv(month.path("platform/return_requests.csv"), REQUESTS_HEADER, requests, encoding="utf-8-sig")

    has_waybill = fate != "missing_waybill"
    in_transit = (fate == "in_transit") | ((fate == "status_mismatch") & (np.arange(len(req)) % 2 == 0))
    wb = req[has_waybill]
    transit = in_transit[has_waybill]
    weight = np.array([p[4] for p in vocab.PRODUCTS], dtype=np.int64)[wb["sku_idx"]] * wb["qty_req"].to_numpy() + 60
    waybills = pd.DataFrame({
        "运单号": wb["waybill"].to_numpy(),
        "快递公司": wb["carrier"].map(vocab.CARRIER_NAMES).to_numpy(),
        "寄件时间": time_text(month.start, wb["sent_s"]),
        "签收时间": time_text(month.start, np.where(transit, -1, wb["signed_s"])),
        "运单状态": np.where(transit, "运输中", "已签收"),
        "关联单号": wb["return_no"].to_numpy(),
        "重量(kg)": grams_text(weight),
    })
    waybills = waybills.assign(_t=wb["sent_s"].to_numpy()).sort_values(["_t", "运单号"], kind="stable").drop(columns="_t")
    write_csv(month.path("courier/return_waybills.csv"), WAYBILLS_HEADER, waybills, encoding="utf-8-sig")

    received = np.isin(fate, ["normal", "qty_mismatch", "damaged"])
    rc = req[received].sort_values(["receipt_s", "return_no"], kind="stable")
    day = pd.Series(time_text(month.start, rc["receipt_s"], "%y%m%d"))
    receipts = pd.DataFrame({
        "入库单号": ("TH" + day + pd.Series(np.arange(1, len(rc) + 1)).astype(str).str.zfill(5)).to_numpy(),
        "退货运单号": rc["waybill"].to_numpy(),
        "售后单号": rc["return_no"].to_numpy(),
        "SKU": vocab.product_column(rc["sku_idx"], 0),
        "入库数量": int_text(rc["qty_recv"]),
        "入库时间": time_text(month.start, rc["receipt_s"]),
        "商品状况": rc["condition"].to_numpy(),
        "仓库": rc["warehouse"].to_numpy(),
    })
    write_xlsx(month.path("wms/return_receipts.xlsx"), RECEIPTS_HEADER, receipts, when=month.export_time,
               sheet_name="退货入库", numeric={"入库数量": "int"})
    _returns_truth(req, in_transit, truth)


def _returns_truth(req: pd.DataFrame, in_transit: np.ndarray, truth: Truth) -> None:
    for i, r in req.iterrows():
        fate, key, key2 = r["fate"], r["return_no"], r["waybill"]
        carrier = vocab.CARRIER_NAMES[r["carrier"]]
        if fate == "missing_waybill":
            truth.add("returns", fate, key, key2, detail=f"售后单填写了退货运单{key2}（{carrier}），快递无此运单记录")
        elif fate == "not_received":
            truth.add("returns", fate, key, key2, detail="退货运单已签收，仓库未登记退货入库")
        elif fate == "qty_mismatch":
            truth.add("returns", fate, key, key2, qty_diff=int(r["qty_recv"]) - int(r["qty_req"]),
                      detail=f"申请退货{int(r['qty_req'])}件，仓库实收{int(r['qty_recv'])}件")
        elif fate == "damaged":
            truth.add("returns", fate, key, key2, detail=f"退货入库商品状况：{r['condition']}")
        elif fate == "status_mismatch":
            where = "运输中" if in_transit[i] else "已签收"
            truth.add("returns", fate, key, key2, amount_diff_fen=-int(r["refund_fen"]),
                      detail=f"平台已退款{int(r['refund_fen']) / 100:.2f}元，货物未入库（退货运单{where}）")
