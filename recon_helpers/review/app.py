"""The review app: ipywidgets around a :class:`~recon_helpers.review.session.ReviewSession`.

A queue grid (itables' DataTables widget: sorting, paging and row selection made for large tables, so
tens of thousands of exceptions page without lag) filtered by category, status, side, amount, date,
counterparty and text; the selected rows' running difference; the first selected row's engine
candidates side by side with differing fields highlighted, its engine reason and remembered
suggestions; action buttons for every decision, on all selected rows at once; and a plotly chart of
open items by category and age that follows the queue. Every widget is an attribute, so tests drive it
without a mouse; people can too: Tab moves between the widgets, the arrow keys move through the grid
(DataTables' KeyTable), shift-click selects a range of rows, and every button has a tooltip.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any, Callable

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go
from IPython.display import display
from itables.widget import ITable

from recon_helpers.errors import ReconError
from recon_helpers.review import journal
from recon_helpers.review.errors import DecisionRefused
from recon_helpers.review.learning import suggest
from recon_helpers.review.session import ReviewSession
from recon_helpers.review.summary import ReviewSummary

#: queue columns shown in the grid, in order
GRID_COLUMNS = ["label", "side", "key", "amount", "date", "age_days", "counterparty", "status", "assignee", "notes",
                "opened_in"]
#: age buckets of the chart: (label, lowest age in days)
AGE_BUCKETS = (("0-30 天", 0), ("31-60 天", 31), ("61-90 天", 61), (">90 天", 91))
_ALL = "(all 全部)"


def _decimal(text: str, name: str) -> Decimal | None:
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ReconError(f"{name}: {text!r} is not an amount; write it like 12.50") from None


class ReviewApp:
    """The widget app of one review session (see the module docstring)."""

    def __init__(self, session: ReviewSession):
        self.session = session
        self.queue_frame = pd.DataFrame()
        self.selected: list[str] = []
        self._build()
        self.refresh()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        s = self.session
        categories = sorted(set(zip(s.items["label"], s.items["category"])))
        self.category = w.Dropdown(options=[(_ALL, None), *categories], description="类别 category")
        self.status = w.ToggleButtons(options=[("待处理 open", "open"), ("等待 waiting", "waiting"),
                                               ("已处理 resolved", "resolved"), ("全部 all", None)], value="open",
                                      description="状态 status")
        self.side = w.Dropdown(options=[(_ALL, None), ("left", "left"), ("right", "right")], description="side")
        self.min_amount = w.Text(placeholder="min", description="金额 ≥")
        self.max_amount = w.Text(placeholder="max", description="金额 ≤")
        self.date_from = w.DatePicker(description="日期 from")
        self.date_to = w.DatePicker(description="日期 to")
        self.counterparty = w.Text(placeholder="e.g. 顺丰", description="对方 party")
        self.text = w.Text(placeholder="key, memo, detail", description="搜索 search")
        filters = [self.category, self.status, self.side, self.min_amount, self.max_amount, self.date_from,
                   self.date_to, self.counterparty, self.text]
        for f in filters:
            f.observe(lambda _change: self.refresh(), names="value")

        self.grid = ITable(pd.DataFrame(columns=GRID_COLUMNS), select={"style": "multi+shift"}, keys=True, maxBytes=0,
                           pageLength=10, classes="display compact nowrap")
        self.grid.observe(self._on_select, names="selected_rows")
        self.difference = w.HTML()
        self.candidates = w.HTML()
        self.suggestions = w.HTML()
        self.message = w.HTML()
        self.stale = w.HTML()

        self.actor = w.Text(value=s.actor, description="我是 I am")
        self.actor.observe(self._on_actor, names="value")
        self.reason_code = w.Dropdown(description="原因 reason")
        self.note = w.Text(placeholder="why 说明", description="说明 note")
        self.person = w.Text(placeholder="name 姓名", description="指派 to")
        self.parts = w.Text(placeholder="e.g. 30.00, 14.00", description="拆分 parts")
        self.buttons: dict[str, w.Button] = {}
        for name, label, style, tip in (
            ("accept", "接受候选 Accept", "success", "accept the engine's best open candidate of the first selected row"),
            ("match", "手工匹配 Match", "success", "match the selected rows (n to m); a difference needs a reason code"),
            ("write_off", "核销 Write off", "warning", "write each selected row off with the reason code"),
            ("adjust", "调整 Adjust", "warning", "settle the selected rows with an adjustment of their difference"),
            ("split", "拆分 Split", "", "split the one selected row into the amounts under 拆分 parts"),
            ("assign", "指派 Assign", "info", "assign the selected rows to the person named"),
            ("comment", "备注 Comment", "", "add the note to the selected rows"),
            ("wait", "等待对方 Waiting", "info", "mark the selected rows as waiting for the counterparty"),
            ("undo", "撤销 Undo", "danger", "take back your latest decision (a whole bulk action)"),
            ("export", "导出 Export journal", "", "write the journal as journal.xlsx into the workspace folder"),
            ("reload", "刷新 Reload", "", "read the journal again (another notebook may have decided since)"),
        ):
            button = w.Button(description=label, button_style=style, tooltip=tip)
            button.on_click(self._action(name))
            self.buttons[name] = button

        self.chart = go.FigureWidget(
            data=[go.Bar(name=label, x=[], y=[]) for label, _ in AGE_BUCKETS] + [go.Bar(name="no date", x=[], y=[])],
            layout=go.Layout(barmode="stack", title="Open items by category and age 未结项目（按类别、账龄）",
                             height=320, margin={"l": 40, "r": 10, "t": 40, "b": 80}, yaxis_title="rows"))

        self.widget = w.VBox([
            w.HTML(f"<h3>复核 Review · {escape(s.scenario)} {escape(s.run)} {escape(s.period)}</h3>"),
            w.HBox([self.category, self.side, self.counterparty]), self.status,
            w.HBox([self.min_amount, self.max_amount, self.text]), w.HBox([self.date_from, self.date_to]),
            self.grid, self.difference,
            w.HBox([self.actor, self.reason_code, self.note]), w.HBox([self.person, self.parts]),
            w.HBox(list(self.buttons.values())), self.message, self.stale,
            w.HBox([self.candidates, self.suggestions]), self.chart,
        ])
        self._refresh_reason_codes()

    # -- state -> widgets -----------------------------------------------------------------------
    def filters(self) -> dict[str, Any]:
        """The session.queue() arguments the filter widgets say."""
        return {"category": self.category.value, "status": self.status.value, "side": self.side.value,
                "min_amount": _decimal(self.min_amount.value, "金额 ≥"), "max_amount": _decimal(self.max_amount.value, "金额 ≤"),
                "date_from": self.date_from.value, "date_to": self.date_to.value,
                "counterparty": self.counterparty.value.strip() or None, "text": self.text.value.strip() or None}

    def refresh(self) -> None:
        """Re-filter the queue, clear the selection, redraw the grid and the chart."""
        try:
            self.queue_frame = self.session.queue(**self.filters())
        except ReconError as exc:
            self._say(str(exc), ok=False)
            return
        shown = self.queue_frame.reindex(columns=GRID_COLUMNS).assign(
            amount=[str(a) for a in self.queue_frame["amount"]],
            date=[d.isoformat() if isinstance(d, dt.date) else "" for d in self.queue_frame["date"]])
        self.selected = []
        self.grid.update(shown.reset_index(drop=True), selected_rows=[])
        self._show_stale()
        self._show_selection()
        self._redraw_chart()

    def _redraw_chart(self) -> None:
        open_items = self.session.items[self.session.items["status"] != "resolved"]
        labels = sorted(open_items["label"].unique())
        ages = pd.to_numeric(open_items["age_days"], errors="coerce")
        with self.chart.batch_update():
            for trace, (name, low) in zip(self.chart.data, AGE_BUCKETS):
                high = next((b for _, b in AGE_BUCKETS if b > low), None)
                inside = (ages >= low) & ((ages < high) if high is not None else True)
                trace.x = labels
                trace.y = [int((inside & (open_items["label"] == lab)).sum()) for lab in labels]
            undated = self.chart.data[-1]
            undated.x = labels
            undated.y = [int((ages.isna() & (open_items["label"] == lab)).sum()) for lab in labels]

    def _show_stale(self) -> None:
        stale = self.session.stale
        self.stale.value = "" if stale.empty else (
            f"<b style='color:crimson'>{len(stale)} stale decisions, not applied 失效决定</b> (their rows changed or are "
            "gone; decide again):<ul>" + "".join(
                f"<li>{escape(str(r.actor))} {escape(str(r.action))} {escape(str(r.note or ''))}: {escape(r.why_stale)}</li>"
                for r in stale.head(10).itertuples()) + "</ul>")

    def _refresh_reason_codes(self) -> None:
        codes = {}
        for action in ("write_off", "adjust", "match"):
            codes.update(self.session.policy.codes_for(action, self.session.actor))
        self.reason_code.options = [("(none 无)", None), *((f"{c} · {label}", c) for c, label in codes.items())]

    def _on_actor(self, change: dict) -> None:
        self.session.actor = (change["new"] or "").strip()
        self._refresh_reason_codes()

    def _on_select(self, change: dict) -> None:
        rows = [i for i in (change["new"] or []) if 0 <= i < len(self.queue_frame)]
        self.selected = self.queue_frame["fingerprint"].iloc[rows].tolist()
        self._show_selection()

    def select(self, rows: list[int]) -> None:
        """Select queue rows by their position in the grid (what a click does)."""
        self.grid.selected_rows = list(rows)

    def _show_selection(self) -> None:
        if not self.selected:
            self.difference.value = "<i>select rows in the grid 在表格中选择行</i>"
            self.candidates.value = self.suggestions.value = ""
            return
        diff = self.session.running_difference(self.selected)
        colour = "green" if diff == 0 else "crimson"
        self.difference.value = (f"selected 已选 <b>{len(self.selected)}</b> rows · running difference 差额 "
                                 f"<b style='color:{colour}'>{diff}</b> (left − right)")
        first = self.selected[0]
        self.candidates.value = self._candidates_html(first)
        offered = suggest(self.session, first)
        self.suggestions.value = "" if offered.empty else (
            "<b>Suggestions 建议</b><ul>" + "".join(f"<li>{escape(str(r.key))} {r.amount}: {escape(r.reason)}</li>"
                                                  for r in offered.head(5).itertuples()) + "</ul>")

    def _candidates_html(self, fingerprint: str) -> str:
        table = self.session.candidates(fingerprint)
        differs = table.pop("differs")
        styled = table.astype(str).style.apply(
            lambda row: ["background:#ffe08a" if differs[row.name] else "" for _ in row], axis=1)
        return (f"<b>{escape(self.session.reason(fingerprint))}</b>" + styled.to_html())

    # -- actions --------------------------------------------------------------------------------
    def _action(self, name: str) -> Callable[[w.Button], None]:
        def run(_button: w.Button) -> None:
            s, rows, code, note = self.session, list(self.selected), self.reason_code.value, self.note.value.strip()
            try:
                if name == "accept":
                    s.accept(rows[0] if rows else "", reason_code=code, note=note)
                elif name == "match":
                    s.match(rows, reason_code=code, note=note)
                elif name == "write_off":
                    s.write_off(rows, reason_code=code, note=note)
                elif name == "adjust":
                    s.adjust(rows, reason_code=code, note=note)
                elif name == "split":
                    if len(rows) != 1:
                        raise DecisionRefused("select exactly one row to split")
                    s.split(rows[0], [p for p in self.parts.value.split(",") if p.strip()], note=note)
                elif name == "assign":
                    s.assign(rows, self.person.value, note=note)
                elif name == "comment":
                    s.comment(rows, note)
                elif name == "wait":
                    s.wait(rows, note=note)
                elif name == "undo":
                    s.undo()
                elif name == "reload":
                    s.refresh()
                elif name == "export":
                    path = journal.export(s.workspace, s.workspace.folder / "journal.xlsx")
                    self._say(f"journal written to {path}")
                    return
            except ReconError as exc:
                self._say(str(exc), ok=False)
                return
            self.note.value = self.parts.value = ""
            self.refresh()
            self._say(f"saved 已保存: {name} on {len(rows)} rows" if name != "undo" else "undone 已撤销")
        return run

    def _say(self, text: str, *, ok: bool = True) -> None:
        colour = "green" if ok else "crimson"
        self.message.value = f"<span style='color:{colour}'>{escape(text)}</span>"

    # -- display --------------------------------------------------------------------------------
    def summary(self) -> ReviewSummary:
        return ReviewSummary(self.session)

    def _ipython_display_(self) -> None:
        display(self.summary())  # the part a batch report keeps: what is decided and what is open
        display(self.widget)

    def __repr__(self) -> str:
        return f"ReviewApp({self.session!r})"


def open_review(check: Any, *, workspace: Any = None, actor: str | None = None) -> ReviewApp:
    """The review app of ``check`` on ``workspace`` (None: beside the data folder); display it in a cell."""
    return ReviewApp(ReviewSession(check, workspace, actor=actor))
