"""Keyless rules as a recipe writer meets them: one-sided windows, `prefer`, honest ambiguity, `where`."""
from __future__ import annotations

import pytest

from recon_helpers.engine import match
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.errors import RecipeError
from recon_helpers.testing import canonical_frame as table

SETTLE = {"kind": "settlement", "label": "平台结算"}
BANK = {"kind": "bank_txn", "label": "银行流水"}


def recipe(*rules, **parts):
    return recipe_from_dict({"name": "keyless", "left": SETTLE, "right": BANK, "amount": "amount",
                             "date": "txn_time", "rules": list(rules), **parts}, source="<test>")


def outcome(res) -> dict[tuple[str, int], str]:
    out = {(r.side, int(r.source_row)): "link" for r in res.links.itertuples()}
    out.update({(r.side, int(r.source_row)): r.category for r in res.exceptions.itertuples()})
    return out


def pairs(res) -> set[tuple[int, int]]:
    """(left source_row, right source_row) of every two-row link group."""
    out = set()
    for _, g in res.links.groupby("group_id"):
        sides = dict(zip(g["side"], g["source_row"]))
        out.add((int(sides["left"]), int(sides["right"])))
    return out


# --- one-sided windows -------------------------------------------------------------------------------
@pytest.mark.parametrize("credit_day, linked", [("10-04", False), ("10-05", True), ("10-08", True), ("10-09", False)])
def test_a_credit_may_come_zero_to_three_days_after_never_before(credit_day, linked):
    left = table("s.csv", amount=["99.00"], txn_time=["10-05"])
    right = table("b.csv", amount=["99.00"], txn_time=[credit_day])
    rule = {"name": "one", "type": "amount_date", "days": {"min": 0, "max": 3}, "prefer": "none"}
    assert (outcome(match(left, right, recipe(rule)))[("left", 2)] == "link") is linked


def test_symmetric_days_still_accept_a_credit_before_the_settlement():
    left = table("s.csv", amount=["99.00"], txn_time=["10-05"])
    right = table("b.csv", amount=["99.00"], txn_time=["10-04"])
    res = match(left, right, recipe({"name": "one", "type": "amount_date", "days": 3}))
    assert pairs(res) == {(2, 2)}


@pytest.mark.parametrize("credit_day, linked", [("10-05", False), ("10-06", True), ("10-07", False)])
def test_exactly_one_day_after(credit_day, linked):
    left = table("s.csv", amount=["99.00"], txn_time=["10-05"])
    right = table("b.csv", amount=["99.00"], txn_time=[credit_day])
    rule = {"name": "one", "type": "amount_date", "days": {"min": 1, "max": 1}}
    assert bool(pairs(match(left, right, recipe(rule)))) is linked


@pytest.mark.parametrize("credit_day, linked", [("10-04", False), ("10-06", True)])
def test_group_sum_and_subset_sum_honour_one_sided_windows(credit_day, linked):
    left = table("s.csv", amount=["40.00", "59.00"], txn_time=["10-05", "10-05"], batch_id=["B1", "B1"])
    right = table("b.csv", amount=["99.00"], txn_time=[credit_day])
    window = {"min": 0, "max": 2}
    for rule in ({"name": "batch", "type": "group_sum", "group_left": ["batch_id"], "days": window},
                 {"name": "subset", "type": "subset_sum", "days": window, "max_items": 2}):
        got = outcome(match(left, right, recipe(rule)))
        assert (got[("right", 2)] == "link") is linked, rule["name"]


def test_a_date_compare_with_a_one_sided_window_names_the_window():
    left = table("s.csv", txn_id=["T1", "T2"], amount=["10.00", "20.00"], txn_time=["10-05", "10-05"])
    right = table("b.csv", txn_id=["T1", "T2"], amount=["10.00", "20.00"], txn_time=["10-04", "10-07"])
    res = match(left, right, recipe({"name": "k", "type": "exact_key"}, key="txn_id", compare=[
        {"name": "date", "left": "txn_time", "right": "txn_time", "days": {"min": 0, "max": 3}}]))
    exc = res.exceptions
    assert set(exc["key"]) == {"T1"} and set(exc["category"]) == {"date_out_of_window"}
    assert "-1 days (window: 0 to 3 days after)" in exc["detail"].iloc[0]
    assert pairs(res) == {(3, 3)}


