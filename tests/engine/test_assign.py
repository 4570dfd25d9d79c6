"""The small-block decisions: forced one-to-one pairs, exact subset sums, fuzzy ranking of names.

Each case is small enough to solve by hand; the comment above it says why the answer is what it is.
"""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon_helpers.engine.fuzzy import normalise_text, rank_text
from recon_helpers.engine.one_to_one import BlockResult, one_to_one
from recon_helpers.engine.subset_sum import subset_sum
from recon_helpers.errors import MatchInputError, UsageError


def pairs_of(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["left_rid", "right_rid", "cost"])


def linked(result: BlockResult) -> set[tuple[int, int]]:
    return {(left, right) for left, right, _ in result.pairs}


# --- one_to_one ---------------------------------------------------------------------------------


def test_separate_one_by_one_blocks_are_all_linked():
    result = one_to_one(pairs_of([(3, 30, 1.5), (1, 10, 0.0), (2, 20, 2.0)]))
    assert result.pairs == [(1, 10, 0.0), (2, 20, 2.0), (3, 30, 1.5)]
    assert result.ambiguous == {}


def test_two_by_two_block_links_the_cheaper_crossing():
    # 1-10 + 2-11 costs 0.1; 1-11 + 2-10 costs 4: only one optimum.
    result = one_to_one(pairs_of([(1, 10, 0.0), (1, 11, 2.0), (2, 10, 2.0), (2, 11, 0.1)]))
    assert linked(result) == {(1, 10), (2, 11)}
    assert result.ambiguous == {}


def test_optimum_beats_greedy_first_come():
    # Greedy would give left 1 its cheapest right (10, cost 0) and leave left 2 with nothing;
    # pairing both rows (1-11, 2-10) keeps every row accounted for.
    result = one_to_one(pairs_of([(1, 10, 0.0), (1, 11, 1.0), (2, 10, 1.0)]))
    assert linked(result) == {(1, 11), (2, 10)}


def test_same_amount_twice_on_the_same_day_is_ambiguous_not_guessed():
    # Two credits of 100.00 on 3 Oct against two orders of 100.00 on 3 Oct: every pairing costs 0.
    result = one_to_one(pairs_of([(1, 10, 0.0), (1, 11, 0.0), (2, 10, 0.0), (2, 11, 0.0)]))
    assert result.pairs == []
    assert set(result.ambiguous) == {("left", 1), ("left", 2), ("right", 10), ("right", 11)}
    assert result.ambiguous[("left", 1)] == [("right", 10, 0.0), ("right", 11, 0.0)]
    assert result.ambiguous[("right", 11)] == [("left", 1, 0.0), ("left", 2, 0.0)]


def test_two_left_one_right_links_the_clearly_better_one():
    # Right 10 is one day from left 1 and three days from left 2; left 2 stays unmatched, not ambiguous.
    result = one_to_one(pairs_of([(1, 10, 1.0), (2, 10, 3.0)]))
    assert result.pairs == [(1, 10, 1.0)]
    assert result.ambiguous == {}


def test_two_left_one_right_with_equal_cost_is_ambiguous_for_all_three():
    result = one_to_one(pairs_of([(1, 10, 2.0), (2, 10, 2.0)]))
    assert result.pairs == []
    assert set(result.ambiguous) == {("left", 1), ("left", 2), ("right", 10)}


def test_tie_leaves_out_a_row_that_no_optimum_uses():
    # Lefts 1 and 2 tie for rights 10 and 11 at cost 0; left 3 could only join at cost 5, which
    # no optimum pays, so it is not part of the ambiguity but the two rights list it last.
    rows = [(1, 10, 0.0), (1, 11, 0.0), (2, 10, 0.0), (2, 11, 0.0), (3, 10, 5.0), (3, 11, 5.0)]
    result = one_to_one(pairs_of(rows))
    assert result.pairs == []
    assert ("left", 3) not in result.ambiguous
    assert result.ambiguous[("right", 10)][-1] == ("left", 3, 5.0)


def test_unpaired_row_that_another_optimum_pairs_is_ambiguous():
    # Right 10 may go to left 1 or left 2 at cost 0; right 11 only fits left 2, at cost 1.
    # {2-10} alone pairs fewer rows, so {1-10, 2-11} is the only optimum: both forced.
    forced = one_to_one(pairs_of([(1, 10, 0.0), (2, 10, 0.0), (2, 11, 1.0)]))
    assert linked(forced) == {(1, 10), (2, 11)}
    # Add left 3 to right 11 at cost 1: {1-10, 2-11}, {1-10, 3-11} and {2-10, 3-11} all cost 1.
    # Whichever left row the solver leaves out is paired by another optimum, so all five rows are open.
    open_ = one_to_one(pairs_of([(1, 10, 0.0), (2, 10, 0.0), (2, 11, 1.0), (3, 11, 1.0)]))
    assert open_.pairs == []
    assert set(open_.ambiguous) == {("left", 1), ("left", 2), ("left", 3), ("right", 10), ("right", 11)}


