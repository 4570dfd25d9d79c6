"""Recipes are data: built-ins load and validate; a broken recipe names its file and field."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from recon_helpers.canonical import MONEY_DTYPE, TABLE_KINDS
from recon_helpers.engine.prepare import prepare
from recon_helpers.engine.recipe import (
    DEFAULT_KEY_STEPS,
    AmountDateRule,
    GroupSumRule,
    Recipe,
    get_recipe,
    list_recipes,
    load_recipe,
    recipe_from_dict,
)
from recon_helpers.errors import MatchInputError, RecipeError

REQUIRED_BUILTINS = {"courier_bill", "collections_taobao_alipay", "collections_wechat_orders", "collections_settlement_bank", "collections_payouts_bank", "collections_withdrawal_bank",
                     "customer_statement", "returns", "outbound", "cashier", "ledger"}

MINIMAL = """\
name: tiny
left: {kind: shipment, label: 发货}
right: {kind: courier_bill_line, label: 账单}
key: waybill_no
rules:
  - {name: exact, type: exact_key}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my_recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_required_builtin_recipe_is_listed_with_its_inputs():
    recipes = {r.name: r for r in list_recipes()}
    assert REQUIRED_BUILTINS <= set(recipes)
    for r in recipes.values():
        assert r.left.kind in TABLE_KINDS and r.right.kind in TABLE_KINDS
        assert r.left.label and r.right.label and r.description
    assert recipes["returns"].third.kind == "receipt"


def test_get_recipe_by_name_path_or_object(tmp_path):
    by_name = get_recipe("courier_bill")
    assert get_recipe(by_name) is by_name
    by_path = get_recipe(write(tmp_path, MINIMAL))
    assert by_path.name == "tiny" and by_path.source.endswith("my_recipe.yaml")


def test_unknown_recipe_name_lists_the_builtins():
    with pytest.raises(RecipeError, match="no recipe named 'nope'; .known recipes: .*courier_bill"):
        get_recipe("nope")


def test_tolerances_are_exact_decimals_even_when_yaml_writes_floats(tmp_path):
    text = MINIMAL + "  - {name: one, type: amount_date, days: 2, abs_tol: 0.1}\namount: amount\ndate: txn_time\n"
    rule = load_recipe(write(tmp_path, text)).rules[1]
    assert isinstance(rule, AmountDateRule)
    assert rule.abs_tol == Decimal("0.1") and rule.days == 2


def test_negative_tolerance_names_file_field_and_says_why(tmp_path):
    text = MINIMAL + "  - {name: one, type: amount_date, abs_tol: '-0.01'}\namount: amount\n"
    path = write(tmp_path, text)
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert err.value.template_file == path.as_posix()
    assert err.value.field == "rules[1].abs_tol"
    assert "abs_tol cannot be negative" in str(err.value) and "my_recipe.yaml" in str(err.value)


def test_every_problem_is_listed_at_once(tmp_path):
    text = MINIMAL.replace("courier_bill_line", "courier_bill") + "  - {name: bad, type: nonsense}\n" \
        + "colour: blue\n"
    with pytest.raises(RecipeError) as err:
        load_recipe(write(tmp_path, text))
    message = str(err.value)
    assert "right.kind" in message and "unknown table kind 'courier_bill'" in message
    assert "colour" in message and "Extra inputs are not permitted" in message
    assert "rules[1]" in message and "nonsense" in message


def test_rules_that_need_a_key_amount_or_date_say_so(tmp_path):
    text = MINIMAL.replace("key: waybill_no\n", "") + "  - {name: win, type: amount_date, days: 3}\n"
    with pytest.raises(RecipeError) as err:
        load_recipe(write(tmp_path, text))
    message = str(err.value)
    assert "rule 'exact' (exact_key) needs a key" in message
    assert "rule 'win' (amount_date) compares amounts" in message
    assert "rule 'win' uses a day window" in message


