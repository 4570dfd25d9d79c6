"""What a platform's settlement file says, by layout: income, fees, refunds and payouts.

Every platform books the same money differently. JD lists 货款 / 佣金 / 售后退款 lines per 结算单号;
Pinduoduo's 资金明细 has 交易收入 / 技术服务费 / 退款 and its own 提现 rows; Douyin puts income and fees
in columns of one 订单结算 line per sub-order; Alipay's 账务明细 (Taobao/Tmall) has 在线支付 / 收费 /
交易退款 / 提现; WeChat Pay's 交易账单 has a payment row (fee in 手续费) and a refund row per refund.
A *layout* (named in the registry entry, ``runs: <platform>: layout:``) turns one of them into the
same few tables: the fee lines (one fee taken on one order, :func:`fee_lines`), the refunds
(:func:`refund_lines`), the fixed monthly fees and the table of payouts a bank credit should match.
"""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from recon_helpers.canonical import money
from recon_helpers.errors import MatchInputError
from recon_helpers.scenarios.collections.fees import ProductMaster

#: settlement rows that pay the order out (gross income of the order)
INCOME_TYPES = ("货款", "交易收入", "订单结算", "在线支付")
#: rows that give money back to the buyer; chargebacks and compensations are refunds too
REFUND_TYPES = ("售后退款", "退款", "交易退款", "拒付", "争议退款", "赔付")
#: rows that move money out of the account to the bank, not fees
WITHDRAWAL_TYPES = ("提现", "结算打款", "打款")
#: layouts whose fees are rows of their own: every other money-out row (佣金, 平台使用费, 技术服务费,
#: 运费 ...) is a fee named by its 费用项 / 账务类型; one with an order is a fee on that order, one
#: without is a fixed fee of the period (JD's monthly 平台使用费)
FEE_ROW_LAYOUTS = ("jd_settlement", "pdd_settlement")
#: Alipay 账务明细 收费 rows: 商品名称 -> fee name
ALIPAY_FEES = {"天猫佣金": "天猫佣金", "服务费": "交易服务费"}
LAYOUTS = ("jd_settlement", "pdd_settlement", "douyin_settlement", "alipay_account", "wechat_trade")

FEE_LINE_COLUMNS = ["key", "fee", "category", "base", "taken", "source_row"]
REFUND_COLUMNS = ["key", "txn_type", "txn_time", "refund", "order_amount", "kind", "problem", "source_row"]


def _layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise MatchInputError(f"unknown settlement layout {layout!r}; use one of {', '.join(LAYOUTS)} "
                              "(registry entry templates/scenarios/collections.yaml, runs: <platform>: layout:)")
    return layout


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip()


def _rows(table: pd.DataFrame, column: str, values: tuple[str, ...] | list[str]) -> pd.DataFrame:
    if column not in table.columns:
        return table.iloc[0:0]
    return table[_text(table[column]).isin(list(values)).fillna(False).to_numpy(dtype=bool)]


def income_rows(settlement: pd.DataFrame, layout: str, *, channel_only: bool = True) -> pd.DataFrame:
    """The rows that pay an order out (WeChat: the payments). Alipay's account also takes the shop's
    own web-store trades: only the Taobao channel's 在线支付 unless ``channel_only=False``."""
    if _layout(layout) == "wechat_trade":
        return settlement[(_text(settlement["status"]) == "SUCCESS").fillna(False).to_numpy(dtype=bool)]
    rows = _rows(settlement, "txn_type", INCOME_TYPES)
    if layout == "alipay_account" and channel_only:
        rows = rows[(_text(rows["channel"]) == "淘宝").fillna(False).to_numpy(dtype=bool)]
    return rows


def with_gross(settlement: pd.DataFrame, layout: str) -> pd.DataFrame:
    """The settlement with ``gross_amount`` on every row: JD 货款 and PDD 交易收入 are gross already
    (their 金额 is copied), Douyin has 收入合计 (kept)."""
    if "gross_amount" in settlement.columns:
        return settlement
    return settlement.assign(gross_amount=settlement["amount"])


def order_categories(orders: pd.DataFrame | None, products: ProductMaster) -> dict[str, str]:
    """order id -> product category of its first item (by SKU, else by title)."""
    if orders is None or not len(orders):
        return {}
    out: dict[str, str] = {}
    for row in orders.itertuples(index=False):
        key = str(row.order_id)
        if key in out:
            continue
        category = products.category_of(getattr(row, "sku", None)) or products.category_of(getattr(row, "item_name", None))
        if category:
            out[key] = category
    return out