def test_chain_component_is_solved_as_one_block():
    # 1-10, 2-10, 2-11, 3-11, 3-12: a chain; the zero-cost diagonal is the unique optimum.
    rows = [(1, 10, 0.0), (2, 10, 1.0), (2, 11, 0.0), (3, 11, 1.0), (3, 12, 0.0)]
    result = one_to_one(pairs_of(rows))
    assert linked(result) == {(1, 10), (2, 11), (3, 12)}


def test_block_larger_than_max_block_is_never_guessed():
    # A 3x3 block with a clear optimum, but max_block=5 rows: every row is ambiguous.
    rows = [(left, right, 0.0 if left == right else 1.0) for left in range(3) for right in range(3)]
    result = one_to_one(pairs_of(rows), max_block=5)
    assert result.pairs == []
    assert len(result.ambiguous) == 6
    assert result.ambiguous[("left", 0)][0] == ("right", 0, 0.0)
    assert linked(one_to_one(pairs_of(rows))) == {(0, 0), (1, 1), (2, 2)}


def test_pair_listed_twice_keeps_its_cheaper_cost():
    result = one_to_one(pairs_of([(1, 10, 4.0), (1, 10, 1.0)]))
    assert result.pairs == [(1, 10, 1.0)]


def test_pairs_frame_has_integer_ids():
    frame = one_to_one(pairs_of([(1, 10, 0.5)])).pairs_frame()
    assert frame.to_dict("records") == [{"left_rid": 1, "right_rid": 10, "cost": 0.5}]
    assert one_to_one(pairs_of([])).pairs_frame().empty


def test_bad_candidates_are_refused_with_the_reason():
    with pytest.raises(MatchInputError, match="cost"):
        one_to_one(pd.DataFrame({"left_rid": [1], "right_rid": [2]}))
    with pytest.raises(MatchInputError, match=r"-1\.0 for left_rid 1, right_rid 2"):
        one_to_one(pairs_of([(1, 2, -1.0)]))


edges = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5])),
                 max_size=14)


@settings(max_examples=50, deadline=None)
@given(rows=edges, seed=st.randoms(use_true_random=False))
def test_no_row_is_used_twice_and_order_does_not_matter(rows, seed):
    result = one_to_one(pairs_of(rows))
    lefts = [left for left, _, _ in result.pairs]
    rights = [right for _, right, _ in result.pairs]
    assert len(lefts) == len(set(lefts)) and len(rights) == len(set(rights))
    assert not {("left", r) for r in lefts} & set(result.ambiguous)
    assert not {("right", r) for r in rights} & set(result.ambiguous)
    assert all((left, right) in {(a, b) for a, b, _ in rows} for left, right, _ in result.pairs)
    shuffled = list(rows)
    seed.shuffle(shuffled)
    assert one_to_one(pairs_of(shuffled)) == result


# --- subset_sum ---------------------------------------------------------------------------------


def test_one_credit_paying_several_invoices_is_found():
    # A payment of 3,500.00 pays invoices of 1,200.00 and 2,300.00; 800.00 is another invoice.
    result = subset_sum(350000, [(1, 120000), (2, 230000), (3, 80000)])
    assert result.status == "unique"
    assert result.members == (1, 2)


def test_two_ways_to_make_the_target_is_ambiguous():
    # 300.00 = invoice 3 alone = invoices 1 + 2: no guess.
    result = subset_sum(30000, [(1, 10000), (2, 20000), (3, 30000)])
    assert result.status == "ambiguous"
    assert result.members == ()
    assert result.alternatives == [(3,), (1, 2)]


def test_equal_amounts_on_two_rows_are_ambiguous():
    result = subset_sum(10000, [(7, 10000), (8, 10000)])
    assert result.status == "ambiguous"
    assert result.alternatives == [(7,), (8,)]


def test_nothing_fits():
    result = subset_sum(99, [(1, 100), (2, 200)])
    assert result.status == "none"
    assert result.members == () and result.alternatives == []


def test_refund_nets_off_inside_the_subset():
    # Payout 250.00 = sale 100.00 + sale 200.00 - refund 50.00.
    result = subset_sum(25000, [(1, 10000), (2, 20000), (3, -5000), (4, 99900)])
    assert result.status == "unique"
    assert result.members == (1, 2, 3)


def test_zero_amount_row_does_not_make_a_subset_ambiguous():
    result = subset_sum(30000, [(1, 10000), (2, 20000), (9, 0)])
    assert result.status == "unique"
    assert result.members == (1, 2)


def test_zero_target_is_explained_by_offsetting_rows():
    assert subset_sum(0, [(1, 5000), (2, -5000), (3, 700)]).members == (1, 2)
    # two zero rows: either one alone explains a zero target
    assert subset_sum(0, [(1, 0), (2, 0)]).status == "ambiguous"


def test_subset_larger_than_max_items_is_not_searched():
    items = [(i, 100) for i in range(1, 4)]
    assert subset_sum(300, items, max_items=2).status == "none"
    assert subset_sum(300, items, max_items=3).members == (1, 2, 3)