def test_compare_category_must_be_builtin_or_declared():
    base = {"name": "x", "left": {"kind": "order", "label": "a"}, "right": {"kind": "outbound", "label": "b"},
            "key": "order_id", "rules": [{"name": "k", "type": "exact_key"}]}
    with pytest.raises(RecipeError, match="category 'weird' is neither built in nor declared"):
        recipe_from_dict({**base, "compare": [{"name": "q", "left": "qty", "right": "qty", "category": "weird"}]})
    ok = recipe_from_dict({**base, "categories": {"weird": "declared"},
                           "compare": [{"name": "q", "left": "qty", "right": "qty", "category": "weird"}]})
    assert ok.compare[0].effective_category == "weird"


def test_group_sum_needs_exactly_one_side():
    base = {"name": "x", "left": {"kind": "settlement", "label": "a"}, "right": {"kind": "bank_txn", "label": "b"},
            "amount": "amount"}
    with pytest.raises(RecipeError, match="exactly one of group_left or group_right"):
        recipe_from_dict({**base, "rules": [{"name": "g", "type": "group_sum", "group_left": ["batch_id"],
                                             "group_right": ["batch_id"]}]})
    rule = recipe_from_dict({**base, "rules": [{"name": "g", "type": "group_sum",
                                                "group_left": [{"date": "txn_time"}, "channel"]}]}).rules[0]
    assert isinstance(rule, GroupSumRule) and rule.many_side == "left"


def test_duplicate_rule_names_and_unknown_normalise_steps_are_refused():
    base = {"name": "x", "left": {"kind": "order", "label": "a"}, "right": {"kind": "outbound", "label": "b"},
            "key": "order_id"}
    with pytest.raises(RecipeError, match="rule name 'k' is used twice"):
        recipe_from_dict({**base, "rules": [{"name": "k", "type": "exact_key"}, {"name": "k", "type": "normalised_key"}]})
    with pytest.raises(RecipeError, match="unknown step 'shout'"):
        recipe_from_dict({**base, "normalise": {"order_id": ["trim", "shout"]},
                          "rules": [{"name": "k", "type": "exact_key"}]})


def test_yaml_dates_stay_text_and_bad_yaml_is_a_recipe_error(tmp_path):
    recipe = load_recipe(write(tmp_path, MINIMAL + "description: 2026-03-01\n"))
    assert recipe.description == "2026-03-01"
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(write(tmp_path, "name: [unclosed\n"))


def test_fuzzy_suggest_cannot_exceed_accept():
    with pytest.raises(RecipeError, match="suggest .* cannot exceed accept"):
        recipe_from_dict({"name": "x", "left": {"kind": "invoice", "label": "a"},
                          "right": {"kind": "customer_payment", "label": "b"}, "amount": "amount",
                          "rules": [{"name": "f", "type": "fuzzy", "left": "counterparty", "right": "counterparty",
                                     "accept": 80, "suggest": 90}]})


# --- keys: one field, composite, per side --------------------------------------------------------------
BASE = {"name": "x", "left": {"kind": "order", "label": "订单"}, "right": {"kind": "outbound", "label": "出库"},
        "rules": [{"name": "k", "type": "exact_key"}]}


def test_key_may_be_one_field_a_composite_or_named_per_side():
    assert recipe_from_dict({**BASE, "key": "order_id"}).key_fields("right") == ["order_id"]
    composite = recipe_from_dict({**BASE, "key": ["order_id", "sku"]})
    assert composite.key_fields("left") == composite.key_fields("right") == ["order_id", "sku"]
    assert composite.has_composite_key
    per_side = recipe_from_dict({**BASE, "key": {"left": ["order_id", "sku"], "right": ["order_no", "sku_code"]}})
    assert per_side.key_fields("left") == ["order_id", "sku"] and per_side.key_fields("right") == ["order_no", "sku_code"]
    renamed = recipe_from_dict({**BASE, "key": {"left": "order_id", "right": "merchant_order_id"}})
    assert renamed.key_field("right") == "merchant_order_id" and not renamed.has_composite_key
    # every key column is required, for the key rule that reads it
    assert per_side.required_columns("right") == {"order_no": ["key"], "sku_code": ["key"]}


