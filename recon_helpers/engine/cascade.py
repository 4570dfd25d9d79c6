"""Match two (or three) loaded tables by a recipe: link what is safe, explain the rest, lose nothing.

``match(left, right, recipe)`` runs the recipe's ordered cascade of rules. Each rule sees only the rows
no earlier rule decided; the first rule that decides a row wins. The relational work (keys, joins,
group sums, candidate pairs inside tolerances and windows) runs in DuckDB through
:mod:`recon_helpers.engine.store` (SQL text from :mod:`.sql`); only small candidate blocks come to Python, where
:mod:`.one_to_one`, :mod:`.subset_sum` and :mod:`.fuzzy` decide them - and refuse to decide when the data allow two answers.

Every input row ends in exactly one place: a link (a group of rows that correspond) or an exception
(with a category from one taxonomy and up to three ranked candidates). :meth:`MatchResult.check`
proves it on every result, and raises :class:`~recon_helpers.errors.InvariantError` if not.

Tolerance rule: |left - right| <= abs_tol + rel_tol * |right|. Dates: right - left inside the window
(``days: 3`` = -3..3, ``days: {min: 0, max: 3}`` = 0..3 days after; :mod:`.windows`).
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import pyarrow as pa

from recon_helpers.engine import keyless, windows
from recon_helpers.engine import units as unit_table
from recon_helpers.engine.backends import check_engine, default_engine, is_engine_input, open_store, spark_inputs
from recon_helpers.engine.fuzzy import rank_text
from recon_helpers.engine.prepare import prepare_tables
from recon_helpers.engine.recipe import (
    AmountDateRule,
    Compare,
    DateGroup,
    ExactKeyRule,
    FuzzyRule,
    GroupSumRule,
    NormalisedKeyRule,
    Recipe,
    SubsetSumRule,
    get_recipe,
)
from recon_helpers.engine.result import MatchResult
from recon_helpers.engine.sql import CompareSpec, SidePrep, literal
from recon_helpers.engine.store import MatchStore
from recon_helpers.engine.store_inputs import ParquetInput
from recon_helpers.engine.subset_sum import subset_sum_many
from recon_helpers.engine.taxonomy import missing_on
from recon_helpers.errors import MatchInputError

if TYPE_CHECKING:  # pandas is imported where a frame is made: an Arrow or Parquet match of a keyed recipe needs none
    import pandas as pd


# ---------------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------------
def _as_arrow(table: Any, side: str) -> pa.Table:
    """Arrow view of an input table; adds source_file (<side>) and source_row (1..n) when absent.
    (A Spark input is already in its own form, see :func:`.backends.spark_inputs`.)"""
    if is_engine_input(table) or isinstance(table, ParquetInput):
        return table
    if isinstance(table, pa.Table):
        data = table
    else:
        import pandas as pd

        if not isinstance(table, pd.DataFrame):
            raise MatchInputError(f"the {side} table must be a pandas DataFrame or a pyarrow Table, "
                                  f"got {type(table).__name__}; load files with recon_helpers.load(path)")
        data = pa.Table.from_pandas(table, preserve_index=False)
    n = data.num_rows
    if "source_file" not in data.column_names:
        data = data.append_column("source_file", pa.array([f"<{side}>"] * n, pa.string()))
    if "source_row" not in data.column_names:
        data = data.append_column("source_row", pa.array(range(1, n + 1), pa.int64()))
    return data


def _read_parquet_input(table: Any, recipe: Recipe, side: str) -> Any:
    """A Parquet file's path becomes a :class:`~.store_inputs.ParquetInput` of the columns the recipe reads,
    which the store reads itself (an Arrow table of all columns when the recipe has ``prepare:`` or
    ``units:`` steps, which run on pandas); any other input is returned as it is.

    Why: at a million rows the caller then holds no copy of the input, and no Arrow copy is held
    beside the store's. ``source_file`` defaults to the file's name, ``source_row`` to 1..n.
    """
    if not isinstance(table, (str, Path)):
        return table
    path = Path(table)
    try:
        data = ParquetInput.open(path)
        if recipe.prepare or recipe.units:
            import pyarrow.parquet as pq

            with pq.ParquetFile(path) as file:  # not pq.read_table: its dataset layer imports pandas
                arrow = file.read()
            if "source_file" not in arrow.column_names:
                arrow = arrow.append_column("source_file", pa.nulls(arrow.num_rows, pa.string()).fill_null(path.name))
            return arrow
    except (OSError, pa.ArrowException) as exc:
        raise MatchInputError(f"the {side} input {path} cannot be read as a Parquet file ({exc}); give a "
                              "Parquet file with the canonical columns, or a table loaded with "
                              "recon_helpers.load(path)") from None
    return ParquetInput.open(path, input_columns(recipe, side, available=data.columns))


def input_columns(recipe: "str | Path | Recipe", side: str, *, available: Iterable[str] | None = None) -> list[str]:
    """The columns of one side's table that a match by ``recipe`` reads (key parts, amount, date,
    compared, grouping and text fields, filter fields, optional rules' fields), plus source_file and
    source_row. Why: at a million rows, reading only these from a wide file saves most of the load
    time, e.g. ``pd.read_parquet(path, columns=input_columns(recipe, "left", available=schema.names))``.
    ``available``: keep only these (optional fields a file does not carry are then left out)."""
    recipe = get_recipe(recipe)
    scope = getattr(recipe.filters, side, None) if side in ("left", "right", "third") else None
    optional = [c for r in recipe.rules if r.optional for c in recipe.rule_columns(r, side)]
    conditions = [scope] + [getattr(r.where, side, None) for r in recipe.rules if side in ("left", "right", "third")]
    words = [w for c in conditions if c for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", c)]
    wanted = ["source_file", "source_row"] + list(recipe.required_columns(side)) + recipe.key_fields(side) \
        + optional + words
    if available is not None:
        have = set(available)
        wanted = [c for c in wanted if c in have]
    return list(dict.fromkeys(wanted))


def _validate_columns(recipe: Recipe, tables: dict[str, pa.Table]) -> None:
    """List every missing or wrongly typed column of every side in one MatchInputError."""
    problems = []
    for side, table in tables.items():
        have = set(table.column_names)
        need = recipe.required_columns(side)
        missing = [c for c in need if c not in have]
        if missing:
            users = sorted({u for c in missing for u in need[c]})
            problems.append(f"{side} table ({recipe.side_label(side)}) lacks columns {', '.join(missing)} "
                            f"needed by {', '.join(users)}")
        money_cols = [recipe.amount_field(side)] + [getattr(c, side) for c in recipe.compare if side in c.sides
                                                    and c.kind == "money" and recipe.column_kind(side, getattr(c, side))
                                                    in ("money", None)]
        for col in dict.fromkeys(money_cols):
            kind = recipe.column_kind(side, col)
            if not col or col not in have or (kind not in ("money", None)):
                continue
            typ = table.schema.field(col).type
            if pa.types.is_floating(typ):
                problems.append(f"{side} table column {col} holds floats; money must be exact: "
                                "load it with recon_helpers.load or build it with canonical.money()")
            elif pa.types.is_integer(typ) and col not in getattr(recipe.units, side):
                problems.append(f"{side} table column {col} holds whole numbers, but money is decimal yuan: "
                                f"if they are fen (分) or cents, declare it in the recipe as "
                                f"units: {{{side}: {{{col}: fen}}}} (whole yuan: {col}: yuan) and the engine "
                                "converts them exactly")
        problems += _whole_number_measures(recipe, side, table)
    if problems:
        raise MatchInputError(f"recipe {recipe.name!r} does not fit the tables: " + "; ".join(problems)
                              + ". Use tables with these canonical columns or a recipe made for them")


def _whole_number_measures(recipe: Recipe, side: str, table: pa.Table) -> list[str]:
    """Weights, lengths and volumes given as whole numbers without a declared unit: grams or kg? Refused."""
    out = []
    for c in recipe.compare:
        col = getattr(c, side) if side in c.sides else None
        kind = recipe.column_kind(side, col)
        if (col and col in table.column_names and kind in ("weight", "length", "volume")
                and col not in getattr(recipe.units, side) and pa.types.is_integer(table.schema.field(col).type)):
            spec = unit_table.KINDS[kind]
            out.append(f"{side} table column {col} holds whole numbers, but a {kind} is compared in {spec.unit} "
                       f"at {spec.scale} decimals: declare its unit, e.g. units: {{{side}: {{{col}: "
                       f"{'g' if kind == 'weight' else 'mm' if kind == 'length' else 'ml'}}}}}")
    return out


def _measure_kind(recipe: Recipe, c: Compare, types: dict[str, pa.DataType]) -> str | None:
    """The measure kind (weight, length, ...) a numeric compare is about, None for money: by the
    columns' declared units or names, else by an exact decimal finer than fen (weights are 0.001 kg)."""
    kinds = {recipe.column_kind(s, getattr(c, s)) for s in c.sides} - {None}
    if c.unit:
        kinds.add(unit_table.kind_of_unit(c.unit))
    if kinds:
        kind = sorted(kinds)[0]
        return None if kind == "money" else kind
    if all(pa.types.is_decimal(t) and t.scale > 2 for t in types.values()):
        return "measure"  # a measure of unnamed kind: compared at its columns' scale
    return None


