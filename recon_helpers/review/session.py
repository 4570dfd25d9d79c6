"""A review session: the queue of one check's exceptions and every action on it, without any widget.

The app (:mod:`recon_helpers.review.app`) is buttons around this object, and the tests drive it directly.
Every action turns into decisions appended to the journal (:mod:`.journal`) and the queue is replayed from
the journal (:mod:`.state`), so what the session shows is exactly what a re-run will show.
"""
from __future__ import annotations

import datetime as dt
import getpass
import uuid
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from recon_helpers.review import journal
from recon_helpers.review.carry import is_closed, opening_items
from recon_helpers.review.errors import DecisionRefused
from recon_helpers.review.items import exception_items
from recon_helpers.review.journal import Decision, RowRef
from recon_helpers.review.policy import ReviewPolicy, load_policy
from recon_helpers.review.state import ReviewState, replay
from recon_helpers.review.workspace import Workspace

_ZERO = Decimal("0.00")
#: fields compared side by side for a candidate, in this order (those present in either row)
COMPARE_FIELDS = ("side", "key", "amount", "date", "counterparty", "descriptor", "category", "source_file",
                  "source_row", "detail")


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None and not pd.isna(value) else _ZERO


class ReviewSession:
    """The review of one check (scenario, run, period) in one workspace, acting as ``actor``."""

    def __init__(self, check: Any, workspace: Workspace | str | None = None, *, actor: str | None = None,
                 policy: ReviewPolicy | None = None):
        self.check = check
        self.workspace = Workspace.of(workspace, data_dir=check.data_dir)
        self.actor = (actor or getpass.getuser()).strip()
        self.policy = policy or load_policy(workspace_folder=self.workspace.folder)
        self.scenario, self.run, self.period = check.scenario.name, check.run, str(check.period)
        self._base = exception_items(check)
        self.refresh()

    # -- state ----------------------------------------------------------------------------------
    def refresh(self) -> ReviewState:
        """Re-read the journal (another kernel may have written) and replay it on the queue."""
        where = {"scenario": self.scenario, "run": self.run, "period": self.period}
        items = self._with_opening(opening_items(self.workspace, **where))
        items["opening"] = items["opened_in"] != self.period
        self.state = replay(items, journal.read(self.workspace, **where), journal.read_rows(self.workspace, **where))
        self.closed = is_closed(self.workspace, **where)
        return self.state

    def _with_opening(self, opening: pd.DataFrame) -> pd.DataFrame:
        """This period's items plus the previous close's open items; a row in both keeps its older history."""
        base = self._base.assign(history="")
        if not len(opening):
            return base
        carried = opening.set_index("fingerprint")
        again = base["fingerprint"].isin(carried.index)
        base.loc[again, "opened_in"] = [carried.at[fp, "opened_in"] for fp in base.loc[again, "fingerprint"]]
        base.loc[again, "history"] = [carried.at[fp, "history"] for fp in base.loc[again, "fingerprint"]]
        only = opening[~opening["fingerprint"].isin(base["fingerprint"])]
        only = only.assign(label=[self.check.labels.get(c, c) for c in only["category"]],
                           candidates=[[] for _ in range(len(only))], rule=None, group_id=None, counterparty="",
                           date=None, age_days=None, source_file_abs="")
        return pd.concat([base, only[[c for c in base.columns if c in only.columns]]], ignore_index=True)

    @property
    def items(self) -> pd.DataFrame:
        return self.state.items

    @property
    def stale(self) -> pd.DataFrame:
        """Decisions not applied because their rows changed or vanished (see :mod:`.state`)."""
        return self.state.stale

    def item(self, fingerprint: str) -> pd.Series:
        found = self.items[self.items["fingerprint"] == fingerprint]
        if not len(found):
            raise DecisionRefused(f"no row with fingerprint {fingerprint} in the queue of {self.scenario} {self.run} "
                                  f"{self.period}; refresh the queue")
        return found.iloc[0]

    def _items(self, fingerprints: Iterable[str]) -> list[pd.Series]:
        """The rows an action is about, as the journal has them now (another kernel may have decided since)."""
        fps = list(dict.fromkeys(fingerprints))
        if not fps:
            raise DecisionRefused("select at least one row first")
        self.refresh()
        return [self.item(fp) for fp in fps]

    # -- the queue ------------------------------------------------------------------------------
    def queue(self, *, category: str | Iterable[str] | None = None, status: str | Iterable[str] | None = ("open", "waiting"),
              side: str | None = None, min_amount: Decimal | None = None, max_amount: Decimal | None = None,
              date_from: dt.date | None = None, date_to: dt.date | None = None, counterparty: str | None = None,
              text: str | None = None, sort: str = "amount", descending: bool = True) -> pd.DataFrame:
        """The items that pass every filter given, sorted (``sort`` column; ties by key, fingerprint).

        Amount bounds compare ``|amount|``; ``counterparty`` and ``text`` are case-insensitive substrings
        (text searches key, descriptor and detail).
        """
        q = self.items
        keep = pd.Series(True, index=q.index)
        if category:
            keep &= q["category"].isin([category] if isinstance(category, str) else list(category))
        if status:
            keep &= q["status"].isin([status] if isinstance(status, str) else list(status))
        if side:
            keep &= q["side"] == side
        magnitude = q["amount"].map(lambda a: abs(_money(a)))
        if min_amount is not None:
            keep &= magnitude >= Decimal(str(min_amount))
        if max_amount is not None:
            keep &= magnitude <= Decimal(str(max_amount))
        dates = pd.to_datetime(q["date"], errors="coerce")
        if date_from is not None:
            keep &= (dates >= pd.Timestamp(date_from)).fillna(False)
        if date_to is not None:
            keep &= (dates <= pd.Timestamp(date_to)).fillna(False)
        if counterparty:
            keep &= q["counterparty"].astype(str).str.contains(counterparty, case=False, regex=False)
        if text:
            hay = q["key"].astype(str) + " " + q["descriptor"].astype(str) + " " + q["detail"].astype(str)
            keep &= hay.str.contains(text, case=False, regex=False)
        out = q[keep.to_numpy(dtype=bool)]
        order = out.assign(_abs=magnitude[keep.to_numpy(dtype=bool)]) if sort == "amount" else out
        by = "_abs" if sort == "amount" else sort
        order = order.sort_values([by, "key", "fingerprint"], ascending=[not descending, True, True], kind="stable",
                                  na_position="last")
        return order.drop(columns=["_abs"], errors="ignore").reset_index(drop=True)

    def running_difference(self, fingerprints: Iterable[str]) -> Decimal:
        """Σ left − Σ other sides of the selected rows: 0.00 means they balance."""
        total = _ZERO
        for it in (self.item(fp) for fp in dict.fromkeys(fingerprints)):
            total += _money(it["amount"]) if it["side"] == "left" else -_money(it["amount"])
        return total

    def candidates(self, fingerprint: str) -> pd.DataFrame:
        """The row and each engine candidate side by side (one column each) with ``differs`` per field."""
        it = self.item(fingerprint)
        columns = {"selected": it}
        for n, cand in enumerate(it["candidates"], start=1):
            fp = cand.get("fingerprint")
            row = self.item(fp) if fp and (self.items["fingerprint"] == fp).any() else pd.Series(
                {"side": cand["side"], "source_file": cand["source_file"], "source_row": cand["source_row"],
                 "detail": "already linked by the engine"})
            columns[f"candidate {n} ({cand['score']:g})"] = row
        table = pd.DataFrame({name: [row.get(f) for f in COMPARE_FIELDS] for name, row in columns.items()},
                             index=list(COMPARE_FIELDS))
        table["differs"] = [len({str(v) for v in table.loc[f].to_list()}) > 1 for f in table.index]
        return table

    def reason(self, fingerprint: str) -> str:
        """The engine's reason for this exception: its rule and detail."""
        it = self.item(fingerprint)
        rule = f"[{it['rule']}] " if isinstance(it.get("rule"), str) and it["rule"] else ""
        return f"{it['label']}: {rule}{it['detail']}"

    # -- actions --------------------------------------------------------------------------------
    def _decision(self, action: str, rows: list[pd.Series], **fields: Any) -> Decision:
        return Decision(action=action, actor=self.actor, period=self.period, scenario=self.scenario, run=self.run,
                        rows=tuple(RowRef.of(r) for r in rows), **fields)

    def _save(self, decisions: list[Decision]) -> list[Decision]:
        journal.append(self.workspace, decisions)
        self.refresh()
        return decisions

    def _open(self, rows: list[pd.Series]) -> None:
        settled = [f"{r['key']} ({r['resolution']})" for r in rows if r["status"] == "resolved"]
        if settled:
            raise DecisionRefused(f"already settled: {', '.join(settled)}; undo that decision first")

    def match(self, fingerprints: Iterable[str], *, reason_code: str | None = None, note: str = "",
              action: str = "match", detail: dict[str, Any] | None = None) -> Decision:
        """Settle left and right rows together (n to m). A non-zero running difference is refused unless
        ``reason_code`` writes it off (a code the policy lets this person use for a match of that size)."""
        rows = self._items(fingerprints)
        self._open(rows)
        sides = {r["side"] for r in rows}
        if "left" not in sides or len(sides) < 2:
            raise DecisionRefused("a match needs rows from both sides: select at least one left and one right row")
        difference = self.running_difference(r["fingerprint"] for r in rows)
        if difference != _ZERO:
            if not reason_code:
                raise DecisionRefused(f"the selected rows differ by {difference}: not saved. Select rows that balance, "
                                      "or choose a reason code that writes the difference off")
            self.policy.allow(reason_code, action="match", person=self.actor, amount=difference)
        (d,) = self._save([self._decision(action, rows, reason_code=reason_code if difference else None, note=note,
                                          amount=difference, detail=detail or {})])
        return d

    def accept(self, fingerprint: str, candidate: str | None = None, *, reason_code: str | None = None,
               note: str = "") -> Decision:
        """Accept the engine's candidate (the best open one unless ``candidate`` names one) for this row."""
        it = self.item(fingerprint)
        open_fps = set(self.items.loc[self.items["status"] != "resolved", "fingerprint"])
        offered = [c for c in it["candidates"] if c.get("fingerprint") in open_fps and c["side"] != it["side"]]
        if candidate is None:
            if not offered:
                raise DecisionRefused(f"{it['key']}: the engine offers no open candidate on the other side; "
                                      "match by hand or write it off")
            candidate = offered[0]["fingerprint"]
        elif candidate not in {c["fingerprint"] for c in offered}:
            raise DecisionRefused(f"{it['key']}: that row is not an open candidate of this exception")
        return self.match([fingerprint, candidate], reason_code=reason_code, note=note, action="accept",
                          detail={"engine": self.reason(fingerprint)})

    def write_off(self, fingerprints: Iterable[str], *, reason_code: str, note: str = "") -> list[Decision]:
        """Write each selected row off with a reason code (one decision per row, saved all or none)."""
        rows = self._items(fingerprints)
        self._open(rows)
        for r in rows:
            self.policy.allow(reason_code, action="write_off", person=self.actor, amount=_money(r["amount"]))
        batch = uuid.uuid4().hex
        return self._save([self._decision("write_off", [r], reason_code=reason_code, note=note, amount=_money(r["amount"]),
                                          detail={"batch": batch}) for r in rows])

    def adjust(self, fingerprints: Iterable[str], *, reason_code: str, amount: Decimal | None = None,
               note: str = "") -> Decision:
        """Settle the selected rows by booking an adjustment (default: their running difference)."""
        rows = self._items(fingerprints)
        self._open(rows)
        booked = _money(amount) if amount is not None else self.running_difference(r["fingerprint"] for r in rows)
        self.policy.allow(reason_code, action="adjust", person=self.actor, amount=booked)
        (d,) = self._save([self._decision("adjust", rows, reason_code=reason_code, note=note, amount=booked)])
        return d

    def split(self, fingerprint: str, parts: Iterable[Decimal | str], *, note: str = "") -> Decision:
        """Split one row into parts that sum to its amount (e.g. one bank credit paying two invoices); each
        part becomes an open row of its own, to match or write off."""
        (row,) = self._items([fingerprint])
        self._open([row])
        try:
            amounts = [_money(Decimal(str(p).strip().replace(",", ""))) for p in parts]
        except InvalidOperation:
            raise DecisionRefused(f"the parts {', '.join(map(str, parts))} are not all amounts; write them like 30.00, 14.00") from None
        if len(amounts) < 2:
            raise DecisionRefused("a split needs at least two parts")
        if sum(amounts, _ZERO) != _money(row["amount"]):
            raise DecisionRefused(f"the parts sum to {sum(amounts, _ZERO)}, not the row's {_money(row['amount'])}: not saved")
        (d,) = self._save([self._decision("split", [row], note=note, amount=_money(row["amount"]),
                                          detail={"parts": [str(a) for a in amounts]})])
        return d

    def assign(self, fingerprints: Iterable[str], person: str, *, note: str = "") -> Decision:
        """Give the selected rows to ``person`` to resolve (they stay open)."""
        if not person or not person.strip():
            raise DecisionRefused("say who to assign the rows to")
        (d,) = self._save([self._decision("assign", self._items(fingerprints), target=person.strip(), note=note)])
        return d

    def comment(self, fingerprints: Iterable[str], text: str) -> Decision:
        """Add a comment to the selected rows (they stay open)."""
        if not text or not text.strip():
            raise DecisionRefused("write the comment first")
        (d,) = self._save([self._decision("comment", self._items(fingerprints), note=text.strip())])
        return d

    def wait(self, fingerprints: Iterable[str], *, note: str = "") -> Decision:
        """Mark the selected rows as waiting for the counterparty (explained, still open, carried forward)."""
        rows = self._items(fingerprints)
        self._open(rows)
        (d,) = self._save([self._decision("wait", rows, note=note)])
        return d

    def undo(self, decision_id: str | None = None, *, note: str = "") -> list[Decision]:
        """Take back a decision (default: this person's latest, with the rest of its bulk action)."""
        decisions = journal.read(self.workspace, scenario=self.scenario, run=self.run, period=self.period)
        active = decisions[~decisions["decision_id"].isin(self.state.undone)
                           & ~decisions["action"].isin(["undo", "close", "reopen"])]
        if decision_id is None:
            mine = active[active["actor"] == self.actor]
            if not len(mine):
                raise DecisionRefused(f"{self.actor} has nothing to undo in {self.scenario} {self.run} {self.period}")
            decision_id = mine["decision_id"].iloc[-1]
        target = active[active["decision_id"] == decision_id]
        if not len(target):
            raise DecisionRefused(f"decision {decision_id} is not in force (unknown, or already undone)")
        batch = journal_batch(target["detail"].iloc[0])
        ids = [decision_id] if batch is None else [i for i, det in zip(active["decision_id"], active["detail"])
                                                   if journal_batch(det) == batch]
        return self._save([self._decision("undo", [], target=i, note=note) for i in ids])

    # -- figures --------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Items per status, plus stale decisions."""
        by = self.items["status"].value_counts()
        out = {s: int(by.get(s, 0)) for s in ("open", "waiting", "resolved")}
        out["stale decisions"] = len(self.stale)
        return out

    def __repr__(self) -> str:
        return f"ReviewSession({self.scenario} {self.run} {self.period}, {self.counts()})"


def journal_batch(detail: Any) -> str | None:
    """The bulk-action id a decision's detail JSON carries, if any."""
    import json

    if not isinstance(detail, str) or not detail:
        return None
    try:
        return json.loads(detail).get("batch")
    except (ValueError, AttributeError):
        return None
