"""Recipes are data: built-ins load and validate; a broken recipe names its file and field."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from recon_helpers.canonical import TABLE_KINDS
from recon_helpers.errors import RecipeError
from recon_helpers.recipes import (AmountDateRule, GroupSumRule, get_recipe, list_recipes, load_recipe,
                                   recipe_from_dict)

REQUIRED_BUILTINS = {"courier_bill", "collections_taobao_alipay", "wechat_orders", "settlement_bank",
                     "invoices_payments", "returns_three_way", "outbound_orders", "sales_cashier", "erp_ledger"}

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
    assert recipes["returns_three_way"].third.kind == "receipt"


def test_get_recipe_by_name_path_or_object(tmp_path):
    by_name = get_recipe("courier_bill")
    assert get_recipe(by_name) is by_name
    by_path = get_recipe(write(tmp_path, MINIMAL))
    assert by_path.name == "tiny" and by_path.source.endswith("my_recipe.yaml")


def test_unknown_recipe_name_lists_the_builtins():
    with pytest.raises(RecipeError, match="no built-in recipe named 'nope'.*courier_bill"):
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
