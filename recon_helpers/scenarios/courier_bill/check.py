"""The courier-bill check: carriers from the registry entry, the priced shipments, the lists to act on."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from recon_helpers import cycles
from recon_helpers.canonical import MONEY_DTYPE
from recon_helpers.cycles import Cycle
from recon_helpers.engine.cascade import match
from recon_helpers.errors import MatchInputError, UsageError
from recon_helpers.periods import Period
from recon_helpers.scenarios.base import Check, total
from recon_helpers.scenarios.courier_bill import disputes, platform, pricing
from recon_helpers.scenarios.courier_bill.rate_book import RateBook, book_files, read_rate_book
from recon_helpers.scenarios.courier_bill.rate_card import RateCard, load_rate_card
from recon_helpers.scenarios.registry import scenario
from recon_helpers.sources.loading import load
from recon_helpers.sources.result import LoadResult

NAME = "courier_bill"

#: categories of a bill line whose fee differs from the rate card (first failing compare of the recipe)
FEE_CATEGORIES = ("weight_mismatch", "rate_card_violation")
#: the scenario's own categories of a bill line for a parcel we did not send: the engine calls every such
#: line missing_on_left; the check gives it one of these when a reference explains why it was billed
NOT_OURS_REASONS = {
    "return_billed_as_outbound": "退货按寄件计费 — a return waybill (buyer to us) billed as our outbound parcel",
    "cancelled_before_pickup": "取消后计费 — a waybill printed for an order cancelled before pickup, billed anyway",
}
#: every category of a bill line for a parcel we did not send: unexplained, then the explained ones
NOT_OURS_CATEGORIES = ("missing_on_left", *NOT_OURS_REASONS)
#: the references that explain a bill line we did not ship (used when the file is in the data folder)
REFERENCES = ("return_waybills", "outbound")


@dataclass(frozen=True)
class Carrier:
    """A courier: its code, the name our ERP writes in 快递公司 and where its bill lives in a data folder."""

    code: str
    name: str
    aliases: tuple[str, ...]
    bill_file: str
    bill_template: str

    def __str__(self) -> str:
        return f"{self.name} ({self.code}): bill {self.bill_file}, template {self.bill_template}, rate card rate_cards/{self.code}.yaml"

    def _repr_html_(self) -> str:
        return (f"<b>{escape(self.name)}</b> ({escape(self.code)}) &middot; bill <code>{escape(self.bill_file)}</code> "
                f"&middot; template <code>{escape(self.bill_template)}</code> &middot; rate card "
                f"<code>rate_cards/{escape(self.code)}.yaml</code>")

    @classmethod
    def of(cls, code: str) -> Carrier:
        """The carrier for a code (sf, zto, yto, jdl), from the registry entry; a clear error otherwise."""
        settings = scenario(NAME).run_settings(code)
        return cls(settings["carrier"], settings["name"], tuple(settings["aliases"]), settings["bill"], settings["template"])


#: the carrier for a code: ``carrier("zto")``
carrier = Carrier.of


def for_carrier(shipments: pd.DataFrame, which: Carrier | str) -> pd.DataFrame:
    """Our shipments sent with this carrier (the ``carrier`` column holds 快递公司)."""
    which = Carrier.of(which) if isinstance(which, str) else which
    if "carrier" not in shipments.columns:
        raise MatchInputError("the shipments table has no 'carrier' column (快递公司): load erp/shipments.csv with its template")
    names = shipments["carrier"].astype("string").str.strip()
    return shipments[names.isin(which.aliases).fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def priced_shipments(shipments: pd.DataFrame, card: RateCard | RateBook) -> pd.DataFrame:
    """Our shipments with this card's (or book's) carrier, each priced: the recipe's left side.

    With a book, each row is priced by the card of its service in force on its ship date, from its
    warehouse (``origin`` or ``warehouse``), with the volume discount of the month's parcel count.
    """
    ours = for_carrier(shipments, card.carrier)
    if isinstance(card, RateCard):
        return pricing.price(ours, card)
    return card.price(ours, **pricing_options(ours))


def pricing_options(shipments: pd.DataFrame) -> dict[str, Any]:
    """How our shipments feed the rate card: the origin column, and the month's parcel count."""
    return {"origin": "origin" if "origin" in shipments.columns else "warehouse", "monthly_parcels": len(shipments)}


