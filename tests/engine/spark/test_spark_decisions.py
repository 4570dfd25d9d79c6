"""On Spark the keyless decisions run in Spark tasks: the candidate pairs are blocked and decided there
by the same functions as on DuckDB, and the driver receives only what was decided.

How the tests see where a decision ran: ``one_to_one`` is replaced *in the driver process* by a function
that fails. DuckDB decides on the driver, so its match fails; Spark's Python workers are processes of
their own that import the real function, so its match must still give the right links and refusals.
A spy on every DataFrame collected to the driver checks that no candidate table came back.
"""
from __future__ import annotations

import pytest

from recon_helpers.engine import match, store_keyless
from recon_helpers.engine.backends import spark_blocks
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.testing import canonical_frame

NEAREST = recipe_from_dict({
    "name": "nearest", "left": {"kind": "settlement", "label": "payouts"},
    "right": {"kind": "bank_txn", "label": "bank"},
    "key": "txn_id", "amount": "amount", "date": "txn_time",
    "rules": [{"name": "near", "type": "amount_date", "days": 3, "prefer": "nearest_date"}]})


def _two_blocks():
    """Block A needs the assignment: P1 (day 1) and P2 (day 3) against B1 (day 2) and B2 (day 4), all
    100.00. Nearest-first would give B1 to either; only P1-B1 + P2-B2 (total 2 days) beats P1-B2 + P2-B1
    (4 days), so both pairs are forced. Block B is a tie: P3 and P4 on day 10, B3 and B4 on day 11, all
    250.00: two equally good pairings, refused. P5 / B5 (77.00) is a block of one pair."""
    payouts = canonical_frame("payouts.csv", txn_id=["P1", "P2", "P3", "P4", "P5"],
                              amount=["100.00", "100.00", "250.00", "250.00", "77.00"],
                              txn_time=["2026-10-01 09:00", "2026-10-03 09:00", "2026-10-10 09:00",
                                        "2026-10-10 10:00", "2026-10-20 09:00"])
    bank = canonical_frame("bank.csv", txn_id=["B1", "B2", "B3", "B4", "B5"],
                           amount=["100.00", "100.00", "250.00", "250.00", "77.00"],
                           txn_time=["2026-10-02 09:00", "2026-10-04 09:00", "2026-10-11 09:00",
                                     "2026-10-11 10:00", "2026-10-21 09:00"])
    return payouts, bank


@pytest.fixture
def decided_only_in_tasks(monkeypatch, spark):
    """one_to_one fails on the driver; every table collected to the driver is recorded (its columns and rows)."""
    def on_the_driver(*args, **kwargs):
        raise AssertionError("one_to_one ran on the driver")

    monkeypatch.setattr(store_keyless, "one_to_one", on_the_driver)
    monkeypatch.setattr(spark_blocks, "one_to_one", on_the_driver)
    DataFrame = type(spark.range(1))  # the session's DataFrame class (classic or Connect)
    collected = []
    to_arrow = DataFrame.toArrow

    def spy(frame):
        table = to_arrow(frame)
        collected.append(table.to_pandas())
        return table

    monkeypatch.setattr(DataFrame, "toArrow", spy)
    return collected


def test_blocks_that_need_the_assignment_are_decided_in_spark_tasks(spark, decided_only_in_tasks):
    payouts, bank = _two_blocks()
    with pytest.raises(AssertionError, match="ran on the driver"):
        match(payouts, bank, NEAREST)  # the spy can fail: DuckDB decides on the driver
    res = match(payouts, bank, NEAREST, engine="spark", spark=spark)

    by_group = res.links.groupby("group_id")["key"].apply(sorted).tolist()
    assert sorted(by_group) == [["B1", "P1"], ["B2", "P2"], ["B5", "P5"]]
    refused = res.exceptions.loc[res.exceptions["category"] == "ambiguous", "key"]
    assert sorted(refused) == ["B3", "B4", "P3", "P4"]

    # the candidate table (9 pairs: 4 in block A, 4 in block B, 1 alone) never came back to the driver;
    # what did is the 4 pairs of block B that the refused rows' explanations show
    shown = [t for t in decided_only_in_tasks if {"left_rid", "right_rid", "ddays"} <= set(t.columns)]
    assert sum(len(t) for t in shown) == 4