def _resolve_compare(c: Compare, recipe: Recipe, tables: dict[str, pa.Table]) -> CompareSpec:
    a_side, b_side = c.sides
    a_col, b_col = getattr(c, a_side), getattr(c, b_side)
    a_type, b_type = tables[a_side].schema.field(a_col).type, tables[b_side].schema.field(b_col).type
    kind, scale, unit = c.kind, 2, ""
    measure = _measure_kind(recipe, c, {a_side: a_type, b_side: b_type}) if kind in ("money", "exact") else None
    if kind == "exact" and not measure:
        numeric = all(pa.types.is_integer(t) or pa.types.is_decimal(t) for t in (a_type, b_type))
        if all(pa.types.is_decimal(t) for t in (a_type, b_type)):
            kind = "money"
        else:
            kind = "number" if numeric else "text"
    elif measure and (kind == "money" or all(pa.types.is_decimal(t) for t in (a_type, b_type))):
        spec = unit_table.KINDS.get(measure)
        kind, unit = "measure", (spec.unit if spec else "")
        scale = max([spec.scale if spec else 0] + [t.scale for t in (a_type, b_type) if pa.types.is_decimal(t)])
    elif measure:
        kind = "number"
    signs = {"left": recipe.sign.left, "right": recipe.sign.right, "third": recipe.sign.third}
    return CompareSpec(
        name=c.name, kind=kind, a_side=a_side, b_side=b_side, a_col=a_col, b_col=b_col,
        category=c.effective_category, a_label=recipe.side_label(a_side), b_label=recipe.side_label(b_side),
        abs_tol=c.tolerance, rel_tol=c.rel_tol or Decimal("0"), days=c.days or 0,
        mapping=dict(c.mapping or {}), a_sign=signs[a_side], b_sign=signs[b_side], scale=scale, unit=unit)