def order_amounts(orders: pd.DataFrame | None, key: str = "order_id") -> dict[str, Decimal]:
    """order (or sub-order) id -> what the buyer paid; the first row of an order counts (JD repeats the
    order's total on every item)."""
    if orders is None or not len(orders):
        return {}
    key = key if key in orders.columns else "order_id"
    first = orders.drop_duplicates(key)
    return {str(k).strip(): v for k, v in zip(first[key], first["amount"]) if v is not None and not pd.isna(v)}


def order_values(orders: pd.DataFrame | None, key: str = "order_id") -> dict[str, Decimal]:
    """order (or sub-order) id -> the goods' value before discounts: 商品总价 (``gross_amount``) where the
    export has it, else what was paid plus the discount."""
    if orders is None or not len(orders):
        return {}
    key = key if key in orders.columns else "order_id"
    first = orders.drop_duplicates(key)
    if "gross_amount" in first.columns:
        values = first["gross_amount"].fillna(first["amount"])
    elif "discount" in first.columns:
        values = first["amount"] + first["discount"].fillna(Decimal("0.00"))
    else:
        values = first["amount"]
    return {str(k).strip(): v for k, v in zip(first[key], values) if v is not None and not pd.isna(v)}


def owed_to_merchant(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders with ``amount`` = what the merchant is owed: what the buyer paid plus the discount the
    platform bears (Douyin 平台实际承担优惠金额, column ``platform_discount``), which the platform pays."""
    if "platform_discount" not in orders.columns:
        return orders
    subsidy = orders["platform_discount"].fillna(Decimal("0.00"))
    return orders.assign(amount=(orders["amount"] + subsidy).astype(orders["amount"].dtype))


def _fee_frame(rows: list[list]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=FEE_LINE_COLUMNS)
    out["base"] = money(out["base"].tolist())
    out["taken"] = money(out["taken"].tolist())
    return out


def fee_lines(settlement: pd.DataFrame, layout: str, *, orders: pd.DataFrame | None,
              products: ProductMaster) -> pd.DataFrame:
    """One row per fee taken on one order: ``key, fee, category, base, taken, source_row``.

    The base is what the buyer paid for the order (the orders file), else the settled income line.
    """
    layout = _layout(layout)
    categories = order_categories(orders, products)
    paid = order_amounts(orders)
    rows: list[list] = []
    if layout == "douyin_settlement":
        for r in _rows(settlement, "txn_type", ("订单结算",)).itertuples(index=False):
            key, base = str(r.sub_order_id if not pd.isna(r.sub_order_id) else r.order_id), r.gross_amount
            service = r.fee if not pd.isna(r.fee) else Decimal("0")
            category = categories.get(str(r.order_id))
            rows.append([key, "平台服务费", category, base, service, r.source_row])
            rows.append([key, "佣金", category, base, base - r.amount - service, r.source_row])
        return _fee_frame(rows)
    if layout == "wechat_trade":
        for r in income_rows(settlement, layout).itertuples(index=False):
            rows.append([str(r.order_id), "手续费", None, r.amount, -r.fee, r.source_row])
        return _fee_frame(rows)
    income = _rows(settlement, "txn_type", INCOME_TYPES)  # every channel's income: a fee's base
    income_of = income.groupby(_text(income["order_id"]), sort=False)["amount"].sum().to_dict() if len(income) else {}
    title_of = dict(zip(_text(income["order_id"]), income.get("item_name", pd.Series(index=income.index, dtype="string"))))
    if layout == "alipay_account":
        fees = _rows(settlement, "txn_type", ("收费",))
        names = _text(fees["item_name"]).map(lambda t: ALIPAY_FEES.get(t, t))
    else:
        fees = _fee_rows(settlement)
        fees = fees[_has_order(fees)]
        names = _text(fees["txn_type"])
    for r, name in zip(fees.itertuples(index=False), names):
        key = str(r.order_id).strip()
        base = paid.get(key, income_of.get(key))
        category = categories.get(key) or products.category_of(title_of.get(key))
        rows.append([key, name, category, base, -r.amount, r.source_row])
    return _fee_frame(rows)


def _fee_rows(settlement: pd.DataFrame) -> pd.DataFrame:
    """Money-out rows that are neither refunds nor withdrawals: fees (JD, PDD)."""
    kind = _text(settlement["txn_type"])
    out = (settlement["amount"] < 0).fillna(False) & ~kind.isin([*REFUND_TYPES, *WITHDRAWAL_TYPES, *INCOME_TYPES]).fillna(False)
    return settlement[out.to_numpy(dtype=bool)]


def _has_order(rows: pd.DataFrame) -> pd.Series:
    return (_text(rows["order_id"]).fillna("") != "").to_numpy(dtype=bool)


def monthly_fees(settlement: pd.DataFrame, layout: str) -> dict[str, Decimal]:
    """Fixed fees of the period: fee rows without an order (fee -> total taken, positive)."""
    if _layout(layout) not in FEE_ROW_LAYOUTS:
        return {}
    fees = _fee_rows(settlement)
    fixed = fees[~_has_order(fees)]
    return {str(name): -sum(part["amount"].tolist(), Decimal("0.00")) for name, part in fixed.groupby(_text(fixed["txn_type"]))}


def refund_lines(settlement: pd.DataFrame, layout: str, *, orders: pd.DataFrame | None) -> pd.DataFrame:
    """Every refund (and chargeback) with the order's amount: full or partial, and what looks wrong:
    the same refund booked twice, more refunded than the goods are worth, or a refund above what the
    buyer paid (the order's discount refunded as cash)."""
    layout = _layout(layout)
    if layout == "wechat_trade":
        rows = settlement[(_text(settlement["status"]) == "REFUND").fillna(False).to_numpy(dtype=bool)]
        kind = pd.Series("退款", index=rows.index)
    else:
        rows = _rows(settlement, "txn_type", REFUND_TYPES)
        kind = _text(rows["txn_type"])
    key_column = "sub_order_id" if layout == "douyin_settlement" else "order_id"
    paid = order_amounts(orders, key_column) or {str(k).strip(): v for k, v in
                                                 income_rows(settlement, layout).groupby(key_column)["amount"].sum().items()}
    keys = _text(rows[key_column]).fillna(_text(rows["order_id"])) if key_column in rows.columns else _text(rows["order_id"])
    out = pd.DataFrame({"key": keys.to_numpy(), "order_id": keys.to_numpy(), "txn_type": kind.to_numpy(),
                        "txn_time": rows["txn_time"].to_numpy(), "refund": money([-v for v in rows["amount"]]),
                        "source_row": rows["source_row"].to_numpy()})
    out["order_amount"] = money([paid.get(k) for k in out["order_id"]])
    value = order_values(orders, key_column)
    per_order = out.groupby("order_id")["refund"].agg(lambda s: sum(s.tolist(), Decimal("0")))
    repeats = out.duplicated(["order_id", "refund"], keep=False)
    problems = []
    for r, repeated in zip(out.itertuples(index=False), repeats):
        refunded, paid_for, worth = per_order[r.order_id], r.order_amount, value.get(r.order_id)
        known = paid_for is not None and not pd.isna(paid_for)
        if repeated:
            problems.append("same refund booked twice 重复退款")
        elif worth is not None and refunded > worth:
            problems.append("refunded more than the goods' price 退款超过商品价")
        elif known and refunded > paid_for:
            problems.append("refund includes the discount the buyer never paid 退款未扣优惠")
        else:
            problems.append("")
    out["kind"] = ["partial 部分退款" if (a is not None and not pd.isna(a) and f < a) else "full 全额退款"
                   for f, a in zip(out["refund"], out["order_amount"])]
    out["problem"] = problems
    return out[REFUND_COLUMNS].sort_values(["txn_time", "key"], kind="stable").reset_index(drop=True)


def payout_source(settlement: pd.DataFrame, layout: str) -> pd.DataFrame:
    """The table the payout recipe reads: WeChat's rows net of their fee (a day's net is credited the
    next day); every other layout as loaded."""
    if _layout(layout) == "wechat_trade":
        return settlement.assign(amount=(settlement["amount"] + settlement["fee"]).astype(settlement["amount"].dtype))
    return settlement


def net_settled(settlement: pd.DataFrame, layout: str) -> pd.DataFrame:
    """The rows whose sum is what the platform owes for the period: every row but the withdrawals
    (WeChat: each row net of its fee)."""
    rows = payout_source(settlement, layout)
    if "txn_type" not in rows.columns:
        return rows
    return rows[~_text(rows["txn_type"]).isin(list(WITHDRAWAL_TYPES)).fillna(False).to_numpy(dtype=bool)]


def one_row_per_order(orders: pd.DataFrame) -> pd.DataFrame:
    """JD writes one row per item with the order's total repeated: keep the first row of an order and
    name every row it stands for in ``source_rows`` (``2;3;4``), so each input row stays traceable."""
    rows = orders.groupby("order_id", sort=False)["source_row"].agg(lambda s: ";".join(str(int(v)) for v in s))
    first = orders.drop_duplicates("order_id").copy()
    first["source_rows"] = first["order_id"].map(rows).astype("string")
    first["rows_summed"] = first["source_rows"].str.count(";") + 1
    return first.reset_index(drop=True)
