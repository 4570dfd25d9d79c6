"""The review app driven headlessly: set widget values, click buttons, read the queue, difference, journal."""
from __future__ import annotations

from recon_helpers.review import journal
from recon_helpers.review.app import ReviewApp
from recon_helpers.review.session import ReviewSession


def _app(check, workspace, actor="王会计"):
    return ReviewApp(ReviewSession(check, workspace, actor=actor))


def _rows(app, **where):
    q = app.queue_frame
    mask = True
    for k, v in where.items():
        mask = mask & (q[k] == v)
    return [int(i) for i in q.index[mask]]


def test_filters_narrow_the_queue_and_the_grid_shows_it(sf_check, workspace):
    app = _app(sf_check, workspace)
    everything = len(app.queue_frame)
    assert len(app.grid.df) == everything == app.session.counts()["open"]
    app.category.value = "missing_on_left"
    assert len(app.queue_frame) == len(sf_check.exceptions("missing_on_left")) == len(app.grid.df)
    app.category.value = None
    app.min_amount.value = "40"
    assert 0 < len(app.queue_frame) < everything and all(abs(a) >= 40 for a in app.queue_frame["amount"])
    app.min_amount.value = ""
    app.side.value = "left"
    app.counterparty.value = "顺丰"
    assert set(app.queue_frame["side"]) == {"left"}
    app.side.value, app.counterparty.value = None, ""
    first_day = min(d for d in app.queue_frame["date"] if d)
    app.date_to.value = first_day
    assert len(app.queue_frame) and all(d == first_day for d in app.queue_frame["date"])
    app.date_to.value = None
    app.min_amount.value = "abc"
    assert "not an amount" in app.message.value


def test_selecting_rows_shows_the_running_difference_candidates_and_reason(sf_check, workspace):
    app = _app(sf_check, workspace)
    app.category.value = "rate_card_violation"
    key = app.queue_frame["key"].iloc[0]
    pair = _rows(app, key=key)
    app.select(pair)
    left = app.queue_frame.loc[pair].set_index("side")["amount"]
    expected = left["left"] - left["right"]
    assert f">{expected}<" in app.difference.value
    assert "rate card" in app.candidates.value and "#ffe08a" in app.candidates.value  # differing fields marked
    compared = app.session.candidates(app.selected[0])
    assert compared.loc["amount", "differs"] and not compared.loc["key", "differs"]


def test_a_manual_match_and_a_write_off_through_the_buttons_land_in_the_journal(sf_check, workspace):
    app = _app(sf_check, workspace)
    app.session.policy.roles.people["王会计"] = "manager"
    app._refresh_reason_codes()
    start = len(app.queue_frame)
    app.category.value = "weight_mismatch"
    key = app.queue_frame["key"].iloc[0]
    app.select(_rows(app, key=key))
    app.buttons["match"].click()  # a difference and no reason code: refused, nothing saved
    assert "differ by" in app.message.value and journal.read(workspace).empty
    app.reason_code.value = "other_approved"
    app.note.value = "weight re-measured, agreed"
    app.buttons["match"].click()
    assert "saved" in app.message.value
    app.category.value = "missing_on_left"
    app.select(list(range(len(app.queue_frame))))  # bulk: every row of the category
    app.reason_code.value = "carrier_claim"
    app.buttons["write_off"].click()
    app.category.value = None
    billed = len(sf_check.exceptions("missing_on_left"))
    assert len(app.queue_frame) == start - 2 - billed
    logged = journal.read(workspace)
    assert logged["action"].tolist() == ["match"] + ["write_off"] * billed
    assert logged["note"].iloc[0] == "weight re-measured, agreed"
    chart_total = sum(sum(t.y) for t in app.chart.data)
    assert chart_total == len(app.queue_frame)  # the chart follows the queue

    app.buttons["undo"].click()  # the bulk write-off comes back as a whole
    assert len(app.queue_frame) == start - 2


def test_assign_comment_and_waiting_keep_rows_open_and_show_in_the_grid(sf_check, workspace):
    app = _app(sf_check, workspace)
    app.category.value = "missing_on_right"
    before = len(app.queue_frame)
    app.select([0, 1])
    app.person.value = "小李"
    app.buttons["assign"].click()
    app.select([0])
    app.note.value = "SF bills it in November"
    app.buttons["wait"].click()
    assert len(app.queue_frame) == before - 1  # the waiting row left the 'open' view
    app.status.value = "waiting"
    assert app.grid.df["assignee"].tolist() == ["小李"] and "November" in app.grid.df["notes"].iloc[0]
    app.status.value = None
    assert len(app.queue_frame) == before  # status "all": open and waiting rows of the category
    assert journal.read(workspace)["action"].tolist() == ["assign", "wait"]


def test_the_summary_says_what_is_decided_and_open(sf_check, workspace):
    app = _app(sf_check, workspace)
    app.category.value = "missing_on_left"
    app.select([0])
    app.reason_code.value = "carrier_claim"
    app.buttons["write_off"].click()
    html = app.summary()._repr_html_()
    assert "resolved 已处理 <b>1</b>" in html and "write_off" in html


def test_split_through_the_app_makes_parts_in_the_queue(sf_check, workspace):
    app = _app(sf_check, workspace)
    app.category.value = "duplicate_on_right"
    app.select([0])
    whole = app.queue_frame["amount"].iloc[0]
    app.parts.value = f"{whole - 5}, 5.00"
    app.buttons["split"].click()
    assert "saved" in app.message.value
    app.text.value = "part "
    assert sorted(app.queue_frame["amount"]) == sorted([whole - 5, 5])
    app.text.value = ""
    app.select([0, 1])
    app.buttons["split"].click()
    assert "exactly one row" in app.message.value


def test_stale_decisions_are_shown_and_the_journal_exports_from_the_app(sf_check, workspace):
    from recon_helpers.review.journal import Decision, RowRef

    journal.append(workspace, [Decision("write_off", "王会计", "2026-10", "courier_bill", "sf", reason_code="carrier_claim",
                                        rows=(RowRef("a-row-that-is-gone", side="right", key="SF0"),), note="old bill")])
    app = _app(sf_check, workspace)
    assert "1 stale decisions" in app.stale.value and "old bill" in app.stale.value
    app.buttons["export"].click()
    assert (workspace.folder / "journal.xlsx").is_file() and "journal written" in app.message.value


def test_reload_shows_what_another_kernel_decided(sf_check, workspace):
    app = _app(sf_check, workspace)
    other = ReviewSession(sf_check, workspace.folder, actor="小李")
    other.wait(other.queue(category="missing_on_right")["fingerprint"], note="asked SF")
    before = len(app.queue_frame)
    app.buttons["reload"].click()
    assert len(app.queue_frame) == before - len(sf_check.exceptions("missing_on_right"))


def test_the_open_items_amount_is_the_rows_own_sum_and_says_it_is_not_the_difference(sf_check, workspace):
    """A reader compares the review's amounts with the page's figures: the header must say what it sums."""
    from decimal import Decimal

    summary = _app(sf_check, workspace).summary()
    by_category = summary.open_by_category().set_index("category")
    open_items = summary.items[summary.items["status"] != "resolved"]
    for label, group in open_items.groupby("label"):
        assert by_category.loc[label, "amount"] == sum(group["amount"], Decimal("0.00"))
    html = summary._repr_html_()
    assert "Amount of the rows" in html and "not the difference" in html