def _book(entry: Any, data_dir: str | Path, run: str) -> RateBook:
    """The carrier's cards in the data folder: ``rate_cards/<carrier>.yaml`` and ``<carrier>_*.yaml``."""
    main = entry.input_path("rate_card", data_dir, run)
    files = book_files(main.parent, run) if main.exists() else []
    return read_rate_book(files) if files else RateBook.of([load_rate_card(main)])


#: where our side comes from: the ERP/WMS shipment list, or the platforms' order exports
OUR_SIDES = ("erp", "platform")


def _platform_side(entry: Any, data_dir: str | Path, bill: pd.DataFrame, run: str) -> tuple[list[LoadResult], pd.DataFrame]:
    """The order exports found in the data folder, as one row per parcel (see :mod:`.platform`)."""
    paths = [entry.input_path(n, data_dir, run) for n in entry.inputs if n.endswith("_orders")]
    found = [p for p in paths if p.exists()]
    if not found:
        raise UsageError(f"our_side='platform' needs the platforms' order exports; none found "
                         f"({', '.join(map(str, paths))})")
    loaded = [load(p) for p in found]
    orders = pd.concat([x.table for x in loaded], ignore_index=True)
    return loaded, platform.platform_shipments(orders, bill)


def check(*, period: str, data_dir: str | Path, carrier: str = "sf", our_side: str = "erp") -> CourierCheck:
    """Load, price and match one carrier's month: the result object the notebook interrogates.

    ``our_side``: ``erp`` (erp/shipments.csv, our own weights) or ``platform`` (the platforms' order
    exports, for a shop without an ERP: parcels priced at the billed weight, see :mod:`.platform`).
    """
    entry = scenario(NAME)
    run = entry.run_parameters(carrier)["carrier"]
    which = Carrier.of(run)
    if our_side not in OUR_SIDES:
        raise UsageError(f"our_side {our_side!r} is unknown: use erp (ERP/WMS shipments) or platform (order exports)")
    bill = load(entry.input_path("bill", data_dir, run), template=which.bill_template)
    if our_side == "erp":
        shipments = load(entry.input_path("shipments", data_dir, run))
        ours = shipments.table
        sources = {"shipments": shipments}
    else:
        loaded, ours = _platform_side(entry, data_dir, bill.table, run)
        shipments = loaded[0]
        sources = {f"orders_{i}" if i else "shipments": x for i, x in enumerate(loaded)}
    book = _book(entry, data_dir, run)
    card = book.cards[0]
    cycle = Cycle.parse(period)
    grace = int(entry.settings.get("grace_days", 3))
    mine = for_carrier(ours, card.carrier)
    options = {**pricing_options(mine), "monthly_parcels": _parcels_in_month(mine, cycle)}
    priced_all = book.price(mine, **options)
    priced, priced_near = _split(priced_all, cycle, grace)
    bill_rows, bill_near = _split(bill.table, cycle, grace)
    result = match(priced, bill_rows, entry.recipes[0])
    inputs = {**sources, "bill": bill}
    for name in REFERENCES:
        path = entry.input_path(name, data_dir, run) if name in entry.inputs else None
        if path is not None and path.exists():
            inputs[name] = load(path)
    return CourierCheck(scenario=entry, period=cycle, data_dir=Path(data_dir), result=result,
                        inputs=inputs, run=run, carrier=which, card=card, priced=priced,
                        settings=dict(entry.settings), book=book, bill_rows=bill_rows,
                        near={"left": priced_near, "right": bill_near}, pricing=options, our_side=our_side)