# ---------------------------------------------------------------------------------------------------
# the cascade
# ---------------------------------------------------------------------------------------------------
def _as_pandas(table: Any) -> Any:
    """Arrow tables become pandas (exact decimals kept) for the recipe's pandas prepare steps."""
    import pandas as pd

    return table.to_pandas(types_mapper=pd.ArrowDtype) if isinstance(table, pa.Table) else table


def match(left: Any, right: Any, recipe: "str | Path | Recipe", *, third: Any = None,
          threads: int | None = None, engine: str | None = None, spark: Any = None) -> MatchResult:
    """Match ``left`` against ``right`` (and ``third``) by ``recipe``; every row ends linked or excepted.

    Parameters
    ----------
    left, right, third : pandas DataFrames (as ``recon_helpers.load`` returns them), Arrow tables, or
        paths of Parquet files, with the canonical columns the recipe names, plus ``source_file`` and
        ``source_row`` (added as ``<left>`` - a Parquet file's name - / 1..n when absent). From Parquet
        only the columns the recipe reads are loaded.
    recipe : a built-in recipe name, a path to a recipe YAML file, or a Recipe. Its ``prepare:``
        steps (see :func:`recon_helpers.recipes.prepare`) run first.
        On ``engine="spark"`` also Spark DataFrames, Parquet or Delta paths, or catalog table names.
    threads : DuckDB threads (default: all cores).
    engine : where the SQL runs: "duckdb" (embedded) or "spark" (see :mod:`recon_helpers.engine.backends`);
        the rules and the result are the same. Default: the process's (``use_engine``), else "duckdb".
    spark : the SparkSession to use with ``engine="spark"``; default: the active one, else one built
        from the standard configuration (``SPARK_REMOTE``, spark-submit's master, else local[2]).

    Returns
    -------
    MatchResult, already checked: every input row appears exactly once across links and exceptions.

    Raises
    ------
    RecipeError
        The recipe is unknown or broken.
    MatchInputError
        A table lacks columns the recipe needs (all of them listed), money is float, or the third
        table is missing/unexpected.
    InvariantError
        The result broke the every-row-exactly-once rule (a bug).
    """
    recipe = get_recipe(recipe)
    if (third is None) != (recipe.third is None):
        raise MatchInputError(
            f"recipe {recipe.name!r} " + ("matches three tables: pass third=<the "
                                          f"{recipe.third.label} table>" if recipe.third else
                                          "matches two tables: do not pass third=") )
    if engine is None:
        engine, spark = default_engine()[0], spark if spark is not None else default_engine()[1]
    check_engine(engine)
    if engine == "spark":
        left, right, third = spark_inputs(recipe, left, right, third, spark=spark)
    left, right, third = (None if t is None else _read_parquet_input(t, recipe, s)
                          for t, s in ((left, "left"), (right, "right"), (third, "third")))
    if recipe.prepare or recipe.units:  # units, then the recipe's own data-only steps; harmless if already applied
        left, right, third = prepare_tables(recipe, _as_pandas(left), _as_pandas(right),
                                            None if third is None else _as_pandas(third))
    tables = {"left": _as_arrow(left, "left"), "right": _as_arrow(right, "right")}
    if third is not None:
        tables["third"] = _as_arrow(third, "third")
    left = right = third = None  # only ``tables`` holds the inputs now: _run lets each go once in the store
    _validate_columns(recipe, tables)

    ws = open_store(engine, threads=threads, spark=spark)
    try:
        return _run(recipe, tables, ws)
    except BaseException:
        ws.close()
        raise


