"""The collections check of one platform: the two matches, and every list an analyst follows up."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from recon_helpers.canonical import money
from recon_helpers.engine import get_recipe, match, prepare_tables, recipe_from_dict
from recon_helpers.engine.recipe import Recipe
from recon_helpers.engine.result import MatchResult
from recon_helpers.periods import Period
from recon_helpers.scenarios.base import Check, age_bucket, as_of_day, hop_exceptions, in_scope_match_rate, record_ages, total
from recon_helpers.scenarios.collections import flows
from recon_helpers.scenarios.collections.fees import (
    FeeSchedule,
    ProductMaster,
    check_fees,
    check_monthly,
    fee_schedule,
    product_master,
)
from recon_helpers.scenarios.registry import scenario
from recon_helpers.sources.loading import load
from recon_helpers.sources.result import LoadResult

NAME = "collections"

#: age of an unsettled order, in days since it was placed, as a collector follows it up
AGE_BUCKETS = (("0-7 days 0-7天", 0, 7), ("8-30 days 8-30天", 8, 30), ("31-60 days 31-60天", 31, 60),
               ("over 60 days 60天以上", 61, None))
#: order statuses that will never be paid (cancelled, closed): not followed up
CLOSED_STATUSES = ("交易关闭", "已取消", "已关闭", "取消", "已退款")


@dataclass(frozen=True)
class Platform:
    """A platform run of the registry entry: its files, settlement layout, recipes and bank payer."""

    code: str
    name: str
    layout: str
    settlement_file: str
    payout_recipe: str
    payer: str
    orders_file: str | None = None
    orders_recipe: str | None = None
    one_row_per_order: bool = False

    @classmethod
    def of(cls, code: str) -> Platform:
        s = scenario(NAME).run_settings(code)
        return cls(code=s["platform"], name=s["name"], layout=s["layout"], settlement_file=s["settlement"],
                   payout_recipe=s["payout_recipe"], payer=s["payer"], orders_file=s.get("orders"),
                   orders_recipe=s.get("orders_recipe"), one_row_per_order=bool(s.get("one_row_per_order", False)))

    def _repr_html_(self) -> str:
        orders = f"orders <code>{escape(self.orders_file)}</code> &middot; " if self.orders_file else "no order file &middot; "
        return (f"<b>{escape(self.name)}</b> ({escape(self.code)}) &middot; {orders}settlement "
                f"<code>{escape(self.settlement_file)}</code> ({escape(self.layout)}) &middot; bank payer "
                f"<code>{escape(self.payer)}</code> &middot; fees <code>templates/fees/{escape(self.code)}.yaml</code>")


def payer_recipe(name: str, payer: str) -> Recipe:
    """A payout recipe whose bank side is only the credits of ``payer``: the others are another
    platform's (or a customer's) money, out of scope for this run rather than "credits without payout"."""
    base = get_recipe(name)
    data = base.model_dump(by_alias=True, exclude_none=True, exclude={"source"})
    scope = data.get("filters", {}).get("right")
    data.setdefault("filters", {})["right"] = f"({scope}) AND payer = '{payer}'" if scope else f"payer = '{payer}'"
    return recipe_from_dict(data, source=f"{base.source or name} (bank credits of {payer} only)")


def check(*, period: str, data_dir: str | Path, platform: str = "taobao", as_of: str | None = None) -> CollectionsCheck:
    """Load one platform's month and the bank statement, match both hops: the object the notebook asks.

    ``as_of`` (YYYY-MM-DD) dates the aging of unsettled orders; the period's last day by default.
    """
    entry = scenario(NAME)
    run = entry.run_parameters(platform)["platform"]
    which = Platform.of(run)
    inputs: dict[str, LoadResult] = {"settlement": load(entry.input_path("settlement", data_dir, run)),
                                     "bank": load(entry.input_path("bank", data_dir, run))}
    settlement = flows.with_gross(inputs["settlement"].table, which.layout)
    orders = orders_result = None
    if which.orders_file:
        inputs = {"orders": load(entry.input_path("orders", data_dir, run)), **inputs}
        orders = flows.owed_to_merchant(inputs["orders"].table)
        orders = flows.one_row_per_order(orders) if which.one_row_per_order else orders
        orders_result = match(orders, settlement, which.orders_recipe)
    recipe = payer_recipe(which.payout_recipe, which.payer)
    payouts, bank, _ = prepare_tables(recipe, flows.payout_source(settlement, which.layout), inputs["bank"].table)
    result = match(payouts, bank, recipe)
    the_period = Period.parse(period)
    return CollectionsCheck(scenario=entry, period=the_period, data_dir=Path(data_dir), result=result, inputs=inputs,
                            run=run, platform=which, orders=orders, orders_result=orders_result, settlement=settlement,
                            payouts=payouts, bank=bank, schedule=fee_schedule(run), products=product_master(),
                            as_of=as_of_day(as_of, the_period))


def _pairs(result: MatchResult, category: str = "amount_mismatch") -> pd.DataFrame:
    """Pairs of one category: one row per group with the left and right rows' key, amount and row."""
    exc = result.exceptions
    rows = exc[(exc["category"] == category).fillna(False).to_numpy(dtype=bool)]
    cols = ["group_id", "key", "amount", "source_row"]
    left = rows[rows["side"] == "left"][cols]
    right = rows[rows["side"] == "right"][cols]
    return left.merge(right, on="group_id", how="inner", suffixes=("_left", "_right"))