def test_a_block_too_big_to_solve_is_ranked_row_by_row_as_on_duckdb(spark, same_result):
    # 120 payouts and 120 bank credits of one amount, a day apart in a chain: one block of 240 rows
    # (more than one_to_one solves), so every row is refused with its three nearest candidates
    days = [f"2026-10-{1 + i // 8:02d} {8 + i % 8:02d}:00" for i in range(120)]
    payouts = canonical_frame("payouts.csv", txn_id=[f"P{i}" for i in range(120)], amount=["9.90"] * 120,
                              txn_time=days)
    bank = canonical_frame("bank.csv", txn_id=[f"B{i}" for i in range(120)], amount=["9.90"] * 120,
                           txn_time=[d.replace(":00", ":30") for d in days])
    duck = match(payouts, bank, NEAREST)
    assert set(duck.exceptions["category"]) == {"ambiguous"} and duck.links.empty
    same_result(duck, match(payouts, bank, NEAREST, engine="spark", spark=spark))


def _keyless(rule: dict):
    return recipe_from_dict({"name": "keyless", "left": {"kind": "settlement", "label": "payouts"},
                             "right": {"kind": "bank_txn", "label": "bank"}, "amount": "amount", "date": "txn_time",
                             "rules": [rule]}, source="<test>")


def _group_case():
    """Batch A (40 + 59) is the only fit for the 99.00 credit; batches B and C both sum to 50.00: refused."""
    left = canonical_frame("payouts.csv", amount=["40.00", "59.00", "30.00", "20.00", "25.00", "25.00"],
                           batch_id=["A", "A", "B", "B", "C", "C"], txn_time=["2026-10-05"] * 6)
    right = canonical_frame("bank.csv", amount=["99.00", "50.00"], txn_time=["2026-10-06", "2026-10-06"])
    return left, right, _keyless({"name": "batch", "type": "group_sum", "group_left": ["batch_id"], "days": 2})


def _subset_case():
    """40 + 59 is the one pair of lines that makes the 99.00 credit; 30.00 is 30 or 10 + 20: refused."""
    left = canonical_frame("payouts.csv", amount=["40.00", "59.00", "10.00", "20.00", "30.00"],
                           txn_time=["2026-10-05"] * 5)
    right = canonical_frame("bank.csv", amount=["99.00", "30.00"], txn_time=["2026-10-06", "2026-10-06"])
    return left, right, _keyless({"name": "subset", "type": "subset_sum", "days": 2, "max_items": 2})


def _fuzzy_case():
    """The same name links; one name twice at the same amount is refused; a weaker name is suggested."""
    left = canonical_frame("payouts.csv", counterparty=["深圳市华强电子有限公司", "北京星河贸易有限公司", "上海远东物流有限公司"],
                           amount=["500.00", "800.00", "120.00"], txn_time=["2026-10-01"] * 3)
    right = canonical_frame("bank.csv", counterparty=["深圳市华强电子有限公司", "星河商贸北京分公司", "上海远东物流有限公司",
                                                      "上海远东物流有限公司"],
                            amount=["500.00", "800.00", "120.00", "120.00"], txn_time=["2026-10-03"] * 4)
    return left, right, _keyless({"name": "payer", "type": "fuzzy", "left": "counterparty", "right": "counterparty",
                                  "days": 30, "accept": 95, "suggest": 60})


@pytest.mark.parametrize("case", [_group_case, _subset_case, _fuzzy_case], ids=["group_sum", "subset_sum", "fuzzy"])
def test_group_subset_and_fuzzy_decisions_run_in_spark_tasks_and_agree_with_duckdb(spark, same_result, monkeypatch, case):
    from recon_helpers.engine import cascade

    left, right, recipe = case()
    duck = match(left, right, recipe)
    assert not duck.links.empty and "ambiguous" in set(duck.exceptions["category"])

    def on_the_driver(*args, **kwargs):
        raise AssertionError("a decision ran on the driver")

    for module, name in ((store_keyless, "one_to_one"), (spark_blocks, "one_to_one"), (cascade, "subset_sum_many"),
                         (cascade, "rank_text")):
        monkeypatch.setattr(module, name, on_the_driver)
    same_result(duck, match(left, right, recipe, engine="spark", spark=spark))
