"""Built-in recipes, end to end from the demo files: load -> prepare -> match finds exactly the truth.

For every scenario the demo injects (truth/<scenario>.csv), the files are loaded with
``recon_helpers.load`` (template auto-detected), prepared with the recipe's own ``prepare:`` steps
and matched with the built-in recipe. For each truth category the set of keys found must equal the
set injected; categories are renamed only by the recipe's ``category_names``, never here.
Where the engine lacks a capability the gap is tested separately with a strict xfail naming it.
"""
from __future__ import annotations

import pandas as pd
import pytest

from recon_helpers.engine import match, prepare_tables
from recon_helpers.sources import load
from recon_helpers.testing import read_truth as truth

ORDER_FILES = ["shop/taobao_orders.csv", "shop/jd_orders.xlsx", "shop/pdd_orders.csv", "shop/douyin_orders.csv"]


def expected_keys(rows: pd.DataFrame) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in rows.itertuples():
        out.setdefault(r.category, set()).add(r.key)
    return out


def found_keys(exceptions: pd.DataFrame, *, sides=("left", "right", "third")) -> dict[str, set[str]]:
    """category -> keys of the exceptions on ``sides`` (out_of_scope rows are not findings)."""
    out: dict[str, set[str]] = {}
    for e in exceptions.itertuples():
        if e.side in sides and e.category != "out_of_scope" and not pd.isna(e.key):
            out.setdefault(e.category, set()).add(str(e.key))
    return out


def run(recipe: str, left: pd.DataFrame, right: pd.DataFrame, third: pd.DataFrame | None = None):
    left, right, third = prepare_tables(recipe, left, right, third)
    return match(left, right, recipe, third=third), left, right


@pytest.fixture(scope="module")
def bank(demo_dir) -> pd.DataFrame:
    return load(demo_dir / "bank" / "bank_statement.csv").table


# --- collections: payouts against bank credits -----------------------------------------------------
PAYOUTS = [("jd", "platform/jd_settlement.csv", "collections_payouts_bank"),
           ("douyin", "platform/douyin_settlement.csv", "collections_payouts_bank"),
           ("pdd", "platform/pdd_settlement.csv", "collections_withdrawal_bank"),
           ("alipay", "platform/tmall_alipay_account.zip", "collections_withdrawal_bank")]


@pytest.mark.parametrize("platform, path, recipe", PAYOUTS)
def test_every_lost_or_wrong_payout_is_found_and_nothing_else(demo_dir, bank, platform, path, recipe):
    settlement = load(demo_dir / path).table
    res, _, bank_rows = run(recipe, settlement, bank)

    want = truth(demo_dir, "collections")
    want = want[want["key2"] == platform]
    assert len(want), "the demo injects lost and wrong payouts for every platform"
    assert found_keys(res.exceptions, sides=("left",)) == expected_keys(want)

    # the platform's own credits all found their payout: none is left over as missing_on_left
    exc = res.exceptions.merge(bank_rows[["source_row", "payer"]], on="source_row", how="left")
    own_credits = exc[(exc["side"] == "right") & (exc["payer"] == platform)]
    assert set(own_credits["category"]) <= {"amount_mismatch"}
    # and no credit of another payer was linked to this platform's payouts
    linked = res.links[res.links["side"] == "right"].merge(bank_rows[["source_row", "payer"]], on="source_row")
    assert len(linked) > 0 and set(linked["payer"]) == {platform}


def test_a_wrong_payout_shows_the_bank_difference(demo_dir, bank):
    res, _, _ = run("collections_payouts_bank", load(demo_dir / "platform/jd_settlement.csv").table, bank)
    want = {t.key: t.amount_diff for t in truth(demo_dir, "collections").itertuples()
            if t.key2 == "jd" and t.category == "amount_mismatch"}
    wrong = res.exceptions[(res.exceptions["category"] == "amount_mismatch") & (res.exceptions["side"] == "left")]
    # detail ends with the difference, bank minus payout, e.g. "diff +16.36"
    got = {e.key: e.detail.rsplit("diff ", 1)[1].lstrip("+") for e in wrong.itertuples()}
    assert got == want


