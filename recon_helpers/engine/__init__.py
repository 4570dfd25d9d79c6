"""The matching engine: recipes as data, the rule cascade, results that account for every row.

``match(left, right, recipe)`` is the verb (also ``recon_helpers.match``)::

    from recon_helpers.engine import match, get_recipe, prepare_tables

Modules: ``recipe`` (schema and the built-in recipes) with ``rules`` (its parts: sides, compares,
rule types), ``units`` (money and measures, exact conversion) and ``windows`` (date windows),
``steps`` and ``prepare`` (data-only preparation), ``cascade`` (``match``, the rules in order), ``files`` (``match_files``: from files on disk),
``result`` (MatchResult and its summary), ``taxonomy`` (exception categories and their labels),
``sql`` and ``store`` with ``store_inputs``, ``store_keyless``, ``store_threeway`` and ``store_results`` (all SQL, run in embedded
DuckDB), ``one_to_one``, ``keyless`` (what a keyless pair's evidence is, why a tie is refused),
``subset_sum``, ``fuzzy`` (the small-block decisions, in Python), ``explain`` (one row per
difference with the money at stake).
"""
from __future__ import annotations

from recon_helpers.engine.cascade import input_columns, match
from recon_helpers.engine.files import match_files
from recon_helpers.engine.prepare import prepare, prepare_tables
from recon_helpers.engine.recipe import Recipe, get_recipe, list_recipes, recipe_from_dict
from recon_helpers.engine.result import MatchResult, MatchSummary

__all__ = ["MatchResult", "MatchSummary", "Recipe", "get_recipe", "input_columns", "list_recipes", "match",
           "match_files", "prepare", "prepare_tables", "recipe_from_dict"]