def _run(recipe: Recipe, tables: dict[str, pa.Table], ws: MatchStore) -> MatchResult:
    sides = list(tables)
    signs = {"left": recipe.sign.left, "right": recipe.sign.right, "third": recipe.sign.third}
    preps = []
    for side, table in tables.items():
        keys = tuple(recipe.key_fields(side))
        amount = recipe.amount_field(side) if side != "third" or (
            recipe.amount is not None and not isinstance(recipe.amount, str) and recipe.amount.third) else None
        preps.append((table, SidePrep(
            side=side, columns=tuple(dict.fromkeys(input_columns(recipe, side, available=table.column_names))),
            key=keys if keys and all(k in table.column_names for k in keys) else None,
            amount=amount if amount in table.column_names else None,
            date=recipe.date_field(side) if (recipe.date_field(side) in table.column_names) else None,
            sign=signs[side], scope=getattr(recipe.filters, side))))
    ws.prepare_rows(preps)  # the sides side by side where the back-end can
    for side, table in tables.items():
        if isinstance(table, (pa.Table, ParquetInput)):  # its rows are in the store now; the rules need only its schema
            tables[side] = table.schema.empty_table()
    del preps, table  # so a table only this match held is freed here, not when the match ends
    pa.default_memory_pool().release_unused()  # Arrow's pool keeps freed memory unless asked: ~200 MiB at 1M rows
    ws.compact()  # the input rows are in: held compressed through the rules, whose peak they are part of
    resolved = [_resolve_compare(c, recipe, tables) for c in recipe.compare]
    two_way = [c for c in resolved if {c.a_side, c.b_side} == {"left", "right"}]
    three_way = [c for c in resolved if "third" in (c.a_side, c.b_side)]
    ws.create_state(two_way)
    for side in sides:
        scope = getattr(recipe.filters, side)
        if scope:
            ws.out_of_scope(side, scope)

    for rule in recipe.rules:
        if rule.optional and any(c not in tables[s].column_names
                                 for s in ("left", "right") for c in recipe.rule_columns(rule, s)):
            continue  # an optional rule whose columns these tables do not carry
        ws.rule_where = {side: cond for side in ("left", "right") if (cond := getattr(rule.where, side))}
        try:
            _RULES[type(rule)](ws, recipe, rule, two_way)
        except ws.backend.errors as exc:
            if not ws.rule_where:
                raise
            raise MatchInputError(f"recipe {recipe.name!r}, rule {rule.name!r}: its where condition "
                                  f"{ws.rule_where} cannot be evaluated on these tables ({exc}). Write it in SQL "
                                  "over columns the tables have, e.g. where: {left: \"batch_id IS NULL\"}") from None
        ws.rule_where = {}

    _sweep(ws, recipe)
    if recipe.third is not None:
        partner = recipe.third.joins
        ws.third_way(partner=partner, partner_col=recipe.third.partner_field,
                     steps=recipe.steps_for_field(recipe.third.third_field), required=recipe.third.required,
                     compares=three_way, third_label=recipe.side_label("third"),
                     partner_label=recipe.side_label(partner))
    diff_names = [name for name, _ in ws.diff_columns]
    ws.finish(sides, recipe.category_names, ids={s: getattr(recipe.ids, s) for s in sides})
    result = MatchResult(recipe, ws, sides, diff_names)
    result.check()
    ws.compact()  # after the check: its figures are read from the tables as the rules left them
    return result


