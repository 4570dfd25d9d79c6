"""Each rule type of the cascade on small hand-built cases: what links, what becomes which exception."""
from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

from recon_helpers.engine import match
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.errors import InvariantError, MatchInputError
from recon_helpers.testing import canonical_frame as table

SHIP = {"kind": "shipment", "label": "发货记录"}
BILL = {"kind": "courier_bill_line", "label": "快递账单"}
SETTLE = {"kind": "settlement", "label": "平台结算"}
BANK = {"kind": "bank_txn", "label": "银行流水"}
INVOICE = {"kind": "invoice", "label": "发票"}
PAYMENT = {"kind": "customer_payment", "label": "客户回款"}


def recipe(**parts):
    return recipe_from_dict({"name": "test", "left": SHIP, "right": BILL, **parts}, source="<test>")


def rows_of(frame: pd.DataFrame, **where) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for col, val in where.items():
        mask &= frame[col] == val
    return frame[mask]


def categories(res) -> dict[tuple[str, int], str]:
    """(side, source_row) -> category of every exception."""
    return {(r.side, int(r.source_row)): r.category for r in res.exceptions.itertuples()}


def linked_pairs(res) -> set[tuple[tuple[str, int], ...]]:
    """Each link group as a sorted tuple of (side, source_row)."""
    return {tuple(sorted((r.side, int(r.source_row)) for r in g.itertuples()))
            for _, g in res.links.groupby("group_id")}


KEY_RECIPE = dict(
    key="waybill_no", amount={"left": "expected_fee", "right": "amount"},
    compare=[{"name": "fee", "left": "expected_fee", "right": "amount", "abs_tol": "0.00",
              "category": "rate_card_violation"}],
    categories={"rate_card_violation": "billed fee differs from the rate card"},
    rules=[{"name": "exact", "type": "exact_key"}, {"name": "normalised", "type": "normalised_key"}])


# --- key rules ---------------------------------------------------------------------------------------
def test_exact_key_links_pairs_and_reports_both_missing_sides():
    left = table("ship.csv", waybill_no=["SF1", "SF2", "SF3"], expected_fee=["10.00", "12.00", "8.00"])
    right = table("bill.xlsx", waybill_no=["SF2", "SF1", "SF9"], amount=["12.00", "10.00", "7.00"])
    res = match(left, right, recipe(**KEY_RECIPE))
    assert linked_pairs(res) == {(("left", 2), ("right", 3)), (("left", 3), ("right", 2))}
    assert categories(res) == {("left", 4): "missing_on_right", ("right", 4): "missing_on_left"}
    assert set(res.links["status"]) == {"matched"}
    assert res.summary.sides["left"].matched_total == Decimal("22.00")
    assert res.summary.sides["right"].unmatched_total == Decimal("7.00")


def test_fee_outside_tolerance_makes_both_rows_exceptions_of_the_compare_category_with_the_pair_shown():
    left = table("ship.csv", waybill_no=["SF1"], expected_fee=["10.00"])
    right = table("bill.xlsx", waybill_no=["SF1"], amount=["12.50"])
    res = match(left, right, recipe(**KEY_RECIPE))
    assert res.links.empty
    exc = res.exceptions
    assert list(exc["category"]) == ["rate_card_violation", "rate_card_violation"]
    assert exc["group_id"].nunique() == 1  # the reviewer sees the pair
    assert "发货记录 10.00, 快递账单 12.50, diff +2.50" in exc["detail"].iloc[0]
    left_row = rows_of(exc, side="left").iloc[0]
    assert left_row["candidates"].startswith("right:bill.xlsx:2")


def test_duplicate_key_links_the_row_that_agrees_and_reports_the_other():
    left = table("ship.csv", waybill_no=["SF1"], expected_fee=["10.00"])
    right = table("bill.xlsx", waybill_no=["SF1", "SF1"], amount=["11.00", "10.00"])
    res = match(left, right, recipe(**KEY_RECIPE))
    assert linked_pairs(res) == {(("left", 2), ("right", 3))}
    assert categories(res) == {("right", 2): "duplicate_on_right"}
    dup = res.exceptions.iloc[0]
    assert "left:ship.csv:2" in dup["candidates"]
    assert dup["group_id"] == res.links["group_id"].iloc[0]


