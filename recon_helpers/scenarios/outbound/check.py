"""The outbound check: platform orders against warehouse outbound records, the lists to act on."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recon_helpers import cycles
from recon_helpers.canonical import MONEY_DTYPE
from recon_helpers.cycles import Cycle
from recon_helpers.engine import match, prepare_tables
from recon_helpers.errors import UsageError
from recon_helpers.scenarios.base import Check, total
from recon_helpers.scenarios.outbound import pickups, rules
from recon_helpers.scenarios.registry import scenario
from recon_helpers.sources.loading import load
from recon_helpers.sources.result import LoadResult

NAME = "outbound"
_SETTING_NAMES = ("closed_statuses", "shipped_statuses", "promise_hours")
#: the scenario's own categories, besides the recipe's (missing_on_*, qty_mismatch, status_mismatch)
CATEGORIES = {
    "shipped_late": "超时发货 — shipped later than the platform's promised time",
    "sku_mismatch": "商品不符 — the warehouse shipped other SKUs than the order lists",
    **pickups.CATEGORIES,
}
_TIMING = "out_of_scope"


def _settings(entry: Any) -> dict[str, Any]:
    missing = [name for name in _SETTING_NAMES if name not in entry.settings]
    if missing:
        raise UsageError(f"templates/scenarios/{NAME}.yaml: settings lack {', '.join(missing)}")
    return dict(entry.settings)


def _load_orders(entry: Any, data_dir: str | Path) -> dict[str, LoadResult]:
    """Every order export the entry names that exists in the data folder (a shop may sell on fewer
    platforms); none at all is an error that says which files were looked for."""
    names = [n for n in entry.inputs if n.endswith("_orders")]
    present = {n: entry.input_path(n, data_dir) for n in names if entry.input_path(n, data_dir).exists()}
    if not present:
        looked = ", ".join(str(entry.input_path(n, data_dir)) for n in names)
        raise UsageError(f"no platform order export found (looked for {looked}): put the order exports in the data folder")
    return {n: load(p) for n, p in present.items()}


def load_inputs(data_dir: str | Path) -> dict[str, LoadResult]:
    """Every order export found, the WMS outbound file and the couriers' pickup records found, loaded
    once (for several cycles' runs)."""
    entry = scenario(NAME)
    loaded = _load_orders(entry, data_dir)
    loaded["outbound"] = load(entry.input_path("outbound", data_dir))
    for name, spec in entry.settings.get("pickups", {}).items():
        path = entry.input_path(name, data_dir)
        if path.exists():
            loaded[name] = load(path, template=spec.get("template"))
    return loaded


def _pickup_records(entry: Any, loaded: dict[str, LoadResult]) -> list[pickups.Pickups]:
    """The loaded pickup records, each with the names the warehouse writes for its carrier."""
    couriers = scenario("courier_bill")
    found = []
    for name, spec in entry.settings.get("pickups", {}).items():
        if name in loaded:
            code = spec["carrier"]
            aliases = couriers.run_settings(code).get("aliases", [code]) if code in couriers.run_names() else [code]
            found.append(pickups.Pickups(code, tuple(aliases), loaded[name].table))
    return found


def check(*, period: str, data_dir: str | Path, as_of: str | None = None,
          loaded: dict[str, LoadResult] | None = None) -> OutboundCheck:
    """Load every order export and the WMS outbound file, match per order, apply the outbound rules.

    ``period`` is a month, an ISO week or a day (:mod:`recon_helpers.cycles`): the run takes
    the orders of the cycle plus the earlier ones still open at its start (carried in, up to
    ``carry_days`` back), against the outbound rows of the cycle; rows just outside it tell a timing
    difference from a missing one. A daily run is thereby incremental: what is open tonight is
    carried into tomorrow's run. ``loaded`` (from :func:`load_inputs`) reuses files already read.
    """
    entry = scenario(NAME)
    settings = _settings(entry)
    loaded = dict(loaded) if loaded is not None else load_inputs(data_dir)
    all_orders = pd.concat([loaded[n].table for n in loaded if n.endswith("_orders")], ignore_index=True)
    cycle = Cycle.parse(period)
    orders, outbound, near = _cycle_rows(all_orders, loaded["outbound"].table, cycle, settings)
    left, right, _ = prepare_tables(entry.recipes[0], orders, outbound)
    result = match(left, right, entry.recipes[0])
    return OutboundCheck(scenario=entry, period=cycle, data_dir=Path(data_dir), result=result, inputs=loaded,
                         settings=settings, orders=left, outbound=right, order_lines=orders,
                         outbound_lines=outbound, as_of=rules.as_of_moment(cycle.last_day, as_of), near=near,
                         pickup_records=_pickup_records(entry, loaded))


def _cycle_rows(orders: pd.DataFrame, outbound: pd.DataFrame, cycle: Cycle,
                settings: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(order rows, outbound rows, what lies just outside) of one cycle.

    Order rows: those of the cycle and the earlier ones (``carry_days`` back) with nothing shipped
    before the cycle (carried in). Outbound rows: those of the cycle. ``near``: order ids of earlier
    orders not carried (their outbound continues), and outbound rows after the cycle (within
    ``grace_days``), by order id with their day.
    """
    grace, carry = int(settings.get("grace_days", 3)), int(settings.get("carry_days", 30))
    o_pos, w_pos = cycles.where(orders["txn_time"], cycle), cycles.where(outbound["txn_time"], cycle)
    o_day, w_day = cycles.day_of(orders["txn_time"]), cycles.day_of(outbound["txn_time"])
    shipped = outbound["status"].astype("string").isin(settings["shipped_statuses"]).fillna(False)
    shipped_before = set(_ids(outbound.loc[((w_pos == cycles.BEFORE) & shipped).to_numpy(dtype=bool), "order_id"]))
    earlier = ((o_pos == cycles.BEFORE) & (o_day >= cycle.first_day - dt.timedelta(days=carry))).fillna(False)
    open_at_start = earlier & ~_ids(orders["order_id"]).isin(shipped_before)
    inside = (o_pos == cycles.INSIDE).to_numpy(dtype=bool)
    after = ((w_pos == cycles.AFTER) & (w_day <= cycle.last_day + dt.timedelta(days=grace))).fillna(False)
    near = {"carried": set(_ids(orders.loc[open_at_start.to_numpy(dtype=bool), "order_id"])),
            "ordered_before": set(_ids(orders.loc[(earlier & ~open_at_start).to_numpy(dtype=bool), "order_id"])),
            "shipped_after": dict(zip(_ids(outbound.loc[(after & shipped).to_numpy(dtype=bool), "order_id"]),
                                      w_day[(after & shipped).to_numpy(dtype=bool)]))}
    chosen = orders[inside | open_at_start.to_numpy(dtype=bool)].reset_index(drop=True)
    return chosen, outbound[(w_pos == cycles.INSIDE).to_numpy(dtype=bool)].reset_index(drop=True), near


def _ids(values: pd.Series) -> pd.Series:
    """Order numbers compared alike (trimmed, upper case)."""
    return values.astype("string").str.strip().str.upper()


@dataclass
class OutboundCheck(Check):
    """Orders against outbound for a period (see :mod:`recon_helpers.scenarios.outbound`)."""

    settings: dict[str, Any] | None = None
    orders: pd.DataFrame | None = None          # per order, as matched
    outbound: pd.DataFrame | None = None        # per order and status, as matched
    order_lines: pd.DataFrame | None = None     # the exports' rows
    outbound_lines: pd.DataFrame | None = None  # the WMS rows
    as_of: dt.datetime | None = None
    near: dict[str, Any] | None = None
    pickup_records: list[pickups.Pickups] | None = None  # the couriers' pickup records found

    def __post_init__(self) -> None:
        self._exceptions: pd.DataFrame | None = None
        self._facts: pd.DataFrame | None = None

    @property
    def labels(self) -> dict[str, str]:
        own = {code: text.split(" — ", 1)[0] for code, text in CATEGORIES.items()}
        return {**super().labels, **own, **self.scenario.labels}

    # -- facts per order ----------------------------------------------------------------------
    @property
    def order_facts(self) -> pd.DataFrame:
        """Per matched order row: platform, order time, promised hours, due time, closed, money."""
        if self._facts is None:
            o = self.orders.astype({"source_file": "string"})
            platform = rules.platform_of(o["template"])
            hours = rules.promise_hours(platform, self.settings)
            facts = pd.DataFrame({"source_file": o["source_file"], "source_row": o["source_row"],
                                  "order_id": o["order_id"].astype("string"), "platform": platform,
                                  "order_status": o["status"], "order_time": o["txn_time"], "ordered_qty": o["qty"],
                                  "promise_hours": hours, "due": rules.due_by(o["txn_time"], hours),
                                  "closed": rules.is_closed(o["status"], self.settings).to_numpy(dtype=bool)})
            amounts = rules.order_amounts(self.order_lines, self.settings)
            self._facts = facts.merge(amounts, on=["order_id", "source_file"], how="left")
        return self._facts

    def _shipped_facts(self) -> pd.DataFrame:
        out = self.outbound.astype({"source_file": "string"})
        shipped = out["status"].astype("string").isin(self.settings["shipped_statuses"]).fillna(False)
        return pd.DataFrame({"source_file": out["source_file"], "source_row": out["source_row"],
                             "shipped_time": out["txn_time"].where(shipped.to_numpy(dtype=bool)), "shipped_qty": out["qty"],
                             "outbound_status": out["status"]})

    # -- the refined exceptions ---------------------------------------------------------------
    @property
    def exception_table(self) -> pd.DataFrame:
        """The match's exceptions with the outbound rules applied: a closed order never sent to the
        warehouse and an order not yet due are out of scope (with why); a matched order shipped after
        its promised time is ``shipped_late``, one with other SKUs ``sku_mismatch``; the order's money
        is on its row."""
        if self._exceptions is None:
            self._exceptions = self._refine()
        return self._exceptions

    def _refine(self) -> pd.DataFrame:
        exc = self.result.exceptions.copy().astype({"source_file": "string", "category": "string", "detail": "string"})
        facts = self.order_facts
        left = exc.merge(facts, on=["source_file", "source_row"], how="left")
        is_left = (left["side"] == "left").fillna(False).to_numpy(dtype=bool)
        missing = is_left & (left["category"] == "missing_on_right").fillna(False).to_numpy(dtype=bool)
        closed = missing & left["closed"].fillna(False).to_numpy(dtype=bool)
        not_due = missing & ~closed & (left["due"] > pd.Timestamp(self.as_of)).fillna(False).to_numpy(dtype=bool)
        exc.loc[closed, "category"] = _TIMING
        exc.loc[closed, "detail"] = [f"订单已关闭（{s}），未出库：无需处理" for s in left.loc[closed, "order_status"]]
        exc.loc[not_due, "category"] = _TIMING
        exc.loc[not_due, "detail"] = [f"未到承诺发货时间（{h}小时，{d:%Y-%m-%d %H:%M}前）：留待下期核对"
                                      for h, d in zip(left.loc[not_due, "promise_hours"], left.loc[not_due, "due"])]
        self._mark_timing(exc)
        exc["amount"] = pd.array([a if s else None for a, s in zip(left["order_amount"], is_left)], dtype=MONEY_DTYPE)
        added = self._matched_problems(set(exc["group_id"].dropna().astype("int64")))
        picked = pickups.differences(self.outbound_lines.astype({"source_file": "string"}), self.pickup_records or [],
                                     self.settings["shipped_statuses"], list(self.result.exceptions.columns))
        added = pd.concat([f for f in (added, picked) if len(f)], ignore_index=True) if len(added) or len(picked) else added
        table = pd.concat([exc, added], ignore_index=True) if len(added) else exc
        side_no = table["side"].map({"left": 0, "right": 1})
        table = table.assign(_s=side_no).sort_values(["category", "key", "group_id", "_s", "source_row"], kind="stable")
        return table.drop(columns="_s").reset_index(drop=True)

    def _mark_timing(self, exc: pd.DataFrame) -> None:
        """An order of the cycle shipped just after it, or an outbound of the cycle for an order placed
        before it (the rest of a partial shipment): timing differences, out of scope."""
        near = self.near or {}
        keys = _ids(exc["key"])
        after = near.get("shipped_after", {})
        late = ((exc["side"] == "left") & (exc["category"] == "missing_on_right")).fillna(False).to_numpy(dtype=bool) \
            & keys.isin(set(after)).to_numpy(dtype=bool)
        exc.loc[late, "category"] = _TIMING
        exc.loc[late, "detail"] = [f"跨期：{after[k]}出库，不在本期{self.period}" for k in keys[late]]
        before = ((exc["side"] == "right") & (exc["category"] == "missing_on_left")).fillna(False).to_numpy(dtype=bool) \
            & keys.isin(near.get("ordered_before", set())).to_numpy(dtype=bool)
        exc.loc[before, "category"] = _TIMING
        exc.loc[before, "detail"] = f"跨期：订单在本期{self.period}之前已部分出库"

    def carried_in(self) -> pd.DataFrame:
        """Orders from before the cycle still open at its start, and what became of them in this run."""
        carried = (self.near or {}).get("carried", set())
        facts = self.order_facts[self.order_facts["order_id"].str.upper().isin(carried)]
        exc = self.exception_table[self.exception_table["side"] == "left"][["key", "category", "detail"]]
        listed = facts.merge(exc.rename(columns={"key": "order_id"}), on="order_id", how="left")
        listed["category"] = listed["category"].fillna("shipped 已出库")
        return listed[["order_id", "platform", "order_time", "order_status", "order_amount", "category", "detail"]] \
            .sort_values("order_id", kind="stable").reset_index(drop=True)

    def _matched_problems(self, excepted_groups: set[int]) -> pd.DataFrame:
        """Rows of matched orders that break a rule the recipe cannot check (other SKUs, late), one
        category per order (a SKU difference is listed first); every row of such an order's group."""
        links = self.result.links.astype({"source_file": "string"})
        links = links[~links["group_id"].isin(excepted_groups)]
        late = self.late_shipments(links)
        skus = rules.sku_differences(self.order_lines, self.outbound_lines, self.settings)
        sku_text = {k: f"订单商品{o}，仓库出库{s}" for k, o, s in zip(skus["order_id"], skus["ordered"], skus["shipped"])}
        sku_groups = links.loc[links["key"].isin(set(sku_text)).to_numpy(dtype=bool), ["group_id", "key"]].drop_duplicates("group_id")
        sku_detail = {g: sku_text[k] for g, k in zip(sku_groups["group_id"], sku_groups["key"])}
        late_detail = {r.group_id: f"{r.order_time:%m-%d %H:%M}下单，{r.shipped_time:%m-%d %H:%M}出库，用时{r.hours:.1f}小时，"
                                   f"超过承诺的{r.promise_hours}小时"
                       for r in late.itertuples() if r.group_id not in sku_detail}
        parts = [self._group_rows(links, category, detail)
                 for category, detail in (("sku_mismatch", sku_detail), ("shipped_late", late_detail)) if detail]
        columns = list(self.result.exceptions.columns)
        frame = pd.concat(parts, ignore_index=True).reindex(columns=columns) if parts else pd.DataFrame(columns=columns)
        if len(frame):
            facts = self.order_facts[["source_file", "source_row", "order_amount"]]
            money = frame.merge(facts, on=["source_file", "source_row"], how="left")["order_amount"]
            frame["amount"] = pd.array([m if s == "left" else None for m, s in zip(money, frame["side"])], dtype=MONEY_DTYPE)
        return frame

    @staticmethod
    def _group_rows(links: pd.DataFrame, category: str, detail: dict[Any, str]) -> pd.DataFrame:
        """Every link row of the groups ``detail`` names, as exception rows (groups in ``detail``'s order)."""
        order = {g: i for i, g in enumerate(detail)}
        rows = links[links["group_id"].isin(set(order)).to_numpy(dtype=bool)]
        rows = rows.assign(_order=rows["group_id"].map(order)).sort_values("_order", kind="stable")
        return pd.DataFrame({"side": rows["side"].to_numpy(), "source_file": rows["source_file"].to_numpy(),
                             "source_row": rows["source_row"].to_numpy(), "key": rows["key"].to_numpy(), "amount": None,
                             "category": category, "detail": rows["group_id"].map(detail).to_numpy(),
                             "candidates": None, "group_id": rows["group_id"].to_numpy(), "rule": rows["rule"].to_numpy()})

    def late_shipments(self, links: pd.DataFrame | None = None) -> pd.DataFrame:
        """Matched orders whose last outbound left later than the platform promised."""
        links = self.result.links.astype({"source_file": "string"}) if links is None else links
        left = links[links["side"] == "left"].merge(self.order_facts, on=["source_file", "source_row"])
        right = links[links["side"] == "right"].merge(self._shipped_facts(), on=["source_file", "source_row"])
        shipped = right.groupby("group_id")["shipped_time"].max().rename("shipped_time").reset_index()
        both = left.merge(shipped, on="group_id")
        both = both[both["shipped_time"].notna().to_numpy(dtype=bool)]
        both["hours"] = rules.hours_between(both["order_time"], both["shipped_time"])
        late = both[(both["hours"] > both["promise_hours"]).to_numpy(dtype=bool)]
        return late[["group_id", "key", "platform", "order_time", "shipped_time", "hours", "promise_hours"]].reset_index(drop=True)

    # -- the lists an analyst acts on ----------------------------------------------------------
    def _orders_of(self, category: str, side: str = "left") -> pd.DataFrame:
        rows = self.exceptions(category, side)
        facts = self.order_facts.drop(columns=["order_id"])
        listed = rows.merge(facts, on=["source_file", "source_row"], how="left") if side == "left" else rows
        columns = [c for c in ("key", "platform", "order_time", "order_status", "amount", "detail", "source_file",
                               "source_row") if c in listed.columns]
        listed = listed[columns].rename(columns={"key": "order_id", "amount": "order_amount"})
        return self.relative_files(listed.sort_values(["order_id"], kind="stable").reset_index(drop=True))

    def paid_not_shipped(self) -> pd.DataFrame:
        """Paid, open orders past their promised ship time with no outbound record."""
        return self._orders_of("missing_on_right")

    def shipped_without_order(self) -> pd.DataFrame:
        """Outbound records no platform order explains (a 补发 re-shipment, a private sale, a mistake)."""
        rows = self.exceptions("missing_on_left", "right").merge(
            self.outbound[["source_file", "source_row", "qty", "txn_time", "waybill_no"]].astype({"source_file": "string"}),
            on=["source_file", "source_row"], how="left")
        listed = rows[["key", "qty", "txn_time", "waybill_no", "source_file", "source_row"]].rename(
            columns={"key": "order_id", "txn_time": "shipped_time"})
        return self.relative_files(listed.sort_values("order_id", kind="stable").reset_index(drop=True))

    def quantity_differences(self) -> pd.DataFrame:
        """Orders shipped with another quantity: ordered, shipped, difference (a shortfall is a partial shipment)."""
        groups = self.exceptions("qty_mismatch")
        left = groups[groups["side"] == "left"].merge(self.order_facts, on=["source_file", "source_row"], how="left")
        right = groups[groups["side"] == "right"].merge(self._shipped_facts(), on=["source_file", "source_row"], how="left")
        shipped = right.groupby("group_id")["shipped_qty"].sum().rename("shipped_qty").reset_index()
        table = left.merge(shipped, on="group_id", how="left")
        table["difference"] = table["shipped_qty"] - table["ordered_qty"]
        table["partial"] = table["difference"] < 0
        return table[["key", "platform", "ordered_qty", "shipped_qty", "difference", "partial", "amount"]].rename(
            columns={"key": "order_id", "amount": "order_amount"}).sort_values("order_id", kind="stable").reset_index(drop=True)

    def sku_differences(self) -> pd.DataFrame:
        """Orders whose warehouse shipped other SKUs than ordered (same total quantity)."""
        return self._orders_of("sku_mismatch")

    def shipped_after_cancellation(self) -> pd.DataFrame:
        """Orders the platform closed that the warehouse shipped anyway (get the goods back)."""
        return self._orders_of("status_mismatch")

    def shipped_late(self) -> pd.DataFrame:
        """Orders shipped after the platform's promised time (risk of a late-shipment penalty)."""
        late = self.late_shipments()
        listed = set(self.exceptions("shipped_late")["key"])
        return late[late["key"].isin(listed)].rename(columns={"key": "order_id"}).drop(columns="group_id").reset_index(drop=True)

    def not_yet_due(self) -> pd.DataFrame:
        """Open orders still inside their promised time, and closed orders the warehouse never got:
        nothing to do now; an open order carries into the next run."""
        return self._orders_of(_TIMING)

    def not_picked_up(self) -> pd.DataFrame:
        """Waybills the warehouse shipped that the carrier's pickup records never name (find the parcel)."""
        return self._pickup_rows("not_picked_up")

    def pickup_count_differences(self) -> pd.DataFrame:
        """Orders whose parcels the carrier picked up in another number of pieces."""
        return self._pickup_rows("pickup_count_mismatch")

    def _pickup_rows(self, category: str) -> pd.DataFrame:
        rows = self.exceptions(category, "right").merge(
            self.outbound_lines[["source_file", "source_row", "txn_time", "waybill_no", "carrier"]].astype({"source_file": "string"}),
            on=["source_file", "source_row"], how="left")
        listed = rows[["key", "waybill_no", "carrier", "txn_time", "detail", "source_file", "source_row"]].rename(
            columns={"key": "order_id", "txn_time": "shipped_time"})
        return self.relative_files(listed.sort_values(["order_id", "waybill_no"], kind="stable").reset_index(drop=True))

    def split_parcels(self) -> pd.DataFrame:
        """Orders that left the warehouse in several parcels (for the courier check: several fees)."""
        return rules.parcels(self.outbound_lines, self.settings)[0]

    def merged_parcels(self) -> pd.DataFrame:
        """Parcels that carry several orders (one fee for several orders)."""
        return rules.parcels(self.outbound_lines, self.settings)[1]

    # -- figures --------------------------------------------------------------------------------
    def problems(self) -> pd.DataFrame:
        """The exception rows that need action (timing and closed orders left out): for the charts."""
        table = self.exception_table
        return table[(table["category"] != _TIMING).fillna(False).to_numpy(dtype=bool)]

    def by_category(self) -> pd.DataFrame:
        """Orders per category with the order money at stake."""
        rows = []
        problems = self.problems()
        for code, part in problems.groupby("category", sort=True):
            orders = part.drop_duplicates("group_id") if part["group_id"].notna().all() else part
            rows.append({"category": code, "label": self.labels.get(code, code), "orders": len(orders),
                         "order_amount": total(part.loc[(part["side"] == "left").to_numpy(dtype=bool), "amount"])})
        return pd.DataFrame(rows, columns=["category", "label", "orders", "order_amount"])

    def kpis(self) -> dict[str, Any]:
        """Headline figures: rows per side, matched, then each list's size and money."""
        summary = self.result.summary
        return {
            "Order rows 订单行数": len(self.order_lines),
            "Orders 订单数": summary.sides["left"].rows,
            "Outbound rows 出库行数": len(self.outbound_lines),
            "Matched orders 已核对": summary.sides["left"].matched_rows,
            "Auto-match rate 自动核对率": self.auto_match_rate,
            "Paid, not shipped 已付款未发货": len(self.paid_not_shipped()),
            "Not shipped money 未发货金额": self.amount("missing_on_right", "left"),
            "Shipped without order 无订单出库": len(self.shipped_without_order()),
            "Quantity differences 数量不符": len(self.quantity_differences()),
            "Shipped after cancellation 取消后出库": len(self.shipped_after_cancellation()),
            "Shipped late 超时发货": len(self.shipped_late()),
            "Not picked up 已出库未揽收": len(self.not_picked_up()),
            "Pickup count differs 揽收件数不符": len(self.pickup_count_differences()),
            "Not yet due / closed 未到期或已关闭": len(self.not_yet_due()),
            "Carried in 上期结转": len((self.near or {}).get("carried", ())),
        }