def _same(rule: Any) -> list[tuple[str, str]]:
    return [(s.left, s.right) for s in rule.same_pairs()]


def _normalised_steps(recipe: Recipe) -> tuple[list[list[Any]], list[list[Any]]]:
    """Per side, one list of normalisation steps per key part (``normalise:`` per field)."""
    parts = range(max(1, len(recipe.key_fields("left"))))
    return ([recipe.key_steps("left", i) for i in parts], [recipe.key_steps("right", i) for i in parts])


def _exact_key(ws: MatchStore, recipe: Recipe, rule: ExactKeyRule, compares: list[CompareSpec]) -> None:
    """Keys as written; keys that repeat under the recipe's normalisation wait for the normalised rule
    (it sees every spelling, so a second charge spelled otherwise is a duplicate, never a stray)."""
    family = _normalised_steps(recipe) if any(isinstance(r, NormalisedKeyRule) for r in recipe.rules) else None
    ws.key_rule(rule.name, compares, left_steps=None, right_steps=None, score=1.0, family=family)


def _normalised_key(ws: MatchStore, recipe: Recipe, rule: NormalisedKeyRule, compares: list[CompareSpec]) -> None:
    """Each part of a (composite) key normalised by its own steps (``normalise:`` per field)."""
    left_steps, right_steps = _normalised_steps(recipe)
    ws.key_rule(rule.name, compares, left_steps=left_steps, right_steps=right_steps, score=1.0)


