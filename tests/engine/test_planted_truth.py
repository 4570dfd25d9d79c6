"""Property tests over random tables with a planted truth: duplicates across key spellings, keyless
ties and one-sided windows. Every row exactly once, no link against the truth under prefer: none,
and the same result for shuffled input. Plus the edges: tolerance boundaries and window ends."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon_helpers.engine import match
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.testing import canonical_frame as table

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPELLINGS = (lambda w: w, lambda w: w.lower(), lambda w: f" {w[:2]}-{w[2:]} ", lambda w: f"{w[:2]} {w[2:]}".lower())


def placement(res) -> list[tuple[str, int]]:
    cols = ["side", "source_row"]
    both = pd.concat([res.links[cols], res.exceptions[cols]])
    return sorted((s, int(r)) for s, r in both.itertuples(index=False))


def assert_same_when_shuffled(first, left, right, recipe, seed):
    second = match(left.sample(frac=1, random_state=seed), right.sample(frac=1, random_state=seed + 1), recipe)
    pd.testing.assert_frame_equal(first.links.reset_index(drop=True), second.links.reset_index(drop=True))
    pd.testing.assert_frame_equal(first.exceptions.reset_index(drop=True), second.exceptions.reset_index(drop=True))


# --- duplicates across spellings ---------------------------------------------------------------------
WAYBILL = st.fixed_dictionaries({"billed": st.sampled_from([0, 1, 1, 2]), "first": st.integers(0, 3),
                                 "second": st.integers(0, 3)})


@SETTINGS
@given(waybills=st.lists(WAYBILL, min_size=1, max_size=8), seed=st.integers(0, 2**16))
def test_a_second_charge_is_a_duplicate_whatever_its_spelling(waybills, seed):
    ships, lines, truth = [], [], {}
    for i, w in enumerate(waybills):
        no = f"SF{1000 + i}"
        ships.append(no)
        for n, pick in enumerate((w["first"], w["second"])[:w["billed"]]):
            lines.append(SPELLINGS[pick](no))
            truth[len(lines) + 1] = "first" if n == 0 else "second"
    left = table("ship.csv", waybill_no=ships, expected_fee=["10.00"] * len(ships),
                 chargeable_weight=["1.000"] * len(ships))
    right = table("bill.csv", waybill_no=lines, amount=["10.00"] * len(lines), billed_weight=["1.000"] * len(lines))
    res = match(left, right, "courier_bill")
    assert placement(res) == sorted([("left", i + 2) for i in range(len(ships))]
                                    + [("right", i + 2) for i in range(len(lines))])
    exc = res.exceptions
    cats = {(r.side, int(r.source_row)): r.category for r in exc.itertuples()}
    assert "missing_on_left" not in cats.values()
    assert sum(1 for c in cats.values() if c == "duplicate_on_right") == list(truth.values()).count("second")
    unbilled = sum(1 for w in waybills if w["billed"] == 0)
    assert sum(1 for c in cats.values() if c == "missing_on_right") == unbilled
    assert_same_when_shuffled(res, left, right, "courier_bill", seed)


# --- keyless ties and one-sided windows ----------------------------------------------------------------
KEYLESS = recipe_from_dict({
    "name": "keyless_truth", "left": {"kind": "settlement", "label": "结算"}, "right": {"kind": "bank_txn", "label": "银行"},
    "amount": "amount", "date": "txn_time", "ids": {"left": ["order_id"], "right": ["txn_id"]},
    "rules": [{"name": "credit", "type": "amount_date", "days": {"min": 0, "max": 3}, "prefer": "none"}]})
SETTLEMENT = st.fixed_dictionaries({"amount": st.sampled_from(["99.00", "199.00", "99.00"]), "day": st.integers(1, 9),
                                    "paid_after": st.one_of(st.none(), st.integers(0, 3))})


@SETTINGS
@given(settlements=st.lists(SETTLEMENT, min_size=1, max_size=12), seed=st.integers(0, 2**16))
def test_prefer_none_never_links_against_the_planted_truth(settlements, seed):
    credits = [(f"O{i}", s) for i, s in enumerate(settlements) if s["paid_after"] is not None]
    left = table("s.csv", order_id=[f"O{i}" for i in range(len(settlements))], amount=[s["amount"] for s in settlements],
                 txn_time=[f"10-{s['day']:02d}" for s in settlements])
    right = table("b.csv", txn_id=[f"paid:{o}" for o, _ in credits], amount=[s["amount"] for _, s in credits],
                  txn_time=[f"10-{s['day'] + s['paid_after']:02d}" for _, s in credits])
    res = match(left, right, KEYLESS)
    assert placement(res) == sorted([("left", i + 2) for i in range(len(left))]
                                    + [("right", i + 2) for i in range(len(right))])
    for _, group in res.links.groupby("group_id"):
        own = dict(zip(group["side"], zip(group["order_id"], group["txn_id"])))
        assert own["right"][1] == f"paid:{own['left'][0]}", "a link the planted truth contradicts"
    for side in ("left", "right"):
        s = res.summary.sides[side]
        assert s.total == s.matched_total + s.unmatched_total
    assert_same_when_shuffled(res, left, right, KEYLESS, seed)


# --- edges ---------------------------------------------------------------------------------------------
FEE = recipe_from_dict({
    "name": "fee_edges", "left": {"kind": "shipment", "label": "发货"}, "right": {"kind": "courier_bill_line", "label": "账单"},
    "key": "waybill_no", "amount": {"left": "expected_fee", "right": "amount"},
    "compare": [{"name": "fee", "left": "expected_fee", "right": "amount", "abs_tol": "0.05"}],
    "rules": [{"name": "k", "type": "exact_key"}]})


@pytest.mark.parametrize("billed, linked", [("10.05", True), ("9.95", True), ("10.06", False), ("9.94", False)])
def test_abs_tol_is_inclusive_and_one_fen_over_is_an_exception(billed, linked):
    left = table("s.csv", waybill_no=["SF1"], expected_fee=["10.00"])
    right = table("b.csv", waybill_no=["SF1"], amount=[billed])
    res = match(left, right, FEE)
    assert (len(res.links) == 2) is linked
    if not linked:
        assert set(res.exceptions["category"]) == {"amount_mismatch"}
        assert Decimal(billed) - Decimal("10.00") in {Decimal("0.06"), Decimal("-0.06")}


@pytest.mark.parametrize("offset, linked", [(-1, False), (0, True), (3, True), (4, False)])
def test_both_ends_of_a_one_sided_window(offset, linked):
    left = table("s.csv", order_id=["O1"], amount=["99.00"], txn_time=["10-10"])
    right = table("b.csv", txn_id=["B1"], amount=["99.00"], txn_time=[f"10-{10 + offset:02d}"])
    assert (len(match(left, right, KEYLESS).links) == 2) is linked
