"""Money: platform settlements, Alipay and WeChat Pay bills, and the company bank statement.

How money reaches the bank (each payout is ONE bank credit whose 摘要 names the platform, never the
batch, so a matcher has to group-sum the settlement rows by batch or day):

* Taobao/Tmall orders settle in the Alipay account (账务明细, in ``platform/tmall_alipay_account.zip``):
  交易收款 (业务类型 在线支付, 商户订单号 ``T200P<订单编号>``) less 天猫佣金 (收费), refunds
  (交易退款); the shop's own web-store Alipay trades (``payments/alipay_trade.csv``, 业务明细) flow
  into the same account. Every day the day's net is withdrawn (提现) -> one bank credit "支付宝提现".
* JD: ``platform/jd_settlement.csv``, weekly 结算单号 (days 7, 14, 21, 28, last) -> one credit each.
* Pinduoduo: ``platform/pdd_settlement.csv``, a 提现 row per day -> one credit each.
* Douyin: ``platform/douyin_settlement.csv``, one credit per settlement day (fee columns are
  positive deductions; 结算金额 = 收入合计 - fees).
* WeChat Pay (the shop's mini-program, ``payments/wechat_trade.csv``): T+1 - a day's net
  (应结 - 退款 - 手续费) is credited the next day; no trades on the last day, so every settlement
  lands inside the month.
* B2B customer payments (see :mod:`.b2b`) arrive as bank credits named only by 对方户名 (some
  also quote invoice numbers in 摘要); the cashier's cash deposits (see :mod:`.office`) as 现金存款.

Truth ``collections``: ``missing_on_right`` / ``amount_mismatch`` for payout batches (key = 结算单号,
PDD 提现 商户订单号, Alipay 提现 业务流水号, or the day ``YYYY-MM-DD`` for Douyin and WeChat; key2 =
jd/pdd/alipay/douyin/wechat; amount_diff = bank credit - batch net) and for Taobao orders against the
Alipay 账务明细 (key = 订单编号, key2 = taobao; a 交易成功 order with no 交易收款, or a 交易收款 that
differs from 买家实际支付金额; amount_diff = flow - order).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recon_helpers.demo import vocab
from recon_helpers.demo.model import DAY, HOUR, Month, Shop, increasing_ids, person_names
from recon_helpers.demo.returns import Refunds
from recon_helpers.demo.truth import Truth, fen_str
from recon_helpers.demo.writers import csv_line, fen_text, join_rows, time_text, write_csv, write_zip

PLATFORM_BANK = {
    "alipay": ("支付宝提现", "支付宝（中国）网络技术有限公司", "215500690"),
    "jd": ("京东结算款", "北京京东世纪贸易有限公司", "110907594110102"),
    "pdd": ("拼多多货款提现", "上海寻梦信息技术有限公司", "31050161393600002396"),
    "douyin": ("抖音电商结算款", "上海格物致品网络科技有限公司", "1001284709300121839"),
    "wechat": ("微信支付结算", "财付通支付科技有限公司", "755915681310901"),
}


def fee(amount_fen: np.ndarray, num: int, den: int) -> np.ndarray:
    """round_half_up(amount x num / den) in fen, for amounts >= 0 (e.g. 0.6% = 6/1000)."""
    a = np.asarray(amount_fen, dtype=np.int64)
    return (2 * a * num + den) // (2 * den)


def _ymd_cn(when: dt.datetime) -> str:
    return when.strftime("%Y年%m月%d日 %H:%M:%S")


class Batches:
    """Payout batches waiting to become bank credits."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, platform: str, key: str, credit_s: int, amount_fen: int, detail: str) -> None:
        if amount_fen > 0:
            self.rows.append({"platform": platform, "key": key, "credit_s": int(credit_s),
                              "amount_fen": int(amount_fen), "detail": detail})


# ---------------------------------------------------------------------------------------------
# per-order settlement inputs
# ---------------------------------------------------------------------------------------------


def _settled_orders(shop: Shop, platform: str) -> pd.DataFrame:
    """Normal (shipped, open) orders of a platform with the line-1 product's commission rate."""
    o = shop.orders
    sel = o[(o["platform"] == platform) & (o["kind"] == "normal")].copy()
    first = shop.lines[shop.lines["line_no"] == 1].set_index("order_idx")
    sel["sku_idx"] = first.loc[sel.index, "sku_idx"].to_numpy()
    sel["sub_order_no"] = first.loc[sel.index, "sub_order_no"].to_numpy()
    sel["commission_permille"] = np.array([p[8] for p in vocab.PRODUCTS], dtype=np.int64)[sel["sku_idx"]]
    return sel


def _refunds_for(shop: Shop, refunds: Refunds, platform: str) -> pd.DataFrame:
    r = refunds.table.copy()
    r["platform"] = shop.orders["platform"].to_numpy()[r["order_idx"].to_numpy()]
    r = r[r["platform"] == platform].copy()
    r["order_no"] = shop.orders["order_no"].to_numpy()[r["order_idx"].to_numpy()]
    first = shop.lines[shop.lines["line_no"] == 1].set_index("order_idx")
    r["sub_order_no"] = first.loc[r["order_idx"], "sub_order_no"].to_numpy()
    r["sku_idx"] = first.loc[r["order_idx"], "sku_idx"].to_numpy()
    return r


# ---------------------------------------------------------------------------------------------
# JD
# ---------------------------------------------------------------------------------------------

