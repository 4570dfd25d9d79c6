"""The built-in store_settlement_bank recipe: batches by batch id, single lines keyless and refused on ties."""
from __future__ import annotations

from recon_helpers.engine import match
from recon_helpers.testing import canonical_frame as table


def settlement(rows):
    order, batch, amount, day = zip(*rows)
    return table("store.csv", order_id=list(order), batch_id=list(batch), amount=list(amount), txn_time=list(day))


def bank(rows):
    txn, amount, day = zip(*rows)
    return table("bank.csv", txn_id=list(txn), amount=list(amount), txn_time=list(day))


def by_id(res) -> dict[str, str]:
    """order_id / txn_id -> the rule that linked it, or the exception category."""
    out = {}
    for frame, what in ((res.links, "rule"), (res.exceptions, "category")):
        for r in frame.itertuples():
            out[r.order_id if r.side == "left" else r.txn_id] = getattr(r, what)
    return out


def test_an_unpaid_batch_line_is_never_offered_to_a_single_credit():
    left = settlement([("S1", "", "99.00", "10-03"),          # single store, paid by C1
                       ("B1-1", "B1", "99.00", "10-05"),      # batch B1, never paid, nearer to C1
                       ("B1-2", "B1", "20.00", "10-05"),
                       ("B2-1", "B2", "10.00", "10-04"), ("B2-2", "B2", "15.50", "10-04")])
    right = bank([("C1", "99.00", "10-06"), ("C2", "25.50", "10-05")])
    got = by_id(match(left, right, "store_settlement_bank"))
    assert got == {"S1": "single_line", "C1": "single_line", "B2-1": "batch_payout", "B2-2": "batch_payout",
                   "C2": "batch_payout", "B1-1": "missing_on_right", "B1-2": "missing_on_right"}


def test_two_single_lines_of_the_same_amount_in_the_window_are_refused_not_guessed():
    left = settlement([("S1", "", "99.00", "10-03"), ("S2", "", "99.00", "10-05")])
    right = bank([("C1", "99.00", "10-06")])
    res = match(left, right, "store_settlement_bank")
    assert res.links.empty and set(res.exceptions["category"]) == {"ambiguous"}
    credit = res.exceptions[res.exceptions["side"] == "right"].iloc[0]
    assert credit["txn_id"] == "C1" and "2 equally good counterparts" in credit["detail"]


def test_a_credit_dated_before_the_settlement_is_not_its_payment():
    res = match(settlement([("S1", "", "99.00", "10-05")]), bank([("C1", "99.00", "10-04")]), "store_settlement_bank")
    assert by_id(res) == {"S1": "missing_on_right", "C1": "missing_on_left"}