def test_search_gives_up_at_the_node_budget_instead_of_hanging():
    # 200 distinct amounts and a target that needs 5 of them: far more than 1,000 nodes to rule out others.
    items = [(i, 1000 + 7 * i) for i in range(200)]
    target = sum(amount for _, amount in items[50:55])
    result = subset_sum(target, items, max_nodes=1000)
    assert result.status == "gave_up"
    assert result.members == ()
    assert result.nodes == 1001
    assert subset_sum(target, items, max_nodes=10**6).status == "ambiguous"  # 5 of 200 steps of 7 fen: many fit


def test_subset_sum_refuses_bad_input():
    with pytest.raises(MatchInputError, match="integer number of fen"):
        subset_sum(100, [(1, 1.0)])
    with pytest.raises(MatchInputError, match="rid 1 is listed twice"):
        subset_sum(100, [(1, 50), (1, 50)])
    with pytest.raises(UsageError, match="max_items"):
        subset_sum(100, [(1, 100)], max_items=0)


@settings(max_examples=50, deadline=None)
@given(amounts=st.lists(st.integers(-500, 500), max_size=8), target=st.integers(-800, 800),
       seed=st.randoms(use_true_random=False))
def test_subset_sum_answers_are_exact_and_order_free(amounts, target, seed):
    items = list(enumerate(amounts))
    by_rid = dict(items)
    result = subset_sum(target, items, max_items=3)
    for subset in ([result.members] if result.members else []) + result.alternatives:
        assert sum(by_rid[rid] for rid in subset) == target
        assert 1 <= len(subset) <= 3
    shuffled = list(items)
    seed.shuffle(shuffled)
    again = subset_sum(target, shuffled, max_items=3)
    assert (again.status, again.members) == (result.status, result.members)


# --- fuzzy text ---------------------------------------------------------------------------------


def test_normalise_text_removes_what_does_not_identify_the_payer():
    assert normalise_text("深圳市华强电子有限公司") == "深圳市华强电子"
    assert normalise_text("ＡＢＣ　贸易（深圳）股份有限公司\u200b") == "abc 贸易 深圳"
    assert normalise_text("Shenzhen Huaqiang Co., Ltd.") == "shenzhen huaqiang"
    assert normalise_text(None) == ""


def test_rank_text_ranks_full_width_and_suffix_variants_first():
    choices = [(3, "广州华强物流有限公司"), (1, "深圳华强电子"), (2, "深圳市华强电子有限责任公司"), (4, "杭州某某科技")]
    ranked = rank_text("深圳市华强电子有限公司", choices)
    assert [rid for rid, _ in ranked][:2] == [2, 1]
    assert ranked[0][1] == 100.0
    assert ranked[1][1] > 90
    assert ranked[2][0] == 3 and ranked[2][1] < 70


def test_rank_text_breaks_ties_by_rid_and_respects_limit_and_min_score():
    choices = [(9, "华强电子"), (5, "华强电子有限公司"), (7, "完全无关")]
    assert rank_text("华强电子", choices, limit=2) == [(5, 100.0), (9, 100.0)]
    assert rank_text("华强电子", choices, min_score=50) == [(5, 100.0), (9, 100.0)]
    assert rank_text("  ", choices) == []


def test_rank_text_unknown_scorer_lists_the_known_ones():
    with pytest.raises(UsageError, match="token_set_ratio"):
        rank_text("a", [(1, "a")], scorer="nope")


@settings(max_examples=50, deadline=None)
@given(amounts=st.lists(st.integers(-300, 300), max_size=12), target=st.integers(-600, 600),
       size=st.integers(1, 5))
def test_meet_in_the_middle_finds_what_depth_first_finds(amounts, target, size):
    from recon_helpers.engine.subset_sum import _SubsetSearch
    ordered = sorted(amounts)
    split = _SubsetSearch(ordered, target, max_nodes=10**6, enough=10**6, split=True)
    depth = _SubsetSearch(ordered, target, max_nodes=10**6, enough=10**6, split=False)
    assert split.run(size) and depth.run(size)
    assert split.found == depth.found


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-3000, 3000),
                          st.lists(st.integers(-2000, 2000), min_size=0, max_size=9)),
                min_size=1, max_size=6))
def test_subset_sum_many_gives_the_same_answers_as_one_by_one(problems):
    """The batched screen may only skip work, never change an answer (refunds, zeros, ties included)."""
    import numpy as np

    from recon_helpers.engine.subset_sum import subset_sum_many

    targets, starts, rids, amounts = [], [0], [], []
    for target, items in problems:
        targets.append(target)
        rids.extend(range(len(rids), len(rids) + len(items)))
        amounts.extend(items)
        starts.append(len(rids))
    batched = subset_sum_many(np.array(targets), np.array(starts), np.array(rids, dtype=np.int64),
                              np.array(amounts, dtype=np.int64), max_items=4)
    for i, target in enumerate(targets):
        items = list(zip(rids[starts[i]:starts[i + 1]], amounts[starts[i]:starts[i + 1]]))
        single = subset_sum(target, items, max_items=4)
        assert (batched[i].status, batched[i].members, batched[i].alternatives) == \
               (single.status, single.members, single.alternatives)
