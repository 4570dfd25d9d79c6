"""The returns check: three files linked by the recipe, each return classified, the lists to act on."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from recon_helpers.canonical import MONEY_DTYPE
from recon_helpers.cycles import Cycle
from recon_helpers.engine import match, prepare_tables
from recon_helpers.errors import UsageError
from recon_helpers.periods import Period
from recon_helpers.scenarios.base import Check, total
from recon_helpers.scenarios.courier_bill import carrier as courier
from recon_helpers.scenarios.registry import scenario
from recon_helpers.scenarios.returns import cases as returns_cases
from recon_helpers.sources.loading import load

NAME = "returns"
_SETTING_NAMES = ("refunded_statuses", "withdrawn_statuses", "signed_statuses", "good_conditions", "age_buckets")


def _settings(entry: Any) -> dict[str, Any]:
    missing = [name for name in _SETTING_NAMES if name not in entry.settings]
    if missing:
        raise UsageError(f"templates/scenarios/{NAME}.yaml: settings lack {', '.join(missing)}; "
                         "list the status words and age buckets the returns rules need")
    return dict(entry.settings)


def _as_of(period: Period | Cycle, as_of: str | None) -> dt.datetime:
    """The moment ages are counted to: the end of the period unless given (``2026-11-03``)."""
    if as_of in (None, ""):
        return dt.datetime.combine(period.last_day + dt.timedelta(days=1), dt.time())
    try:
        return dt.datetime.fromisoformat(str(as_of))
    except ValueError:
        raise UsageError(f"as_of {as_of!r} is not a date: write it as YYYY-MM-DD") from None


def check(*, period: str, data_dir: str | Path, as_of: str | None = None) -> ReturnsCheck:
    """Load the three files, link them with the ``returns`` recipe and classify every return.

    ``period`` is a month, an ISO week or a day: the requests of the cycle and the earlier ones not
    received by its start (carried in), against the waybills and receipts known by its end (a waybill
    signed after the end is still on its way). A return signed for within ``receipt_days`` of the end
    is open, not "not received": the warehouse has those days to book it.
    """
    entry = scenario(NAME)
    loaded = {name: load(entry.input_path(name, data_dir)) for name in ("requests", "waybills", "receipts")}
    cycle = Cycle.parse(period)
    settings = _settings(entry)
    requests, waybills, receipts = returns_cases.cycle_rows(loaded["requests"].table, loaded["waybills"].table,
                                                            loaded["receipts"].table, cycle, settings)
    left, right, third = prepare_tables(entry.recipes[0], requests, waybills, receipts)
    result = match(left, right, entry.recipes[0], third=third)
    moment = _as_of(cycle, as_of)
    table = returns_cases.assemble(result, left, right, third)
    table["category"] = returns_cases.classify(table, settings)
    returns_cases.allow_booking_time(table, moment, int(settings.get("receipt_days", 2)),
                                     int(settings.get("ship_back_days", 7)))
    returns_cases.received_later(table, loaded["receipts"].table, cycle)
    returns_cases.leave_other_periods(table, loaded["requests"].table)
    table["detail"] = [returns_cases.describe(row, row["category"]) for _, row in table.iterrows()]
    table["age_days"] = returns_cases.age_days(table, moment)
    table["age_bucket"] = returns_cases.age_bucket(table["age_days"], settings["age_buckets"])
    return ReturnsCheck(scenario=entry, period=cycle, data_dir=Path(data_dir), result=result, inputs=loaded,
                        cases=table, settings=settings)


_LIST = {"key": "refund_id", "order_id": "order_id", "channel": "platform", "waybill_no": "waybill_no",
         "carrier": "carrier", "refund_amount": "refund_amount", "age_days": "age_days", "detail": "detail"}


@dataclass
class ReturnsCheck(Check):
    """A period's returns, three ways (see :mod:`recon_helpers.scenarios.returns`)."""

    cases: pd.DataFrame | None = None
    settings: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self._exceptions: pd.DataFrame | None = None

    @property
    def labels(self) -> dict[str, str]:
        """Category -> label: the scenario's own categories, then the registry entry's wording."""
        own = {code: text.split(" — ", 1)[0] for code, text in returns_cases.CATEGORIES.items()}
        return {**super().labels, **own, **self.scenario.labels}

    # -- the refined exceptions ---------------------------------------------------------------
    @property
    def exception_table(self) -> pd.DataFrame:
        """One exception row per input row of a return with a problem (or still in transit), in the
        match's columns; ``key`` is the return's 售后单号 on all three sides, ``amount`` the refund on
        the request's row."""
        if self._exceptions is None:
            self._exceptions = self._exception_rows()
        return self._exceptions

    def _exception_rows(self) -> pd.DataFrame:
        flagged = self.cases[self.cases["category"].notna()]
        rows: list[dict[str, Any]] = []
        for _, case in flagged.iterrows():
            common = {"key": case["key"], "category": case["category"], "detail": case["detail"], "candidates": None,
                      "group_id": int(case["case"]), "rule": None if pd.isna(case["rule"]) else case["rule"]}
            if case["has_request"]:
                rows.append({"side": "left", "source_file": case["request_file"], "source_row": int(case["request_row"]),
                             "amount": case["refund_amount"], **common})
            if case["has_waybill"]:
                rows.append({"side": "right", "source_file": case["waybill_file"], "source_row": int(case["waybill_row"]),
                             "amount": None, **common})
            if case["has_receipt"]:
                for row in str(case["receipt_rows"]).split(";"):
                    rows.append({"side": "third", "source_file": case["receipt_file"], "source_row": int(row),
                                 "amount": None, **common})
        frame = pd.DataFrame(rows, columns=["side", "source_file", "source_row", "key", "amount", "category", "detail",
                                            "candidates", "group_id", "rule"])
        frame["amount"] = pd.array([None if pd.isna(a) else a for a in frame["amount"]], dtype=MONEY_DTYPE)
        frame = frame.astype({"source_row": "int64", "group_id": "int64", "side": "string", "key": "string",
                              "category": "string", "detail": "string", "candidates": "string", "rule": "string",
                              "source_file": "string"})
        side_no = frame["side"].map({"left": 0, "right": 1, "third": 2})
        order = frame.assign(_s=side_no).sort_values(["category", "key", "group_id", "_s", "source_row"], kind="stable")
        return order.drop(columns="_s").reset_index(drop=True)

    # -- the lists an analyst acts on ----------------------------------------------------------
    def returns_of(self, category: str) -> pd.DataFrame:
        """The returns of one category: 售后单号, order, platform, waybill, refund, age and what to do."""
        part = self.cases[(self.cases["category"] == category).fillna(False).to_numpy(dtype=bool)]
        extra = {"qty_mismatch": ["qty", "received_qty"], "sku_mismatch": ["sku", "received_sku"],
                 "damaged": ["sku", "condition"]}.get(category, [])
        columns = [c for c in _LIST if c != "detail"] + extra + ["detail"]
        listed = part[columns].rename(columns=_LIST)
        return listed.sort_values(["refund_id"], kind="stable").reset_index(drop=True)

    def refunded_not_received(self) -> pd.DataFrame:
        """Refunds already paid for goods not (yet) in the warehouse: the money is gone."""
        return self.returns_of("status_mismatch")

    def not_shipped_back(self) -> pd.DataFrame:
        """Requests whose goods the courier has no waybill for: requested, never shipped back."""
        return self.returns_of("missing_waybill")

    def not_received(self) -> pd.DataFrame:
        """Waybills signed for that the warehouse never booked: shipped back, not received."""
        return self.returns_of("not_received")

    def quantity_differences(self) -> pd.DataFrame:
        """Returns received with another quantity or SKU than requested."""
        return pd.concat([self.returns_of("qty_mismatch"), self.returns_of("sku_mismatch")], ignore_index=True)

    def damaged(self) -> pd.DataFrame:
        """Returns that came back damaged or incomplete (claim from the buyer or the courier)."""
        return self.returns_of("damaged")

    def not_requested(self) -> pd.DataFrame:
        """Waybills and receipts no return request explains."""
        return pd.concat([self.returns_of("waybill_without_request"), self.returns_of("received_not_requested")],
                         ignore_index=True)

    def received_not_refunded(self) -> pd.DataFrame:
        """Goods back in good order whose refund is still open on the platform."""
        return self.returns_of("received_not_refunded")

    def open_returns(self) -> pd.DataFrame:
        """Returns not finished: goods not in the warehouse yet, or the refund not yet settled."""
        c = self.cases
        withdrawn = c["request_status"].astype("string").isin(self.settings["withdrawn_statuses"]).fillna(False)
        refunded = c["request_status"].astype("string").isin(self.settings["refunded_statuses"]).fillna(False)
        still_open = ((~c["has_receipt"]) | (c["has_request"] & ~refunded)) & ~withdrawn
        return c[still_open.to_numpy(dtype=bool)]

    def open_by_age(self) -> pd.DataFrame:
        """Open returns per age bucket (0-7, 8-15, 16-30, over 30 days): count and refund money."""
        open_ = self.open_returns()
        buckets = list(open_["age_bucket"].cat.categories) if len(open_) else []
        rows = [{"age_days": b, "returns": int((open_["age_bucket"] == b).sum()),
                 "refund_amount": total(open_.loc[(open_["age_bucket"] == b).to_numpy(dtype=bool), "refund_amount"])}
                for b in buckets]
        return pd.DataFrame(rows, columns=["age_days", "returns", "refund_amount"])

    def follow_up(self) -> pd.DataFrame:
        """Every open return, oldest first, with its age bucket and what to do next."""
        open_ = self.open_returns()
        listed = open_[["key", "order_id", "channel", "waybill_no", "carrier", "refund_amount", "age_days", "age_bucket",
                        "request_status", "waybill_status", "detail"]]
        listed = listed.rename(columns={"key": "refund_id", "channel": "platform"})
        return listed.sort_values(["age_days", "refund_id"], ascending=[False, True], kind="stable").reset_index(drop=True)

    def problems(self) -> pd.DataFrame:
        """The exception rows of returns with a problem (those in transit left out): for the charts."""
        return self.exceptions(tuple(returns_cases.CATEGORIES))

    def return_shipping_charged(self) -> pd.DataFrame:
        """Return waybills the couriers charged on our monthly bills (every carrier's bill in the data
        folder): the return's 售后单号, carrier, bill day and the amount billed. Who pays for a
        return (the buyer, 运费险, or us) decides whether to dispute it: see the courier check."""
        ours = self.cases[self.cases["has_waybill"]]
        by_waybill = dict(zip(ours["waybill_no"].astype("string").str.strip().str.upper(), ours["key"]))
        rows = []
        for code in scenario("courier_bill").run_names():
            which = courier(code)
            path = self.data_dir / which.bill_file
            if not path.exists():
                continue
            bill = load(path, template=which.bill_template).table
            keys = bill["waybill_no"].astype("string").str.strip().str.upper()
            hit = keys.isin(set(by_waybill)).fillna(False).to_numpy(dtype=bool)
            for key, line in zip(keys[hit], bill[hit].itertuples()):
                rows.append({"refund_id": by_waybill[key], "waybill_no": key, "carrier": which.name,
                             "billed_on": line.txn_time, "amount": line.amount,
                             "source_file": line.source_file, "source_row": line.source_row})
        table = pd.DataFrame(rows, columns=["refund_id", "waybill_no", "carrier", "billed_on", "amount", "source_file",
                                            "source_row"])
        table["amount"] = pd.array(table["amount"].tolist(), dtype=MONEY_DTYPE)
        return self.relative_files(table.sort_values(["refund_id", "waybill_no"], kind="stable").reset_index(drop=True))

    # -- figures --------------------------------------------------------------------------------
    def age_chart(self) -> go.Figure:
        """Bar chart of the open returns per age bucket (hover: refund money still open)."""
        ages = self.open_by_age()
        money = [float(a) for a in ages["refund_amount"]]
        fig = go.Figure(go.Bar(x=[f"{b} 天" for b in ages["age_days"]], y=ages["returns"], text=ages["returns"],
                               textposition="auto", customdata=money,
                               hovertemplate="%{x}: %{y} returns, refund %{customdata:,.2f} CNY<extra></extra>"))
        fig.update_layout(title="Open returns by age 未完结退货账龄", template="plotly_white", height=360,
                          margin={"l": 40, "r": 20, "t": 50, "b": 40})
        fig.update_yaxes(title_text="returns 笔数")
        return fig

    def by_category(self) -> pd.DataFrame:
        """Returns per category with the refund money at stake (in the order the checks run)."""
        rows = []
        for code in returns_cases.CATEGORIES:
            part = self.cases[(self.cases["category"] == code).fillna(False).to_numpy(dtype=bool)]
            if len(part):
                rows.append({"category": code, "label": self.labels.get(code, code), "returns": len(part),
                             "refund_amount": total(part["refund_amount"])})
        return pd.DataFrame(rows, columns=["category", "label", "returns", "refund_amount"])

    def kpis(self) -> dict[str, Any]:
        """Headline figures: rows per file, returns, matched three ways, problems and money at stake."""
        c = self.cases
        problems = c["category"].notna() & (c["category"] != returns_cases.IN_TRANSIT)
        refunded_gone = self.amount("status_mismatch", "left")
        return {
            "Return requests 退货申请": len(self.inputs["requests"].table),
            "Return waybills 退货运单": len(self.inputs["waybills"].table),
            "Warehouse receipts 退货入库": len(self.inputs["receipts"].table),
            "Complete returns 已闭环": int(c["category"].isna().sum()),
            "Auto-match rate 自动核对率": self.auto_match_rate,
            "Returns with a problem 问题退货": int(problems.sum()),
            "Refunded, not received 已退款未入库": refunded_gone,
            "Open returns 未完结": len(self.open_returns()),
            "Open refund money 未完结退款": total(self.open_returns()["refund_amount"]),
            "Return shipping charged 退货运费": total(self.return_shipping_charged()["amount"]),
        }

    def problem_amount(self) -> Decimal:
        """Refund money of every return with a problem."""
        flagged = self.cases["category"].notna() & (self.cases["category"] != returns_cases.IN_TRANSIT)
        return total(self.cases.loc[flagged.to_numpy(dtype=bool), "refund_amount"])