def _parcels_in_month(shipments: pd.DataFrame, cycle: Cycle) -> int:
    """Our parcels in the calendar month the cycle starts in: the count the volume discount tiers read."""
    if "txn_time" not in shipments.columns:
        return len(shipments)
    days = cycles.day_of(shipments["txn_time"])
    first = cycle.first_day.replace(day=1)
    return int(((days >= first) & (days <= Period(first.year, first.month).last_day)).fillna(True).sum())


def _split(table: pd.DataFrame, cycle: Cycle, grace: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows inside the cycle, rows of the grace window outside it): the first are matched, the second
    tell a timing difference from a missing row."""
    near = cycles.in_window(table, "txn_time", cycle, grace)
    position = cycles.where(near["txn_time"], cycle) if "txn_time" in near.columns else pd.Series(cycles.INSIDE, index=near.index)
    inside = (position == cycles.INSIDE).to_numpy(dtype=bool)
    return near[inside].reset_index(drop=True), near[~inside].reset_index(drop=True)


_LIST_COLUMNS = {"key": "waybill_no", "amount": "amount", "source_file": "source_file", "source_row": "source_row",
                 "detail": "detail"}


@dataclass
class CourierCheck(Check):
    """One carrier's month (see the module docstring of :mod:`recon_helpers.scenarios.courier_bill`)."""

    carrier: Carrier | None = None
    card: RateCard | None = None
    priced: pd.DataFrame | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    book: RateBook | None = None
    bill_rows: pd.DataFrame | None = None
    near: dict[str, pd.DataFrame] = field(default_factory=dict)
    pricing: dict[str, Any] = field(default_factory=dict)
    our_side: str = "erp"

    def __post_init__(self) -> None:
        self._refined: pd.DataFrame | None = None

    @property
    def labels(self) -> dict[str, str]:
        own = {code: text.split(" — ", 1)[0] for code, text in NOT_OURS_REASONS.items()}
        return {**super().labels, **own, **self.scenario.labels}

    # -- refined exceptions --------------------------------------------------------------------
    @property
    def exception_table(self) -> pd.DataFrame:
        """The match's exceptions, with what the references explain: a bill line we did not send
        (the engine's missing_on_left) for one of our return waybills is ``return_billed_as_outbound``,
        for a waybill whose outbound was cancelled ``cancelled_before_pickup`` (each with why in its
        detail); a heavier billed weight within ``weight_tolerance_kg`` is accepted (out of scope)."""
        if self._refined is None:
            self._refined = self._refine()
        return self._refined

    def _waybills_of(self, name: str, statuses: list[str] | None = None) -> dict[str, str]:
        """Normalised waybill -> what the reference says about it (return: 售后单号; outbound: 订单号)."""
        if name not in self.inputs:
            return {}
        table = self.inputs[name].table
        if statuses is not None:
            table = table[table["status"].astype("string").isin(statuses).fillna(False).to_numpy(dtype=bool)]
            shipped = self.inputs[name].table
            still = shipped[~shipped["status"].astype("string").isin(statuses).fillna(False).to_numpy(dtype=bool)]
            table = table[~table["waybill_no"].isin(set(still["waybill_no"].dropna())).to_numpy(dtype=bool)]
        ref = "refund_id" if "refund_id" in table.columns else "order_id"
        keys = _normal_waybills(table["waybill_no"])
        return {k: str(v) for k, v in zip(keys, table[ref].astype("string").fillna("")) if k}

    def _refine(self) -> pd.DataFrame:
        exc = self.result.exceptions.copy().astype({"category": "string", "detail": "string"})
        not_ours = ((exc["category"] == "missing_on_left") & (exc["side"] == "right")).fillna(False).to_numpy(dtype=bool)
        keys = _normal_waybills(exc["key"])
        returns = self._waybills_of("return_waybills")
        cancelled = self._waybills_of("outbound", statuses=list(self.settings.get("cancelled_statuses", ["已取消"])))
        is_return = not_ours & keys.isin(set(returns)).to_numpy(dtype=bool)
        is_cancelled = not_ours & ~is_return & keys.isin(set(cancelled)).to_numpy(dtype=bool)
        exc.loc[is_return, "category"] = "return_billed_as_outbound"
        exc.loc[is_return, "detail"] = [f"退货运单（售后单{returns[k]}）按寄件计费" for k in keys[is_return]]
        exc.loc[is_cancelled, "category"] = "cancelled_before_pickup"
        exc.loc[is_cancelled, "detail"] = [f"订单{cancelled[k]}揽收前已取消（出库单已取消），仍计费" for k in keys[is_cancelled]]
        self._mark_timing(exc, keys)
        tolerance = Decimal(str(self.settings.get("weight_tolerance_kg", "0")))
        if tolerance > 0:
            self._accept_within_tolerance(exc, tolerance)
        return exc

    def _mark_timing(self, exc: pd.DataFrame, keys: pd.Series) -> None:
        """A row missing its counterpart in this cycle whose counterpart is in the grace window just
        outside it (billed on the 1st for a parcel of the 31st): a timing difference, out of scope."""
        exc["timing"] = False
        for side, category, other, what in (("left", "missing_on_right", "right", "账单日期"),
                                            ("right", "missing_on_left", "left", "发货日期")):
            near = self.near.get(other)
            if near is None or not len(near):
                continue
            when = dict(zip(_normal_waybills(near["waybill_no"]), cycles.day_of(near["txn_time"])))
            hit = ((exc["side"] == side) & (exc["category"] == category)).fillna(False).to_numpy(dtype=bool) \
                & keys.isin(set(when)).to_numpy(dtype=bool)
            exc.loc[hit, "category"] = "out_of_scope"
            exc.loc[hit, "detail"] = [f"跨期：{what}{when[k]}不在本期{self.period}，非差异" for k in keys[hit]]
            exc.loc[hit, "timing"] = True

    def timing_differences(self) -> pd.DataFrame:
        """Rows whose counterpart lies just outside this cycle (shown, not counted as missing)."""
        exc = self.exception_table
        rows = exc[exc["timing"].fillna(False).to_numpy(dtype=bool)] if "timing" in exc.columns else exc.iloc[0:0]
        listed = rows[["key", "side", "amount", "detail", "source_file", "source_row"]].rename(columns={"key": "waybill_no"})
        return self.relative_files(listed.reset_index(drop=True))

    def _accept_within_tolerance(self, exc: pd.DataFrame, tolerance: Decimal) -> None:
        """weight_mismatch pairs whose billed weight is at most ``tolerance`` above ours: accepted."""
        pairs = self.fee_pairs(exc[(exc["category"] == "weight_mismatch").fillna(False).to_numpy(dtype=bool)])
        if not len(pairs) or "billed_weight" not in self.bill.columns:
            return
        ours = dict(zip(zip(self.priced["source_file"].astype(str), self.priced["source_row"]), self.priced["chargeable_weight"]))
        billed = dict(zip(self.bill["source_row"], self.bill["billed_weight"]))
        accepted = []
        for g, fs, rs, rb in zip(pairs["group_id"], pairs["source_file_shipment"], pairs["source_row_shipment"],
                                 pairs["source_row_bill"]):
            mine, theirs = ours.get((str(fs), rs)), billed.get(rb)
            if mine is not None and theirs is not None and not pd.isna(mine) and not pd.isna(theirs) \
                    and theirs - mine <= tolerance:
                accepted.append(g)
        hit = exc["group_id"].isin(accepted).fillna(False).to_numpy(dtype=bool) & (exc["category"] == "weight_mismatch").fillna(False).to_numpy(dtype=bool)
        exc.loc[hit, "category"] = "out_of_scope"
        exc.loc[hit, "detail"] = f"计费重量差在{tolerance.normalize():f}kg容差内：按账单接受"

    @property
    def title(self) -> str:
        """``快递账单核对 Courier bill check · 顺丰速运 sf · 2026-10``."""
        return f"{self.scenario.title} · {self.carrier.name} {self.run} · {self.period}"

    @property
    def bill(self) -> pd.DataFrame:
        """The bill lines of this cycle (the whole file for a month's bill)."""
        return self.inputs["bill"].table if self.bill_rows is None else self.bill_rows

    # -- the lists an analyst acts on ----------------------------------------------------------
    def _waybills(self, category: str, side: str) -> pd.DataFrame:
        rows = self.exceptions(category, side)
        cols = [c for c in _LIST_COLUMNS if c in rows.columns]
        listed = rows[cols].rename(columns=_LIST_COLUMNS).sort_values(["waybill_no", "source_row"], kind="stable")
        return self.relative_files(listed.reset_index(drop=True))

    def shipped_not_billed(self) -> pd.DataFrame:
        """Waybills we shipped that the bill does not charge (amount = our expected fee)."""
        return self._waybills("missing_on_right", "left")

    def billed_not_shipped(self) -> pd.DataFrame:
        """Bill lines for waybills we never shipped and no reference explains (amount = billed)."""
        return self._waybills("missing_on_left", "right")

    def charged_twice(self) -> pd.DataFrame:
        """Second (and further) charges of a waybill already on the bill (amount = the extra charge)."""
        return self._waybills("duplicate_on_right", "right")

    def returns_billed_as_outbound(self) -> pd.DataFrame:
        """Bill lines for our return waybills charged as outbound parcels (amount = billed)."""
        return self._waybills("return_billed_as_outbound", "right")

    def cancelled_before_pickup(self) -> pd.DataFrame:
        """Bill lines for waybills of orders cancelled before the courier picked them up (amount = billed)."""
        return self._waybills("cancelled_before_pickup", "right")

    def fee_pairs(self, rows: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per waybill whose bill line differs from the rate card: expected and billed fee.

        The match puts both rows of such a pair in the exceptions (shipment on the left with its expected
        fee, bill line on the right with the billed amount) under one ``group_id``; the category says why.
        """
        rows = self.exceptions(FEE_CATEGORIES) if rows is None else rows
        left = rows[rows["side"] == "left"][["group_id", "key", "amount", "category", "source_file", "source_row"]]
        right = rows[rows["side"] == "right"][["group_id", "amount", "source_file", "source_row"]]
        pairs = left.merge(right, on="group_id", suffixes=("_shipment", "_bill"), how="outer")
        pairs = pairs.astype({"source_file_shipment": "string"})
        pairs = pairs.rename(columns={"key": "waybill_no", "amount_shipment": "expected_fee", "amount_bill": "billed_fee"})
        pairs["difference"] = (pairs["billed_fee"] - pairs["expected_fee"]).astype(pairs["billed_fee"].dtype)
        return pairs.sort_values(["waybill_no", "source_row_bill"], kind="stable").reset_index(drop=True)

    def fee_differences(self) -> pd.DataFrame:
        """Bill lines whose fee differs from the rate card, each with the rate card's calculation.

        ``category`` separates a weight dispute (weight_mismatch) from a price dispute
        (rate_card_violation); ``rate_card`` is the card's own calculation for the parcel we shipped.
        Kept narrow so it reads in a report: the row in the bill is ``source_row_bill``.
        """
        pairs = self.fee_pairs()
        # our rows are found by file and row: several order exports may share row numbers
        ours = self.priced.assign(_at=range(len(self.priced)))[
            ["source_file", "source_row", "_at", "destination", "weight", "chargeable_weight"]].rename(
            columns={"source_file": "source_file_shipment", "source_row": "source_row_shipment"})
        pairs = pairs.merge(ours.astype({"source_file_shipment": "string"}),
                            on=["source_file_shipment", "source_row_shipment"], how="left")
        if "billed_weight" in self.bill.columns:
            billed = self.bill[["source_row", "billed_weight"]].rename(columns={"source_row": "source_row_bill"})
            pairs = pairs.merge(billed, on="source_row_bill", how="left")
        else:
            pairs["billed_weight"] = pd.NA
        shipments = [None if pd.isna(at) else self.priced.iloc[int(at)] for at in pairs["_at"]]
        pairs["rate_card"] = [self._rate_card_line(row) if row is not None else "" for row in shipments]
        pairs["rule"] = [self._rule_line(row, fee, weight) if row is not None else ""
                         for row, fee, weight in zip(shipments, pairs["billed_fee"], pairs["billed_weight"])]
        columns = ["waybill_no", "category", "destination", "chargeable_weight", "billed_weight", "expected_fee",
                   "billed_fee", "difference", "rule", "source_row_bill", "rate_card"]
        return pairs[columns]

    def _rule_line(self, shipment: pd.Series, billed_fee: Any, billed_weight: Any) -> str:
        weight = None if billed_weight is None or pd.isna(billed_weight) else Decimal(billed_weight)
        card, options = self._card_of(shipment)
        return disputes.rule_broken(card, shipment, Decimal(billed_fee), weight, **options)

    def _card_of(self, shipment: pd.Series) -> tuple[RateCard, dict[str, Any]]:
        """The card that priced this shipment, and the quote options it was priced with."""
        options = self.pricing or pricing_options(self.priced)
        origin = shipment.get(options["origin"])
        extra = {"origin": None if origin is None or pd.isna(origin) else origin, "monthly_parcels": options["monthly_parcels"]}
        if self.book is None:
            return self.card, extra
        when = shipment.get("txn_time")
        day = pd.Timestamp(when).date() if when is not None and not pd.isna(when) else None
        service = shipment.get("service")
        return (self.book.card_for(day, None if service is None or pd.isna(service) else service) if day else self.card), extra

    def _rate_card_line(self, shipment: pd.Series) -> str:
        def value(name: str) -> Any:
            v = shipment.get(name)
            return None if v is None or pd.isna(v) else v

        card, options = self._card_of(shipment)
        q = pricing.quote(card, weight=value("weight"), length_cm=value("length_cm"), width_cm=value("width_cm"),
                          height_cm=value("height_cm"), destination=value("destination"), **options)
        return pricing.explain(card, q)

    # -- figures --------------------------------------------------------------------------------
    def overcharge(self) -> Decimal:
        """Money billed that we should not pay: lines for waybills we never shipped (returns and
        cancelled orders included), second charges, and the part of a fee above the rate card."""
        diffs = self.fee_pairs()["difference"]
        above = total(diffs[(diffs > 0).fillna(False).to_numpy(dtype=bool)])
        return self.amount(NOT_OURS_CATEGORIES, "right") + self.amount("duplicate_on_right", "right") + above

    def dispute_list(self) -> pd.DataFrame:
        """Every over-charge of this carrier, one line each, ready to send: waybill, billed, expected,
        difference, reason in Chinese, the rate card's calculation (fee differences only)."""
        parts = [disputes.dispute_rows(frame, name, expected="expected_fee" if "expected_fee" in frame.columns else None)
                 for name, frame in self._not_ours()]
        parts.append(disputes.dispute_rows(self.charged_twice(), "duplicate_on_right"))
        fees = self.fee_differences()
        fees = fees[(fees["difference"] > 0).fillna(False).to_numpy(dtype=bool)]
        fees = fees.assign(reason=[f"{disputes.REASONS[c]}：{r}" for c, r in zip(fees["category"], fees["rule"])])
        parts.append(disputes.dispute_rows(fees, "fee", billed="billed_fee", expected="expected_fee", rate_card="rate_card")
                     .assign(category=fees["category"].to_numpy()))
        table = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
            else pd.DataFrame(columns=disputes.DISPUTE_COLUMNS)
        return table.sort_values(["category", "waybill_no"], kind="stable").reset_index(drop=True)

    def write(self, output_dir: str | Path) -> dict[str, Path]:
        """The run's tables (see :meth:`Check.write`) and ``dispute_<carrier>.xlsx`` to send to the carrier."""
        paths = super().write(output_dir)
        paths["disputes"] = disputes.write_dispute_xlsx(
            self.dispute_list(), self.output_folder(output_dir) / f"dispute_{self.run}.xlsx",
            title=f"{self.carrier.name} {self.period} 运费争议明细", labels=self.labels)
        return paths

    def totals_by_category(self) -> pd.DataFrame:
        """Billed, expected and the difference per outcome: over-charged (>0) and under-charged (<0)."""
        rows = []
        for category, frame, billed, expected in self._outcomes():
            rows.append({"category": category, "label": self.labels.get(category, category), "waybills": len(frame),
                         "billed": total(frame[billed]) if billed else Decimal("0.00"),
                         "expected": total(frame[expected]) if expected else Decimal("0.00")})
        table = pd.DataFrame(rows, columns=["category", "label", "waybills", "billed", "expected"])
        for col in ("billed", "expected"):
            table[col] = pd.array(table[col].tolist(), dtype=MONEY_DTYPE)
        table["difference"] = (table["billed"] - table["expected"]).astype(MONEY_DTYPE)
        return table

    def _outcomes(self):
        yield "billed_as_expected", self._matched_pairs(), "amount", "expected_fee"
        for name, frame in self._not_ours():
            yield name, frame, "amount", "expected_fee" if "expected_fee" in frame.columns else None
        yield "duplicate_on_right", self.charged_twice(), "amount", None
        yield "missing_on_right", self._waybills("missing_on_right", "left"), None, "amount"
        fees = self.fee_pairs()
        for c in FEE_CATEGORIES:
            yield c, fees[fees["category"] == c], "billed_fee", "expected_fee"
        accepted = self.exceptions("out_of_scope")
        if len(accepted):
            yield "out_of_scope", self.fee_pairs(accepted), "billed_fee", "expected_fee"

    def _not_ours(self):
        """(reason, lines) of the bill lines for parcels we did not send: unexplained, returns, cancelled."""
        yield "missing_on_left", self.billed_not_shipped()
        returns = self.returns_billed_as_outbound()
        if self.card.return_fee is not None:  # the contract's return price is what a return should cost
            returns = returns.assign(expected_fee=pd.array([self.card.return_fee] * len(returns), dtype=MONEY_DTYPE))
        yield "return_billed_as_outbound", returns
        yield "cancelled_before_pickup", self.cancelled_before_pickup()

    def _matched_pairs(self) -> pd.DataFrame:
        links = self.result.links
        right = links[links["side"] == "right"][["group_id", "amount"]]
        left = links[links["side"] == "left"][["group_id", "amount"]].rename(columns={"amount": "expected_fee"})
        exc = self.exception_table
        paired = exc["category"].isin([*FEE_CATEGORIES, "out_of_scope"]).fillna(False).to_numpy(dtype=bool)
        excepted = set(exc.loc[paired, "group_id"].dropna())
        pairs = right.merge(left, on="group_id")
        return pairs[~pairs["group_id"].isin(excepted)]

    def totals_by_day(self) -> pd.DataFrame:
        """Per bill day: billed, and the over-charge found on that day's lines."""
        bill = self.bill[["source_row", "txn_time", "amount"]]
        day = pd.to_datetime(bill["txn_time"].astype("datetime64[s]")).dt.date
        over = self.dispute_list()[["source_row_bill", "difference"]].rename(columns={"source_row_bill": "source_row"})
        frame = bill.assign(day=day).merge(over, on="source_row", how="left")
        rows = [{"day": d, "lines": len(part), "billed": total(part["amount"]), "overcharge": total(part["difference"].dropna())}
                for d, part in frame.groupby("day", sort=True)]
        return pd.DataFrame(rows, columns=["day", "lines", "billed", "overcharge"])

    def overcharge_chart(self) -> go.Figure:
        """Bars of the billed money per day with the over-charge found on that day's lines on top."""
        days = self.totals_by_day()
        fair = [float(b - o) for b, o in zip(days["billed"], days["overcharge"])]
        fig = go.Figure([go.Bar(name="billed as due 应付", x=days["day"], y=fair, marker_color="#8c959f"),
                         go.Bar(name="overcharged 多收", x=days["day"], y=[float(o) for o in days["overcharge"]],
                                marker_color="#cf222e")])
        fig.update_layout(barmode="stack", title=f"Over-charges per day 每日多收 · {self.carrier.name}",
                          template="plotly_white", height=380, margin={"l": 40, "r": 20, "t": 50, "b": 40})
        fig.update_yaxes(title_text="CNY 金额")
        return fig

    def waterfall(self) -> go.Figure:
        """From the billed total to what the rate card says we owe: one step per outcome."""
        table = self.totals_by_category()
        billed = total(self.bill["amount"])
        steps = [(row.label, -row.difference) for row in table.itertuples() if row.difference]
        expected = billed + sum((s for _, s in steps), Decimal("0.00"))
        fig = go.Figure(go.Waterfall(
            x=["Billed 账单", *[label for label, _ in steps], "Expected 应付"],
            measure=["absolute", *["relative"] * len(steps), "total"],
            y=[float(billed), *[float(s) for _, s in steps], float(expected)],
            text=[f"{billed:,}", *[f"{s:+,}" for _, s in steps], f"{expected:,}"], textposition="outside"))
        fig.update_layout(title=f"Billed to expected 账单到应付 · {self.carrier.name}", template="plotly_white",
                          height=420, margin={"l": 40, "r": 20, "t": 50, "b": 80}, showlegend=False)
        fig.update_yaxes(title_text="CNY 金额")
        return fig

    @property
    def weights_checked(self) -> bool:
        """Whether billed weights were compared with weights of our own: yes from the ERP shipments;
        not from the platforms' order exports, which carry none (parcels priced at the billed weight)."""
        return self.our_side == "erp"

    def weight_check(self) -> str:
        """The headline figure for weights: were they checked, and to what tolerance. Short, because it
        sits in a figure card beside counts; without our own weights it must say NOT checked rather than
        let an empty weight-dispute list read as "no disputes" (the notebook's introduction says why)."""
        if self.weights_checked:
            return f"已核对 checked (±{self.settings.get('weight_tolerance_kg', '0')} kg)"
        return "未核对 NOT checked (no own weights)"

    def kpis(self) -> dict[str, Any]:
        """The headline figures of the courier check, in the order the report shows them."""
        return {
            "Shipments 发货单数": len(self.priced),
            "Bill lines 账单行数": len(self.bill),
            "Billed total 账单金额": total(self.bill["amount"]).copy_abs(),
            "Expected total 按价目表应付": total(self.priced["expected_fee"]),
            "Matched 已核对": int(self.result.summary.sides["left"].matched_rows),
            "Auto-match rate 自动核对率": self.auto_match_rate,
            "Overcharge 多收金额": self.overcharge(),
            "Disputed lines 争议笔数": len(self.dispute_list()),
            "Weights 重量核对": self.weight_check(),
        }



def _normal_waybills(values: pd.Series) -> pd.Series:
    """Waybill numbers compared alike: trimmed, upper case, without spaces."""
    return values.astype("string").str.strip().str.upper().str.replace(" ", "", regex=False).fillna("")


def summary(*, period: str, data_dir: str | Path, our_side: str = "erp") -> pd.DataFrame:
    """Every carrier's run of the period side by side: bill lines, billed, expected, over-charged (what
    to claim back) and under-charged (shipped, not yet billed: to accrue), exact."""
    rows = []
    for code in scenario(NAME).run_names():
        c = check(period=period, data_dir=data_dir, carrier=code, our_side=our_side)
        under = c.amount("missing_on_right", "left")
        rows.append({"carrier": code, "name": c.carrier.name, "bill_lines": len(c.bill),
                     "billed": total(c.bill["amount"]).copy_abs(), "expected": total(c.priced["expected_fee"]),
                     "overcharged": c.overcharge(), "not_yet_billed": under, "disputed_lines": len(c.dispute_list())})
    table = pd.DataFrame(rows)
    for col in ("billed", "expected", "overcharged", "not_yet_billed"):
        table[col] = pd.array(table[col].tolist(), dtype=MONEY_DTYPE)
    return table