def test_composite_key_sides_must_pair_up_and_single_key_callers_are_refused():
    with pytest.raises(RecipeError, match="2 left field.*1 right field"):
        recipe_from_dict({**BASE, "key": {"left": ["order_id", "sku"], "right": "order_no"}})
    with pytest.raises(RecipeError, match="key lists no field"):
        recipe_from_dict({**BASE, "key": []})
    composite = recipe_from_dict({**BASE, "key": ["order_id", "sku"]})
    with pytest.raises(RecipeError, match=r"composite key \(order_id, sku\)"):
        composite.key_field("left")


def test_key_steps_follow_each_composite_field():
    r = recipe_from_dict({**BASE, "key": ["order_id", "sku"], "normalise": {"sku": ["trim", "upper"]}})
    assert r.key_steps("left", 1) == ["trim", "upper"]
    assert r.key_steps("left", 0) == list(DEFAULT_KEY_STEPS)


# --- prepare: data steps applied before matching -------------------------------------------------------
def frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    out = pd.DataFrame({k: pd.Series(v, dtype=MONEY_DTYPE if k == "amount" else None) for k, v in cols.items()})
    out["source_file"] = "f.csv"
    out["source_row"] = pd.Series(range(2, n + 2), dtype="int64")
    return out


def with_prepare(side: str, *steps) -> "Recipe":
    return recipe_from_dict({**BASE, "key": "order_id", "prepare": {side: list(steps)}})


def test_derive_takes_the_first_needle_found_and_leaves_others_empty():
    r = with_prepare("right", {"derive": {"column": "payer", "from": "counterparty",
                                          "contains": {"京东": "jd", "支付宝": "alipay"}}})
    t = frame(counterparty=["北京京东世纪贸易有限公司", "支付宝（中国）网络技术有限公司", "杭州某客户", None])
    out = prepare(t, r, "right")
    assert out["payer"].tolist()[:2] == ["jd", "alipay"] and out["payer"].isna().tolist()[2:] == [True, True]
    assert "payer" not in t.columns  # the input is never changed


def test_extract_only_when_the_text_names_exactly_one_value():
    r = with_prepare("right", {"extract": {"column": "invoice_no", "from": "memo", "pattern": r"(?<!\d)\d{8}(?!\d)"}})
    t = frame(memo=["付12345678", "12345678第1期", "付发票12345678、87654321", "货款", None, "123456789"])
    got = prepare(t, r, "right")["invoice_no"].tolist()
    assert got[:2] == ["12345678", "12345678"]
    assert all(pd.isna(v) for v in got[2:])


def test_coalesce_skips_fields_a_file_lacks_and_reads_days():
    r = with_prepare("left", {"coalesce": {"column": "payout_id", "from": ["batch_id", {"date": "txn_time"}]}})
    with_batch = frame(batch_id=["B1", ""], txn_time=pd.to_datetime(["2026-10-07 23:00", "2026-10-08 01:00"]))
    assert prepare(with_batch, r, "left")["payout_id"].tolist() == ["B1", "2026-10-08"]
    without = frame(txn_time=pd.to_datetime(["2026-10-07 23:00"]))
    assert prepare(without, r, "left")["payout_id"].tolist() == ["2026-10-07"]


def test_concat_builds_a_one_column_key_and_refuses_half_keys():
    r = with_prepare("left", {"concat": {"column": "line", "from": ["order_id", "sku"]}})
    out = prepare(frame(order_id=["A", "B"], sku=["S1", None]), r, "left")
    assert out["line"].iloc[0] == "A|S1" and pd.isna(out["line"].iloc[1])