@pytest.mark.parametrize("days, phrase", [({"min": 3, "max": 0}, "min (3) is after max (0)"),
                                          (-1, "days cannot be negative")])
def test_a_wrong_window_is_refused_with_the_fix(days, phrase):
    with pytest.raises(RecipeError, match=r"days") as err:
        recipe({"name": "one", "type": "amount_date", "days": days})
    assert phrase in str(err.value)


# --- prefer: nearer is not proof ---------------------------------------------------------------------
def unpaid_batch_case():
    """S1 (10-05) belongs to a batch that was never paid; S2 (10-03) is the one the credit (10-06) pays."""
    left = table("s.csv", amount=["99.00", "99.00"], txn_time=["10-05", "10-03"])
    right = table("b.csv", amount=["99.00"], txn_time=["10-06"])
    return left, right


def test_prefer_nearest_date_gives_the_credit_to_the_nearer_settlement():
    left, right = unpaid_batch_case()
    res = match(left, right, recipe({"name": "one", "type": "amount_date", "days": {"min": 0, "max": 3},
                                     "prefer": "nearest_date"}))
    assert pairs(res) == {(2, 2)}


def test_prefer_none_refuses_the_tie_and_says_what_it_saw():
    left, right = unpaid_batch_case()
    res = match(left, right, recipe({"name": "one", "type": "amount_date", "days": {"min": 0, "max": 3},
                                     "prefer": "none"}))
    assert res.links.empty
    assert set(outcome(res).values()) == {"ambiguous"}
    credit = res.exceptions[res.exceptions["side"] == "right"].iloc[0]
    assert "2 equally good counterparts" in credit["detail"]
    assert "prefer: none" in credit["detail"] and "0 to 3 days after" in credit["detail"]
    assert "left:s.csv:2 score 1.00 (amount +0.00, +1 days)" in credit["detail"]
    assert "left:s.csv:3 score 1.00 (amount +0.00, +3 days)" in credit["detail"]
    assert credit["rule"] == "one"


def test_ambiguity_with_different_scores_is_not_called_equal():
    # L1-R1 + L2-R2 and L1-R2 + L2-R1 cost the same in total, though each row's candidates differ
    left = table("s.csv", amount=["50.00", "50.00"], txn_time=["10-01", "10-02"])
    right = table("b.csv", amount=["50.00", "50.00"], txn_time=["10-02", "10-03"])
    res = match(left, right, recipe({"name": "one", "type": "amount_date", "days": 2, "prefer": "nearest_date"}))
    assert res.links.empty
    first = res.exceptions[(res.exceptions["side"] == "left") & (res.exceptions["source_row"] == 2)].iloc[0]
    assert "equally good counterparts" not in first["detail"]
    assert "scores differ" in first["detail"]
    assert "score 0.50" in first["detail"] and "score 0.33" in first["detail"]


def test_prefer_none_still_links_what_every_pairing_agrees_on():
    # R2 (10-09) can only be L2's; L1 then has R1 alone
    left = table("s.csv", amount=["99.00", "99.00"], txn_time=["10-01", "10-06"])
    right = table("b.csv", amount=["99.00", "99.00"], txn_time=["10-02", "10-09"])
    res = match(left, right, recipe({"name": "one", "type": "amount_date", "days": {"min": 0, "max": 3},
                                     "prefer": "none"}))
    assert pairs(res) == {(2, 2), (3, 3)}


