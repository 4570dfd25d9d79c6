"""A manual match is remembered and offered next run as a ranked suggestion with its reason, never applied."""
from __future__ import annotations

import dataclasses

from recon_helpers.periods import Period
from recon_helpers.review.learning import suggest
from recon_helpers.review.session import ReviewSession
from recon_helpers.scenarios import courier_bill


def _month(demo_dir, period):
    """The demo month's rows reviewed as another month: the same rows come back, as recurring payers do.

    The check itself filters rows to its period, so the October files are checked as October and
    the result is then filed under the later month.
    """
    october = courier_bill.check(period="2026-10", data_dir=demo_dir, carrier="sf")
    return dataclasses.replace(october, period=Period.parse(period))


def _pair(session):
    q = session.queue(category="missing_on_right")
    left = q.iloc[0]
    right = session.queue(category="missing_on_left").iloc[0]
    return left, right


def test_a_manual_match_is_suggested_next_month_with_its_reason_and_not_applied(demo_dir, workspace):
    october = ReviewSession(_month(demo_dir, "2026-10"), workspace, actor="王会计")
    october.policy.roles.people["王会计"] = "manager"
    left, right = _pair(october)
    assert suggest(october, left.fingerprint).empty  # nothing learned yet
    october.match([left.fingerprint, right.fingerprint], reason_code="other_approved")

    november = ReviewSession(_month(demo_dir, "2026-11"), workspace.folder, actor="小李")
    assert november.counts()["resolved"] == 0  # a suggestion is never applied by itself
    offered = suggest(november, left.fingerprint)
    assert offered["fingerprint"].tolist()[0] == right.fingerprint
    assert offered["reason"].iloc[0].startswith("matched 1 time before by 王会计")
    back = suggest(november, right.fingerprint)  # and from the other side
    assert back["fingerprint"].iloc[0] == left.fingerprint

    november.policy.roles.people["小李"] = "manager"
    november.match([left.fingerprint, right.fingerprint], reason_code="other_approved")
    december = ReviewSession(_month(demo_dir, "2026-12"), workspace.folder, actor="王会计")
    assert suggest(december, left.fingerprint)["reason"].iloc[0].startswith("matched 2 times before by 王会计、小李")


def test_an_undone_match_is_forgotten(demo_dir, workspace):
    october = ReviewSession(_month(demo_dir, "2026-10"), workspace, actor="王会计")
    october.policy.roles.people["王会计"] = "manager"
    left, right = _pair(october)
    october.match([left.fingerprint, right.fingerprint], reason_code="other_approved")
    october.undo()
    november = ReviewSession(_month(demo_dir, "2026-11"), workspace.folder, actor="王会计")
    assert suggest(november, left.fingerprint).empty
