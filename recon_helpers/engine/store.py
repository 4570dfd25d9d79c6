"""The relational layer of the matcher: every SQL statement the engine runs is built in :mod:`.sql` or
here and in its mixins (:mod:`.store_keyless` for keyless candidates, :mod:`.store_threeway` for the
third side, :mod:`.store_results` for the result views and the check's figures), and run by
:class:`MatchStore`; :mod:`.store_inputs` says how input rows get their ids.

Why here: the bulk work of matching (preparing rows, normalising keys, joining, summing groups,
building candidate pairs inside tolerances and windows, assembling links and exceptions) is set-based
and belongs in a columnar engine. Keeping all of it here, as functions that build SQL text, means the
engine can later be pointed at a distributed SQL engine by swapping :class:`MatchStore` and the few
dialect helpers marked ``DIALECT`` in :mod:`.sql`. DuckDB embedded is the default.

The SQL is standard where a standard form exists (CTEs, window functions, ``NOT EXISTS`` anti joins,
``CASE``, ``CAST``); dates are turned into integer day numbers once, so every window is integer arithmetic.

State during a match, all in the store:

* ``rows_left`` / ``rows_right`` / ``rows_third`` - the input rows with an internal ``_rid`` (rank by
  source_file, source_row, so it does not depend on input order) and the computed columns ``_key``,
  ``_amount`` (as shown), ``_amt`` (signed for comparing), ``_day`` and ``_scope``;
* ``outcome`` - one row per input row once decided: link or exception, group, rule, category, detail;
* ``cands`` - ranked candidates of rows that became exceptions (their texts are built when the
  ``exceptions`` view is read or written); ``suggest`` - fuzzy suggestions;
* ``klines`` / ``ktexts`` - the numbered pieces of keyless refusals' texts (``outcome.detail`` is
  NULL for those rows until the ``exceptions`` view puts the texts together);
* group ids are integers derived from content (the group's smallest row number, left rows first), and
  each outcome row carries its group's differences (``diff_amount``, ``diff_<compare>``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
import pyarrow as pa

from recon_helpers.engine.backends.duckdb_backend import DuckDBBackend
from recon_helpers.engine.sql import (
    OUTCOME_COLUMNS,
    SIDES,
    CompareSpec,
    SidePrep,
    amount_diff_column,
    compare_exprs,
    composite_key_expr,
    dialect_day_number,
    dialect_parquet_scan,
    evaluation_columns,
    ident,
    key_text_expr,
    literal,
    normalised_key_expr,
    plain_key_condition,
)
from recon_helpers.engine.store_inputs import ParquetInput, content_rank
from recon_helpers.engine.store_keyless import KeylessSql
from recon_helpers.engine.store_results import ResultSql
from recon_helpers.engine.store_threeway import ThreeWaySql
from recon_helpers.engine.taxonomy import AMBIGUOUS, OUT_OF_SCOPE, duplicate_on

if TYPE_CHECKING:
    import pandas as pd


class MatchStore(ResultSql, ThreeWaySql, KeylessSql):
    """Runs the matcher's SQL on a back-end (one embedded DuckDB connection unless given another).

    Inputs are registered as Arrow tables (zero-copy scans); results are fetched as Arrow and
    converted to pandas with ``ArrowDtype`` so money stays ``decimal128`` (never ``.df()``, which
    turns DECIMAL into float64).

    Group ids are integers derived from content: the smallest "global row number" of the group's
    rows, where left rows are numbered first (by source_file, source_row), then right, then third.
    """

    def __init__(self, *, threads: int | None = None, backend=None):
        #: where the SQL runs (:mod:`recon_helpers.engine.backends`); embedded DuckDB unless given
        self.backend = backend if backend is not None else DuckDBBackend(threads=threads)
        self.offsets: dict[str, int] = {}
        self.side_rows: dict[str, int] = {}
        self.key_parts: dict[str, tuple[str, ...]] = {}
        self._step = 0  # numbers the inserts into outcome
        self._snapshots: dict[str, int] = {}  # side -> the step its un_<side> table is up to date with
        self.diff_columns: list[tuple[str, str]] = []
        #: side -> SQL condition of the rule now running (``where:``); rows outside are not its business
        self.rule_where: dict[str, str] = {}
        self._sides: list[str] = []  # the sides and id columns of the result views (set by ``finish``)
        self._id_names: list[str] = []
        self._ids: dict[str, tuple[str, ...]] = {}  # side -> its id columns
        self._exceptions_ready = False  # the ``exceptions`` view is built when first asked for
        self._ktext_count: int | None = None  # pieces of keyless refusal texts kept (None: no table yet)

    # -- plumbing ------------------------------------------------------------------------------
    def register(self, name: str, data: "pd.DataFrame | pa.Table") -> None:
        table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        self.backend.register(name, table)

    def unregister(self, name: str) -> None:
        self.backend.unregister(name)

    def run(self, sql: str) -> None:
        self.backend.run(sql)

    def arrow(self, sql: str) -> pa.Table:
        return self.backend.arrow(sql)

    def pandas(self, sql: str) -> pd.DataFrame:
        import pandas as pd

        return self.arrow(sql).to_pandas(types_mapper=pd.ArrowDtype)

    def numpy_frame(self, sql: str) -> pd.DataFrame:
        """Small numeric candidate frames for the Python side (plain numpy dtypes)."""
        return self.arrow(sql).to_pandas()

    def scalar(self, sql: str):
        return self.backend.scalar(sql)

    def home(self, table: str) -> str:
        """The name to create one of the store's tables under: where the back-end keeps it (its
        ``home``: DuckDB keeps the input rows and the outcome in a compressed database), else the name."""
        home = getattr(self.backend, "home", None)
        return home(table) if home is not None else table

    def create_table(self, name: str, select_sql: str) -> None:
        """``CREATE OR REPLACE TABLE name AS select_sql``, or where the back-end places and lays out
        a table it keeps (its ``create_table``: DuckDB's compressed database, see ``home``)."""
        create = getattr(self.backend, "create_table", None)
        if create is not None:
            create(name, select_sql)
        else:
            self.run(f"CREATE OR REPLACE TABLE {name} AS {select_sql}")

    def drop(self, *tables: str) -> None:
        for t in tables:
            self.run(f"DROP TABLE IF EXISTS {t}")

    def close(self) -> None:
        self.backend.close()

    # -- setup -----------------------------------------------------------------------------------
    def prepare_rows(self, items: Sequence[tuple["pa.Table | ParquetInput", SidePrep]]) -> None:
        """Create ``rows_<side>`` for each ``(input, prep)``, each in one pass over its input
        (registered as Arrow, never copied to pandas; see :meth:`rows_select`): side by side where
        the back-end can (its ``create_tables``), else one after another.

        Why side by side: a Parquet file of one row group (a million rows, as pyarrow writes them)
        is read on one thread, so two sides one after another leave a core idle: 1,000,000 courier
        rows per side load in ~0.5 s instead of ~0.9 s."""
        jobs = []
        for table, prep in items:
            inputs: dict[str, pa.Table] = {}
            jobs.append((f"rows_{prep.side}", self.rows_select(table, prep, inputs), inputs))
        create_tables = getattr(self.backend, "create_tables", None)
        if create_tables is not None:
            create_tables(jobs)
            return
        for name, select, inputs in jobs:
            for input_name, data in inputs.items():
                self.register(input_name, data)
            try:
                self.create_table(name, select)
            finally:
                for input_name in inputs:
                    self.unregister(input_name)

    def rows_select(self, table: "pa.Table | ParquetInput", prep: SidePrep, inputs: dict[str, Any]) -> str:
        """The SELECT of ``rows_<side>``: the needed columns plus ``_rid`` (content rank), ``_key``
        (the key as people read it; blank -> NULL; a composite key's parts joined by '|'), ``_k``
        (composite keys only: the injective join key), ``_amount`` (as shown), ``_amt`` (signed for
        comparing), ``_day`` and ``_scope``. What it reads by name (the input as Arrow, a rank
        table) is put in ``inputs``, to be registered where the statement runs."""
        own = tuple(c for c in (*prep.key_fields, prep.amount, prep.date) if c)  # what the prepared row is built from
        needed = [c for c in dict.fromkeys(("source_file", "source_row") + tuple(prep.columns) + own)
                  if c in table.column_names]
        src = self._input_source(prep.side, table, needed, inputs)
        parts = prep.key_fields
        raw = [key_text_expr(ident(f)) for f in parts]
        if not parts:
            key = "CAST(NULL AS VARCHAR) AS _key"
        elif len(parts) == 1:
            key = f"{raw[0]} AS _key"
        else:
            shown = " || '|' || ".join(raw)  # NULL when any part is blank, like the join key
            key = f"{shown} AS _key, {composite_key_expr(raw)} AS _k"
        self.key_parts[prep.side] = parts
        amount = f"CAST({ident(prep.amount)} AS DECIMAL(18,2))" if prep.amount else "CAST(NULL AS DECIMAL(18,2))"
        amt = amount if prep.sign == 1 else f"CAST(-{ident(prep.amount)} AS DECIMAL(18,2))"
        day = dialect_day_number(ident(prep.date)) if prep.date else "CAST(NULL AS INTEGER)"
        scope = f"COALESCE(({prep.scope}), FALSE)" if prep.scope else "TRUE"
        extra = "".join(f", {ident(c)}" for c in prep.columns if c not in ("source_file", "source_row", "_rid"))
        self.side_rows[prep.side] = table.num_rows
        self.offsets[prep.side] = sum(self.side_rows.get(x, 0) for x in SIDES[:SIDES.index(prep.side)])
        return f"""
            SELECT _rid, CAST(source_file AS VARCHAR) AS source_file, CAST(source_row AS BIGINT) AS source_row,
                   {key}, {amount} AS _amount, {amt} AS _amt, {day} AS _day, {scope} AS _scope{extra}
            FROM {src}"""

    def _input_source(self, side: str, table: "pa.Table | ParquetInput", columns: Sequence[str],
                      inputs: dict[str, Any]) -> str:
        """A FROM item with the input's ``columns`` and ``_rid``: an Arrow table put in ``inputs`` as
        ``in_<side>``, or a Parquet file the back-end reads itself (see :class:`ParquetInput`)."""
        if not isinstance(table, ParquetInput):
            inputs[f"in_{side}"] = self.with_rid(table, columns)
            return f"in_{side}"
        cols = [f"{literal(table.path.name)} AS source_file" if c == "source_file" and c not in table.columns
                else "p.file_row_number + 1 AS source_row" if c == "source_row" and c not in table.columns
                else f"p.{ident(c)}" for c in columns]
        rank = table.content_order()
        if rank is None:  # the usual case: the file is in (source_file, source_row) order
            return f"(SELECT {', '.join(cols)}, p.file_row_number AS _rid FROM {dialect_parquet_scan(str(table.path))} p)"
        inputs[f"rank_{side}"] = pa.table({"pos": np.arange(table.num_rows, dtype=np.int64), "_rid": rank})
        return (f"(SELECT {', '.join(cols)}, k._rid FROM {dialect_parquet_scan(str(table.path))} p "
                f"JOIN rank_{side} k ON k.pos = p.file_row_number)")

    def with_rid(self, table: pa.Table, columns: Sequence[str]) -> pa.Table:
        """The input's ``columns`` plus ``_rid`` (:func:`content_rank`), as the back-end registers it."""
        return table.select(list(columns)).append_column("_rid", content_rank(table))

    def join_key(self, side: str, alias: str, steps: Sequence[Sequence[object]] | None) -> str:
        """SQL for the key a key rule joins on: as written (``steps`` None) or normalised (``steps``:
        one list of normalisation steps per key part); NULL for a blank key (or a composite key with
        a blank part), so it never joins."""
        parts = self.key_parts.get(side, ())
        if len(parts) <= 1:
            if steps is None:
                return f"{alias}._key"
            return f"NULLIF({normalised_key_expr(f'{alias}._key', steps[0] if steps else [])}, '')"
        if steps is None:
            return f"{alias}._k"
        return composite_key_expr([normalised_key_expr(f"{alias}.{ident(p)}", steps[i] if i < len(steps) else [])
                                   for i, p in enumerate(parts)])

    def plain_key(self, side: str, alias: str, steps: Sequence[Sequence[object]]) -> str | None:
        """SQL TRUE for a row whose key the normalisation ``steps`` (one list per key part) leave as
        written (see :func:`.sql.plain_key_condition`); None when some part has no such test."""
        parts = self.key_parts.get(side, ())
        fields = [f"{alias}._key"] if len(parts) <= 1 else [f"{alias}.{ident(p)}" for p in parts]
        tests = [plain_key_condition(f, steps[i] if i < len(steps) else []) for i, f in enumerate(fields)]
        return None if not tests or None in tests else " AND ".join(f"({t})" for t in tests)

    def create_state(self, compares: Sequence[CompareSpec]) -> None:
        """Create the outcome (one row per decided input row, with the diffs of its group), the
        candidate and suggestion tables."""
        self.diff_columns = [("diff_amount", "DECIMAL(38,2)")] + [
            ("diff_" + c.name, c.diff_type) for c in compares if c.name != "amount"]
        diffs = "".join(f", {ident(n)} {t}" for n, t in self.diff_columns)
        self.run(f"""
            CREATE OR REPLACE TABLE {self.home("outcome")} (side VARCHAR, _rid BIGINT, is_link BOOLEAN, group_id BIGINT,
                rule VARCHAR, score DOUBLE, status VARCHAR, category VARCHAR, detail VARCHAR{diffs}, _step INTEGER);
            CREATE OR REPLACE TABLE {self.home("cands")} (side VARCHAR, _rid BIGINT, cside VARCHAR, crid BIGINT,
                score DOUBLE, rank INTEGER);
            CREATE OR REPLACE TABLE {self.home("suggest")} (side VARCHAR, _rid BIGINT, cside VARCHAR, crid BIGINT, score DOUBLE);""")

    def _insert(self, select_sql: str, *, diffs: Sequence[str] = ()) -> None:
        """INSERT INTO outcome (the fixed columns [+ the named diff columns]) SELECT ...; each insert
        is numbered (``_step``) so snapshots of undecided rows can be brought up to date cheaply."""
        cols = OUTCOME_COLUMNS + "".join(f", {ident(d)}" for d in diffs)
        self._step += 1
        self.run(f"INSERT INTO outcome ({cols}, _step) SELECT *, {self._step} FROM ({select_sql}) AS s")

    # -- unmatched rows --------------------------------------------------------------------------
    def unmatched_sql(self, side: str) -> str:
        return (f"SELECT * FROM rows_{side} x WHERE x._scope AND NOT EXISTS "
                f"(SELECT 1 FROM outcome o WHERE o.side = '{side}' AND o._rid = x._rid)")

    def snapshot_unmatched(self, side: str) -> str:
        """A FROM item with the rows of a side still undecided (materialised: rules read it often).

        Why incremental: the cascade only ever decides more rows, so the previous snapshot minus the
        rows decided since (outcome ``_step`` after it) is the new one - a small anti join instead of
        all input rows against all outcomes for every rule. Unchanged since: reused as it is.
        """
        name = f"un_{side}"
        taken = self._snapshots.get(side)
        if taken is None:
            if not self.scalar(f"SELECT count(*) FROM outcome WHERE side = '{side}'"):
                return self._rule_scoped(side, f"(SELECT * FROM rows_{side} WHERE _scope)")
            self.run(f"CREATE OR REPLACE TABLE {name} AS {self.unmatched_sql(side)}")
        elif self._step > taken:
            self._forget_decided(name, side, taken)
        self._snapshots[side] = self._step
        return self._rule_scoped(side, name)

    def _forget_decided(self, name: str, side: str, taken: int) -> None:
        """Take the rows decided after step ``taken`` out of the snapshot ``name``.

        Why DELETE when a rule decided at most half of the snapshot: a batch rule takes 9,000 of
        900,000 credits, and a DELETE marks just those, where copying the others into a new table
        cost 0.1-0.6 s at a million rows. When a rule decided most of it (a keyless rule pairs 890,000
        of 900,000 lines), copying the few left is as cheap, and the deleted rows would otherwise stay
        in memory until the end of the match (~190 MiB more peak on ambiguity1 at 1M). Spark tables
        cannot delete rows: there the snapshot is always rebuilt."""
        decided = f"SELECT _rid FROM outcome WHERE side = '{side}' AND _step > {taken}"
        gone = self.scalar(f"SELECT count(*) FROM ({decided}) d")
        if not gone:
            return
        if getattr(self.backend, "deletes_rows", False) and 2 * gone <= self.scalar(f"SELECT count(*) FROM {name}"):
            self.run(f"DELETE FROM {name} WHERE _rid IN ({decided})")
            return
        self.run(f"""
            CREATE OR REPLACE TABLE {name}_next AS SELECT * FROM {name} x WHERE NOT EXISTS
              (SELECT 1 FROM outcome o WHERE o.side = '{side}' AND o._step > {taken} AND o._rid = x._rid);
            DROP TABLE {name};
            ALTER TABLE {name}_next RENAME TO {name};""")

    def _rule_scoped(self, side: str, source: str) -> str:
        """The undecided rows a rule may see: all of them, or those its ``where`` condition keeps."""
        cond = self.rule_where.get(side)
        return source if not cond else f"(SELECT * FROM {source} w WHERE COALESCE(({cond}), FALSE))"

    def out_of_scope(self, side: str, scope_text: str) -> None:
        self._insert(f"""SELECT '{side}', _rid, FALSE, NULL, NULL, NULL, NULL, {literal(OUT_OF_SCOPE)},
                     {literal('outside the recipe filter: ' + scope_text)} FROM rows_{side} WHERE NOT _scope""")

    # -- key rules -------------------------------------------------------------------------------
    def key_rule(self, rule: str, compares: Sequence[CompareSpec], *,
                 left_steps: Sequence[Sequence[object]] | None, right_steps: Sequence[Sequence[object]] | None,
                 score: float, family: tuple[Sequence[Sequence[object]], Sequence[Sequence[object]]] | None = None
                 ) -> None:
        """Join undecided rows on the key (raw, or normalised when steps - one list per key part - are
        given).

        One row per side for a key: that pair is a candidate link. A key repeated: the pair whose
        compares agree best links (ties: the pair spelled alike, then smallest rid, i.e. source_file,
        source_row); the other rows of that key become duplicate_on_left/right with the linked
        counterpart as candidate.

        ``family`` (left steps, right steps): the widest normalisation a later key rule of the recipe
        applies. A key whose normalised family has more than one pair (a waybill billed twice, once
        as ``SF1`` and once as ``sf-1``) is left to that rule, which sees every spelling at once -
        otherwise this rule would link the plain pair and the other spelling would end as "billed but
        never shipped" instead of a duplicate charge.
        """
        ul, ur = self.snapshot_unmatched("left"), self.snapshot_unmatched("right")
        if family is not None:
            ul, ur = self._without_repeated_families(ul, ur, family)
        lsrc = f"(SELECT *, {self.join_key('left', 'u', left_steps)} AS _jk FROM {ul} u)"
        rsrc = f"(SELECT *, {self.join_key('right', 'u', right_steps if left_steps is not None else None)} AS _jk FROM {ur} u)"
        # the key as people read it: a composite's 'A|B', kept beside the join form; else the join key itself
        # (why not always a column: at a million pairs a second copy of every key costs time and memory)
        composite = len(self.key_parts.get("left", ())) > 1
        shown, kshow = (", l._key AS kshow", "kshow") if composite else ("", "k AS kshow")
        money = [c for c in compares if c.kind == "money"]
        adiff = f"COALESCE(abs({compare_exprs(money[0], 'l', 'r')[1]}), 0)" if money else "0"
        # the same spelling is the better pair; keys joined as written are spelled alike
        spelled = "CASE WHEN l._key = r._key THEN 1 ELSE 0 END" if left_steps is not None else "1"
        self.run(f"""
            CREATE OR REPLACE TABLE kpairs AS
            SELECT l._rid AS lrid, r._rid AS rrid, l._jk AS k{shown}, {amount_diff_column(compares, 'l', 'r')}
                   {adiff} AS adiff, {spelled} AS alike, {evaluation_columns(compares, 'l', 'r')}
            FROM {lsrc} l JOIN {rsrc} r ON l._jk = r._jk;
            CREATE OR REPLACE TABLE kmulti AS SELECT k FROM kpairs GROUP BY k HAVING count(*) > 1;""")
        if self.scalar("SELECT count(*) FROM kmulti"):
            # only keys that repeat need ranking; the rest are recorded straight from kpairs
            self.run(f"""
                CREATE OR REPLACE TABLE kbest AS
                  SELECT lrid, rrid, k, {kshow}, adiff, alike, ok, category, detail, status, agree""" +
                     "".join(f", {ident(n)}" for n, _ in self.diff_columns) + """ FROM (
                    SELECT p.*, row_number() OVER (PARTITION BY p.k ORDER BY p.agree DESC, p.adiff, p.alike DESC, p.lrid, p.rrid) AS rn
                    FROM kpairs p WHERE EXISTS (SELECT 1 FROM kmulti m WHERE m.k = p.k)) z
                  WHERE rn = 1""")
            self._record_pairs("(SELECT * FROM kpairs p WHERE NOT EXISTS (SELECT 1 FROM kmulti m WHERE m.k = p.k)) AS single",
                               rule, str(score))
            self._record_pairs("kbest", rule, str(score))
            self._record_key_duplicates(rule)
            self.drop("kbest", "kdup")
        else:
            self._record_pairs("kpairs", rule, str(score))
        self.drop("kpairs", "kmulti", "kskip")

    def _without_repeated_families(self, ul: str, ur: str, family) -> tuple[str, str]:
        """The undecided rows minus those whose normalised key (``family``) pairs more than once.

        Why this shape: only a key written in a form its normalisation changes ("noisy", e.g. sf-1)
        can join a family that the raw key does not, and such keys are few; plain keys are their own
        normal form. So the normal forms are computed once per row (cheap for plain keys, see
        ``normalised_key_expr``), and only the families of the noisy rows are counted.
        """
        noisy, plain = [], []
        for side, src, steps in (("left", ul, family[0]), ("right", ur, family[1])):
            raw, fam = self.join_key(side, "u", None), self.join_key(side, "u", steps)
            changed = "fam IS NOT NULL AND raw IS DISTINCT FROM fam"
            # a plain key is its own normal form: the CASE keeps the steps off those rows (as a plain
            # AND the optimiser may evaluate the normal form first, and twice, on every row)
            guard = self.plain_key(side, "u", steps)
            test = changed if guard is None else f"CASE WHEN x._plain THEN FALSE ELSE {changed} END"
            flag = "" if guard is None else f", {guard} AS _plain"
            noisy.append(f"SELECT '{side}' AS s, _rid, fam FROM (SELECT u._rid, {raw} AS raw, {fam} AS fam{flag} "
                         f"FROM {src} u) x WHERE {test}")
            plain.append(f"SELECT '{side}' AS s, u._rid, {raw} AS fam FROM {src} u "
                         f"WHERE {raw} IN (SELECT fam FROM knoisy)")
        self.run(f"CREATE OR REPLACE TABLE knoisy AS {' UNION ALL '.join(noisy)}")
        if not self.scalar("SELECT count(*) FROM knoisy"):
            self.drop("knoisy")
            return ul, ur
        self.run(f"""
            CREATE OR REPLACE TABLE kskip AS
            WITH members AS (SELECT s, _rid, fam FROM knoisy
                             UNION SELECT p.* FROM ({' UNION ALL '.join(plain)}) p
                             WHERE NOT EXISTS (SELECT 1 FROM knoisy n WHERE n.s = p.s AND n._rid = p._rid)),
                 repeated AS (SELECT fam FROM members GROUP BY fam
                              HAVING count(*) FILTER (WHERE s = 'left') * count(*) FILTER (WHERE s = 'right') > 1)
            SELECT m.s, m._rid FROM members m JOIN repeated r ON r.fam = m.fam;
            DROP TABLE knoisy;""")
        keep = "NOT EXISTS (SELECT 1 FROM kskip k WHERE k.s = '{side}' AND k._rid = u._rid)"
        return (f"(SELECT * FROM {ul} u WHERE {keep.format(side='left')})",
                f"(SELECT * FROM {ur} u WHERE {keep.format(side='right')})")

    def _record_key_duplicates(self, rule: str) -> None:
        for side, other, own, their in (("left", "right", "lrid", "rrid"), ("right", "left", "rrid", "lrid")):
            self.run(f"""
                CREATE OR REPLACE TABLE kdup AS
                SELECT DISTINCT p.{own} AS rid, b.{their} AS crid, b.{own} AS twin, b.lrid AS group_id, b.kshow
                FROM kpairs p JOIN kbest b ON b.k = p.k  -- kbest: the linked pair of each repeated key
                WHERE p.{own} <> b.{own};
                INSERT INTO cands SELECT '{side}', rid, '{other}', crid, 1.0, 1 FROM kdup
                    UNION ALL SELECT '{side}', rid, '{side}', twin, 1.0, 2 FROM kdup;""")
            self._insert(f"""SELECT '{side}', rid, FALSE, group_id, {literal(rule)}, NULL, NULL, {literal(duplicate_on(side))},
                    'key ' || kshow || ' occurs again on this side; another row was linked' FROM kdup""")

    def _record_pairs(self, table: str, rule: str, score: str) -> None:
        """Turn evaluated 1:1 pairs into outcomes: links when every compare passes, else paired exceptions."""
        diffs = [n for n, _ in self.diff_columns]
        dsel = "".join(f", CASE WHEN ok THEN {ident(n)} END" for n in diffs)
        common = (f"ok, lrid, {literal(rule)}, {score}, CASE WHEN ok THEN status END, "
                  f"CASE WHEN NOT ok THEN category END, CASE WHEN NOT ok THEN detail END{dsel} FROM {table}")
        self._insert(f"SELECT 'left', lrid, {common} UNION ALL SELECT 'right', rrid, {common}", diffs=diffs)
        self.run(f"""
            INSERT INTO cands SELECT 'left', lrid, 'right', rrid, {score}, 0 FROM {table} WHERE NOT ok
                UNION ALL SELECT 'right', rrid, 'left', lrid, {score}, 0 FROM {table} WHERE NOT ok""")

    def record_assigned_pairs(self, pairs: pd.DataFrame, rule: str, compares: Sequence[CompareSpec]) -> None:
        """Evaluate compares on pairs chosen in Python (columns left_rid, right_rid, score) and record them."""
        if pairs.empty:
            return
        self.register("_assigned", pairs[["left_rid", "right_rid", "score"]].reset_index(drop=True))
        self.run(f"""
            CREATE OR REPLACE TABLE apairs AS
            SELECT l._rid AS lrid, r._rid AS rrid, p.score AS pscore, {amount_diff_column(compares, 'l', 'r')}
                   {evaluation_columns(compares, 'l', 'r')}
            FROM _assigned p JOIN rows_left l ON l._rid = p.left_rid JOIN rows_right r ON r._rid = p.right_rid""")
        self._record_pairs("apairs", rule, "pscore")
        self.unregister("_assigned")
        self.drop("apairs")

    def record_suggestions(self, rows: pd.DataFrame) -> None:
        """Fuzzy suggestions (side, rid, cside, crid, score): shown as candidates if the row stays unmatched."""
        if rows.empty:
            return
        self.register("_sugg", rows[["side", "rid", "cside", "crid", "score"]].reset_index(drop=True))
        self.run("INSERT INTO suggest SELECT side, rid, cside, crid, score FROM _sugg")
        self.unregister("_sugg")

    def record_ambiguous(self, rows: pd.DataFrame, *, rule: str, detail: str | None = None) -> None:
        """Rows the data cannot decide (columns side, rid, cside, crid, score, rank, optionally a
        per-row ``detail`` that wins over ``detail``, on at least one of the row's lines): exceptions
        'ambiguous' with their ranked candidates; never linked."""
        if rows.empty:
            return
        own = "detail" in rows.columns
        cols = ["side", "rid", "cside", "crid", "score", "rank"] + (["detail"] if own else [])
        self.register("_amb", rows[cols].reset_index(drop=True))
        text = "a.detail" if own else literal(detail)
        pick = "side, rid, max(detail) AS detail" if own else "side, rid"
        self._insert(f"""
            SELECT side, rid, FALSE, NULL, {literal(rule)}, NULL, NULL, {literal(AMBIGUOUS)}, {text}
            FROM (SELECT {pick} FROM _amb GROUP BY side, rid) a
            WHERE NOT EXISTS (SELECT 1 FROM outcome o WHERE o.side = a.side AND o._rid = a.rid)""")
        self.run("INSERT INTO cands SELECT side, rid, cside, crid, score, rank FROM _amb WHERE crid IS NOT NULL")
        self.unregister("_amb")

    def row_labels(self, side: str, rids: Iterable[int]) -> dict[int, str]:
        """``file:row`` of some rows of a side, to name candidates in an explanation."""
        return self.row_label_series(side, list(rids)).to_dict()

    def row_label_series(self, side: str, rids: "Iterable[int] | np.ndarray | pd.Series") -> pd.Series:
        """``file:row`` by ``_rid`` for some rows of a side (a Series indexed by rid).

        Why a join and not ``IN (...)``: half a million ambiguous rows made a SQL text of megabytes
        that took seconds to parse."""
        import pandas as pd

        ids = np.unique(np.asarray(rids, dtype=np.int64))
        if not ids.size:
            return pd.Series([], index=pd.Index([], dtype="int64"), dtype=object)
        self.register("_label_ids", pa.table({"_rid": ids}))
        got = self.numpy_frame(f"""
            SELECT r._rid, coalesce(CAST(r.source_file AS VARCHAR), 'None') || ':' || CAST(r.source_row AS VARCHAR)
                   AS label
            FROM rows_{side} r JOIN _label_ids i ON i._rid = r._rid""")
        self.unregister("_label_ids")
        return pd.Series(got["label"].to_numpy(dtype=object), index=got["_rid"].to_numpy(dtype=np.int64))

    def group_members(self, gids: Iterable[int]) -> pd.DataFrame:
        import pandas as pd

        ids = sorted({int(g) for g in gids})
        if not ids:
            return pd.DataFrame({"gid": pd.Series([], dtype="int64"), "_rid": pd.Series([], dtype="int64")})
        return self.numpy_frame(f"SELECT gid, _rid FROM gmembers WHERE gid IN ({', '.join(map(str, ids))}) ORDER BY gid, _rid")

    # -- the end of the cascade ------------------------------------------------------------------
    def leftover_amount_candidates(self, *, days: int | None) -> None:
        """Candidates for rows about to be swept: undecided rows of the other side with the same
        amount, nearest date first (up to 3), plus fuzzy suggestions. Run before the sweep."""
        self.run("""
            INSERT INTO cands SELECT s.side, s._rid, s.cside, s.crid, s.score / 100.0, 10 FROM suggest s
            WHERE NOT EXISTS (SELECT 1 FROM outcome o WHERE o.side = s.side AND o._rid = s._rid)""")
        ul, ur = self.snapshot_unmatched("left"), self.snapshot_unmatched("right")
        window = f" AND r._day BETWEEN l._day - {int(days)} AND l._day + {int(days)}" if days is not None else ""
        dist = "abs(r._day - l._day)" if days is not None else "0"
        self.run(f"""
            CREATE OR REPLACE TABLE near AS
            SELECT l._rid AS lrid, r._rid AS rrid, 1.0 / (1 + COALESCE({dist}, 0)) AS score,
                   row_number() OVER (PARTITION BY l._rid ORDER BY {dist}, r._rid) AS rn_l,
                   row_number() OVER (PARTITION BY r._rid ORDER BY {dist}, l._rid) AS rn_r
            FROM {ul} l JOIN {ur} r ON r._amt = l._amt{window}
            WHERE l._amt IS NOT NULL;
            INSERT INTO cands SELECT 'left', lrid, 'right', rrid, score, 20 + rn_l FROM near WHERE rn_l <= 3
              UNION ALL SELECT 'right', rrid, 'left', lrid, score, 20 + rn_r FROM near WHERE rn_r <= 3;
            DROP TABLE near;""")

    def record_leftovers(self, side: str, category: str, detail_sql: str) -> None:
        """Every undecided row of a side becomes an exception of ``category`` (detail: SQL over alias x)."""
        self._insert(f"""SELECT '{side}', x._rid, FALSE, NULL, NULL, NULL, NULL, {literal(category)}, {detail_sql}
            FROM {self.snapshot_unmatched(side)} x""")
        self.drop(f"un_{side}")  # every row of the side is decided now: its snapshot only holds memory
        self._snapshots.pop(side, None)