JD_HEADER = "结算单号,订单编号,费用项,金额(元),结算时间,账期".split(",")


def write_jd_settlement(month: Month, shop: Shop, refunds: Refunds, batches: Batches) -> None:
    days = sorted({d for d in (6, 13, 20, 27, month.days - 1) if d < month.days})
    orders = _settled_orders(shop, "jd")
    ref = _refunds_for(shop, refunds, "jd")
    day_of_batch = np.array(days)

    def batch_of(seconds: np.ndarray) -> np.ndarray:
        return np.searchsorted(day_of_batch, np.asarray(seconds) // DAY, side="left")

    parts = []
    ob = batch_of(orders["settle_s"].to_numpy())
    goods = orders["paid_fen"].to_numpy()
    commission = fee(goods, orders["commission_permille"].to_numpy(), 1000)
    parts.append(pd.DataFrame({"b": ob, "order_no": orders["order_no"].to_numpy(), "item": "货款", "fen": goods, "o": 0}))
    parts.append(pd.DataFrame({"b": ob, "order_no": orders["order_no"].to_numpy(), "item": "佣金", "fen": -commission, "o": 1}))
    parts.append(pd.DataFrame({"b": batch_of(ref["refund_s"].to_numpy()), "order_no": ref["order_no"].to_numpy(),
                               "item": "售后退款", "fen": -ref["refund_fen"].to_numpy(), "o": 2}))
    parts.append(pd.DataFrame({"b": [0], "order_no": [""], "item": ["平台使用费"], "fen": [-100_000], "o": [3]}))
    rows = pd.concat(parts, ignore_index=True).sort_values(["b", "o", "order_no"], kind="stable")
    starts = [0] + [d + 1 for d in days[:-1]]
    ids = [f"80{month.date_text(d * DAY, '%Y%m%d')}{i + 1:04d}" for i, d in enumerate(days)]
    periods = [f"{month.date_text(s * DAY)}至{month.date_text(d * DAY)}" for s, d in zip(starts, days)]
    b = rows["b"].to_numpy()
    body = pd.DataFrame({
        "结算单号": np.array(ids, dtype=object)[b],
        "订单编号": rows["order_no"].to_numpy(),
        "费用项": rows["item"].to_numpy(),
        "金额(元)": fen_text(rows["fen"]),
        "结算时间": time_text(month.start, np.array(days)[b] * DAY + 23 * HOUR),
        "账期": np.array(periods, dtype=object)[b],
    })
    write_csv(month.path("platform/jd_settlement.csv"), JD_HEADER, body, encoding="utf-8-sig")
    sums = rows.groupby("b")["fen"].sum()
    for i, d in enumerate(days):
        if i in sums.index:
            batches.add("jd", ids[i], d * DAY + 23 * HOUR + 1_800, int(sums[i]), f"京东结算单{ids[i]}")


# ---------------------------------------------------------------------------------------------
# Pinduoduo
# ---------------------------------------------------------------------------------------------

PDD_HEADER = "商户订单号,发生时间,收入金额（+元）,支出金额（-元）,账务类型,备注".split(",")


def write_pdd_settlement(month: Month, shop: Shop, refunds: Refunds, batches: Batches) -> None:
    rng = month.rng("pdd-settlement")
    orders = _settled_orders(shop, "pdd")
    ref = _refunds_for(shop, refunds, "pdd")
    income = orders["paid_fen"].to_numpy()
    flows = pd.concat([
        pd.DataFrame({"t": orders["settle_s"].to_numpy(), "no": orders["order_no"].to_numpy(), "fen": income,
                      "type": "交易收入", "memo": "订单收入"}),
        pd.DataFrame({"t": orders["settle_s"].to_numpy() + 1, "no": orders["order_no"].to_numpy(),
                      "fen": -fee(income, 6, 1000), "type": "技术服务费", "memo": "技术服务费"}),
        pd.DataFrame({"t": ref["refund_s"].to_numpy(), "no": ref["order_no"].to_numpy(), "fen": -ref["refund_fen"].to_numpy(),
                      "type": "退款", "memo": "售后退款"}),
    ], ignore_index=True)
    day = flows["t"].to_numpy() // DAY
    net = pd.Series(flows["fen"].to_numpy()).groupby(day).sum()
    wd = []
    for d, amount in net.items():
        if amount > 0:
            no = f"TX{month.date_text(int(d) * DAY, '%Y%m%d')}{int(rng.integers(100000, 999999))}"
            wd.append({"t": int(d) * DAY + DAY - 60, "no": no, "fen": -int(amount), "type": "提现",
                       "memo": "提现至招商银行(0601)"})
            batches.add("pdd", no, int(d) * DAY + DAY - 20, int(amount), f"拼多多{month.date_text(int(d) * DAY)}提现")
    flows = pd.concat([flows, pd.DataFrame(wd)], ignore_index=True).sort_values(["t", "no"], kind="stable")
    fen = flows["fen"].to_numpy()
    body = pd.DataFrame({
        "商户订单号": flows["no"].to_numpy(),
        "发生时间": time_text(month.start, flows["t"]),
        "收入金额（+元）": fen_text(np.where(fen > 0, fen, 0)),
        "支出金额（-元）": fen_text(np.where(fen < 0, fen, 0)),
        "账务类型": flows["type"].to_numpy(),
        "备注": flows["memo"].to_numpy(),
    })
    write_csv(month.path("platform/pdd_settlement.csv"), PDD_HEADER, body, encoding="utf-8-sig")


# ---------------------------------------------------------------------------------------------
# Douyin
# ---------------------------------------------------------------------------------------------

DOUYIN_HEADER = "结算时间,订单号,子订单号,结算金额,结算账户,结算单类型,有结算前退款,下单时间,收入合计,平台服务费,佣金,渠道分成,招商服务费,备注".split(",")


def write_douyin_settlement(month: Month, shop: Shop, refunds: Refunds, batches: Batches) -> None:
    rng = month.rng("douyin-settlement")
    o = shop.orders
    ln = shop.lines
    is_dy = (o["platform"].to_numpy()[ln["order_idx"]] == "douyin") & (o["kind"].to_numpy()[ln["order_idx"]] == "normal")
    lines = ln[is_dy]
    oo = o.loc[lines["order_idx"]]
    income = lines["income_fen"].to_numpy()
    service = fee(income, 2, 100)
    commission = np.where(rng.random(len(lines)) < 0.3, fee(income, 3, 100), 0)
    ref = _refunds_for(shop, refunds, "douyin")
    rows = pd.concat([
        pd.DataFrame({"t": oo["settle_s"].to_numpy(), "order_no": oo["order_no"].to_numpy(),
                      "sub": lines["sub_order_no"].to_numpy(), "type": "订单结算", "created": oo["created_s"].to_numpy(),
                      "income": income, "service": service, "commission": commission}),
        pd.DataFrame({"t": ref["refund_s"].to_numpy(), "order_no": ref["order_no"].to_numpy(),
                      "sub": ref["sub_order_no"].to_numpy(), "type": "售后退款",
                      "created": o["created_s"].to_numpy()[ref["order_idx"].to_numpy()],
                      "income": -ref["refund_fen"].to_numpy(), "service": 0, "commission": 0}),
    ], ignore_index=True).sort_values(["t", "sub"], kind="stable")
    settled = rows["income"].to_numpy() - rows["service"].to_numpy() - rows["commission"].to_numpy()
    n = len(rows)
    body = pd.DataFrame({
        "结算时间": time_text(month.start, rows["t"]),
        "订单号": rows["order_no"].to_numpy(),
        "子订单号": rows["sub"].to_numpy(),
        "结算金额": fen_text(settled),
        "结算账户": "聚合账户",
        "结算单类型": rows["type"].to_numpy(),
        "有结算前退款": "否",
        "下单时间": time_text(month.start, rows["created"]),
        "收入合计": fen_text(rows["income"]),
        "平台服务费": fen_text(rows["service"]),
        "佣金": fen_text(rows["commission"]),
        "渠道分成": "0.00",
        "招商服务费": "0.00",
        "备注": [""] * n,
    })
    write_csv(month.path("platform/douyin_settlement.csv"), DOUYIN_HEADER, body, encoding="utf-8-sig")
    net = pd.Series(settled).groupby(rows["t"].to_numpy() // DAY).sum()
    for d, amount in net.items():
        key = month.date_text(int(d) * DAY)
        batches.add("douyin", key, int(d) * DAY + DAY - 10, int(amount), f"抖音{key}结算")


# ---------------------------------------------------------------------------------------------
# own-channel trades (Alipay web store, WeChat mini-program)
# ---------------------------------------------------------------------------------------------


def _own_trades(month: Month, rng: np.random.Generator, n: int, *, prefix: str, last_s: int) -> pd.DataFrame:
    """``n`` shop-owned trades before ``last_s``; ~4% are refunded in full a day or two later."""
    t = np.sort(rng.integers(8 * HOUR, last_s - 2 * DAY, n))
    sku = rng.integers(0, len(vocab.PRODUCTS), n)
    qty = rng.choice([1, 2], n, p=[0.85, 0.15])
    amount = np.array([p[3] for p in vocab.PRODUCTS], dtype=np.int64)[sku] * qty
    refunded = rng.random(n) < 0.04
    refund_t = np.minimum(t + rng.integers(2 * HOUR, 2 * DAY, n), last_s - 60)
    day = pd.Series(time_text(month.start, t, "%Y%m%d"))
    no = prefix + day + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(6)
    return pd.DataFrame({"t": t, "no": no.to_numpy(), "title": vocab.product_column(sku, 1), "amount": amount,
                         "fee": fee(amount, 6, 1000), "refunded": refunded, "refund_t": refund_t,
                         "buyer": person_names(rng, n)})


ALIPAY_TRADE_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
    "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,"
    "卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
).split(",")


def write_alipay_trade(month: Month, trades: pd.DataFrame) -> None:
    """``payments/alipay_trade.csv``: Alipay merchant 业务明细 (GBK, # preamble and footer, TAB ids)."""
    pay = pd.DataFrame({"t": trades["t"], "no": trades["no"], "trade_no": trades["trade_no"], "title": trades["title"],
                        "amount": trades["amount"], "fee": -trades["fee"], "type": "交易", "batch": "",
                        "buyer": trades["buyer"]})
    r = trades[trades["refunded"]]
    ref = pd.DataFrame({"t": r["refund_t"], "no": r["no"], "trade_no": r["trade_no"], "title": r["title"],
                        "amount": -r["amount"], "fee": 0, "type": "退款",
                        "batch": ("RF" + r["no"].astype(str)).to_numpy(), "buyer": r["buyer"]})
    rows = pd.concat([pay, ref], ignore_index=True).sort_values(["t", "no"], kind="stable")
    n = len(rows)
    tab = lambda v: pd.Series(np.asarray(v, dtype=object)).astype(str) + "\t"  # noqa: E731
    zero = ["0.00"] * n
    buyer = pd.Series(rows["buyer"].to_numpy(), dtype=object)
    body = pd.DataFrame({
        "支付宝交易号": tab(rows["trade_no"]), "商户订单号": tab(rows["no"]), "业务类型": tab(rows["type"]),
        "商品名称": rows["title"].to_numpy(), "创建时间": time_text(month.start, rows["t"]),
        "完成时间": time_text(month.start, rows["t"].to_numpy() + 3), "门店编号": tab(["QM001"] * n),
        "门店名称": tab(["栖木家居官网商城"] * n), "操作员": tab(["online"] * n), "终端号": tab([""] * n),
        "对方账户": tab("*" + buyer.str[1:] + "(138****" + pd.Series(rows["t"].to_numpy() % 10000).astype(str).str.zfill(4) + ")"),
        "订单金额（元）": fen_text(rows["amount"]), "商家实收（元）": fen_text(rows["amount"]),
        "支付宝红包（元）": zero, "集分宝（元）": zero, "支付宝优惠（元）": zero, "商家优惠（元）": zero,
        "券核销金额（元）": zero, "券名称": [""] * n, "商家红包消费金额（元）": ["0.00\t"] * n, "卡消费金额（元）": zero,
        "退款批次号/请求号": tab(rows["batch"]), "服务费（元）": fen_text(rows["fee"]), "分润（元）": zero,
        "备注": rows["title"].to_numpy(),
    })
    is_pay = rows["type"].to_numpy() == "交易"
    amounts = rows["amount"].to_numpy()
    p = month.period
    nxt = p.next().first_day
    preamble = ["#支付宝业务明细查询", f"#账号：[{vocab.SHOP_ALIPAY_ACCOUNT}]",
                f"#起始日期：[{p.year}年{p.month:02d}月01日 00:00:00]   终止日期：[{nxt.year}年{nxt.month:02d}月01日 00:00:00]",
                "#-----------------------------------------业务明细列表----------------------------------------"]
    footer = ["#-----------------------------------------业务明细列表结束------------------------------------",
              f"#交易合计：{int(is_pay.sum())}笔，商家实收共{fen_str(int(amounts[is_pay].sum()))}元，商家优惠共0.00元",
              f"#退款合计：{int((~is_pay).sum())}笔，商家实收共{fen_str(int(amounts[~is_pay].sum()))}元，商家优惠共0.00元",
              f"#导出时间：[{_ymd_cn(month.export_time)}]"]
    write_csv(month.path("payments/alipay_trade.csv"), ALIPAY_TRADE_HEADER, body, encoding="gbk",
              preamble=preamble, footer=footer)


ALIPAY_ACCOUNT_HEADER = (
    "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,"
    "业务类型,备注,业务描述,业务账单来源,业务基础订单号,业务订单号"
).split(",")


def write_alipay_account(month: Month, shop: Shop, refunds: Refunds, trades: pd.DataFrame, batches: Batches,
                         truth: Truth) -> None:
    """The Alipay 账务明细 ZIP: Taobao settlements, web-store trades and the daily withdrawals."""
    rng = month.rng("alipay-account")
    orders = _settled_orders(shop, "taobao")
    orders["flow_fen"] = orders["paid_fen"]
    orders = _inject_taobao_flows(month, rng, orders, truth)
    tb = "T200P" + pd.Series(orders["order_no"].to_numpy(), dtype=object)
    trade_no = _alipay_trade_numbers(month, rng, orders["settle_s"].to_numpy())
    commission = fee(orders["paid_fen"].to_numpy(), orders["commission_permille"].to_numpy(), 1000)
    buyer = pd.Series(orders["buyer"].to_numpy(), dtype=object)
    ref = _refunds_for(shop, refunds, "taobao")
    parts = [
        pd.DataFrame({"t": orders["settle_s"].to_numpy(), "biz": trade_no, "no": tb.to_numpy(),
                      "title": vocab.product_column(orders["sku_idx"], 1), "party": (buyer.str[:1] + "**").to_numpy(),
                      "fen": orders["flow_fen"].to_numpy(), "channel": "淘宝", "type": "在线支付", "memo": "",
                      "desc": "0010001|交易收款-交易收款", "src": "淘宝", "base": orders["order_no"].to_numpy(),
                      "order": tb.to_numpy()}),
        pd.DataFrame({"t": orders["settle_s"].to_numpy() + 2, "biz": trade_no, "no": tb.to_numpy(),
                      "title": "天猫佣金", "party": "天猫佣金账户", "fen": -commission, "channel": "淘宝", "type": "收费",
                      "memo": "天猫佣金（类目技术服务费）", "desc": "0020001|软件服务费-天猫佣金", "src": "淘宝",
                      "base": orders["order_no"].to_numpy(), "order": tb.to_numpy()}),
        pd.DataFrame({"t": ref["refund_s"].to_numpy(), "biz": _alipay_trade_numbers(month, rng, ref["refund_s"].to_numpy()),
                      "no": ("T200P" + pd.Series(ref["order_no"].to_numpy(), dtype=object)).to_numpy(),
                      "title": vocab.product_column(ref["sku_idx"], 1), "party": "淘宝买家", "fen": -ref["refund_fen"].to_numpy(),
                      "channel": "淘宝", "type": "交易退款", "memo": "售后退款", "desc": "0010002|交易退款-售后退款",
                      "src": "淘宝", "base": ref["order_no"].to_numpy(),
                      "order": ("T200P" + pd.Series(ref["order_no"].to_numpy(), dtype=object)).to_numpy()}),
        pd.DataFrame({"t": trades["t"].to_numpy() + 3, "biz": trades["trade_no"].to_numpy(), "no": trades["no"].to_numpy(),
                      "title": trades["title"].to_numpy(), "party": "官网买家", "fen": trades["amount"].to_numpy(),
                      "channel": "支付宝", "type": "在线支付", "memo": "", "desc": "0010001|交易收款-当面付",
                      "src": "商家中心", "base": trades["no"].to_numpy(), "order": trades["no"].to_numpy()}),
        pd.DataFrame({"t": trades["t"].to_numpy() + 4, "biz": trades["trade_no"].to_numpy(), "no": trades["no"].to_numpy(),
                      "title": "服务费", "party": "支付宝", "fen": -trades["fee"].to_numpy(), "channel": "支付宝",
                      "type": "收费", "memo": "交易服务费", "desc": "0020002|服务费-交易服务费", "src": "商家中心",
                      "base": trades["no"].to_numpy(), "order": trades["no"].to_numpy()}),
    ]
    r = trades[trades["refunded"]]
    parts.append(pd.DataFrame({"t": r["refund_t"].to_numpy(), "biz": r["trade_no"].to_numpy(), "no": r["no"].to_numpy(),
                               "title": r["title"].to_numpy(), "party": "官网买家", "fen": -r["amount"].to_numpy(),
                               "channel": "支付宝", "type": "交易退款", "memo": "退款", "desc": "0010002|交易退款-当面付退款",
                               "src": "商家中心", "base": r["no"].to_numpy(), "order": r["no"].to_numpy()}))
    flows = pd.concat(parts, ignore_index=True)
    flows = _add_withdrawals(month, rng, flows, batches)
    _write_alipay_zip(month, flows)


def _inject_taobao_flows(month: Month, rng: np.random.Generator, orders: pd.DataFrame, truth: Truth) -> pd.DataFrame:
    """Drop the 交易收款 of a few orders and change the amount of a few others (collections truth)."""
    k = month.count(len(orders), 0.01)
    picks = rng.choice(len(orders), size=min(2 * k, len(orders)), replace=False)
    missing, changed = np.sort(picks[:k]), np.sort(picks[k:])
    idx = orders.index
    for i in missing:
        r = orders.iloc[i]
        truth.add("collections", "missing_on_right", r["order_no"], "taobao", amount_diff_fen=-int(r["paid_fen"]),
                  detail=f"淘宝订单交易成功，支付宝账务明细无交易收款（应收{fen_str(int(r['paid_fen']))}元）")
    for i in changed:
        r = orders.iloc[i]
        delta = int(rng.integers(100, 3000)) * (1 if rng.random() < 0.3 else -1)
        orders.at[idx[i], "flow_fen"] = int(r["paid_fen"]) + delta
        truth.add("collections", "amount_mismatch", r["order_no"], "taobao", amount_diff_fen=delta,
                  detail=f"支付宝交易收款{fen_str(int(r['paid_fen']) + delta)}元，订单实付{fen_str(int(r['paid_fen']))}元")
    return orders.drop(index=idx[missing])


def _alipay_trade_numbers(month: Month, rng: np.random.Generator, seconds: np.ndarray) -> np.ndarray:
    """28-digit 支付宝交易号: date + 2200 + 16 digits."""
    n = len(seconds)
    day = pd.Series(time_text(month.start, seconds, "%Y%m%d"))
    tail = pd.Series(increasing_ids(rng, n, 1_458_860_000_000_000, 10**6, 10**8)).astype(str).str.zfill(16)
    return (day + "2200" + tail).to_numpy(dtype=object)


def _add_withdrawals(month: Month, rng: np.random.Generator, flows: pd.DataFrame, batches: Batches) -> pd.DataFrame:
    """One 提现 per day of the day's net to the company bank account -> one bank credit."""
    net = flows.groupby(flows["t"].to_numpy() // DAY)["fen"].sum()
    rows = []
    for d, amount in net.items():
        if amount <= 0:
            continue
        t = int(d) * DAY + DAY - 60  # after the day's last flow (settlements stop at 23:55)
        biz = f"{month.date_text(t, '%Y%m%d')}{int(rng.integers(10**11, 10**12 - 1))}"
        rows.append({"t": t, "biz": biz, "no": "", "title": "提现", "party": "招商银行(0601)", "fen": -int(amount),
                     "channel": "支付宝", "type": "提现", "memo": "自动提现", "desc": "0030001|提现-提现到卡",
                     "src": "支付宝", "base": "", "order": ""})
        batches.add("alipay", biz, t + 30, int(amount), f"支付宝{month.date_text(t)}提现")
    out = pd.concat([flows, pd.DataFrame(rows)], ignore_index=True)
    return out.sort_values(["t", "biz", "fen"], kind="stable").reset_index(drop=True)


def _write_alipay_zip(month: Month, flows: pd.DataFrame) -> None:
    opening = 500_000
    fen = flows["fen"].to_numpy()
    balance = opening + np.cumsum(fen)
    n = len(flows)
    serial = pd.Series(increasing_ids(month.rng("alipay-serial"), n, 54_632_446_000_000, 10, 9_000)).astype(str)
    tab = lambda v: pd.Series(np.asarray(v, dtype=object)).astype(str) + "\t"  # noqa: E731
    body = pd.DataFrame({
        "账务流水号": tab(serial), "业务流水号": tab(flows["biz"]), "商户订单号": tab(flows["no"]),
        "商品名称": tab(flows["title"]), "发生时间": time_text(month.start, flows["t"]), "对方账号": tab(flows["party"]),
        "收入金额（+元）": fen_text(np.where(fen > 0, fen, 0)), "支出金额（-元）": fen_text(np.where(fen < 0, fen, 0)),
        "账户余额（元）": fen_text(balance), "交易渠道": flows["channel"].to_numpy(), "业务类型": flows["type"].to_numpy(),
        "备注": flows["memo"].to_numpy(), "业务描述": flows["desc"].to_numpy(), "业务账单来源": flows["src"].to_numpy(),
        "业务基础订单号": tab(flows["base"]), "业务订单号": tab(flows["order"]),
    })
    p = month.period
    nxt = p.next().first_day
    dates = f"#起始日期：[{p.year}年{p.month:02d}月01日 00:00:00]   终止日期：[{nxt.year}年{nxt.month:02d}月01日 00:00:00]"
    lines = ["#支付宝账务明细查询", f"#账号：[{vocab.SHOP_ALIPAY_ACCOUNT}]", dates,
             "#-----------------------------------------账务明细列表----------------------------------------",
             csv_line(ALIPAY_ACCOUNT_HEADER), *join_rows(body),
             "#----------------------------------------账务明细列表结束-------------------------------------",
             f"#支出合计：{int((fen < 0).sum())}笔，共{fen_str(int(fen[fen < 0].sum()))}元",
             f"#收入合计：{int((fen > 0).sum())}笔，共{fen_str(int(fen[fen > 0].sum()))}元",
             f"#导出时间：[{_ymd_cn(month.export_time)}]"]
    detail = ("\r\n".join(lines) + "\r\n").encode("gbk")
    summary_lines = ["#支付宝账务明细汇总查询", f"#账号：[{vocab.SHOP_ALIPAY_ACCOUNT}]", dates,
                     "业务类型,收入笔数,收入金额（+元）,支出笔数,支出金额（-元）"]
    for kind in sorted(flows["type"].unique()):
        f = fen[flows["type"].to_numpy() == kind]
        summary_lines.append(csv_line([kind, int((f > 0).sum()), fen_str(int(f[f > 0].sum())), int((f < 0).sum()),
                                       fen_str(int(f[f < 0].sum()))]))
    summary_lines.append(f"#导出时间：[{_ymd_cn(month.export_time)}]")
    summary = ("\r\n".join(summary_lines) + "\r\n").encode("gbk")
    stem = f"{vocab.SHOP_ALIPAY_ACCOUNT}_{p.year}{p.month:02d}"
    write_zip(month.path("platform/tmall_alipay_account.zip"),
              [(f"{stem}_账务明细(汇总).csv", summary), (f"{stem}_账务明细.csv", detail)],
              when=month.export_time, gbk_names=True)


WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,"
    "代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,"
    "申请退款金额,费率备注"
).split(",")
WECHAT_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def write_wechat_trade(month: Month, trades: pd.DataFrame, batches: Batches) -> None:
    """``payments/wechat_trade.csv``: 交易账单 ALL, every value backtick-prefixed, summary footer; T+1 credits."""
    rng = month.rng("wechat-ids")
    n = len(trades)
    wx_no = ("4200002" + pd.Series(rng.integers(100, 999, n)).astype(str) + pd.Series(time_text(month.start, trades["t"], "%Y%m%d"))
             + pd.Series(increasing_ids(rng, n, 1_150_000_000, 10, 10_000)).astype(str).str.zfill(10))
    openid = "oVgfJ5" + pd.Series(rng.integers(10**15, 10**16 - 1, n)).astype(str) + "QmXa"
    banks = np.array(["OTHERS", "CMB_DEBIT", "ICBC_DEBIT", "CFT", "CCB_CREDIT"], dtype=object)[rng.integers(0, 5, n)]
    pay = pd.DataFrame({"t": trades["t"].to_numpy(), "wx": wx_no.to_numpy(), "no": trades["no"].to_numpy(), "openid": openid.to_numpy(),
                        "status": "SUCCESS", "bank": banks, "settle": trades["amount"].to_numpy(), "refund_wx": "0",
                        "refund_no": "0", "refund": 0, "rtype": "", "rstatus": "", "title": trades["title"].to_numpy(),
                        "fee": trades["fee"].to_numpy(), "order_amt": trades["amount"].to_numpy(), "apply": 0})
    rf = trades["refunded"].to_numpy()
    m = int(rf.sum())
    ref = pd.DataFrame({"t": trades["refund_t"].to_numpy()[rf], "wx": wx_no.to_numpy()[rf], "no": trades["no"].to_numpy()[rf],
                        "openid": openid.to_numpy()[rf], "status": "REFUND", "bank": banks[rf], "settle": 0,
                        "refund_wx": ("5030270999" + pd.Series(increasing_ids(rng, m, 2026_0000_0000_0000_000, 10, 10**6)).astype(str)).to_numpy(),
                        "refund_no": ("R" + pd.Series(trades["no"].to_numpy()[rf], dtype=object)).to_numpy(),
                        "refund": trades["amount"].to_numpy()[rf], "rtype": "ORIGINAL", "rstatus": "SUCCESS",
                        "title": trades["title"].to_numpy()[rf], "fee": -trades["fee"].to_numpy()[rf], "order_amt": 0,
                        "apply": trades["amount"].to_numpy()[rf]})
    rows = pd.concat([pay, ref], ignore_index=True).sort_values(["t", "no", "status"], kind="stable")
    k = len(rows)
    bt = lambda v: "`" + pd.Series(np.asarray(v, dtype=object)).astype(str)  # noqa: E731
    body = pd.DataFrame({
        "交易时间": bt(time_text(month.start, rows["t"])), "公众账号ID": bt([vocab.WECHAT_APPID] * k),
        "商户号": bt([vocab.WECHAT_MCHID] * k), "特约商户号": bt(["0"] * k), "设备号": bt([""] * k),
        "微信订单号": bt(rows["wx"]), "商户订单号": bt(rows["no"]), "用户标识": bt(rows["openid"]),
        "交易类型": bt(["JSAPI"] * k), "交易状态": bt(rows["status"]), "付款银行": bt(rows["bank"]),
        "货币种类": bt(["CNY"] * k), "应结订单金额": bt(fen_text(rows["settle"])), "代金券金额": bt(["0.00"] * k),
        "微信退款单号": bt(rows["refund_wx"]), "商户退款单号": bt(rows["refund_no"]), "退款金额": bt(fen_text(rows["refund"])),
        "充值券退款金额": bt(["0.00"] * k), "退款类型": bt(rows["rtype"]), "退款状态": bt(rows["rstatus"]),
        "商品名称": bt(rows["title"]), "商户数据包": bt([""] * k), "手续费": bt(fen_text(rows["fee"], decimals=5)),
        "费率": bt(["0.60%"] * k), "订单金额": bt(fen_text(rows["order_amt"])), "申请退款金额": bt(fen_text(rows["apply"])),
        "费率备注": bt([""] * k),
    })
    summary = "`" + ",`".join([str(k), fen_str(int(rows["settle"].sum())), fen_str(int(rows["refund"].sum())), "0.00",
                               fen_str(int(rows["fee"].sum())) + "000", fen_str(int(rows["order_amt"].sum())),
                               fen_str(int(rows["apply"].sum()))])
    write_csv(month.path("payments/wechat_trade.csv"), WECHAT_HEADER, body, encoding="utf-8", newline="\r\n",
              raw=WECHAT_HEADER, footer=[WECHAT_SUMMARY, summary])
    net = (rows["settle"] - rows["refund"] - rows["fee"]).groupby(rows["t"].to_numpy() // DAY).sum()
    for d, amount in net.items():
        key = month.date_text(int(d) * DAY)
        batches.add("wechat", key, (int(d) + 1) * DAY + 10 * HOUR + int(d) * 37, int(amount), f"微信支付{key}交易T+1结算")


def own_trades(month: Month) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The web store's Alipay trades and the mini-program's WeChat trades of the month."""
    rng = month.rng("own-trades")
    alipay = _own_trades(month, rng, max(30, month.orders // 20), prefix="GW", last_s=month.end_s)
    alipay["trade_no"] = _alipay_trade_numbers(month, rng, alipay["t"].to_numpy())
    wechat = _own_trades(month, rng, max(60, month.orders // 10), prefix="WX", last_s=month.end_s - DAY)
    return alipay, wechat


# ---------------------------------------------------------------------------------------------
# bank
# ---------------------------------------------------------------------------------------------

BANK_HEADER = "交易日,交易时间,起息日,交易类型,借方金额,贷方金额,余额,摘要,流水号,对方户名,对方账号".split(",")


def bank_credits_from_batches(month: Month, batches: Batches, truth: Truth) -> pd.DataFrame:
    """One bank credit per payout batch, except the injected lost or wrong ones (collections truth)."""
    rng = month.rng("bank-batches")
    b = pd.DataFrame(batches.rows)
    k = month.count(len(b), 0.03)
    picks = rng.choice(len(b), size=min(2 * k, len(b)), replace=False)
    missing, wrong = set(picks[:k].tolist()), set(picks[k:].tolist())
    rows = []
    for i, r in b.iterrows():
        memo, party, account = PLATFORM_BANK[r["platform"]]
        amount = int(r["amount_fen"])
        if i in missing:
            truth.add("collections", "missing_on_right", r["key"], r["platform"], amount_diff_fen=-amount,
                      detail=f"{r['detail']}{fen_str(amount)}元未到银行账户")
            continue
        if i in wrong:
            delta = -int(rng.integers(100, 5000)) if rng.random() < 0.7 else int(rng.integers(100, 2000))
            delta = max(delta, 1 - amount)
            truth.add("collections", "amount_mismatch", r["key"], r["platform"], amount_diff_fen=delta,
                      detail=f"{r['detail']}{fen_str(amount)}元，银行入账{fen_str(amount + delta)}元")
            amount += delta
        rows.append({"t": int(r["credit_s"]), "type": "第三方支付", "debit": 0, "credit": amount, "memo": memo,
                     "party": party, "account": account})
    return pd.DataFrame(rows)


def bank_debits(month: Month) -> pd.DataFrame:
    """Outgoing payments of a small company: rent, salaries, taxes, couriers, suppliers, bank fees."""
    rng = month.rng("bank-debits")
    scale = max(1.0, month.orders / 2000)
    rows = [{"t": 0 * DAY + 10 * HOUR, "type": "网银转账", "debit": int(4_850_000 * scale ** 0.5), "credit": 0,
             "memo": "支付办公及仓库租金", "party": "杭州滨江科技园物业管理有限公司", "account": "33050161623500001245"},
            {"t": 9 * DAY + 15 * HOUR, "type": "代发工资", "debit": int(18_650_000 * scale ** 0.5), "credit": 0,
             "memo": "代发上月工资", "party": vocab.SHOP_COMPANY, "account": vocab.SHOP_BANK_ACCOUNT},
            {"t": 14 * DAY + 9 * HOUR, "type": "代扣税费", "debit": int(3_270_000 * scale), "credit": 0,
             "memo": "代扣增值税及附加", "party": "国家金库杭州市滨江区支库", "account": "3301040039"}]
    for j, code in enumerate(vocab.CARRIERS):
        rows.append({"t": (4 + j) * DAY + 11 * HOUR, "type": "网银转账", "debit": int(rng.integers(800_000, 2_500_000) * scale),
                     "credit": 0, "memo": "支付上月运费", "party": {"sf": "顺丰速运有限公司", "zto": "杭州中通快递有限公司",
                                                                "yto": "杭州圆通速递有限公司", "jdl": "北京京邦达贸易有限公司"}[code],
                     "account": f"{1202_0000_0000 + j * 7919}"})
    for w in range(4):
        for s, name in enumerate(vocab.SUPPLIERS[w % 3::3][:2]):
            rows.append({"t": (2 + 7 * w + s) * DAY + 14 * HOUR, "type": "网银转账",
                         "debit": int(rng.integers(1_500_000, 9_000_000) * scale), "credit": 0, "memo": "支付货款",
                         "party": name, "account": f"6228{int(rng.integers(10**11, 10**12 - 1))}"})
    for d in range(0, month.days, 10):
        rows.append({"t": d * DAY + 16 * HOUR, "type": "手续费", "debit": int(rng.integers(500, 3_000)), "credit": 0,
                     "memo": "网银转账手续费", "party": "招商银行", "account": ""})
    return pd.DataFrame(rows)


def write_bank(month: Month, platform_credits: pd.DataFrame, customer_credits: pd.DataFrame) -> None:
    """``bank/bank_statement.csv``: CMB corporate statement (GBK, header block, 合计 footer)."""
    rows = pd.concat([platform_credits, customer_credits, bank_debits(month)], ignore_index=True)
    rows = rows.sort_values(["t", "credit", "debit"], kind="stable").reset_index(drop=True)
    opening = 128_345_678
    balance = opening + np.cumsum(rows["credit"].to_numpy() - rows["debit"].to_numpy())
    n = len(rows)
    debit, credit = rows["debit"].to_numpy(), rows["credit"].to_numpy()
    body = pd.DataFrame({
        "交易日": time_text(month.start, rows["t"], "%Y-%m-%d"),
        "交易时间": time_text(month.start, rows["t"], "%H:%M:%S"),
        "起息日": time_text(month.start, rows["t"], "%Y-%m-%d"),
        "交易类型": rows["type"].to_numpy(),
        "借方金额": fen_text(debit).where(debit > 0, ""),
        "贷方金额": fen_text(credit).where(credit > 0, ""),
        "余额": fen_text(balance),
        "摘要": rows["memo"].to_numpy(),
        "流水号": ("K" + pd.Series(time_text(month.start, rows["t"], "%m%d")) + pd.Series(np.arange(1, n + 1) * 7 + 310_000).astype(str)).to_numpy(),
        "对方户名": rows["party"].to_numpy(),
        "对方账号": rows["account"].to_numpy(),
    })
    p = month.period
    preamble = ["招商银行 企业网上银行 账户交易明细", f"账号：{vocab.SHOP_BANK_ACCOUNT}", f"户名：{vocab.SHOP_COMPANY}",
                f"查询区间：{p.first_day:%Y-%m-%d} 至 {p.last_day:%Y-%m-%d}", ""]
    footer = [csv_line(["合计", "", "", "", fen_str(int(debit.sum())), fen_str(int(credit.sum())), "", "", "", "", ""])]
    write_csv(month.path("bank/bank_statement.csv"), BANK_HEADER, body, encoding="gbk", newline="\r\n",
              preamble=preamble, footer=footer)


def write_money(month: Month, shop: Shop, refunds: Refunds, customer_credits: pd.DataFrame, truth: Truth, *,
                cash_deposits: pd.DataFrame | None = None) -> None:
    """Every settlement and payment file, then the bank statement that receives their payouts (and the
    customers' payments and the cashier's cash deposits)."""
    batches = Batches()
    alipay, wechat = own_trades(month)
    write_jd_settlement(month, shop, refunds, batches)
    write_pdd_settlement(month, shop, refunds, batches)
    write_douyin_settlement(month, shop, refunds, batches)
    write_alipay_trade(month, alipay)
    write_alipay_account(month, shop, refunds, alipay, batches, truth)
    write_wechat_trade(month, wechat, batches)
    credits = bank_credits_from_batches(month, batches, truth)
    others = customer_credits if cash_deposits is None else pd.concat([customer_credits, cash_deposits], ignore_index=True)
    write_bank(month, credits, others)
