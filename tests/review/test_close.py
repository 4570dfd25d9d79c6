"""Period close: refused over unexplained material items, snapshot and sign-off, carry-forward, frozen, reopen."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from recon_helpers.review import journal
from recon_helpers.review.close import close_period, reopen_period, unexplained
from recon_helpers.review.errors import CloseRefused, DecisionRefused, PeriodClosedError
from recon_helpers.review.session import ReviewSession
from recon_helpers.scenarios import courier_bill


def _explain_all_but_shipped_not_billed(session):
    """Write off what the carrier billed wrongly, and wait for the carrier on everything else."""
    session.write_off(session.queue(category=("missing_on_left", "duplicate_on_right"))["fingerprint"],
                      reason_code="carrier_claim", note="claimed back")
    rest = session.queue(status="open")
    session.wait(rest["fingerprint"], note="asked SF, answer due in November")


def test_close_is_refused_while_material_exceptions_are_unexplained_and_lists_them(session):
    with pytest.raises(CloseRefused) as refused:
        close_period(session, by="王会计")
    listed = refused.value.unexplained
    assert len(listed) == session.counts()["open"]
    first = listed.iloc[0]
    assert f"{first.key} {first.amount}" in str(refused.value) and "materiality of 5.00" in str(refused.value)
    assert journal.read(session.workspace).empty


def test_items_at_or_below_materiality_do_not_hold_up_the_close(session):
    session.policy.materiality.scenarios["courier_bill"] = max(abs(a) for a in session.items["amount"])
    assert unexplained(session).empty


def test_close_snapshots_signs_off_freezes_and_reopen_is_journaled(session):
    _explain_all_but_shipped_not_billed(session)
    closed = close_period(session, by="王会计", note="October done")
    assert len(closed.carried) == session.counts()["waiting"] > 0
    assert (closed.snapshot / "exceptions.csv").is_file() and (closed.snapshot / "journal.csv").is_file()
    sign_off = journal.read(session.workspace).iloc[-1]
    assert sign_off["action"] == "close" and sign_off["actor"] == "王会计" and sign_off["note"] == "October done"
    assert json.loads(sign_off["detail"])["carried"] == len(closed.carried)

    with pytest.raises(PeriodClosedError, match="reopen it first"):
        session.comment(session.items["fingerprint"][:1], "too late")
    with pytest.raises(DecisionRefused, match="already closed"):
        close_period(session, by="王会计")
    with pytest.raises(DecisionRefused, match="say why"):
        reopen_period(session.workspace, period="2026-10", scenario="courier_bill", run="sf", by="李经理", note="")
    reopen_period(session.workspace, period="2026-10", scenario="courier_bill", run="sf", by="李经理",
                  note="SF sent a corrected bill")
    session.comment(session.items["fingerprint"][:1], "now it is allowed again")
    assert journal.read(session.workspace)["action"].tolist()[-3:] == ["close", "reopen", "comment"]


def test_open_items_carry_into_the_next_period_with_their_history(session, demo_dir, tmp_path):
    _explain_all_but_shipped_not_billed(session)
    closed = close_period(session, by="王会计")
    carried = set(closed.carried["fingerprint"])

    november_data = tmp_path / "2026-11"
    shutil.copytree(demo_dir, november_data)
    # November's shipments export no longer holds one carried October shipment: it must still be carried
    gone = closed.carried[closed.carried["category"] == "missing_on_right"].iloc[0]
    ship = november_data / "erp" / "shipments.csv"
    frame = pd.read_csv(ship, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    kept = frame[~frame.isin([gone["key"]]).any(axis=1)]
    assert len(kept) == len(frame) - 1
    kept.to_csv(ship, index=False, encoding="utf-8-sig")

    november = ReviewSession(courier_bill.check(period="2026-11", data_dir=november_data, carrier="sf"),
                             session.workspace, actor="王会计")
    opening = november.items[november.items["opening"]]
    assert set(opening["fingerprint"]) == carried
    assert (opening["opened_in"] == "2026-10").all()
    assert opening["history"].str.contains("answer due in November").all()
    assert gone["fingerprint"] in set(november.queue()["fingerprint"])  # still in the queue, though not in the data
    november.write_off([gone["fingerprint"]], reason_code="carrier_claim", note="never billed: closed with SF")
    assert november.item(gone["fingerprint"])["status"] == "resolved"