# --- where: a rule for some rows only ----------------------------------------------------------------
def test_a_rule_restricted_with_where_leaves_other_rows_to_the_group_rule():
    left = table("s.csv", amount=["99.00", "99.00", "1.00"], txn_time=["10-05", "10-05", "10-05"],
                 batch_id=["", "B7", "B7"], channel=["store_single", "store_batch", "store_batch"])
    right = table("b.csv", amount=["99.00", "100.00"], txn_time=["10-06", "10-06"])
    rules = [{"name": "single", "type": "amount_date", "days": {"min": 0, "max": 3}, "prefer": "none",
              "where": {"left": "channel = 'store_single'"}},
             {"name": "batch", "type": "group_sum", "group_left": ["batch_id"], "days": {"min": 0, "max": 3}}]
    res = match(left, right, recipe(*rules))
    got = {(r.side, int(r.source_row)): r.rule for r in res.links.itertuples()}
    assert got == {("left", 2): "single", ("right", 2): "single", ("left", 3): "batch", ("left", 4): "batch",
                   ("right", 3): "batch"}
    # without where, the batch's 99.00 line falls into the keyless pool and the credit is refused
    unrestricted = recipe({**rules[0], "where": {}}, rules[1])
    assert "ambiguous" in set(match(left, right, unrestricted).exceptions["category"])


def test_every_built_in_keyless_one_to_one_rule_states_its_preference():
    from recon_helpers.engine.recipe import AmountDateRule, list_recipes

    rules = [(r.name, rule) for r in list_recipes() for rule in r.rules if isinstance(rule, AmountDateRule)]
    assert rules, "the built-in recipes have keyless one-to-one rules"
    assert [name for name, rule in rules if "prefer" not in rule.model_fields_set] == []


def test_a_where_condition_on_a_column_the_table_lacks_names_the_rule():
    from recon_helpers.errors import MatchInputError

    left = table("s.csv", amount=["99.00"], txn_time=["10-05"])
    right = table("b.csv", amount=["99.00"], txn_time=["10-06"])
    rule = {"name": "single", "type": "amount_date", "days": 1, "prefer": "none", "where": {"left": "store_kind = 'x'"}}
    with pytest.raises(MatchInputError, match=r"rule 'single': its where condition .*store_kind"):
        match(left, right, recipe(rule))


def test_a_group_rule_that_refuses_says_which_rule_and_the_candidates_scores():
    left = table("s.csv", amount=["10.00", "20.00", "30.00"], txn_time=["10-01", "10-01", "10-01"],
                 batch_id=["B1", "B1", "B2"])
    right = table("b.csv", amount=["30.00", "30.00"], txn_time=["10-02", "10-02"])
    rule = {"name": "batch", "type": "group_sum", "group_left": ["batch_id"], "days": {"min": 0, "max": 2}}
    res = match(left, right, recipe(rule))
    assert res.links.empty
    line = res.exceptions[res.exceptions["side"] == "left"].iloc[0]["detail"]
    assert "rule batch (group_sum, window 0 to 2 days after) refused to link" in line
    assert "2 counterpart(s) equally well (scores 0.50, 0.50)" in line