def test_duplicate_key_tie_goes_to_the_first_row_of_the_file_whatever_the_order():
    left = table("ship.csv", waybill_no=["SF1", "SF1"], expected_fee=["10.00", "10.00"])
    right = table("bill.xlsx", waybill_no=["SF1"], amount=["10.00"])
    for order in ([0, 1], [1, 0]):
        res = match(left.iloc[order], right, recipe(**KEY_RECIPE))
        assert linked_pairs(res) == {(("left", 2), ("right", 2))}
        assert categories(res) == {("left", 3): "duplicate_on_left"}


def test_normalised_key_catches_fullwidth_zero_width_case_separator_and_prefix_variants():
    parts = dict(KEY_RECIPE, normalise={"waybill_no": ["trim", "fullwidth", "zero_width", "upper", "strip_separators",
                                                       {"strip_prefix": ["T200P"]}]})
    left = table("ship.csv", waybill_no=["ＳＦ１２３", "sf-456", "SF\u200b789", "T200PSF000", " SF 111 "],
                 expected_fee=["1.00", "2.00", "3.00", "4.00", "5.00"])
    right = table("bill.xlsx", waybill_no=["SF123", "SF456", "SF789", "SF000", "SF111"],
                  amount=["1.00", "2.00", "3.00", "4.00", "5.00"])
    res = match(left, right, recipe(**parts))
    assert len(res.links) == 10 and res.exceptions.empty
    assert set(res.links["rule"]) == {"normalised"}


def test_blank_keys_never_match_by_key():
    left = table("ship.csv", waybill_no=["", None], expected_fee=["1.00", "1.00"])
    right = table("bill.xlsx", waybill_no=["  ", None], amount=["1.00", "1.00"])
    res = match(left, right, recipe(**KEY_RECIPE))
    assert res.links.empty
    assert sorted(res.exceptions["category"]) == ["missing_on_left"] * 2 + ["missing_on_right"] * 2


# --- compares and tolerances -------------------------------------------------------------------------
@pytest.mark.parametrize("billed, ok", [("10.05", True), ("9.95", True), ("10.06", False), ("9.94", False)])
def test_abs_tol_edge_exactly_at_tolerance_passes_one_fen_over_fails(billed, ok):
    parts = dict(KEY_RECIPE, compare=[{"name": "fee", "left": "expected_fee", "right": "amount", "abs_tol": "0.05"}])
    res = match(table("s", waybill_no=["A"], expected_fee=["10.00"]),
                table("b", waybill_no=["A"], amount=[billed]), recipe(**parts))
    assert (len(res.links) == 2) is ok
    if ok:
        assert set(res.links["status"]) == {"within_tolerance"}
        assert res.links["diff_fee"].iloc[0] == Decimal(billed) - Decimal("10.00")
    else:
        assert set(res.exceptions["category"]) == {"amount_mismatch"}


def test_rel_tol_is_relative_to_the_right_amount():
    parts = dict(KEY_RECIPE, compare=[{"name": "fee", "left": "expected_fee", "right": "amount", "rel_tol": "0.01"}])
    # |100.00 - 101.00| = 1.00 <= 0.01 * 101.00 = 1.01 -> passes; 102.10: 2.10 > 1.021 -> fails
    res = match(table("s", waybill_no=["A", "B"], expected_fee=["100.00", "100.00"]),
                table("b", waybill_no=["A", "B"], amount=["101.00", "102.10"]), recipe(**parts))
    assert set(res.links["key"]) == {"A"}
    assert set(res.exceptions["key"]) == {"B"}


@pytest.mark.parametrize("bill_day, ok", [("10-04", True), ("09-28", True), ("10-05", False), ("09-27", False)])
def test_date_window_edge(bill_day, ok):
    parts = dict(key="waybill_no", rules=[{"name": "k", "type": "exact_key"}],
                 compare=[{"name": "date", "left": "txn_time", "right": "txn_time", "days": 3}])
    res = match(table("s", waybill_no=["A"], txn_time=["10-01"]),
                table("b", waybill_no=["A"], txn_time=[bill_day]), recipe(**parts))
    assert (len(res.links) == 2) is ok
    if not ok:
        assert set(res.exceptions["category"]) == {"date_out_of_window"}
        assert "days apart (window 3)" in res.exceptions["detail"].iloc[0]