def _amount_date(ws: MatchStore, recipe: Recipe, rule: AmountDateRule, compares: list[CompareSpec]) -> None:
    """Keyless one-to-one under the recipe's ``prefer`` (see :mod:`.keyless`); ties are refused."""
    cand = ws.amount_date_candidates(days=rule.days, abs_tol=rule.abs_tol, rel_tol=rule.rel_tol, same=_same(rule))
    if cand.empty:
        return
    cand, decided = ws.decide_one_to_one(cand, partial(keyless.candidate_costs, prefer=rule.prefer))
    ws.record_assigned_pairs(_pairs_frame(decided), rule.name, compares)
    ranked = decided.ranked_candidates()
    if not ranked.empty:
        ws.record_keyless_ambiguous(*keyless.explanation_lines(ranked, cand, rule=rule), rule=rule.name)


def _group_sum(ws: MatchStore, recipe: Recipe, rule: GroupSumRule, compares: list[CompareSpec]) -> None:
    many = rule.many_side
    groups = [(g.date, True) if isinstance(g, DateGroup) else (g, False) for g in rule.groups]
    cand = ws.group_candidates(many=many, groups=groups, days=rule.days, abs_tol=rule.abs_tol,
                               rel_tol=rule.rel_tol, same=_same(rule))
    try:
        if not cand.empty:
            _record_group_decisions(ws, rule, cand)
    finally:
        ws.drop_group_tables()


def _record_group_decisions(ws: MatchStore, rule: GroupSumRule, cand: pd.DataFrame) -> None:
    """Decide the group candidates one to one: links, and refusals naming the groups' members."""
    import pandas as pd

    many = rule.many_side
    _, decided = ws.decide_one_to_one(cand, partial(_group_edges, many=many),
                                      left="gid" if many == "left" else "orid", right="orid" if many == "left" else "gid")
    pairs = _pairs_frame(decided)
    links = pd.DataFrame({"gid": pairs["left_rid"] if many == "left" else pairs["right_rid"],
                          "orid": pairs["right_rid"] if many == "left" else pairs["left_rid"],
                          "score": pairs["score"]})
    ws.record_group_links(links, many=many, rule=rule.name)
    if decided.ambiguous:
        one = "right" if many == "left" else "left"
        gids = {rid for (side, rid) in decided.ambiguous if side == many}
        gids |= {c[1] for (side, _), cs in decided.ambiguous.items() if side == one for c in cs}
        members = ws.group_members(gids)
        first = members.groupby("gid")["_rid"].min().to_dict()
        rows = []
        for (side, rid), cands in decided.ambiguous.items():
            why = _group_refusal(rule, side == many, cands)
            if side == many:
                for member in members.loc[members["gid"] == rid, "_rid"]:
                    rows += [(many, int(member), one, int(c[1]), 1 / (1 + c[2]), i, why) for i, c in enumerate(cands)]
            else:
                rows += [(one, int(rid), many, int(first[c[1]]), 1 / (1 + c[2]), i, why)
                         for i, c in enumerate(cands) if c[1] in first]
                if not cands:
                    rows.append((one, int(rid), many, None, None, 0, why))
        frame = pd.DataFrame(rows, columns=["side", "rid", "cside", "crid", "score", "rank", "detail"])
        ws.record_ambiguous(frame.astype({"rid": "int64", "crid": "Int64", "score": "float64", "rank": "int64"}),
                            rule=rule.name)


def _group_edges(cand: pd.DataFrame, *, many: str) -> pd.DataFrame:
    """one_to_one pairs "left" with "right": the group plays the role of its side."""
    import pandas as pd

    return pd.DataFrame({"left_rid": cand["gid"] if many == "left" else cand["orid"],
                         "right_rid": cand["orid"] if many == "left" else cand["gid"], "cost": cand["cost"]})


