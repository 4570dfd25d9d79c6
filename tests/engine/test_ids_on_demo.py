"""Every built-in recipe names the rows' own ids per side (issue #9 item 7): on the demo month,
links.csv and exceptions.csv carry them filled, and joining a result row back to its table by
those ids finds that row exactly once (a duplicate charge, the same waybill billed twice, is told
apart by its row number as well)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recon_helpers.engine import match, prepare_tables
from recon_helpers.engine.recipe import list_recipes
from recon_helpers.sources import load

ORDERS = ["shop/taobao_orders.csv", "shop/jd_orders.xlsx", "shop/pdd_orders.csv", "shop/douyin_orders.csv"]
BANK = ["bank/bank_statement.csv"]

#: recipe -> (left files, right files, third files) of the demo month it is meant for (an order list of
#: one row per order where the recipe reads one; JD and Douyin export a row per item)
INPUTS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "cashier": (["sales/salesperson_receipts.xlsx"], ["finance/cashier_journal.xlsx"], []),
    "cashier_deposits_bank": (["finance/cashier_journal.xlsx"], BANK, []),
    "collections_orders_settlement": (["shop/douyin_orders.csv"], ["platform/douyin_settlement.csv"], []),
    "collections_taobao_alipay": (["shop/taobao_orders.csv"], ["platform/tmall_alipay_account.zip"], []),
    "collections_payouts_bank": (["platform/jd_settlement.csv"], BANK, []),
    "collections_settlement_bank": (["platform/jd_settlement.csv"], BANK, []),
    "collections_wechat_orders": (["payments/wechat_trade.csv"], ["shop/pdd_orders.csv", "shop/taobao_orders.csv"], []),
    "collections_withdrawal_bank": (["platform/pdd_settlement.csv"], BANK, []),
    "courier_bill": (["erp/shipments.csv"], ["courier/sf_bill.xlsx"], []),
    "customer_statement": (["b2b/invoices.xlsx"], ["b2b/customer_payments.csv"], []),
    "ledger": (["erp/erp_documents.csv"], ["finance/gl_export.xlsx"], []),
    "outbound": (ORDERS, ["wms/outbound.xlsx"], []),
    "returns": (["platform/return_requests.csv"], ["courier/return_waybills.csv"], ["wms/return_receipts.xlsx"]),
}
#: built-in recipes the demo month has no files for (tested on their own data elsewhere)
NOT_IN_DEMO = {"store_settlement_bank"}


def test_every_built_in_recipe_declares_ids_and_is_tried_here():
    recipes = list_recipes()
    assert {r.name for r in recipes} == set(INPUTS) | NOT_IN_DEMO
    for recipe in recipes:
        assert recipe.ids.left and recipe.ids.right, f"{recipe.name} names no ids"
        assert bool(recipe.ids.third) == (recipe.third is not None), recipe.name


def _table(demo_dir: Path, files: list[str]) -> pd.DataFrame | None:
    if not files:
        return None
    return pd.concat([load(demo_dir / f).table for f in files], ignore_index=True)


def _priced_shipments(demo_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Our shipments priced with the SF rate card, as the courier check matches them."""
    from recon_helpers.scenarios.courier_bill.check import check

    run = check(period="2026-10", data_dir=demo_dir, carrier="sf")
    return run.priced, run.bill_rows


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | (values.astype("string").str.strip() == "")


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_links_and_exceptions_carry_the_declared_ids_and_join_back_once(demo_dir, tmp_path, name):
    left_files, right_files, third_files = INPUTS[name]
    if name == "courier_bill":
        left, right = _priced_shipments(demo_dir)
        third = None
    else:
        left, right, third = (_table(demo_dir, f) for f in (left_files, right_files, third_files))
    left, right, third = prepare_tables(name, left, right, third)
    result = match(left, right, name, third=third)
    paths = result.write(tmp_path)
    links = pd.read_csv(paths["links"], encoding="utf-8-sig", dtype=str, keep_default_na=False)
    exceptions = pd.read_csv(paths["exceptions"], encoding="utf-8-sig", dtype=str, keep_default_na=False)
    tables = {"left": left, "right": right, "third": third}
    assert result.recipe.ids.left and result.recipe.ids.right, f"{name} declares no ids"
    for side, ids in (("left", result.recipe.ids.left), ("right", result.recipe.ids.right),
                      ("third", result.recipe.ids.third)):
        if not ids:
            continue
        table = tables[side].assign(source_row=lambda t: t["source_row"].astype(str))
        for what, frame in (("links", links), ("exceptions", exceptions)):
            assert set(ids) <= set(frame.columns), f"{name} {what}.csv lacks {ids}"
            rows = frame[frame["side"] == side]
            if what == "exceptions":
                assert len(rows), f"{name}: the demo gives {side} exceptions"
            # each result row names its table row by the ids (its own values, never another row's)
            same = rows.merge(table, on=["source_file", "source_row"], how="left", suffixes=("", "_table"),
                              validate="many_to_one", indicator=True)
            assert (same["_merge"] == "both").all(), f"{name} {what}: a {side} row is not in the table"
            for column in ids:
                theirs = same[f"{column}_table"].astype("string").fillna("").str.strip()
                assert list(same[column].str.strip()) == list(theirs), f"{name} {what} {side} {column}"
            # filled for every row, except a row whose file leaves every id blank: only ever out of scope
            unnamed = rows[(rows[ids] == "").all(axis=1)]
            assert set(unnamed.get("category", pd.Series(dtype=str))) <= {"out_of_scope"}, f"{name} {what} {side}"
            assert len(unnamed) <= max(1, len(rows) // 20), f"{name} {what} {side}: too many rows without ids"
            # joining back by the ids alone finds the row once; rows whose ids repeat in the table (the same
            # waybill billed twice) are told apart by their row number too
            named = rows.drop(unnamed.index)
            keyed = table.copy()
            for column in ids:
                keyed[column] = keyed[column].astype("string").fillna("").str.strip()
            repeats = keyed.duplicated(ids, keep=False)
            assert repeats.mean() <= 0.1, f"{name} {side}: the ids tell only {1 - repeats.mean():.0%} of rows apart"
            back = named.merge(keyed[~repeats][ids + ["source_row"]], on=ids, how="left", suffixes=("", "_back"))
            unique = back["source_row_back"].notna()
            assert len(back) == len(named), f"{name} {what} {side}: an id found two rows"
            assert (back.loc[unique, "source_row_back"] == back.loc[unique, "source_row"]).all()
            twice = back.loc[~unique, ids].drop_duplicates().merge(keyed, on=ids)
            assert twice.groupby(ids).size().ge(2).all()  # only rows whose ids the file itself repeats
