"""What the fast engine must still get right: composite keys, the key-normalisation shortcut, output
formats, the one-query invariant check and the per-day subset candidates (speed itself is measured in
benchmarks/, never here)."""
from __future__ import annotations

from decimal import Decimal

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from recon_helpers.canonical import INT_DTYPE, money
from recon_helpers.engine import input_columns, match
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.engine.sql import normalised_key_expr
from recon_helpers.errors import InvariantError, UsageError

ORDERS = {"kind": "order", "label": "订单"}
OUTBOUND = {"kind": "outbound", "label": "出库单"}
SHIP = {"kind": "shipment", "label": "发货记录"}
BILL = {"kind": "courier_bill_line", "label": "快递账单"}
DEFAULT_STEPS = ["trim", "fullwidth", "zero_width", "upper", "strip_separators"]


def lines(file: str, **columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    out = {"source_file": [file] * n, "source_row": list(range(2, n + 2))}
    for name, values in columns.items():
        if name in ("amount", "expected_fee"):
            out[name] = money(values)
        elif name == "qty":
            out[name] = pd.array(values, dtype=INT_DTYPE)
        else:
            out[name] = pd.array(values, dtype="string[pyarrow]")
    return pd.DataFrame(out)


def outbound_recipe(key, **parts):
    return recipe_from_dict({
        "name": "orders_outbound", "left": ORDERS, "right": OUTBOUND, "key": key,
        "compare": [{"name": "qty", "left": "qty", "right": "qty"}],
        "rules": [{"name": "exact", "type": "exact_key"}, {"name": "normalised", "type": "normalised_key"}],
        **parts}, source="<test>")


def placed(res) -> dict[tuple[str, int], str]:
    """(side, source_row) -> 'link:<rule>' or the exception category."""
    out = {(r.side, int(r.source_row)): f"link:{r.rule}" for r in res.links.itertuples()}
    out.update({(r.side, int(r.source_row)): r.category for r in res.exceptions.itertuples()})
    return out


# --- composite keys -----------------------------------------------------------------------------
def test_composite_key_links_each_sku_line_of_an_order():
    # JD exports one row per SKU: the order id alone repeats, order id + SKU does not
    orders = lines("jd.xlsx", order_id=["E1", "E1", "E2", "E3"], sku=["A", "B", "A", "A"], qty=["1", "2", "1", "1"])
    outbound = lines("wms.xlsx", order_id=["E1", "E1", "E2", "E3"], sku=["B", "A", "A", "C"], qty=["2", "1", "3", "1"])
    res = match(orders, outbound, outbound_recipe(["order_id", "sku"]))
    assert placed(res) == {
        ("left", 2): "link:exact", ("right", 3): "link:exact",      # E1/A
        ("left", 3): "link:exact", ("right", 2): "link:exact",      # E1/B
        ("left", 4): "qty_mismatch", ("right", 4): "qty_mismatch",  # E2/A shipped 3, ordered 1
        ("left", 5): "missing_on_right", ("right", 5): "missing_on_left",  # E3/A vs E3/C
    }
    assert set(res.exceptions.loc[res.exceptions["side"] == "left", "key"]) == {"E2|A", "E3|A"}
    assert set(res.links["key"]) == {"E1|A", "E1|B"}


def test_composite_key_with_other_field_names_on_the_right():
    orders = lines("jd.xlsx", order_id=["E1", "E1"], sku=["A", "B"], qty=["1", "1"])
    outbound = lines("wms.xlsx", order_no=["E1", "E1"], sku_code=["B", "A"], qty=["1", "1"])
    recipe = outbound_recipe({"left": ["order_id", "sku"], "right": ["order_no", "sku_code"]},
                             compare=[{"name": "qty", "left": "qty", "right": "qty"}])
    res = match(orders, outbound, recipe)
    assert sorted(int(r) for r in res.links["source_row"]) == [2, 2, 3, 3] and res.exceptions.empty


def test_composite_key_parts_never_run_together():
    # joined naively, ("AB", "C") and ("A", "BC") would both read "ABC"
    orders = lines("o.csv", order_id=["AB"], sku=["C"], qty=["1"])
    outbound = lines("w.csv", order_id=["A"], sku=["BC"], qty=["1"])
    res = match(orders, outbound, outbound_recipe(["order_id", "sku"]))
    assert res.links.empty
    assert set(res.exceptions["category"]) == {"missing_on_right", "missing_on_left"}


def test_a_blank_part_keeps_a_composite_key_from_matching():
    orders = lines("o.csv", order_id=["E1", "E2"], sku=[None, " "], qty=["1", "1"])
    outbound = lines("w.csv", order_id=["E1", "E2"], sku=[None, " "], qty=["1", "1"])
    res = match(orders, outbound, outbound_recipe(["order_id", "sku"]))
    assert res.links.empty and len(res.exceptions) == 4


def test_normalised_rule_normalises_every_part_of_a_composite_key():
    orders = lines("o.csv", order_id=[" e1 ", "E2"], sku=["sku-1", "Ｘ１"], qty=["1", "1"])
    outbound = lines("w.csv", order_id=["E1", "e2"], sku=["SKU1", "x1"], qty=["1", "1"])
    res = match(orders, outbound, outbound_recipe(["order_id", "sku"]))
    assert set(res.links["rule"]) == {"normalised"} and len(res.links) == 4 and res.exceptions.empty


def test_duplicate_composite_key_names_the_key_as_people_read_it():
    orders = lines("o.csv", order_id=["E1"], sku=["A"], qty=["1"])
    outbound = lines("w.csv", order_id=["E1", "E1"], sku=["A", "A"], qty=["1", "1"])
    res = match(orders, outbound, outbound_recipe(["order_id", "sku"]))
    dup = res.exceptions[res.exceptions["category"] == "duplicate_on_right"]
    assert len(dup) == 1 and "key E1|A occurs again" in dup["detail"].iloc[0]


def test_input_columns_lists_every_part_of_a_composite_key():
    recipe = outbound_recipe({"left": ["order_id", "sku"], "right": ["order_no", "sku_code"]})
    assert set(input_columns(recipe, "left")) == {"source_file", "source_row", "order_id", "sku", "qty"}
    assert set(input_columns(recipe, "right")) == {"source_file", "source_row", "order_no", "sku_code", "qty"}
    assert input_columns(recipe, "left", available=["order_id", "qty"]) == ["order_id", "qty"]


# --- key normalisation shortcut ----------------------------------------------------------------
@pytest.mark.parametrize("raw, steps, expected", [
    ("SF1234567890", DEFAULT_STEPS, "SF1234567890"),         # plain: shortcut, unchanged
    ("sf1234567890", DEFAULT_STEPS, "SF1234567890"),         # lower case is not plain for 'upper'
    ("  SF-1234 567/890 ", DEFAULT_STEPS, "SF1234567890"),
    ("ＳＦ１２３", DEFAULT_STEPS, "SF123"),                  # full-width letters and digits
    ("SF\u200b123", DEFAULT_STEPS, "SF123"),                 # zero-width space
    ("ABC", ["trim", "lower"], "abc"),                       # plain for 'lower' means lower case
    ("00123", ["trim", "strip_leading_zeros"], "123"),       # a step the shortcut would skip: none taken
    ("T200P123", [{"strip_prefix": ["T200P"]}], "123"),
])
def test_normalised_key_gives_the_same_key_with_or_without_the_shortcut(raw, steps, expected):
    sql = normalised_key_expr("k", steps)
    con = duckdb.connect()
    assert con.execute(f"SELECT {sql} FROM (SELECT CAST(? AS VARCHAR) AS k)", [raw]).fetchone()[0] == expected


@pytest.mark.parametrize("steps", [DEFAULT_STEPS, ["trim", "lower"], ["trim"], ["zero_width", "strip_separators"]])
def test_a_key_the_plain_test_passes_is_left_as_written_by_every_step(steps):
    """The noisy-key rows of a key rule skip the steps where plain_key_condition holds: only sound if
    the steps (run without the shortcut) never change such a key."""
    from recon_helpers.engine.sql import _normalise_step, plain_key_condition

    keys = ["SF123", "sf123", "SF-1", " SF1", "ＳＦ１", "SF\u200b1", "", "0012", "Ab9"]
    full = "CAST(k AS VARCHAR)"
    for step in steps:
        full = _normalise_step(full, step)
    con = duckdb.connect()
    rows = con.execute(f"SELECT k, {plain_key_condition('k', steps)}, {full} FROM (SELECT unnest(?) AS k)",
                       [keys]).fetchall()
    plain = [k for k, is_plain, _ in rows if is_plain]
    assert plain and all(out == k for k, is_plain, out in rows if is_plain)
    assert len(plain) < len(keys)  # and the test is not simply TRUE


# --- writing ------------------------------------------------------------------------------------
COURIER = {"name": "courier", "left": SHIP, "right": BILL, "key": "waybill_no",
           "amount": {"left": "expected_fee", "right": "amount"},
           "compare": [{"name": "fee", "left": "expected_fee", "right": "amount", "abs_tol": "0.00"}],
           "rules": [{"name": "exact", "type": "exact_key"}]}


def courier_result():
    left = lines("ship.csv", waybill_no=["SF1", "SF2", "SF3"], expected_fee=["10.00", "12.00", "-3.10"])
    right = lines("账单.xlsx", waybill_no=["SF1", "SF2"], amount=["10.00", "12.30"])
    return match(left, right, recipe_from_dict(COURIER, source="<test>"))


def test_csv_starts_with_a_byte_order_mark_and_keeps_money_as_written(tmp_path):
    paths = courier_result().write(tmp_path)
    raw = paths["links"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfgroup_id,side,source_file")
    assert paths["exceptions"].read_bytes().startswith(b"\xef\xbb\xbfside,")
    exc = pd.read_csv(paths["exceptions"], dtype=str, encoding="utf-8-sig")
    assert sorted(exc["amount"]) == ["-3.10", "12.00", "12.30"]
    assert "账单.xlsx" in set(exc["source_file"])


def test_parquet_holds_the_same_rows_with_exact_decimals(tmp_path):
    res = courier_result()
    paths = res.write(tmp_path, format="parquet")
    assert paths["links"].name == "links.parquet" and paths["exceptions"].name == "exceptions.parquet"
    links = pq.read_table(paths["links"])
    exc = pq.read_table(paths["exceptions"])
    assert str(links.schema.field("amount").type) == "decimal128(18, 2)"
    assert sorted(exc.column("amount").to_pylist()) == [Decimal("-3.10"), Decimal("12.00"), Decimal("12.30")]
    assert links.num_rows == len(res.links) == 2 and exc.num_rows == len(res.exceptions) == 3
    assert links.column("group_id").to_pylist() == [int(g) for g in res.links["group_id"]]


def test_an_unknown_output_format_is_refused(tmp_path):
    with pytest.raises(UsageError, match="unknown output format 'xlsx'"):
        courier_result().write(tmp_path, format="xlsx")


# --- the invariant check ------------------------------------------------------------------------
def test_check_catches_a_row_decided_twice():
    res = courier_result()
    res._ws.run("INSERT INTO outcome SELECT * FROM outcome WHERE side = 'left' AND is_link")
    with pytest.raises(InvariantError, match="left: 3 input rows but 4 results for 3 distinct rows"):
        res.check()


def test_check_catches_an_outcome_for_a_row_that_does_not_exist():
    res = courier_result()
    res._ws.run("UPDATE outcome SET _rid = 99 WHERE side = 'right' AND NOT is_link")
    with pytest.raises(InvariantError, match="right: 2 input rows but 2 results for 1 distinct rows"):
        res.check()


# --- subset sum candidates, ranked once per day -------------------------------------------------
def test_subset_candidates_are_the_nearest_lines_of_each_credits_own_day():
    # two credits on different days; each must be explained by the lines of its own day
    settle = {"kind": "settlement", "label": "平台结算"}
    bank = {"kind": "bank_txn", "label": "银行流水"}
    recipe = recipe_from_dict({
        "name": "subset", "left": settle, "right": bank, "amount": "amount", "date": "txn_time",
        "rules": [{"name": "subset", "type": "subset_sum", "days": 0, "max_items": 3, "max_candidates": 3}]},
        source="<test>")

    def frame(file, amounts, days):
        out = lines(file, amount=amounts)
        out["txn_time"] = pd.Series(pd.to_datetime([f"2026-10-{d:02d} 09:00" for d in days])).astype(
            "timestamp[s][pyarrow]")
        return out

    left = frame("l.csv", ["1.00", "2.00", "4.00", "1.00", "2.00", "8.00"], [1, 1, 1, 2, 2, 2])
    right = frame("r.csv", ["3.00", "10.00"], [1, 2])
    res = match(left, right, recipe)
    groups = {g: sorted((r.side, int(r.source_row)) for r in grp.itertuples())
              for g, grp in res.links.groupby("group_id")}
    assert sorted(groups.values()) == [
        [("left", 2), ("left", 3), ("right", 2)],   # day 1: 1.00 + 2.00 = 3.00
        [("left", 6), ("left", 7), ("right", 3)],   # day 2: 2.00 + 8.00 = 10.00
    ]
    assert placed(res)[("left", 4)] == "missing_on_right" and placed(res)[("left", 5)] == "missing_on_right"