@dataclass
class CollectionsCheck(Check):
    """One platform's month (see :mod:`recon_helpers.scenarios.collections`)."""

    platform: Platform | None = None
    orders: pd.DataFrame | None = None
    orders_result: MatchResult | None = None
    settlement: pd.DataFrame | None = None
    payouts: pd.DataFrame | None = None
    bank: pd.DataFrame | None = None
    schedule: FeeSchedule | None = None
    products: ProductMaster | None = None
    as_of: dt.date | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def title(self) -> str:
        """``回款核对 Collections check · 京东 jd · 2026-10``."""
        return f"{self.scenario.title} · {self.platform.name} {self.run} · {self.period}"

    # -- the hops -------------------------------------------------------------------------------
    def hops(self) -> dict[str, MatchResult]:
        """hop name -> match result: ``orders_settlement`` (when the platform has an order file) and
        ``payouts_bank``."""
        out = {"orders_settlement": self.orders_result} if self.orders_result is not None else {}
        out["payouts_bank"] = self.result
        return out

    def all_exceptions(self) -> pd.DataFrame:
        """Every hop's exceptions, with ``hop``; the right row of a pair carries the left row's key (the
        payout or order it is about) in ``key``, its own in ``row_key``."""
        if "exceptions" not in self._cache:
            self._cache["exceptions"] = hop_exceptions(self.hops())
        return self._cache["exceptions"]

    @property
    def auto_match_rate(self) -> str:
        """Rows in scope matched automatically, over both hops (out-of-scope rows left out)."""
        return in_scope_match_rate(list(self.hops().values()))

    @property
    def exception_table(self) -> pd.DataFrame:
        """Both hops' exceptions (see :meth:`all_exceptions`)."""
        return self.all_exceptions()

    # -- hop 1: orders against the settlement ---------------------------------------------------
    def unsettled_orders(self) -> pd.DataFrame:
        """The follow-up list: orders paid but not settled to us, oldest first, with age and bucket.

        A completed order with no settlement line is for the platform to explain; an order still open
        (awaiting shipment or the buyer's confirmation) is for us to ship or chase. Closed and cancelled
        orders will never pay and are left out.
        """
        columns = ["order_id", "status", "ordered", "age_days", "age_bucket", "amount", "reason", "follow_up",
                   "source_row"]
        if self.orders_result is None:
            return pd.DataFrame(columns=columns)
        exc = self.orders_result.exceptions
        left = exc[(exc["side"] == "left").fillna(False).to_numpy(dtype=bool)]
        missing = left[(left["category"] == "missing_on_right").fillna(False).to_numpy(dtype=bool)]["source_row"]
        scoped = left[(left["category"] == "out_of_scope").fillna(False).to_numpy(dtype=bool)]["source_row"]
        orders = self.orders.set_index("source_row", drop=False)
        rows = []
        for source_row, reason, follow_up in (
                *((r, "completed, not settled 已完成未结算", "ask the platform for the settlement 联系平台查询结算") for r in missing),
                *((r, "paid, not completed 已付款未完成", "ship it or chase the buyer's confirmation 跟进发货/确认收货")
                  for r in scoped)):
            order = orders.loc[source_row]
            if str(order["status"]).strip() in CLOSED_STATUSES:
                continue
            placed = pd.Timestamp(order["txn_time"]).date()
            age = (self.as_of - placed).days
            rows.append([order["order_id"], order["status"], placed, age, age_bucket(age, AGE_BUCKETS), order["amount"],
                         reason, follow_up, int(source_row)])
        out = pd.DataFrame(rows, columns=columns)
        out["amount"] = money(out["amount"].tolist())
        return out.sort_values(["age_days", "order_id"], ascending=[False, True], kind="stable").reset_index(drop=True)

    def aging(self) -> pd.DataFrame:
        """Unsettled orders per age bucket (every bucket shown): orders and money."""
        unsettled = self.unsettled_orders()
        rows = []
        for label, _, _ in AGE_BUCKETS:
            part = unsettled[unsettled["age_bucket"] == label]
            rows.append([label, len(part), total(part["amount"])])
        out = pd.DataFrame(rows, columns=["age_bucket", "orders", "amount"])
        out["amount"] = money(out["amount"].tolist())
        return out

    def settlement_differences(self) -> pd.DataFrame:
        """Over- and under-settlement: an order settled at another amount than the buyer paid, a payout
        credited at another amount. ``difference`` = received - expected (> 0 over, < 0 under)."""
        rows = []
        for hop, result in self.hops().items():
            sign = result.recipe.sign.left
            for p in _pairs(result).itertuples(index=False):
                expected, received = p.amount_left * sign, p.amount_right
                difference = received - expected
                rows.append([hop, p.key_left, expected, received, difference, "over 多结" if difference > 0 else "under 少结",
                             p.source_row_left, p.source_row_right, p.key_right])
        out = pd.DataFrame(rows, columns=["hop", "key", "expected", "received", "difference", "direction",
                                          "source_row_left", "source_row_right", "matched_to"])
        for column in ("expected", "received", "difference"):
            out[column] = money(out[column].tolist())
        return out.sort_values(["hop", "key"], kind="stable").reset_index(drop=True)

    # -- hop 2: payouts against the bank --------------------------------------------------------
    def payouts_not_credited(self) -> pd.DataFrame:
        """Payouts (batches, days or withdrawals) that never reached the bank: chase the platform."""
        rows = self.result.exceptions
        rows = rows[((rows["category"] == "missing_on_right") & (rows["side"] == "left")).fillna(False).to_numpy(dtype=bool)]
        out = pd.DataFrame({"payout": rows["key"].to_numpy(), "amount": money([v * self.result.recipe.sign.left
                                                                                for v in rows["amount"]]),
                            "source_file": rows["source_file"].to_numpy(), "source_row": rows["source_row"].to_numpy()})
        return self.relative_files(out.sort_values("payout", kind="stable").reset_index(drop=True))

    def credits_without_payout(self) -> pd.DataFrame:
        """Bank credits from the platform that no payout explains (amount as credited)."""
        rows = self.result.exceptions
        rows = rows[((rows["category"] == "missing_on_left") & (rows["side"] == "right")).fillna(False).to_numpy(dtype=bool)]
        return self.relative_files(rows[["key", "amount", "detail", "source_file", "source_row"]]
                                   .rename(columns={"key": "bank_txn"}).reset_index(drop=True))

    # -- fees and refunds -----------------------------------------------------------------------
    def fee_check(self) -> pd.DataFrame:
        """Every fee taken, against the contract rate (templates/fees/<platform>.yaml)."""
        if "fees" not in self._cache:
            lines = flows.fee_lines(self.settlement, self.platform.layout, orders=self.orders, products=self.products)
            self._cache["fees"] = check_fees(lines, self.schedule)
        return self._cache["fees"]

    def fee_differences(self) -> pd.DataFrame:
        """Fees other than the contract rate gives (over = the platform kept too much), and fees the
        contract does not name."""
        fees = self.fee_check()
        return fees[fees["verdict"] != "ok"].reset_index(drop=True)

    def monthly_fees(self) -> pd.DataFrame:
        """Fixed monthly fees taken against the contract."""
        return check_monthly(flows.monthly_fees(self.settlement, self.platform.layout), self.schedule)

    def refunds(self) -> pd.DataFrame:
        """Every refund and chargeback: full or partial, and whether it looks wrong (refunded twice,
        more than the buyer paid)."""
        return flows.refund_lines(self.settlement, self.platform.layout, orders=self.orders)

    # -- the month's money ----------------------------------------------------------------------
    def tie_out(self) -> pd.DataFrame:
        """Each hop's money, so the month ties out (steps in order, exact):

        settled gross (the platform's own orders) + other income in the account (Alipay: the web
        store's trades) - fees - refunds + other movements = net settled; net settled - paid out = left in
        the account (a batch netting to zero or less, a day not withdrawn); paid out = credited at the
        bank + not credited + the difference of the credits paired at another amount.
        """
        layout = self.platform.layout
        gross_of = lambda rows: total(rows["gross_amount" if "gross_amount" in rows else "amount"])  # noqa: E731
        own = gross_of(flows.income_rows(self.settlement, layout))
        every = gross_of(flows.income_rows(self.settlement, layout, channel_only=False))
        fees = total(self.fee_check()["taken"]) + total(self.monthly_fees()["taken"])
        refunds = total(self.refunds()["refund"])
        net = total(flows.net_settled(self.settlement, layout)["amount"])
        sign = self.result.recipe.sign.left
        paid_out = total(self._in_scope(self.result, "left")["amount"]) * sign
        credited = total(self._in_scope(self.result, "right")["amount"])
        not_credited = total(self.payouts_not_credited()["amount"])
        rows = []
        if self.orders_result is not None:
            rows.append(["orders completed 已完成订单", total(self._in_scope(self.orders_result, "left")["amount"])])
        rows += [["settled gross 结算收入", own], ["other income in the account 账户其他收入", every - own],
                 ["fees 平台费用", -fees], ["refunds 退款", -refunds],
                 ["other movements 其他变动", net - (every - fees - refunds)], ["net settled 结算净额", net],
                 ["left in the account 账户留存/结转", net - paid_out], ["paid out 结算打款", paid_out],
                 ["credited at the bank 银行到账", credited], ["not credited 未到账", not_credited],
                 ["credited differently 到账差额", credited - (paid_out - not_credited)]]
        out = pd.DataFrame(rows, columns=["step", "amount"])
        out["amount"] = money(out["amount"].tolist())
        return out

    @staticmethod
    def _in_scope(result: MatchResult, side: str) -> pd.DataFrame:
        """The rows of one side the recipe considered (linked or excepted, not out of scope)."""
        links = result.links
        exc = result.exceptions
        parts = [links[links["side"] == side][["source_row", "amount"]],
                 exc[((exc["side"] == side) & (exc["category"] != "out_of_scope")).fillna(False).to_numpy(dtype=bool)][
                     ["source_row", "amount"]]]
        return pd.concat(parts, ignore_index=True)

    def cash_by_day(self) -> pd.DataFrame:
        """Per day of the period: cash expected (payouts booked by the platform) and received (the
        platform's bank credits), and both accumulated."""
        sign = self.result.recipe.sign.left
        payouts = self._in_scope(self.result, "left").merge(self.payouts[["source_row", "txn_time"]], on="source_row")
        credits = self._in_scope(self.result, "right").merge(self.bank[["source_row", "txn_time"]], on="source_row")
        days = list(self.period.days())
        expected = _daily(payouts["txn_time"], [v * sign for v in payouts["amount"]], days)
        received = _daily(credits["txn_time"], list(credits["amount"]), days)
        out = pd.DataFrame({"day": days, "expected": money(expected), "received": money(received)})
        out["expected_to_date"] = money(_running(expected))
        out["received_to_date"] = money(_running(received))
        return out

    def cash_chart(self) -> Any:
        """Plotly chart: expected against received cash over the month (daily bars, running lines)."""
        from recon_helpers.scenarios.collections.cash import expected_vs_received

        return expected_vs_received(self.cash_by_day(), title=f"Expected vs received 应收与到账 · {self.platform.name}")

    # -- figures and files ----------------------------------------------------------------------
    def kpis(self) -> dict[str, Any]:
        """Headline figures of the platform's month, in the order the report shows them."""
        tie = dict(zip(self.tie_out()["step"], self.tie_out()["amount"]))
        unsettled = self.unsettled_orders()
        fees = self.fee_differences()
        differences = self.settlement_differences()
        return {
            "Settled gross 结算收入": tie["settled gross 结算收入"],
            "Paid out 结算打款": tie["paid out 结算打款"],
            "Credited 银行到账": tie["credited at the bank 银行到账"],
            "Not credited 未到账": tie["not credited 未到账"],
            "Short settled 少结": -total(differences["difference"][(differences["difference"] < 0).fillna(False).to_numpy(dtype=bool)]),
            "Over settled 多结": total(differences["difference"][(differences["difference"] > 0).fillna(False).to_numpy(dtype=bool)]),
            "Unsettled orders 未结算订单": len(unsettled),
            "Unsettled amount 未结算金额": total(unsettled["amount"]),
            "Fees above contract 超合同费用": total(fees["difference"][(fees["difference"] > 0).fillna(False).to_numpy(dtype=bool)]),
            "Auto-match rate 自动核对率": self.auto_match_rate,
        }

    def lists(self) -> dict[str, pd.DataFrame]:
        """Every list of the run by sheet name (the Excel export)."""
        return {"tie-out 勾稽": self.tie_out(), "unsettled 未结算订单": self.unsettled_orders(), "aging 账龄": self.aging(),
                "over-under 多结少结": self.settlement_differences(), "not credited 未到账": self.payouts_not_credited(),
                "credits 无结算入账": self.credits_without_payout(), "fees 费率差异": self.fee_differences(),
                "monthly fees 固定费用": self.monthly_fees(), "refunds 退款": self.refunds(), "cash 资金": self.cash_by_day(),
                "exceptions 差异明细": self._exceptions_for_people()}

    def _exceptions_for_people(self) -> pd.DataFrame:
        exc = self.all_exceptions()
        exc = exc[(exc["category"] != "out_of_scope").fillna(False).to_numpy(dtype=bool)]
        return self.relative_files(exc[["hop", *[c for c in self.exception_columns if c != "candidates"], "row_key"]]
                                   .reset_index(drop=True))

    def _repr_html_(self) -> str:
        return f"<b>{escape(self.title)}</b>" + "".join(_hop_html(h, r) for h, r in self.hops().items())

    def write(self, output_dir: str | Path) -> dict[str, Path]:
        """Write both hops' links and exceptions (with ``hop``), summary.json (with the unsettled orders'
        ages, for the "unpaid beyond N days" alert) and collections.xlsx."""
        paths = self.write_hops(output_dir, self.all_exceptions(), f"{NAME}_{self.run}.xlsx")
        record_ages(paths["summary"], "unsettled_orders", self.unsettled_orders(), days="age_days")
        return paths


def _hop_html(name: str, result: MatchResult) -> str:
    return f"<h4>{escape(name)}</h4>" + result._repr_html_()


def _daily(times: pd.Series, amounts: list, days: list[dt.date]) -> list[Decimal]:
    by_day = {d: Decimal("0.00") for d in days}
    for when, amount in zip(times, amounts):
        if when is None or pd.isna(when) or amount is None or pd.isna(amount):
            continue
        day = pd.Timestamp(when).date()
        if day in by_day:
            by_day[day] += amount
    return [by_day[d] for d in days]


def _running(values: list[Decimal]) -> list[Decimal]:
    out, acc = [], Decimal("0.00")
    for v in values:
        acc += v
        out.append(acc)
    return out
