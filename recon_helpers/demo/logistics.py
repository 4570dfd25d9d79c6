"""Own shipments, warehouse outbound records and the four courier bills (+ their rate cards).

Scenarios written here:

* **outbound** (platform orders vs ``wms/outbound.xlsx``): ``missing_on_right`` (a paid open order
  the warehouse never shipped), ``missing_on_left`` (a 补发 re-shipment with no platform order),
  ``qty_mismatch`` (one line shipped with a different quantity; qty_diff = shipped - ordered),
  ``status_mismatch`` (closed on the platform, shipped anyway). Keys: order number, and the platform
  code (or the SKU for qty_mismatch) as key2. ``shipped_late`` is not injected but recorded: an order
  the warehouse shipped later than the platform's promised hours after the export's order time
  (``promise_hours`` of templates/scenarios/outbound.yaml), unless the order has another difference.
  ``not_picked_up``: a shipped waybill the carrier's bill (its record of pickups) never names - the
  courier_bill ``missing_on_right`` waybills, keyed by their order.
  ``pickup_count_mismatch``: SF's bill (the only one listing 件数) counts one piece more than we sent
  under a waybill; a few SF orders are genuine two-piece consignments (件数 2 in the ERP, the WMS and
  the bill) and are not differences.
* **courier_bill** (``erp/shipments.csv`` of one carrier vs that carrier's bill): ``missing_on_right``,
  ``missing_on_left``, ``duplicate_on_right``, ``rate_card_violation`` (a wrong zone's price),
  ``weight_mismatch`` (billed for a heavier parcel), and two kinds of bill line for a parcel we did not
  send that the engine calls ``missing_on_left`` and the check explains by its references:
  ``return_billed_as_outbound`` (a return waybill charged as our parcel) and ``cancelled_before_pickup``
  (a waybill printed for an order cancelled before pickup). Key = waybill, key2 = carrier code. Every other
  bill line costs exactly what :func:`recon_helpers.scenarios.courier_bill.pricing.price` says for the parcel we shipped.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa

from recon_helpers import catalog
from recon_helpers.canonical import MEASURE_TYPE
from recon_helpers.demo import vocab
from recon_helpers.demo.model import HOUR, Month, Shop
from recon_helpers.demo.truth import Truth, fen_str
from recon_helpers.demo.writers import csv_line, fen_text, grams_text, int_text, money_cell, time_text, write_csv, write_xlsx
from recon_helpers.scenarios.courier_bill import pricing, rate_card
from recon_helpers.scenarios.registry import scenario

SHIPMENTS_HEADER = "运单号,快递公司,订单号,平台,发货时间,收件省份,重量(kg),长(cm),宽(cm),高(cm),件数,仓库".split(",")
OUTBOUND_HEADER = "出库单号,订单号,平台,SKU,商品名称,出库数量,出库时间,仓库,运单号,快递公司,状态,件数".split(",")
SF_HEADER = ("序号,运单号码,寄件日期,原寄地,目的地,产品类型,件数,实际重量(kg),体积重(kg),计费重量(kg),运费,保价费,燃油附加费,"
             "应付金额,客户订单号").split(",")
ZTO_HEADER = "运单号,揽收时间,目的省份,重量,计费重量,首重费用,续重费用,面单费,总费用,订单号".split(",")
YTO_HEADER = "快递单号,发货日期,到达省份,结算重量,运费,附加费,费用合计,备注".split(",")
JDL_HEADER = "运单号,业务日期,始发地,目的省,实重(kg),体积(cm³),计费重量,基础运费,增值服务费,应付金额,商家订单号".split(",")


# ---------------------------------------------------------------------------------------------
# shipments and outbound
# ---------------------------------------------------------------------------------------------


def write_shipments(month: Month, shop: Shop) -> None:
    """``erp/shipments.csv``: one row per parcel we sent, as our ERP exports it (UTF-8 BOM)."""
    p = shop.parcels
    body = pd.DataFrame({
        "运单号": p["waybill"].to_numpy(),
        "快递公司": p["carrier"].map(vocab.CARRIER_NAMES).to_numpy(),
        "订单号": p["order_no"].to_numpy(),
        "平台": p["platform"].map(vocab.PLATFORM_NAMES).to_numpy(),
        "发货时间": time_text(month.start, p["ship_s"]),
        "收件省份": p["prov_full"].to_numpy(),
        "重量(kg)": grams_text(p["weight_g"]),
        "长(cm)": int_text(p["length_cm"]),
        "宽(cm)": int_text(p["width_cm"]),
        "高(cm)": int_text(p["height_cm"]),
        "件数": int_text(p["pieces"]),
        "仓库": p["warehouse"].to_numpy(),
    })
    write_csv(month.path("erp/shipments.csv"), SHIPMENTS_HEADER, body, encoding="utf-8-sig")


def write_outbound(month: Month, shop: Shop, truth: Truth) -> pd.DataFrame:
    """``wms/outbound.xlsx`` (one row per order line shipped) and the outbound truth.

    Returns the waybills printed for outbound orders cancelled before pickup (运单号, order_idx,
    carrier_code): the courier bills charge them (courier_bill / cancelled_before_pickup).
    """
    rng = month.rng("outbound")
    o, ln, p = shop.orders, shop.lines, shop.parcels
    shipped = p.merge(ln, on="order_idx", how="left", sort=False)
    shipped = shipped.sort_values(["ship_s", "waybill", "line_no"], kind="stable").reset_index(drop=True)
    out_qty = shipped["qty"].to_numpy().copy()

    # qty_mismatch: one line of a few normal orders leaves the warehouse with a different quantity
    kinds = o["kind"].to_numpy()[shipped["order_idx"].to_numpy()]
    eligible = np.flatnonzero(~shipped["reship"].to_numpy() & (kinds == "normal"))
    eligible = eligible[~pd.Series(shipped["order_idx"].to_numpy()[eligible]).duplicated().to_numpy()]
    late = _late_orders(shop)
    eligible = eligible[~shipped["order_no"].iloc[eligible].isin(set(late["order_no"])).to_numpy()]
    k = month.count(len(o), 0.005)
    picks = np.sort(rng.choice(eligible, size=min(k, len(eligible)), replace=False))
    _late_truth(late, truth)
    for i in picks:
        ordered = int(out_qty[i])
        out_qty[i] = ordered + 1 if ordered == 1 or rng.random() < 0.4 else ordered - 1
        truth.add("outbound", "qty_mismatch", shipped.at[i, "order_no"], vocab.product_column([shipped.at[i, "sku_idx"]], 0)[0],
                  qty_diff=int(out_qty[i]) - ordered,
                  detail=f"订单数量{ordered}，仓库出库{int(out_qty[i])}")

    day = pd.Series(time_text(month.start, shipped["ship_s"], "%y%m%d"))
    seq = shipped.groupby(day.to_numpy(), sort=False)["waybill"].transform(lambda s: pd.factorize(s)[0] + 1)
    out_no = "CK" + day + seq.astype(str).str.zfill(5)
    rows = pd.DataFrame({
        "出库单号": out_no.to_numpy(),
        "订单号": shipped["order_no"].to_numpy(),
        "平台": shipped["platform"].map(vocab.PLATFORM_NAMES).to_numpy(),
        "SKU": vocab.product_column(shipped["sku_idx"], 0),
        "商品名称": vocab.product_column(shipped["sku_idx"], 1),
        "出库数量": int_text(out_qty),
        "出库时间": time_text(month.start, shipped["ship_s"]),
        "仓库": shipped["warehouse"].to_numpy(),
        "运单号": shipped["waybill"].to_numpy(),
        "快递公司": shipped["carrier"].map(vocab.CARRIER_NAMES).to_numpy(),
        "状态": "已出库",
        "件数": int_text(shipped["pieces"]),
    })
    cancelled = _cancelled_outbound(month, shop, rng)
    rows = pd.concat([rows, cancelled.drop(columns=["order_idx", "carrier_code"])], ignore_index=True)
    write_xlsx(month.path("wms/outbound.xlsx"), OUTBOUND_HEADER, rows, when=month.export_time,
               sheet_name="出库单", numeric={"出库数量": "int", "件数": "int"})
    _outbound_truth(shop, truth)
    return cancelled.drop_duplicates("运单号")[["运单号", "order_idx", "carrier_code"]].reset_index(drop=True)


def _cancelled_outbound(month: Month, shop: Shop, rng: np.random.Generator) -> pd.DataFrame:
    """Half of the closed orders had an outbound created, its waybill printed, and then cancelled
    (状态 已取消); the other half never reached the warehouse.

    出库时间 holds the cancellation time (a few hours after payment), so every row has a time.
    """
    o = shop.orders
    closed = np.flatnonzero(o["kind"].to_numpy() == "closed")
    chosen = closed[rng.random(len(closed)) < 0.5]
    waybills = dict(zip(chosen, shop.waybills.issue_mixed(o["carrier"].to_numpy()[chosen])))
    ln = shop.lines[shop.lines["order_idx"].isin(chosen)].sort_values(["order_idx", "line_no"])
    oo = o.loc[ln["order_idx"]]
    day = pd.Series(time_text(month.start, oo["paid_s"], "%y%m%d"))
    return pd.DataFrame({
        "出库单号": ("CK" + day + "9" + pd.Series(np.arange(1, len(ln) + 1)).astype(str).str.zfill(4)).to_numpy(),
        "订单号": oo["order_no"].to_numpy(),
        "平台": oo["platform"].map(vocab.PLATFORM_NAMES).to_numpy(),
        "SKU": vocab.product_column(ln["sku_idx"], 0),
        "商品名称": vocab.product_column(ln["sku_idx"], 1),
        "出库数量": int_text(ln["qty"]),
        "出库时间": time_text(month.start, oo["paid_s"].to_numpy() + 3 * HOUR),
        "仓库": oo["warehouse"].to_numpy(),
        "运单号": [waybills[i] for i in ln["order_idx"]],
        "快递公司": oo["carrier"].map(vocab.CARRIER_NAMES).to_numpy(),
        "状态": "已取消",
        "件数": "1",
        "order_idx": ln["order_idx"].to_numpy(),
        "carrier_code": oo["carrier"].to_numpy(),
    })


def _late_orders(shop: Shop) -> pd.DataFrame:
    """Normal orders shipped later than the platform promises, counted from the time the order export
    shows (PDD 订单成交时间 = payment, the others the order's creation): order_no, platform, hours, promise."""
    hours = scenario("outbound").settings["promise_hours"]
    o = shop.orders[shop.orders["kind"] == "normal"]
    start = np.where(o["platform"].to_numpy() == "pdd", o["paid_s"].to_numpy(), o["created_s"].to_numpy())
    promise = np.array([int(hours.get(p, hours["default"])) for p in o["platform"]], dtype=np.int64)
    taken = (o["ship_s"].to_numpy() - start) / HOUR
    late = taken > promise
    return pd.DataFrame({"order_no": o["order_no"].to_numpy()[late], "platform": o["platform"].to_numpy()[late],
                         "hours": taken[late], "promise": promise[late]})


def _late_truth(late: pd.DataFrame, truth: Truth) -> None:
    for r in late.itertuples():
        truth.add("outbound", "shipped_late", r.order_no, r.platform,
                  detail=f"承诺{r.promise}小时内发货，实际{r.hours:.1f}小时后出库")


def _outbound_truth(shop: Shop, truth: Truth) -> None:
    o = shop.orders
    for _, r in o[o["kind"] == "unshipped"].iterrows():
        truth.add("outbound", "missing_on_right", r["order_no"], r["platform"], qty_diff=-int(r["qty_total"]),
                  detail="平台订单已付款未发货，仓库无出库记录（付款后超过2天）")
    for _, r in o[o["kind"] == "closed_shipped"].iterrows():
        truth.add("outbound", "status_mismatch", r["order_no"], r["platform"],
                  detail=f"平台订单已关闭（{r['close_reason']}），仓库仍出库，运单{r['waybill']}")
    reship = shop.parcels[shop.parcels["reship"]]
    for _, r in reship.iterrows():
        truth.add("outbound", "missing_on_left", r["order_no"], r["platform"],
                  qty_diff=int(o.at[r["order_idx"], "qty_total"]),
                  detail=f"补发出库，平台无此订单（原订单{o.at[r['order_idx'], 'order_no']}），运单{r['waybill']}")


# ---------------------------------------------------------------------------------------------
# courier bills
# ---------------------------------------------------------------------------------------------


def _units(series: pd.Series) -> np.ndarray:
    """Exact decimal column -> unscaled int64 (fen for money, grams for kg); null -> -1."""
    text = pd.Series(pa.array(series.array).cast(pa.string()).to_pylist(), dtype=object)
    return text.fillna("-1").str.replace(".", "", regex=False).astype(np.int64).to_numpy()


def _kg(grams: int) -> Decimal:
    return Decimal(int(grams)).scaleb(-3)


def _price_parcels(card: rate_card.RateCard, parcels: pd.DataFrame) -> pd.DataFrame:
    """Expected fee of each parcel under ``card``, in integer fen/grams."""
    table = pd.DataFrame({
        "weight": pd.array(pa.array(grams_text(parcels["weight_g"], decimals=3)).cast(MEASURE_TYPE), dtype=pd.ArrowDtype(MEASURE_TYPE)),
        "length_cm": parcels["length_cm"].to_numpy(), "width_cm": parcels["width_cm"].to_numpy(),
        "height_cm": parcels["height_cm"].to_numpy(), "destination": parcels["prov_full"].to_numpy(),
    })
    priced = pricing.price(table, card)
    problems = priced["pricing_problem"].dropna()
    if len(problems):
        raise RuntimeError(f"demo parcel cannot be priced: {problems.iloc[0]}")
    return pd.DataFrame({
        "vol_g": _units(priced["volume_weight"]), "charge_g": _units(priced["chargeable_weight"]),
        "first_fen": _units(priced["first_fee"]), "add_fen": _units(priced["additional_fee"]),
        "sur_fen": _units(priced["surcharge"]), "total_fen": _units(priced["expected_fee"]),
    }, index=parcels.index)


def _quote_units(card: rate_card.RateCard, weight_g: int, dims: tuple[int, int, int], province: str) -> dict[str, int]:
    q = pricing.quote(card, weight=_kg(weight_g), length_cm=dims[0], width_cm=dims[1], height_cm=dims[2],
                    destination=province)

    def u(d: Decimal | None, scale: int) -> int:
        return -1 if d is None else int(d.scaleb(scale))

    return {"vol_g": u(q.volume_weight, 3), "charge_g": u(q.chargeable_weight, 3), "first_fen": u(q.first_fee, 2),
            "add_fen": u(q.additional_fee, 2), "sur_fen": u(q.surcharge, 2), "total_fen": u(q.total, 2)}


def write_courier_bills(month: Month, shop: Shop, truth: Truth, *, returns: pd.DataFrame | None = None,
                        cancelled: pd.DataFrame | None = None) -> None:
    """The four carriers' bills, their rate cards, and the courier_bill truth.

    ``returns`` (the month's return requests) and ``cancelled`` (waybills printed for outbound orders
    cancelled before pickup, from :func:`write_outbound`) let the bills charge a few return waybills as
    outbound parcels and every cancelled waybill. Both are bill lines for parcels we did not send (the
    engine's ``missing_on_left``); the truth gives them the check's own categories,
    ``return_billed_as_outbound`` and ``cancelled_before_pickup``, which the courier check finds by the
    return waybills and the WMS outbound file.
    """
    for code in vocab.CARRIERS:
        month.path(f"rate_cards/{code}.yaml").write_bytes((catalog.folder("rate_cards") / f"{code}.yaml").read_bytes())
        card = rate_card.load_rate_card(code)
        bill = _bill_lines(month, shop, card, code, truth)
        wrong = [_returns_billed(month, card, code, returns, truth), _cancelled_billed(shop, card, code, cancelled, truth)]
        wrong = [w for w in wrong if w is not None and len(w)]
        if wrong:
            bill = pd.concat([bill, *wrong], ignore_index=True).sort_values(["ship_s", "waybill"], kind="stable")
        {"sf": _write_sf, "zto": _write_zto, "yto": _write_yto, "jdl": _write_jdl}[code](month, bill)


def _bill_lines(month: Month, shop: Shop, card: rate_card.RateCard, code: str, truth: Truth) -> pd.DataFrame:
    """The carrier's view of our parcels, with the injected problems; sorted as the bill lists them."""
    rng = month.rng(f"bill-{code}")
    p = shop.parcels[shop.parcels["carrier"] == code].copy()
    bill = pd.concat([p, _price_parcels(card, p)], axis=1)
    bill["note"] = ""
    kinds = shop.orders["kind"].to_numpy()[p["order_idx"].to_numpy()]
    eligible = np.flatnonzero(~p["reship"].to_numpy() & (kinds == "normal"))
    k = min(month.count(len(p), 0.01), len(eligible) // 4)
    picks = rng.choice(eligible, size=4 * k, replace=False)
    missing, dup, zone, heavy = (np.sort(picks[i * k:(i + 1) * k]) for i in range(4))
    label = vocab.CARRIER_NAMES[code]

    for i in missing:
        r = bill.iloc[i]
        truth.add("courier_bill", "missing_on_right", r["waybill"], code, amount_diff_fen=-int(r["total_fen"]),
                  detail=f"{label}账单未列出我方已发运单（应收{fen_str(int(r['total_fen']))}元）")
        # the bill is the carrier's record of its pickups: the outbound check finds the waybill not picked up
        truth.add("outbound", "not_picked_up", r["order_no"], r["platform"],
                  detail=f"仓库已出库运单{r['waybill']}，{label}无揽收记录")
    for i in zone:
        _inject_wrong_zone(rng, card, bill, i, code, label, truth)
    for i in heavy:
        _inject_heavier(rng, card, bill, i, code, label, truth)
    extra = bill.iloc[dup].copy()
    extra["note"] = "补录"
    for _, r in extra.iterrows():
        truth.add("courier_bill", "duplicate_on_right", r["waybill"], code, amount_diff_fen=int(r["total_fen"]),
                  detail=f"{label}账单重复收取同一运单（补录行），多收{fen_str(int(r['total_fen']))}元")
    unknown = _unknown_waybills(month, shop, card, code, k, rng)
    for _, r in unknown.iterrows():
        truth.add("courier_bill", "missing_on_left", r["waybill"], code, amount_diff_fen=int(r["total_fen"]),
                  detail=f"{label}账单收费的运单不是我方发出的（{fen_str(int(r['total_fen']))}元）")
    if code == "sf":  # of the four bills only SF's lists the pieces (件数) it picked up
        _inject_extra_pieces(month, bill, np.setdiff1d(eligible, picks), label, truth)
    kept = bill.drop(index=bill.index[missing])
    body = pd.concat([kept, unknown], ignore_index=True).sort_values(["ship_s", "waybill"], kind="stable")
    return pd.concat([body, extra], ignore_index=True)


def _inject_extra_pieces(month: Month, bill: pd.DataFrame, eligible: np.ndarray, label: str, truth: Truth) -> None:
    """A few waybills billed with one piece more than we sent (件数 2 for a single parcel, 3 for a
    two-piece consignment): the outbound check's ``pickup_count_mismatch``. The fee is the waybill's, so
    the courier check sees no price difference. A separate random stream keeps the other injections."""
    rng = month.rng("bill-pieces")
    k = min(max(2, month.count(len(bill), 0.001)), len(eligible))
    multi = eligible[bill["pieces"].to_numpy()[eligible] > 1]
    chosen = np.unique(np.concatenate([rng.choice(eligible, size=k, replace=False), multi[:1]]))
    for i in chosen:
        sent = int(bill.iloc[i]["pieces"])
        bill.iloc[i, bill.columns.get_loc("pieces")] = sent + 1
        r = bill.iloc[i]
        truth.add("outbound", "pickup_count_mismatch", r["order_no"], r["platform"],
                  detail=f"仓库出库运单{r['waybill']}共{sent}件，{label}揽收{sent + 1}件")


def _inject_wrong_zone(rng, card, bill: pd.DataFrame, i: int, code: str, label: str, truth: Truth) -> None:
    """Bill the parcel at another zone's price (same weight): a rate_card_violation."""
    r = bill.iloc[i]
    dims = (int(r["length_cm"]), int(r["width_cm"]), int(r["height_cm"]))
    expected = int(r["total_fen"])
    own_zone = card.zone_for(r["prov_full"]).name
    candidates = [z for z in card.zones if z.name != own_zone]
    quotes = [(_quote_units(card, int(r["weight_g"]), dims, z.provinces[0]), z.name) for z in candidates]
    higher = [q for q in quotes if q[0]["total_fen"] > expected]
    pool = higher or [q for q in quotes if q[0]["total_fen"] != expected]
    q, zone_name = pool[int(rng.integers(0, len(pool)))]
    for col, v in q.items():
        bill.iat[i, bill.columns.get_loc(col)] = v
    diff = q["total_fen"] - expected
    truth.add("courier_bill", "rate_card_violation", r["waybill"], code, amount_diff_fen=diff,
              detail=f"{label}按{zone_name}区价格计费，{r['prov_full']}应为{own_zone}区："
                     f"账单{fen_str(q['total_fen'])}元，价目表{fen_str(expected)}元")


def _inject_heavier(rng, card, bill: pd.DataFrame, i: int, code: str, label: str, truth: Truth) -> None:
    """Bill the parcel at a re-weighed, heavier weight (复重): a weight_mismatch."""
    r = bill.iloc[i]
    dims = (int(r["length_cm"]), int(r["width_cm"]), int(r["height_cm"]))
    expected = int(r["total_fen"])
    base = max(int(r["weight_g"]), int(r["vol_g"]))
    heavier = -(-(base + int(rng.integers(100, 300)) * 10) // 10) * 10  # whole 10 g, as scales print
    q = _quote_units(card, heavier, dims, r["prov_full"])
    while q["total_fen"] <= expected or q["charge_g"] <= int(r["charge_g"]):
        heavier += 1000
        q = _quote_units(card, heavier, dims, r["prov_full"])
    for col, v in q.items():
        bill.iat[i, bill.columns.get_loc(col)] = v
    bill.iat[i, bill.columns.get_loc("weight_g")] = heavier
    truth.add("courier_bill", "weight_mismatch", r["waybill"], code, amount_diff_fen=q["total_fen"] - expected,
              detail=f"{label}复重计费{q['charge_g'] / 1000:.1f}kg，我方实重{int(r['weight_g']) / 1000:.2f}kg"
                     f"（应计费{int(r['charge_g']) / 1000:.1f}kg）")


def _unknown_waybills(month: Month, shop: Shop, card, code: str, k: int, rng: np.random.Generator) -> pd.DataFrame:
    """Bill lines for waybills we never shipped (another sender's parcel on our monthly account)."""
    prods = rng.integers(0, len(vocab.PRODUCTS), k)
    provs = rng.integers(0, len(vocab.PROVINCES), k)
    rows = pd.DataFrame({
        "waybill": shop.waybills.issue(code, k),
        "carrier": code,
        "order_no": "",
        "ship_s": np.sort(rng.integers(0, month.end_s - HOUR, k)),
        "prov_full": np.array([p[1] for p in vocab.PROVINCES], dtype=object)[provs],
        "weight_g": np.array([p[4] for p in vocab.PRODUCTS], dtype=np.int64)[prods] + 80,
        "length_cm": np.array([p[5] for p in vocab.PRODUCTS], dtype=np.int64)[prods],
        "width_cm": np.array([p[6] for p in vocab.PRODUCTS], dtype=np.int64)[prods],
        "height_cm": np.array([p[7] for p in vocab.PRODUCTS], dtype=np.int64)[prods],
        "warehouse": vocab.CARRIER_WAREHOUSE[code],
        "reship": False,
        "note": "",
        "pieces": 1,
    })
    return pd.concat([rows, _price_parcels(card, rows)], axis=1)


_WAREHOUSE_PROVINCE = {"深圳仓": "广东省", "杭州仓": "浙江省", "北京仓": "北京市"}


def _returns_billed(month: Month, card, code: str, returns: pd.DataFrame | None, truth: Truth) -> pd.DataFrame | None:
    """Up to two of this carrier's return waybills billed as outbound parcels to our warehouse."""
    if returns is None:
        return None
    rng = month.rng(f"bill-returns-{code}")
    mine = returns[(returns["carrier"] == code) & (returns["fate"] != "missing_waybill")]
    mine = mine.iloc[np.sort(rng.choice(len(mine), size=min(2, len(mine)), replace=False))] if len(mine) else mine
    if not len(mine):
        return None
    prods = mine["sku_idx"].to_numpy()
    rows = pd.DataFrame({
        "waybill": mine["waybill"].to_numpy(), "carrier": code, "order_no": "", "ship_s": mine["sent_s"].to_numpy(),
        "prov_full": mine["warehouse"].map(_WAREHOUSE_PROVINCE).to_numpy(),
        "weight_g": np.array([p[4] for p in vocab.PRODUCTS], dtype=np.int64)[prods] * mine["qty_req"].to_numpy() + 60,
        "length_cm": np.array([p[5] for p in vocab.PRODUCTS], dtype=np.int64)[prods],
        "width_cm": np.array([p[6] for p in vocab.PRODUCTS], dtype=np.int64)[prods],
        "height_cm": np.array([p[7] for p in vocab.PRODUCTS], dtype=np.int64)[prods],
        "warehouse": mine["warehouse"].to_numpy(), "reship": False, "note": "", "pieces": 1,
    })
    rows = pd.concat([rows, _price_parcels(card, rows)], axis=1)
    label = vocab.CARRIER_NAMES[code]
    for r, return_no in zip(rows.itertuples(), mine["return_no"]):
        truth.add("courier_bill", "return_billed_as_outbound", r.waybill, code, amount_diff_fen=int(r.total_fen),
                  detail=f"{label}把退货运单（售后单{return_no}）按寄件月结计费{fen_str(int(r.total_fen))}元")
    return rows


def _cancelled_billed(shop: Shop, card, code: str, cancelled: pd.DataFrame | None, truth: Truth) -> pd.DataFrame | None:
    """Every waybill of this carrier printed for an order cancelled before pickup, billed anyway."""
    if cancelled is None:
        return None
    mine = cancelled[cancelled["carrier_code"] == code]
    if not len(mine):
        return None
    o = shop.orders.loc[mine["order_idx"].to_numpy()]
    rows = pd.DataFrame({
        "waybill": mine["运单号"].to_numpy(), "carrier": code, "order_no": o["order_no"].to_numpy(),
        "ship_s": o["paid_s"].to_numpy() + 2 * HOUR, "prov_full": o["prov_full"].to_numpy(),
        "weight_g": o["weight_g"].to_numpy(), "length_cm": o["length_cm"].to_numpy(),
        "width_cm": o["width_cm"].to_numpy(), "height_cm": o["height_cm"].to_numpy(),
        "warehouse": o["warehouse"].to_numpy(), "reship": False, "note": "", "pieces": 1,
    })
    rows = pd.concat([rows, _price_parcels(card, rows)], axis=1)
    label = vocab.CARRIER_NAMES[code]
    for r in rows.itertuples():
        truth.add("courier_bill", "cancelled_before_pickup", r.waybill, code, amount_diff_fen=int(r.total_fen),
                  detail=f"订单{r.order_no}揽收前已取消（仓库出库单已取消），{label}仍计费{fen_str(int(r.total_fen))}元")
    return rows


def _money(bill: pd.DataFrame, col: str) -> pd.Series:
    return fen_text(bill[col])


def _vol_text(bill: pd.DataFrame) -> pd.Series:
    vol = bill["vol_g"].to_numpy()
    return grams_text(np.maximum(vol, 0), decimals=3).where(vol >= 0, "")


def _write_sf(month: Month, bill: pd.DataFrame) -> None:
    freight = bill["first_fen"] + bill["add_fen"]
    body = pd.DataFrame({
        "序号": int_text(np.arange(1, len(bill) + 1)),
        "运单号码": bill["waybill"].to_numpy(),
        "寄件日期": time_text(month.start, bill["ship_s"], "%Y-%m-%d"),
        "原寄地": bill["warehouse"].map(vocab.WAREHOUSE_CITY).to_numpy(),
        "目的地": bill["prov_full"].to_numpy(),
        "产品类型": "顺丰标快",
        "件数": int_text(bill["pieces"]),
        "实际重量(kg)": grams_text(bill["weight_g"]),
        "体积重(kg)": _vol_text(bill),
        "计费重量(kg)": grams_text(bill["charge_g"]),
        "运费": fen_text(freight),
        "保价费": "0.00",
        "燃油附加费": _money(bill, "sur_fen"),
        "应付金额": _money(bill, "total_fen"),
        "客户订单号": bill["order_no"].to_numpy(),
    })
    p = month.period
    top = [["顺丰速运 月结对账单"], [f"客户名称：{vocab.SHOP_COMPANY}"], ["月结卡号：7559318842"],
           [f"账单周期：{p.first_day:%Y-%m-%d}至{p.last_day:%Y-%m-%d}"], []]
    total = [None] * len(SF_HEADER)
    total[0] = "合计"
    total[SF_HEADER.index("运费")] = money_cell(fen_str(int(freight.sum())))
    total[SF_HEADER.index("应付金额")] = money_cell(fen_str(int(bill["total_fen"].sum())))
    numeric = {"序号": "int", "件数": "int", "实际重量(kg)": "weight", "体积重(kg)": "weight", "计费重量(kg)": "weight",
               "运费": "money", "保价费": "money", "燃油附加费": "money", "应付金额": "money"}
    write_xlsx(month.path("courier/sf_bill.xlsx"), SF_HEADER, body, when=month.export_time, sheet_name="账单明细",
               numeric=numeric, top=top, bottom=[total])


def _write_zto(month: Month, bill: pd.DataFrame) -> None:
    body = pd.DataFrame({
        "运单号": bill["waybill"].to_numpy(),
        "揽收时间": time_text(month.start, bill["ship_s"]),
        "目的省份": bill["prov_full"].to_numpy(),
        "重量": grams_text(bill["weight_g"]),
        "计费重量": grams_text(bill["charge_g"]),
        "首重费用": _money(bill, "first_fen"),
        "续重费用": _money(bill, "add_fen"),
        "面单费": _money(bill, "sur_fen"),
        "总费用": _money(bill, "total_fen"),
        "订单号": bill["order_no"].to_numpy(),
    })
    top = [["中通快递 账单明细"], [f"网点：杭州滨江  账单月份：{month.period}"]]
    total: list[object] = [None] * len(ZTO_HEADER)
    total[0] = "合计"
    for col, src in (("首重费用", "first_fen"), ("续重费用", "add_fen"), ("面单费", "sur_fen"), ("总费用", "total_fen")):
        total[ZTO_HEADER.index(col)] = money_cell(fen_str(int(bill[src].sum())))
    numeric = {"重量": "weight", "计费重量": "weight", "首重费用": "money", "续重费用": "money", "面单费": "money",
               "总费用": "money"}
    write_xlsx(month.path("courier/zto_bill.xlsx"), ZTO_HEADER, body, when=month.export_time, sheet_name="账单明细",
               numeric=numeric, top=top, bottom=[total])


def _write_yto(month: Month, bill: pd.DataFrame) -> None:
    freight = bill["first_fen"] + bill["add_fen"]
    body = pd.DataFrame({
        "快递单号": bill["waybill"].to_numpy(),
        "发货日期": time_text(month.start, bill["ship_s"], "%Y-%m-%d"),
        "到达省份": [rate_card.normalise_province(v) for v in bill["prov_full"]],
        "结算重量": grams_text(bill["charge_g"]),
        "运费": fen_text(freight),
        "附加费": _money(bill, "sur_fen"),
        "费用合计": _money(bill, "total_fen"),
        "备注": bill["note"].to_numpy(),
    })
    p = month.period
    footer = csv_line(["合计", "", "", "", fen_str(int(freight.sum())), fen_str(int(bill["sur_fen"].sum())),
                       fen_str(int(bill["total_fen"].sum())), ""])
    write_csv(month.path("courier/yto_bill.csv"), YTO_HEADER, body, encoding="gbk", newline="\r\n",
              preamble=[f"圆通速递对账单 {p.year}年{p.month:02d}月"], footer=[footer])


def _write_jdl(month: Month, bill: pd.DataFrame) -> None:
    freight = bill["first_fen"] + bill["add_fen"]
    volume = bill["length_cm"].to_numpy() * bill["width_cm"].to_numpy() * bill["height_cm"].to_numpy()
    body = pd.DataFrame({
        "运单号": bill["waybill"].to_numpy(),
        "业务日期": time_text(month.start, bill["ship_s"], "%Y-%m-%d"),
        "始发地": bill["warehouse"].map(vocab.WAREHOUSE_CITY).to_numpy(),
        "目的省": bill["prov_full"].to_numpy(),
        "实重(kg)": grams_text(bill["weight_g"]),
        "体积(cm³)": int_text(volume),
        "计费重量": grams_text(bill["charge_g"]),
        "基础运费": fen_text(freight),
        "增值服务费": _money(bill, "sur_fen"),
        "应付金额": _money(bill, "total_fen"),
        "商家订单号": bill["order_no"].to_numpy(),
    })
    total: list[object] = [None] * len(JDL_HEADER)
    total[0] = "总计"
    total[JDL_HEADER.index("基础运费")] = money_cell(fen_str(int(freight.sum())))
    total[JDL_HEADER.index("增值服务费")] = money_cell(fen_str(int(bill["sur_fen"].sum())))
    total[JDL_HEADER.index("应付金额")] = money_cell(fen_str(int(bill["total_fen"].sum())))
    numeric = {"实重(kg)": "weight", "体积(cm³)": "int", "计费重量": "weight", "基础运费": "money", "增值服务费": "money",
               "应付金额": "money"}
    write_xlsx(month.path("courier/jd_bill.xlsx"), JDL_HEADER, body, when=month.export_time, sheet_name="对账单明细",
               numeric=numeric, bottom=[total])
