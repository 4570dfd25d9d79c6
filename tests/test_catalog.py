"""The catalog: every problem of one file in one error, in the user's field names; one lookup by name or path."""
from __future__ import annotations

import pytest

from recon_helpers import catalog
from recon_helpers.engine.recipe import load_recipe
from recon_helpers.errors import RecipeError, TemplateError
from recon_helpers.scenarios.registry import read_scenario
from recon_helpers.sources.templates import get_template


def test_a_broken_recipe_names_every_bad_field_in_one_error_without_class_names(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\nleft: {kind: shipment, label: 发货}\nright: {kind: courier_bill_line, label: 账单}\nkey: waybill_no\n"
        "rules:\n  - {name: k, type: exact_key}\n  - {name: a, type: amount_date, days: -2}\n"
        "prepare:\n  left:\n    - {derive: {column: x, from: y, contans: {a: b}}}\n", encoding="utf-8")
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    message = str(caught.value)
    assert message.startswith(f"{path.as_posix()}, field 'rules[1].days': ")
    assert "rules[1].days" in message and "prepare.left[0].derive.contans" in message
    assert "DeriveStep" not in message and "DeriveSpec" not in message and "AmountDateRule" not in message
    # the steps the user did not write (extract, concat, ...) are not listed as missing
    assert "extract" not in message and "sum_by" not in message


def test_dates_in_catalog_yaml_stay_text(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("period: 2026-10\nday: 2026-10-15\n", encoding="utf-8")
    assert catalog.read_yaml(path) == {"period": "2026-10", "day": "2026-10-15"}


def test_yaml_numbers_are_read_as_the_decimal_written():
    assert str(catalog.written_decimal(0.1)) == "0.1" and catalog.written_decimal("x") == "x"


def test_unknown_names_suggest_close_ones_and_list_the_known(tmp_path):
    with pytest.raises(TemplateError, match=r"no source template named 'sf_bil'; did you mean sf_bill"):
        get_template("sf_bil")


def test_a_scenario_entry_with_an_unknown_key_is_refused(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("name: x\ntitle: {zh: 甲, en: X}\nrecipes: [x]\nnotbook: x.ipynb\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"field 'notbook': notbook: Extra inputs are not permitted; fix the scenario entry"):
        read_scenario(path)
