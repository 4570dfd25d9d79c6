"""What a batch report shows of the review: what was decided, what is stale, what is still open.

It never waits for a click: under papermill the review cell renders this summary (as HTML) and the live
app beside it stays inert.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from typing import Any

import pandas as pd


class ReviewSummary:
    """A snapshot of a :class:`~recon_helpers.review.session.ReviewSession`: counts, decisions, open items."""

    def __init__(self, session: Any):
        self.session = session
        self.counts = session.counts()
        self.items = session.items
        self.applied = session.state.applied
        self.stale = session.stale
        self.closed = session.closed
        self.taken_at = dt.datetime.now(dt.UTC)

    def open_by_category(self) -> pd.DataFrame:
        """Open items (open + waiting) per category: rows and the exact sum of those rows' own amounts.

        An item is one row of one side, so a short payment counts its invoice and its receipt: the
        sum is the money the open rows carry, not the difference the page's figures show (the header
        says so, because a reader compares the two)."""
        open_items = self.items[self.items["status"] != "resolved"]
        rows = [{"category": label, "rows": len(g), "amount": sum((Decimal(str(a)) for a in g["amount"]), Decimal("0.00"))}
                for label, g in open_items.groupby("label", sort=True)]
        return pd.DataFrame(rows, columns=["category", "rows", "amount"])

    def decided(self) -> pd.DataFrame:
        """Decisions in force: when, who, what, reason code, amount, note."""
        cols = ["recorded_at", "actor", "action", "reason_code", "amount", "target", "note"]
        if not len(self.applied):
            return pd.DataFrame(columns=cols)
        decided = self.applied[cols].reset_index(drop=True)
        texts = {c: decided[c].fillna("").astype(str) for c in ("reason_code", "target", "note")}
        return decided.assign(recorded_at=pd.to_datetime(decided["recorded_at"]).dt.strftime("%Y-%m-%d %H:%M UTC"),
                              amount=decided["amount"].map(lambda a: "" if a is None or pd.isna(a) else str(a)), **texts)

    def _repr_html_(self) -> str:
        s = self.session
        state = " · <b>closed 已结账</b>" if self.closed else ""
        head = (f"<div class='recon-review'><h3>复核 Review · {escape(s.scenario)} {escape(s.run)} {escape(s.period)}{state}</h3>"
                f"<p>open 待处理 <b>{self.counts['open']}</b> · waiting 等待对方 <b>{self.counts['waiting']}</b> · "
                f"resolved 已处理 <b>{self.counts['resolved']}</b> · stale decisions 失效决定 "
                f"<b>{self.counts['stale decisions']}</b> · workspace <code>{escape(str(s.workspace.path))}</code> · "
                f"as of {self.taken_at:%Y-%m-%d %H:%M} UTC</p>")
        by_category = self.open_by_category()
        by_category["amount"] = [f"{a:,.2f}" for a in by_category["amount"]]
        by_category.columns = ["类别 Category", "笔数 Rows", "所涉行金额 Amount of the rows"]
        note = ("<p class='recon-note'>每笔为一方的一行：金额是这些行本身的金额（两方都计），不是差额；差额见上方数字。"
                " Each item is one row of one side: the amount is what those rows carry (both sides counted),"
                " not the difference; the differences are in the figures above.</p>")
        parts = [head, "<h4>Open items 未结项目</h4>", by_category.to_html(index=False, escape=True), note]
        if len(self.applied):
            parts += ["<h4>Decisions 已作决定</h4>", self.decided().to_html(index=False, escape=True, na_rep="")]
        if len(self.stale):
            stale = self.stale[["recorded_at", "actor", "action", "note", "why_stale"]]
            parts += ["<h4>Stale decisions, not applied 失效决定（未应用）</h4>", stale.to_html(index=False, escape=True, na_rep="")]
        return "".join(parts) + "</div>"

    def __repr__(self) -> str:
        return f"ReviewSummary({self.session.scenario} {self.session.run} {self.session.period}: {self.counts})"


def apply_decisions(check: Any, workspace: Any = None) -> ReviewSummary:
    """The journal applied to ``check`` without any widget or write: what a batch report shows.

    ``workspace`` is a folder or :class:`~recon_helpers.review.workspace.Workspace` (None: beside the
    data); a workspace not yet created reads as an empty journal and is not created.
    """
    from recon_helpers.review.session import ReviewSession

    return ReviewSummary(ReviewSession(check, workspace, actor="recon report"))