def _group_refusal(rule: GroupSumRule, is_group: bool, cands: list) -> str:
    """Why a group rule refused, with the candidates' scores (1 / (1 + amount diff + days outside))."""
    scores = [1 / (1 + c[2]) for c in cands]
    what = "this group's sum fits" if is_group else "this row fits the sums of"
    equal = len(scores) > 1 and max(scores) - min(scores) < 1e-9
    how = ("equally well" if equal else "and another complete pairing of these groups is as good in total"
           if scores else "no candidate left of its own, but its neighbours' pairing is open")
    listed = ", ".join(f"{s:.2f}" for s in scores)
    return (f"rule {rule.name} (group_sum, window {windows.describe(rule.days)}) refused to link: {what} "
            f"{len(cands)} counterpart(s) {how} (scores {listed or '-'}); not linked - choose one")


def _subset_sum(ws: MatchStore, recipe: Recipe, rule: SubsetSumRule, compares: list[CompareSpec]) -> None:
    import pandas as pd

    many = rule.many
    one = "right" if many == "left" else "left"
    cand = ws.subset_candidates(many=many, days=rule.days, same=_same(rule), max_candidates=rule.max_candidates)
    if cand.empty:
        return
    found: dict[int, tuple[int, ...]] = {}
    unsure: dict[int, list[int]] = {}
    for orid, res in ws.decide_subsets(cand, partial(_subset_results, max_items=rule.max_items)):
        if res.status == "unique":
            found[orid] = tuple(int(m) for m in res.members)
        elif res.status == "ambiguous":
            unsure[orid] = sorted({int(m) for alt in res.alternatives for m in alt})
    use: dict[int, int] = {}
    for members in found.values():
        for m in members:
            use[m] = use.get(m, 0) + 1
    for orid, members in list(found.items()):
        if any(use[m] > 1 for m in members):  # two rows claim the same member: refuse to choose
            unsure[orid] = list(members)
            del found[orid]
    links = pd.DataFrame([(o, m) for o, ms in sorted(found.items()) for m in ms], columns=["orid", "mrid"])
    ws.record_subset_links(links, many=many, rule=rule.name)
    rows = [(one, o, many, m, 1.0, i) for o, ms in sorted(unsure.items()) for i, m in enumerate(ms[:3])]
    ws.record_ambiguous(_rows_frame(rows), rule=rule.name,
                        detail=f"rule {rule.name}: more than one set of {recipe.side_label(many)} rows adds up "
                               "to this amount; not linked")


def _subset_results(cand: pd.DataFrame, *, max_items: int) -> list[tuple[int, Any]]:
    """[(orid, SubsetResult)] for candidates ordered by orid, then mrid."""
    orids, targets, starts = _block_bounds(cand)
    results = subset_sum_many(targets, starts, cand["mrid"].to_numpy(dtype="int64"),
                              cand["fen"].to_numpy(dtype="int64"), max_items=max_items)
    return list(zip(orids.tolist(), results))