def test_sum_by_adds_exactly_and_keeps_every_row_traceable():
    r = with_prepare("left", {"sum_by": {"by": ["batch_id"], "sum": ["amount"], "latest": ["txn_time"]}})
    t = frame(batch_id=["B1", "B1", "B2", None, "B1"],
              amount=[Decimal("0.10"), Decimal("0.20"), Decimal("5.00"), Decimal("-1.00"), Decimal("-0.05")],
              memo=["x", "x", "y", "z", "x"],
              txn_time=pd.to_datetime(["2026-10-01", "2026-10-03", "2026-10-02", "2026-10-02", "2026-10-02"]))
    out = prepare(t, r, "left").set_index("source_row")
    assert list(out.index) == [2, 4, 5]                        # each group at its first row; the blank key alone
    assert out.loc[2, "amount"] == Decimal("0.25") and out.loc[2, "source_rows"] == "2;3;6"
    assert out.loc[2, "txn_time"] == pd.Timestamp("2026-10-03") and out.loc[2, "memo"] == "x"
    assert out.loc[5, "amount"] == Decimal("-1.00") and out.loc[5, "rows_summed"] == 1
    assert out["amount"].dtype == MONEY_DTYPE and out["rows_summed"].sum() == len(t)


def test_sum_by_empties_what_a_group_disagrees_on_and_groups_by_the_trimmed_key_across_files():
    r = with_prepare("left", {"sum_by": {"by": ["batch_id"], "sum": ["amount", "qty"], "latest": ["txn_time"]}})
    t = frame(batch_id=["B1", " B1", "B2", "B2", "B3"], amount=[Decimal("1.10"), None, None, None, Decimal("2.00")],
              qty=[1, 2, 3, 4, 5], memo=["x", "y", "z", None, "w"],
              txn_time=pd.to_datetime(["2026-10-01", "2026-10-05", "2026-10-02", None, "2026-10-03"]))
    t.loc[1, "source_file"] = "e.csv"   # the same batch in another file: one group, shown at the first file
    out = prepare(t, r, "left")
    assert list(out["source_file"]) == ["e.csv", "f.csv", "f.csv"] and list(out["rows_summed"]) == [2, 2, 1]
    first = out.iloc[0]
    assert first["amount"] == Decimal("1.10") and first["qty"] == 3 and pd.isna(first["memo"])   # x vs y: empty
    assert first["txn_time"] == pd.Timestamp("2026-10-05") and first["source_rows"] == "3;2"
    b2 = out.iloc[1]
    assert b2["amount"] == Decimal("0.00") and b2["qty"] == 7 and pd.isna(b2["memo"])   # z and an empty: empty
    assert b2["txn_time"] == pd.Timestamp("2026-10-02") and b2["source_rows"] == "4;5"
    assert out["amount"].dtype == MONEY_DTYPE and out["qty"].dtype == "int64" and out["rows_summed"].sum() == len(t)


def test_prepare_lists_every_missing_column_and_is_harmless_twice():
    r = with_prepare("left", {"concat": {"column": "line", "from": ["order_id", "sku"]}},
                     {"sum_by": {"by": ["line"], "sum": ["qty"]}})
    with pytest.raises(MatchInputError) as err:
        prepare(frame(order_id=["A"]), r, "left")
    assert "sku (needed by prepare.left[0])" in str(err.value) and "qty (needed by prepare.left[1])" in str(err.value)
    t = frame(order_id=["A", "A"], sku=["S", "S"], qty=[1, 2])
    once = prepare(t, r, "left")
    assert prepare(once, r, "left") is once and once["qty"].tolist() == [3]
    assert prepare(t, r, "right") is t                         # no steps for that side


def test_unknown_prepare_step_names_the_side_and_position():
    with pytest.raises(RecipeError) as err:
        recipe_from_dict({**BASE, "key": "order_id", "prepare": {"left": [{"explode": {"column": "x"}}]}})
    assert "prepare.left" in str(err.value) and "step [0]" in str(err.value) and "sum_by" in str(err.value)


def test_builtin_recipes_prepare_only_what_their_files_carry():
    settlement = get_recipe("collections_payouts_bank")
    assert [type(s).__name__ for s in settlement.prepare.steps("left")] == ["DeriveSpec", "CoalesceSpec", "SumBySpec"]
    assert get_recipe("collections_withdrawal_bank").sign.left == -1
    assert get_recipe("customer_statement").prepare.steps("right")[0].column == "invoice_no"
