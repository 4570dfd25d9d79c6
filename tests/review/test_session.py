"""The review logic without widgets: queue, running difference, every action, the journal, re-runs, stale."""
from __future__ import annotations

import shutil
from decimal import Decimal

import openpyxl
import pytest

from recon_helpers.review import journal
from recon_helpers.review.errors import DecisionRefused
from recon_helpers.review.session import ReviewSession
from recon_helpers.scenarios import courier_bill


def _pair(session, category="rate_card_violation"):
    q = session.queue(category=category)
    group = q["group_id"].dropna().iloc[0]
    pair = q[q["group_id"] == group]
    return pair[pair.side == "left"].iloc[0], pair[pair.side == "right"].iloc[0]


def test_the_queue_holds_every_exception_of_the_check(session, sf_check):
    expected = len(sf_check.exceptions()) - len(sf_check.exceptions("out_of_scope"))
    assert len(session.queue()) == expected == session.counts()["open"]
    assert session.items["fingerprint"].is_unique


def test_the_queue_filters_by_category_amount_date_counterparty_and_status(session, sf_check):
    missing = session.queue(category="missing_on_left")
    assert len(missing) == len(sf_check.exceptions("missing_on_left"))
    big = session.queue(min_amount=Decimal("40"))
    assert len(big) and (big["amount"].map(abs) >= Decimal("40")).all()
    assert (session.queue(max_amount=Decimal("20"))["amount"].map(abs) <= Decimal("20")).all()
    first = min(d for d in session.items["date"] if d)
    assert (session.queue(date_to=first)["date"] == first).all()
    shipped = session.queue(counterparty="顺丰")
    assert len(shipped) and (shipped["side"] == "left").all()
    assert session.queue(status="resolved").empty
    amounts = session.queue()["amount"].map(abs).tolist()
    assert amounts == sorted(amounts, reverse=True)


def test_the_running_difference_is_left_minus_right(session):
    left, right = _pair(session)
    assert session.running_difference([left.fingerprint, right.fingerprint]) == left.amount - right.amount


def test_a_match_with_a_difference_is_refused_without_a_reason_code(session):
    left, right = _pair(session)
    with pytest.raises(DecisionRefused, match="differ by"):
        session.match([left.fingerprint, right.fingerprint])
    assert journal.read(session.workspace).empty


def test_a_reason_code_the_person_may_not_use_is_refused(session):
    left, right = _pair(session)
    with pytest.raises(DecisionRefused, match="may not use"):
        session.match([left.fingerprint, right.fingerprint], reason_code="other_approved")
    with pytest.raises(DecisionRefused, match="at most 1.00"):
        session.match([left.fingerprint, right.fingerprint], reason_code="rounding")


def test_accepting_a_candidate_settles_both_rows_and_journals_the_difference(workspace, sf_check):
    manager = ReviewSession(sf_check, workspace, actor="李经理")
    manager.policy.roles.people["李经理"] = "manager"
    left, right = _pair(manager)
    decision = manager.accept(left.fingerprint, reason_code="other_approved", note="agreed with SF")
    assert decision.action == "accept" and decision.amount == left.amount - right.amount
    assert set(manager.queue(status="resolved")["fingerprint"]) == {left.fingerprint, right.fingerprint}
    logged = journal.read(workspace)
    assert logged.loc[0, ["actor", "action", "reason_code", "note"]].tolist() == ["李经理", "accept", "other_approved",
                                                                                  "agreed with SF"]
    assert "rate card" in logged.loc[0, "detail"]  # the engine's reason is kept with the decision


def _balanced_two_by_two(session):
    """Two left and two right open rows whose amounts balance (searched, not assumed)."""
    from itertools import combinations

    q = session.queue()
    left, right = q[q.side == "left"], q[q.side == "right"]
    for a in combinations(left.itertuples(), 2):
        for b in combinations(right.itertuples(), 2):
            if sum(x.amount for x in a) == sum(x.amount for x in b):
                return [x.fingerprint for x in (*a, *b)]
    raise AssertionError("the demo month has no two-by-two balanced rows")


def test_a_balanced_manual_match_of_n_to_m_rows_needs_no_reason(session):
    chosen = _balanced_two_by_two(session)
    assert session.running_difference(chosen) == Decimal("0.00")
    decision = session.match(chosen, note="one parcel split over two waybills")
    assert decision.reason_code is None and decision.amount == Decimal("0.00")
    assert session.counts()["resolved"] == 4
    assert len(journal.read_rows(session.workspace)) == 4
    with pytest.raises(DecisionRefused, match="already settled"):
        session.match(chosen)


def test_an_unbalanced_n_to_m_match_is_saved_with_a_write_off_of_its_difference(session):
    q = session.queue(category="missing_on_right")
    rows = [*q["fingerprint"][:2], session.queue(category="missing_on_left")["fingerprint"].iloc[0]]
    difference = session.running_difference(rows)
    assert difference != 0
    session.policy.roles.people["王会计"] = "manager"
    decision = session.match(rows, reason_code="other_approved", note="agreed")
    logged = journal.read(session.workspace).iloc[0]
    assert Decimal(str(logged["amount"])) == difference == decision.amount and logged["reason_code"] == "other_approved"