def _block_bounds(cand: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(orid, target_fen, starts) of the one-side rows of a frame sorted by orid: row ``i``'s
    candidates are ``cand[starts[i]:starts[i + 1]]``."""
    orid = cand["orid"].to_numpy(dtype="int64")
    target = cand["target_fen"].to_numpy(dtype="int64")
    first = np.concatenate([[0], np.flatnonzero(orid[1:] != orid[:-1]) + 1]).astype(np.int64)
    return orid[first], target[first], np.append(first, len(orid))


def _fuzzy(ws: MatchStore, recipe: Recipe, rule: FuzzyRule, compares: list[CompareSpec]) -> None:
    cand = ws.fuzzy_candidates(left_col=rule.left, right_col=rule.right, days=rule.days, abs_tol=rule.abs_tol,
                               rel_tol=rule.rel_tol, same=_same(rule))
    if cand.empty:
        return
    accepted, suggested = ws.score_texts(cand, partial(_fuzzy_scores, accept=rule.accept, suggest=rule.suggest))
    ws.record_suggestions(suggested)
    if accepted.empty:
        return
    _, decided = ws.decide_one_to_one(accepted, _edges_as_given)
    pairs = _pairs_frame(decided)
    pairs["score"] = 1.0 - pairs["cost"]  # the text score / 100
    ws.record_assigned_pairs(pairs, rule.name, compares)
    ws.record_ambiguous(_ambiguous_frame(decided.ambiguous), rule=rule.name,
                        detail=f"rule {rule.name}: several counterparts with the same amount and equally "
                               "similar names; not linked")


def _fuzzy_scores(cand: pd.DataFrame, *, accept: float, suggest: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each left row's candidates ranked by text similarity: (accepted pairs left_rid, right_rid, cost
    = (100 - score) / 100; suggestions side, rid, cside, crid, score, both ways round)."""
    import pandas as pd

    accepted, suggested = [], []
    for lrid, block in cand.groupby("left_rid", sort=True):
        query = str(block["ltext"].iloc[0])
        choices = [(int(r), str(t)) for r, t in zip(block["right_rid"], block["rtext"])]
        for rrid, score in rank_text(query, choices, limit=len(choices)):
            if score >= accept:
                accepted.append((int(lrid), rrid, (100.0 - score) / 100.0))
            elif score >= suggest:
                suggested += [("left", int(lrid), "right", rrid, score), ("right", rrid, "left", int(lrid), score)]
    return (pd.DataFrame(accepted, columns=["left_rid", "right_rid", "cost"]),
            pd.DataFrame(suggested, columns=["side", "rid", "cside", "crid", "score"]))


def _edges_as_given(cand: pd.DataFrame) -> pd.DataFrame:
    """Candidates that already are one_to_one's edges (left_rid, right_rid, cost)."""
    return cand


_RULES = {ExactKeyRule: _exact_key, NormalisedKeyRule: _normalised_key, AmountDateRule: _amount_date,
          GroupSumRule: _group_sum, SubsetSumRule: _subset_sum, FuzzyRule: _fuzzy}


def _pairs_frame(decided: Any) -> pd.DataFrame:
    """Accepted pairs of a :class:`~.one_to_one.BlockResult` with score = 1 / (1 + cost): 1.0 for a perfect fit."""
    frame = decided.pairs_frame()
    return frame.assign(score=1.0 / (1.0 + frame["cost"]))


def _rows_frame(rows: list[tuple]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["side", "rid", "cside", "crid", "score", "rank"])
    frame["rid"] = frame["rid"].astype("int64")
    frame["crid"] = frame["crid"].astype("Int64")
    frame["score"] = frame["score"].astype("float64")
    frame["rank"] = frame["rank"].astype("int64")
    return frame


def _ambiguous_frame(ambiguous: dict[tuple[str, int], list[tuple[str, int, float]]]) -> pd.DataFrame:
    rows = []
    for (side, rid), cands in ambiguous.items():
        if not cands:
            rows.append((side, int(rid), None, None, None, 0))
        rows += [(side, int(rid), cside, int(crid), 1.0 / (1.0 + cost), i) for i, (cside, crid, cost) in enumerate(cands)]
    return _rows_frame(rows)


def _sweep(ws: MatchStore, recipe: Recipe) -> None:
    """Rows no rule decided: missing_on_right (left rows) and missing_on_left (right rows)."""
    keyless_rules = [r for r in recipe.rules if not isinstance(r, (ExactKeyRule, NormalisedKeyRule))]
    day_windows = [windows.reach(r.days) for r in keyless_rules if getattr(r, "days", None) is not None]
    if keyless_rules and recipe.amount is not None:
        ws.leftover_amount_candidates(days=max(day_windows) if day_windows else None)
    for side, other in (("left", "right"), ("right", "left")):
        label = recipe.side_label(other)
        detail = (f"{literal('no ' + label + ' row found')} || "
                  f"CASE WHEN x._key IS NULL OR trim(x._key) = '' THEN '' ELSE ' for key ' || x._key END")
        ws.record_leftovers(side, missing_on(other), detail)