def test_status_mapping_and_exact_quantity():
    parts = dict(key="order_id", rules=[{"name": "k", "type": "exact_key"}], compare=[
        {"name": "qty", "left": "qty", "right": "qty"},
        {"name": "status", "left": "status", "right": "status", "mapping": {"交易关闭": ["已取消"], "*": ["已出库"]}}])
    left = table("orders", order_id=["O1", "O2", "O3", "O4"], qty=[1, 2, 1, 1],
                 status=["已发货", "已发货", "交易关闭", "交易关闭"])
    right = table("wms", order_id=["O1", "O2", "O3", "O4"], qty=[1, 1, 1, 1],
                  status=["已出库", "已出库", "已取消", "已出库"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": {"kind": "order", "label": "订单"},
                                               "right": {"kind": "outbound", "label": "出库"}, **parts}))
    assert set(res.links["key"]) == {"O1", "O3"}
    cats = {r.key: r.category for r in res.exceptions.itertuples()}
    assert cats == {"O2": "qty_mismatch", "O4": "status_mismatch"}
    assert "qty: 订单 2, 出库 1, diff -1" in rows_of(res.exceptions, key="O2")["detail"].iloc[0]


def test_first_failing_compare_names_the_category_and_detail_lists_every_difference():
    parts = dict(KEY_RECIPE, compare=[
        {"name": "weight", "left": "chargeable_weight", "right": "billed_weight", "abs_tol": "0",
         "category": "weight_mismatch"},
        {"name": "fee", "left": "expected_fee", "right": "amount", "abs_tol": "0", "category": "rate_card_violation"}],
        categories={"weight_mismatch": "heavier", "rate_card_violation": "fee"})
    left = table("s", waybill_no=["A"], expected_fee=["10.00"])
    left["chargeable_weight"] = pd.array([Decimal("1.000")], dtype=pd.ArrowDtype(__import__("pyarrow").decimal128(12, 3)))
    right = table("b", waybill_no=["A"], amount=["14.00"])
    right["billed_weight"] = pd.array([Decimal("2.000")], dtype=pd.ArrowDtype(__import__("pyarrow").decimal128(12, 3)))
    res = match(left, right, recipe(**parts))
    assert set(res.exceptions["category"]) == {"weight_mismatch"}
    detail = res.exceptions["detail"].iloc[0]
    assert "weight:" in detail and "fee:" in detail and "diff +4.00" in detail


# --- keyless one-to-one --------------------------------------------------------------------------------
ONE_TO_ONE = dict(amount="amount", date="txn_time", rules=[{"name": "one", "type": "amount_date", "days": 3}])


