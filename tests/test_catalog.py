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


MINE = ("name: mine\nleft: {kind: shipment, label: 发货}\nright: {kind: courier_bill_line, label: 账单}\nkey: waybill_no\n"
        "rules:\n  - {name: k, type: exact_key}\n")


def recipe_shelf(tmp_path, monkeypatch, files: dict[str, str]) -> catalog.Shelf:
    """A recipe shelf over a catalog folder of its own that holds ``files`` in ``recipes/``."""
    (tmp_path / "sources").mkdir(parents=True)
    (tmp_path / "recipes").mkdir()
    for name, text in files.items():
        (tmp_path / "recipes" / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv(catalog.CATALOG_ENV, str(tmp_path))
    return catalog.Shelf("recipes", read=load_recipe, name_of=lambda r: r.name, error=RecipeError, noun="recipe")


def test_a_lookup_by_name_reads_that_file_alone_and_a_broken_one_names_file_and_line(tmp_path, monkeypatch):
    shelf = recipe_shelf(tmp_path, monkeypatch, {"mine.yaml": MINE, "broken.yaml": "name: broken\nrules: [a\n"})
    assert shelf.get("mine").name == "mine"  # the broken file beside it is not read for this
    with pytest.raises(RecipeError) as caught:
        shelf.get("broken")
    message = str(caught.value)
    assert message.startswith("templates/recipes/broken.yaml: not valid YAML")
    assert "line 3, column 1" in message and "rules: [a" in message  # where, and the line as written
    with pytest.raises(RecipeError, match=r"templates/recipes/broken\.yaml: not valid YAML"):
        shelf.names()  # a listing reads every file


def test_a_built_in_whose_name_is_not_its_file_name_is_refused_by_either_lookup(tmp_path, monkeypatch):
    shelf = recipe_shelf(tmp_path, monkeypatch, {"other.yaml": MINE})
    for name in ("other", "mine"):
        with pytest.raises(RecipeError, match=r"other\.yaml.*name 'mine' differs from the file name 'other'"):
            shelf.get(name)
    with pytest.raises(RecipeError, match=r"no recipe named 'nothing'"):
        recipe_shelf(tmp_path / "b", monkeypatch, {"mine.yaml": MINE}).get("nothing")