def test_summed_payouts_keep_every_settlement_line_traceable(demo_dir, bank):
    settlement = load(demo_dir / "platform/jd_settlement.csv").table
    res, payouts, _ = run("collections_payouts_bank", settlement, bank)
    assert payouts["rows_summed"].sum() == len(settlement)
    listed = sorted(int(r) for rows in payouts["source_rows"] for r in rows.split(";"))
    assert listed == sorted(settlement["source_row"].tolist())
    assert sum(payouts["amount"]) == sum(settlement["amount"])
    assert res.summary.sides["left"].rows == len(payouts)


# --- collections: Taobao orders against the Alipay account ------------------------------------------
def test_taobao_orders_without_or_with_a_different_alipay_receipt(demo_dir):
    orders = load(demo_dir / "shop/taobao_orders.csv").table
    account = load(demo_dir / "platform/tmall_alipay_account.zip").table
    res, _, _ = run("collections_taobao_alipay", orders, account)
    want = truth(demo_dir, "collections")
    assert found_keys(res.exceptions) == expected_keys(want[want["key2"] == "taobao"])
    # orders still in escrow or closed are out of scope, not missing; every 交易成功 order is decided
    left = res.exceptions[res.exceptions["side"] == "left"]
    scoped_out = left[left["category"] == "out_of_scope"]["source_row"]
    assert set(orders.loc[orders["source_row"].isin(scoped_out), "status"]) <= {"买家已付款，等待卖家发货", "交易关闭"}


# --- customer statement: invoices against customer payments -----------------------------------------
@pytest.fixture(scope="module")
def invoices_result(demo_dir):
    invoices = load(demo_dir / "b2b/invoices.xlsx").table
    payments = load(demo_dir / "b2b/customer_payments.csv").table
    res, _, prepared = run("customer_statement", invoices, payments)
    return res, invoices, prepared


def test_unpaid_and_short_paid_invoices_are_found(demo_dir, invoices_result):
    res, _, _ = invoices_result
    want = expected_keys(truth(demo_dir, "customer_statement"))
    found = found_keys(res.exceptions, sides=("left",))
    assert found["missing_on_right"] == want["missing_on_right"]
    assert want["amount_mismatch"] <= found["amount_mismatch"]
    # every invoice with an exception is one the demo made wrong (paid less, more, or not at all)
    wrong = want["missing_on_right"] | want["amount_mismatch"] | want["overpayment"]
    assert set().union(*found.values()) == wrong


def test_instalments_and_one_payment_for_several_invoices_link(invoices_result):
    res, _, payments = invoices_result
    linked = res.links[res.links["side"] == "right"]["source_row"]
    several = payments[payments["memo"].str.contains("、", regex=False, na=False)]
    instalment = payments[payments["memo"].str.contains("第1期|尾款", regex=True, na=False)]
    assert len(several) >= 2 and len(instalment) >= 4
    assert set(several["source_row"]) <= set(linked)
    assert set(instalment["source_row"]) <= set(linked)
    # a group that pays several invoices links more than one invoice to one payment
    per_group = res.links.groupby("group_id")["side"].agg(lambda s: (s == "left").sum())
    assert (per_group > 1).any()


@pytest.mark.xfail(strict=True, reason="engine gap: a money compare has one category whatever the sign of the "
                                       "difference, so an overpayment is reported as amount_mismatch; needs a "
                                       "directional category (e.g. compare over_category: overpayment)")
def test_overpayment_is_its_own_category(demo_dir, invoices_result):
    res, _, _ = invoices_result
    want = expected_keys(truth(demo_dir, "customer_statement"))
    found = found_keys(res.exceptions, sides=("left",))
    assert found.get("overpayment") == want["overpayment"]
    assert found["amount_mismatch"] == want["amount_mismatch"]


# --- sales receipts against the cashier journal ------------------------------------------------------
def test_sales_cashier_finds_unbanked_unknown_and_wrong_receipts(demo_dir):
    receipts = load(demo_dir / "sales/salesperson_receipts.xlsx").table
    journal = load(demo_dir / "finance/cashier_journal.xlsx").table
    res, _, _ = run("cashier", receipts, journal)
    assert found_keys(res.exceptions) == expected_keys(truth(demo_dir, "cashier"))
    # the journal's payments out are out of scope, not unexplained
    scoped_out = res.exceptions[res.exceptions["category"] == "out_of_scope"]
    assert len(scoped_out) == int((journal["amount"] < 0).sum()) > 0