# --- the explanation of an ambiguous row, built for all rows at once -----------------------------------
@pytest.mark.parametrize("prefer", ["none", "nearest_date"])
def test_every_ambiguous_row_reads_as_the_one_row_explanation(prefer):
    """The text built for all rows at once (half a million in a big month, in the store's SQL)
    says, row for row, what ``keyless.explain`` says for that row: the same candidates, scores,
    differences and reason."""
    from decimal import Decimal

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from recon_helpers.engine import keyless
    from recon_helpers.engine.store import MatchStore

    rng = np.random.default_rng(3)
    n = 60
    cand = pd.DataFrame({"left_rid": rng.integers(0, 12, n), "right_rid": rng.integers(0, 12, n),
                         "ddays": rng.integers(-3, 4, n), "dfen": rng.integers(-3, 3, n) * 25})
    cand = cand.drop_duplicates(["left_rid", "right_rid"]).reset_index(drop=True)
    decided = keyless.decide(cand, prefer)
    assert decided.ambiguous, "the random graph has open rows"
    rule = recipe({"name": "one", "type": "amount_date", "days": 3, "prefer": prefer}).rules[0]
    labels = {"left": {rid: f"s.csv:{rid + 2}" for rid in range(12)}, "right": {rid: f"b.csv:{rid + 2}" for rid in range(12)}}
    (_, _), first = next(iter(decided.ambiguous.items()))
    del labels[first[0][0]][first[0][1]]  # a candidate without a label is named by its side

    store = MatchStore(threads=1)
    store.create_state([])
    for side, named in labels.items():
        store.register(f"rows_{side}", pa.table({"_rid": list(named), "source_file": [v.split(":")[0] for v in named.values()],
                                                 "source_row": [int(v.split(":")[1]) for v in named.values()]}))
    store.record_keyless_ambiguous(*keyless.explanation_lines(decided.ranked_candidates(), cand, rule=rule), rule="one")
    assert store.scalar("SELECT count(*) FROM outcome WHERE detail IS NOT NULL") == 0, "texts wait for the exceptions"
    said = {(s, int(r)): d for s, r, d in store.pandas(store.keyless_detail_sql()).itertuples(index=False)}
    listed = store.pandas("SELECT side, _rid, crid FROM cands ORDER BY side, _rid, rank")
    # the exact difference as the store writes a decimal: -1.25, 0.50, 0.00
    diffs = {(int(a), int(b)): (str((Decimal(int(f)) / 100).quantize(Decimal("0.01"))), int(d)) for a, b, f, d in
             cand[["left_rid", "right_rid", "dfen", "ddays"]].itertuples(index=False)}
    assert len(said) == len(decided.ambiguous)
    for (side, rid), cands in decided.ambiguous.items():
        mine = listed[(listed["side"] == side) & (listed["_rid"] == rid)]
        assert list(mine["crid"]) == [c[1] for c in cands]
        assert said[(side, rid)] == keyless.explain(side, rid, cands, diffs, rule=rule, labels=labels)
    assert any(f"{first[0][0]}:{first[0][0]} row" in text for text in said.values())


def test_two_keyless_rules_each_refuse_in_their_own_words():
    """Refusal texts are put together when exceptions are read: a second keyless rule's refusals read
    as that rule's, with its own candidates, beside the first rule's."""
    left = table("s.csv", amount=["10.00", "10.00", "20.00", "20.00"], txn_time=["10-05"] * 4,
                 channel=["shop", "shop", "app", "app"])
    right = table("b.csv", amount=["10.00", "10.00", "20.00", "20.00"], txn_time=["10-06"] * 4,
                  channel=["shop", "shop", "app", "app"])
    res = match(left, right, recipe(
        {"name": "first", "type": "amount_date", "days": 3, "prefer": "none", "where": {"left": "channel = 'shop'"}},
        {"name": "second", "type": "amount_date", "days": 5, "prefer": "nearest_date"}))
    exc = res.exceptions.set_index(["side", "source_row"])
    assert res.links.empty and len(exc) == 8
    for row, rule, window in ((2, "first", "within 3 days"), (4, "second", "within 5 days")):
        text = exc.loc[("left", row), "detail"]
        assert text.startswith(f"rule {rule} (amount_date, prefer: ") and f"window {window})" in text, text
        assert text.endswith(". Not linked - choose one")
    assert "Saw: right:b.csv:2 score 1.00 (amount +0.00, +1 days); right:b.csv:3 score 1.00" in exc.loc[("left", 2), "detail"]
    assert "Saw: right:b.csv:4 score 0.50 (amount +0.00, +1 days); right:b.csv:5 score 0.50" in exc.loc[("left", 4), "detail"]
    assert "Saw: left:s.csv:4 score 0.50" in exc.loc[("right", 5), "detail"]