def test_amount_date_is_an_optimal_assignment_not_first_come_greedy():
    # L2 is nearest to R1, but only the assignment L1-R1, L2-R2 links everyone
    left = table("settle", amount=["100.00", "100.00"], txn_time=["10-01", "10-04"])
    right = table("bank", amount=["100.00", "100.00"], txn_time=["10-03", "10-07"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": SETTLE, "right": BANK, **ONE_TO_ONE}))
    assert linked_pairs(res) == {(("left", 2), ("right", 2)), (("left", 3), ("right", 3))}


def test_same_amount_same_day_twice_is_ambiguous_with_candidates_and_never_linked():
    left = table("settle", amount=["50.00", "50.00", "80.00"], txn_time=["10-02", "10-02", "10-02"])
    right = table("bank", amount=["50.00", "50.00", "80.00"], txn_time=["10-02", "10-02", "10-03"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": SETTLE, "right": BANK, **ONE_TO_ONE}))
    assert linked_pairs(res) == {(("left", 4), ("right", 4))}
    amb = rows_of(res.exceptions, category="ambiguous")
    assert len(amb) == 4
    left_amb = rows_of(amb, side="left").iloc[0]
    assert "right:bank:2" in left_amb["candidates"] and "right:bank:3" in left_amb["candidates"]


def test_refunds_and_zero_amounts_match_like_any_amount():
    left = table("settle", amount=["-35.50", "0.00", "12.00"], txn_time=["10-05", "10-06", "10-07"])
    right = table("bank", amount=["0.00", "-35.50", "12.01"], txn_time=["10-06", "10-05", "10-07"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": SETTLE, "right": BANK, **ONE_TO_ONE}))
    assert linked_pairs(res) == {(("left", 2), ("right", 3)), (("left", 3), ("right", 2))}
    assert categories(res) == {("left", 4): "missing_on_right", ("right", 4): "missing_on_left"}
    # the leftover has the near-miss as a candidate only when amounts are equal: none here
    assert res.summary.sides["left"].total == Decimal("-23.50")


def test_sign_lets_a_debit_match_a_positive_amount():
    parts = dict(ONE_TO_ONE, sign={"left": 1, "right": -1})
    left = table("invoices", amount=["99.00"], txn_time=["10-01"])
    right = table("bank", amount=["-99.00"], txn_time=["10-02"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": SETTLE, "right": BANK, **parts}))
    assert len(res.links) == 2
    assert list(res.links["amount"]) == [Decimal("99.00"), Decimal("-99.00")]  # shown as written


# --- many-to-one and one-to-many ---------------------------------------------------------------------
SETTLEMENT_RULES = dict(amount="amount", date="txn_time", rules=[
    {"name": "batch", "type": "group_sum", "group_left": ["batch_id"], "days": 2},
    {"name": "daily", "type": "group_sum", "group_left": [{"date": "txn_time"}, "channel"], "days": 3}])


def test_bank_credit_equals_a_payout_batch_net_of_fees_and_refunds():
    left = table("jd_settlement", batch_id=["B1", "B1", "B1", "B2"], channel=["jd"] * 4,
                 amount=["200.00", "-6.00", "-50.00", "30.00"], txn_time=["10-01", "10-01", "10-02", "10-02"])
    right = table("bank", amount=["144.00", "30.00"], txn_time=["10-03", "10-03"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": SETTLE, "right": BANK, **SETTLEMENT_RULES}))
    groups = linked_pairs(res)
    assert (("left", 2), ("left", 3), ("left", 4), ("right", 2)) in groups
    assert (("left", 5), ("right", 3)) in groups
    assert res.exceptions.empty
    assert set(res.links["rule"]) == {"batch"}


def test_daily_payout_groups_by_settlement_day_and_channel_within_the_window():
    left = table("douyin", batch_id=[None] * 4, channel=["dy", "dy", "dy", "pdd"], amount=["10.00", "20.00", "5.00", "30.00"],
                 txn_time=["10-01", "10-01", "10-02", "10-01"])
    right = table("bank", amount=["30.00", "5.00", "30.00"], txn_time=["10-04", "10-06", "10-02"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": SETTLE, "right": BANK, **SETTLEMENT_RULES}))
    # dy 10-01 (10+20) and pdd 10-01 (30) both sum to 30.00: bank 10-04 and 10-02 are both in window
    # for both groups -> the data cannot say which credit is which
    assert set(rows_of(res.exceptions, category="ambiguous")["side"]) == {"left", "right"}
    # dy 10-02 = 5.00, but the 5.00 credit on 10-06 is 4 days later: outside the 3-day window
    assert categories(res)[("left", 4)] == "missing_on_right"
    assert categories(res)[("right", 3)] == "missing_on_left"
    assert res.links.empty


def test_one_invoice_paid_in_instalments():
    parts = dict(key="invoice_no", amount="amount",
                 compare=[{"name": "amount", "left": "amount", "right": "amount", "abs_tol": "0"}],
                 rules=[{"name": "instalments", "type": "group_sum", "group_right": ["invoice_no"],
                         "same": ["invoice_no"]},
                        {"name": "exact", "type": "exact_key"}])
    left = table("invoices", invoice_no=["INV1", "INV2"], amount=["1000.00", "500.00"])
    right = table("payments", invoice_no=["INV1", "INV1", "INV1", "INV2"],
                  amount=["300.00", "300.00", "400.00", "450.00"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": INVOICE, "right": PAYMENT, **parts}))
    assert (("left", 2), ("right", 2), ("right", 3), ("right", 4)) in linked_pairs(res)
    assert categories(res) == {("left", 3): "amount_mismatch", ("right", 5): "amount_mismatch"}  # short payment


def test_one_payment_paying_several_invoices_of_a_customer():
    parts = dict(amount="amount", date="txn_time", rules=[
        {"name": "several", "type": "group_sum", "group_left": ["customer_id"], "same": ["customer_id"], "days": 30}])
    left = table("invoices", customer_id=["C1", "C1", "C1", "C2"], amount=["100.00", "250.00", "50.00", "400.00"],
                 txn_time=["10-01", "10-05", "10-09", "10-01"])
    right = table("payments", customer_id=["C1", "C2"], amount=["400.00", "400.00"], txn_time=["10-20", "10-21"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": INVOICE, "right": PAYMENT, **parts}))
    assert linked_pairs(res) == {(("left", 2), ("left", 3), ("left", 4), ("right", 2)),
                                 (("left", 5), ("right", 3))}


def test_subset_sum_finds_the_only_invoices_a_payment_covers_inside_the_window():
    parts = dict(amount="amount", date="txn_time",
                 rules=[{"name": "subset", "type": "subset_sum", "days": 10, "max_items": 3, "same": ["customer_id"]}])
    left = table("invoices", customer_id=["C1"] * 4 + ["C2"], amount=["120.00", "75.50", "300.00", "44.50", "120.00"],
                 txn_time=["10-01", "10-02", "10-03", "10-25", "10-02"])
    right = table("payments", customer_id=["C1"], amount=["195.50"], txn_time=["10-08"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": INVOICE, "right": PAYMENT, **parts}))
    # 120.00 + 75.50 (C1, in window); C2's 120.00 is another customer; 44.50 is outside the window
    assert linked_pairs(res) == {(("left", 2), ("left", 3), ("right", 2))}
    assert categories(res) == {("left", 4): "missing_on_right", ("left", 5): "missing_on_right",
                               ("left", 6): "missing_on_right"}


def test_subset_sum_with_two_fitting_subsets_is_ambiguous():
    parts = dict(amount="amount", date="txn_time", rules=[{"name": "subset", "type": "subset_sum", "days": 10}])
    left = table("invoices", amount=["10.00", "20.00", "15.00", "15.00"], txn_time=["10-01"] * 4)
    right = table("payments", amount=["30.00"], txn_time=["10-02"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": INVOICE, "right": PAYMENT, **parts}))
    assert res.links.empty
    assert categories(res)[("right", 2)] == "ambiguous"
    assert rows_of(res.exceptions, side="right")["candidates"].iloc[0].count("left:invoices") >= 2


# --- fuzzy ----------------------------------------------------------------------------------------------
FUZZY = dict(amount="amount", date="txn_time", rules=[
    {"name": "payer", "type": "fuzzy", "left": "counterparty", "right": "counterparty", "days": 30,
     "accept": 95, "suggest": 60}])


def test_fuzzy_links_only_at_accept_and_offers_weaker_names_as_candidates():
    left = table("invoices", counterparty=["深圳市华强电子有限公司", "北京星河贸易有限公司"],
                 amount=["500.00", "800.00"], txn_time=["10-01", "10-01"])
    right = table("payments", counterparty=["深圳市华强电子", "星河商贸北京分公司"],
                  amount=["500.00", "800.00"], txn_time=["10-10", "10-12"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": INVOICE, "right": PAYMENT, **FUZZY}))
    assert linked_pairs(res) == {(("left", 2), ("right", 2))}
    assert set(res.links["rule"]) == {"payer"}
    # the second pair is similar but below accept: never auto-linked, shown as a candidate
    assert categories(res) == {("left", 3): "missing_on_right", ("right", 3): "missing_on_left"}
    assert "right:payments:3" in rows_of(res.exceptions, side="left")["candidates"].iloc[0]


# --- scope, inputs, results ----------------------------------------------------------------------------
def test_rows_outside_the_filter_are_reported_out_of_scope_not_dropped():
    parts = dict(ONE_TO_ONE, filters={"right": "amount > 0"})
    left = table("settle", amount=["10.00"], txn_time=["10-01"])
    right = table("bank", amount=["10.00", "-3.00"], txn_time=["10-01", "10-01"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": SETTLE, "right": BANK, **parts}))
    assert categories(res) == {("right", 3): "out_of_scope"}
    assert res.summary.sides["right"].unmatched_total == Decimal("-3.00")


def test_missing_columns_of_both_sides_are_listed_in_one_error():
    rec = recipe(**dict(KEY_RECIPE, date="txn_time",
                        rules=KEY_RECIPE["rules"] + [{"name": "one", "type": "amount_date", "days": 2}]))
    with pytest.raises(MatchInputError) as err:
        match(table("s", order_id=["A"]), table("b", amount=["1.00"]), rec)
    message = str(err.value)
    left_part, right_part = message.split("; right table")
    assert "left table (发货记录) lacks columns" in left_part and " (快递账单) lacks columns" in right_part
    assert all(col in left_part for col in ("waybill_no", "expected_fee", "txn_time"))
    assert all(col in right_part for col in ("waybill_no", "txn_time")) and "amount" not in right_part.split("needed")[0]
    assert "compare 'fee'" in message and "rule 'one'" in message


def test_float_money_is_refused():
    left = table("s", waybill_no=["A"], expected_fee=["1.00"])
    left["expected_fee"] = [1.0]
    with pytest.raises(MatchInputError, match="holds floats; money must be exact"):
        match(left, table("b", waybill_no=["A"], amount=["1.00"]), recipe(**KEY_RECIPE))


def test_optional_rule_is_skipped_when_its_columns_are_absent():
    parts = dict(amount="amount", date="txn_time", rules=[
        {"name": "batch", "type": "group_sum", "group_left": ["batch_id"], "days": 2, "optional": True},
        {"name": "one", "type": "amount_date", "days": 2}])
    left = table("settle", amount=["10.00"], txn_time=["10-01"])  # no batch_id column
    right = table("bank", amount=["10.00"], txn_time=["10-02"])
    res = match(left, right, recipe_from_dict({"name": "t", "left": SETTLE, "right": BANK, **parts}))
    assert set(res.links["rule"]) == {"one"}


def test_three_table_recipe_needs_the_third_table():
    with pytest.raises(MatchInputError, match="pass third="):
        match(table("a", refund_id=["R1"]), table("b", refund_id=["R1"]), "returns")


def test_write_produces_the_three_files_with_exact_money(tmp_path):
    left = table("ship.csv", waybill_no=["SF1", "SF2"], expected_fee=["10.00", "12.00"])
    right = table("bill.xlsx", waybill_no=["SF1", "SF2"], amount=["10.00", "12.30"])
    res = match(left, right, recipe(**KEY_RECIPE))
    paths = res.write(tmp_path / "out")
    links = pd.read_csv(paths["links"], dtype=str)
    exceptions = pd.read_csv(paths["exceptions"], dtype=str)
    assert list(links.columns[:8]) == ["group_id", "side", "source_file", "source_row", "key", "amount", "rule", "status"]
    assert list(exceptions.columns[:8]) == ["side", "source_file", "source_row", "key", "amount", "category",
                                            "detail", "candidates"]
    assert list(links["amount"]) == ["10.00", "10.00"]
    assert sorted(exceptions["amount"]) == ["12.00", "12.30"]
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert summary["sides"]["right"]["total"] == "22.30"
    assert summary["auto_match_rate"] == 0.5
    assert {e["category"] for e in summary["exceptions"]} == {"rate_card_violation"}


def test_check_raises_when_a_row_is_lost():
    res = match(table("s", waybill_no=["A"], expected_fee=["1.00"]),
                table("b", waybill_no=["A"], amount=["1.00"]), recipe(**KEY_RECIPE))
    res.check()
    res._ws.run("DELETE FROM outcome WHERE side = 'right'")
    with pytest.raises(InvariantError, match="right: 1 input rows but 0 results"):
        res.check()


def test_summary_figures():
    left = table("ship.csv", waybill_no=["SF1", "SF2", "SF3"], expected_fee=["10.00", "12.00", "8.00"])
    right = table("bill.xlsx", waybill_no=["SF1", "SF2", "SF2"], amount=["10.00", "13.00", "12.00"])
    s = match(left, right, recipe(**KEY_RECIPE)).summary
    assert (s.rows, s.matched_rows) == (6, 4)
    assert s.auto_match_rate == pytest.approx(4 / 6)
    assert s.exception_counts() == {"duplicate_on_right": 1, "missing_on_right": 1}
    assert s.sides["right"].total == s.sides["right"].matched_total + s.sides["right"].unmatched_total