# --- ERP documents against the general ledger --------------------------------------------------------
def test_erp_ledger_double_postings_carry_the_extra_amount(demo_dir):
    docs = load(demo_dir / "erp/erp_documents.csv").table
    gl = load(demo_dir / "finance/gl_export.xlsx").table
    res, _, _ = run("ledger", docs, gl)
    want = truth(demo_dir, "ledger")
    assert found_keys(res.exceptions) == expected_keys(want)
    doubles = res.exceptions[res.exceptions["category"] == "duplicate_on_right"]
    per_doc = doubles.groupby("key")["amount"].sum()
    assert {k: str(v) for k, v in per_doc.items()} == {
        t.key: t.amount_diff for t in want.itertuples() if t.category == "duplicate_on_right"}


# --- orders against warehouse outbound ---------------------------------------------------------------
@pytest.fixture(scope="module")
def outbound_result(demo_dir):
    orders = pd.concat([load(demo_dir / f).table for f in ORDER_FILES], ignore_index=True)
    outbound = load(demo_dir / "wms/outbound.xlsx").table
    res, prepared_orders, _ = run("outbound", orders, outbound)
    return res, prepared_orders


def test_outbound_finds_reships_wrong_quantities_and_shipped_closed_orders(demo_dir, outbound_result):
    res, orders = outbound_result
    want = expected_keys(truth(demo_dir, "outbound"))
    found = found_keys(res.exceptions)
    for category in ("missing_on_left", "qty_mismatch", "status_mismatch"):
        assert found[category] == want[category], category
    assert want["missing_on_right"] <= found["missing_on_right"]
    # the only other "missing" orders are closed ones that never reached the warehouse (see the xfail below)
    extra = found["missing_on_right"] - want["missing_on_right"]
    assert set(orders.loc[orders["order_id"].isin(extra), "status"]) <= {"交易关闭", "已取消", "已关闭"}


@pytest.mark.xfail(strict=True, reason="engine gap: no way to say a left row needs no counterpart when its status "
                                       "is closed (e.g. filters expected_when: {left: \"status NOT IN (...)\"}), "
                                       "so a closed order never sent to the warehouse is missing_on_right")
def test_closed_orders_without_outbound_are_not_missing(demo_dir, outbound_result):
    res, _ = outbound_result
    want = expected_keys(truth(demo_dir, "outbound"))
    assert found_keys(res.exceptions)["missing_on_right"] == want["missing_on_right"]


# --- returns: request -> return waybill -> warehouse receipt -----------------------------------------
@pytest.fixture(scope="module")
def returns_result(demo_dir):
    requests = load(demo_dir / "platform/return_requests.csv").table
    waybills = load(demo_dir / "courier/return_waybills.csv").table
    receipts = load(demo_dir / "wms/return_receipts.xlsx").table
    res, _, _ = run("returns", requests, waybills, receipts)
    return res


def test_returns_find_missing_waybills_unreceived_goods_and_wrong_quantities(demo_dir, returns_result):
    want = expected_keys(truth(demo_dir, "returns"))
    found = found_keys(returns_result.exceptions, sides=("left",))   # keyed by 售后单号 like the truth
    assert found["missing_waybill"] == want["missing_waybill"]
    assert found["qty_mismatch"] == want["qty_mismatch"]
    assert want["not_received"] <= found["not_received"]


@pytest.mark.xfail(strict=True, reason="engine gap: a missing third row is one category for every group; the "
                                       "returns scenario needs it to depend on row values (waybill 已签收 -> "
                                       "not_received, in transit -> no exception, request 退款成功 -> "
                                       "status_mismatch) and single-side checks (receipt 商品状况 != 完好 -> damaged)")
def test_returns_status_and_condition_categories(demo_dir, returns_result):
    want = expected_keys(truth(demo_dir, "returns"))
    found = found_keys(returns_result.exceptions, sides=("left",))
    assert found["not_received"] == want["not_received"]
    assert found.get("status_mismatch") == want["status_mismatch"]
    assert found.get("damaged") == want["damaged"]