def test_bulk_write_off_assign_comment_wait_and_undo(session):
    billed = session.queue(category="missing_on_left")["fingerprint"].tolist()
    session.write_off(billed, reason_code="carrier_claim", note="disputed with SF")
    assert session.counts()["resolved"] == len(billed)
    assert len(journal.read(session.workspace)) == len(billed)  # one decision per row, one transaction
    session.undo()  # takes back the whole bulk action
    assert session.counts()["resolved"] == 0 and set(session.queue()["fingerprint"]) >= set(billed)
    shipped = session.queue(category="missing_on_right")["fingerprint"].tolist()
    session.assign(shipped, "小李")
    session.comment(shipped, "check with the warehouse")
    session.wait(shipped[:1], note="SF will bill it next month")
    rows = session.items.set_index("fingerprint").loc[shipped]
    assert (rows["assignee"] == "小李").all()
    assert rows["notes"].str.contains("check with the warehouse").all()
    assert rows["status"].tolist().count("waiting") == 1
    actions = journal.read(session.workspace)["action"].tolist()
    assert actions == ["write_off"] * len(billed) + ["undo"] * len(billed) + ["assign", "comment", "wait"]


def test_decisions_survive_a_rerun_and_are_applied_again(session, sf_check, demo_dir):
    left, right = _pair(session, "weight_mismatch")
    billed = session.queue(category="missing_on_left")["fingerprint"].tolist()
    session.write_off(billed, reason_code="carrier_claim")
    again = courier_bill.check(period="2026-10", data_dir=demo_dir, carrier="sf")  # a re-run: a new check
    rerun = ReviewSession(again, session.workspace, actor="王会计")
    assert rerun.counts()["resolved"] == len(billed)
    assert rerun.stale.empty


def test_a_decision_on_a_changed_row_is_stale_never_applied(session, demo_dir, tmp_path):
    billed = session.queue(category="missing_on_left")
    session.write_off(billed["fingerprint"], reason_code="carrier_claim")
    changed = tmp_path / "demo"
    shutil.copytree(demo_dir, changed)
    # the same bill downloaded again, one disputed line's amount corrected by the carrier
    from recon_helpers.scenarios.courier_bill.check import carrier

    bill_path = changed / carrier("sf").bill_file
    book = openpyxl.load_workbook(bill_path)
    sheet = book.active
    header_row = next(r for r in sheet.iter_rows(max_row=12) if any(c.value == "运单号码" for c in r))
    amount_col = next(c.column for c in header_row if c.value == "应付金额")
    sheet.cell(row=int(billed.iloc[0]["source_row"]), column=amount_col).value = 999
    book.save(bill_path)
    again = courier_bill.check(period="2026-10", data_dir=changed, carrier="sf")
    rerun = ReviewSession(again, session.workspace.folder, actor="王会计")
    assert len(rerun.stale) == 1
    assert rerun.counts()["resolved"] == len(billed) - 1
    assert "changed" in rerun.stale["why_stale"].iloc[0]


def test_a_split_row_becomes_parts_that_can_be_matched_and_it_survives_a_rerun(session, sf_check):
    fee = session.queue(category="rate_card_violation", side="right").iloc[0]  # billed more than the card says
    left = session.queue(category="rate_card_violation", side="left")
    expected = left[left.key == fee.key].iloc[0]
    with pytest.raises(DecisionRefused, match="sum to"):
        session.split(fee.fingerprint, ["1.00", "2.00"])
    extra = fee.amount - expected.amount
    session.split(fee.fingerprint, [expected.amount, extra], note="surcharge billed on top")
    parts = session.queue(side="right", text="part ")
    assert sorted(parts["amount"]) == sorted([expected.amount, extra])
    assert session.item(fee.fingerprint)["resolution"] == "split"
    base_part = parts[parts.amount == expected.amount].iloc[0]
    session.match([expected.fingerprint, base_part.fingerprint])  # balances: no reason code needed
    rerun = ReviewSession(sf_check, session.workspace, actor="王会计")
    assert rerun.item(base_part.fingerprint)["status"] == "resolved"
    assert rerun.item(f"{fee.fingerprint}/2")["status"] == "open"


def test_a_companys_own_policy_in_the_workspace_is_validated_and_used(sf_check, workspace):
    from recon_helpers.errors import TemplateError
    from recon_helpers.review.policy import load_policy

    workspace.folder.mkdir(parents=True)
    own = workspace.folder / "review.yaml"
    own.write_text("roles: {default: clerk, known: [clerk], people: {王会计: boss}}\n"
                   "reason_codes: {rounding: {zh: 尾差, en: rounding, actions: [write_off], roles: [clerk]}}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="unknown role 'boss'"):
        load_policy(workspace_folder=workspace.folder)
    own.write_text("roles: {default: clerk, known: [clerk]}\n"
                   "reason_codes: {rounding: {zh: 尾差, en: rounding, actions: [write_off], roles: [clerk], max_amount: 0.05}}\n",
                   encoding="utf-8")
    session = ReviewSession(sf_check, workspace, actor="王会计")
    assert list(session.policy.reason_codes) == ["rounding"]
    with pytest.raises(DecisionRefused, match="unknown reason code 'carrier_claim'"):
        session.write_off(session.queue()["fingerprint"][:1], reason_code="carrier_claim")


def test_a_second_kernel_sees_what_the_first_decided_before_acting(sf_check, workspace):
    kernel_a = ReviewSession(sf_check, workspace, actor="王会计")
    kernel_b = ReviewSession(sf_check, workspace.folder, actor="小李")  # opened before A decided anything
    row = kernel_a.queue(category="missing_on_left")["fingerprint"].iloc[0]
    kernel_a.write_off([row], reason_code="carrier_claim")
    with pytest.raises(DecisionRefused, match="already settled"):
        kernel_b.write_off([row], reason_code="carrier_claim")
    assert len(journal.read(workspace)) == 1
