"""The result views of a match (links, exceptions with their candidate texts) and the figures of
its every-row-once check, as a mixin of :class:`recon_helpers.engine.store.MatchStore`.

Why apart from :mod:`.store`: the rules write the ``outcome`` table; this reads it back the way a
person and a file want it - joined to the input rows, in a deterministic order, written part by part -
and counts what the check and the summary need.
"""
from __future__ import annotations

import contextlib
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon_helpers.engine.sql import SIDE_NO, ident, literal

#: link rows of the parts written at once when the links are written part by part (see
#: ``ResultSql.link_parts``): their sorts hold ~50 MiB
LINK_PART_ROWS = 250_000


class ResultSql:
    """The result statements of the match store (needs ``run``, ``arrow``, ``scalar``, ``drop``, the
    ``outcome`` and ``rows_<side>`` tables, ``diff_columns`` and ``side_rows``)."""

    # -- result views ----------------------------------------------------------------------------
    def finish(self, sides: Sequence[str], category_names: dict[str, str],
               ids: dict[str, Sequence[str]] | None = None) -> None:
        """Create the result views over the outcome and the rows: ``links`` and ``exception_rows``
        (the exceptions without their candidate texts); ``exceptions`` (with them) is created by
        :meth:`exceptions_view` when first read or written.

        Why not at match end: a match that is only summarised never needs the candidate texts (a few
        seconds and most of the exceptions' bytes at a million rows). They are built once, as a table
        of their own before the first read, not inside the statement that sorts and writes the
        exceptions: there the candidates' window, join and aggregate would stay in memory beside the
        sort (~10% more peak memory at 1,000,000 rows). ``ids``: per side, the rows' own id columns
        to carry (as text; empty on the other sides)."""
        ids = ids or {}
        self._sides = list(sides)
        self._ids = {s: tuple(ids.get(s, ())) for s in sides}
        self._id_names = list(dict.fromkeys(n for s in sides for n in self._ids[s]))
        cat = "o.category"
        if category_names:
            cat = ("CASE " + " ".join(f"WHEN o.category = {literal(k)} THEN {literal(v)}"
                                      for k, v in sorted(category_names.items())) + " ELSE o.category END")
        # exceptions are few: keep them apart (exact statistics, so each join is built on the few rows)
        self.create_table("outcome_exc", "SELECT * FROM outcome WHERE NOT is_link")  # compact: kept compressed
        excs = " UNION ALL ".join(f"""
            SELECT o.side, a.source_file, a.source_row, a._key AS key, a._amount AS amount, {cat} AS category,
                   o.detail, o.group_id, o.rule{self._id_columns(s)}, {SIDE_NO[s]} AS _side_no, a._rid AS _rid
            FROM outcome_exc o JOIN rows_{s} a ON a._rid = o._rid
            WHERE o.side = '{s}'""" for s in sides)
        self._exceptions_ready = False
        self.run("DROP VIEW IF EXISTS exceptions")
        self.run(f"CREATE OR REPLACE VIEW links AS {self._links_sql('outcome')}; "
                 f"CREATE OR REPLACE VIEW exception_rows AS {excs}")

    def _id_columns(self, side: str) -> str:
        """The select list's id columns for a side's rows (alias ``a``): as text; NULL where it has none."""
        return "".join(f", CAST(a.{ident(n)} AS VARCHAR) AS {ident(n)}" if n in self._ids[side]
                       else f", CAST(NULL AS VARCHAR) AS {ident(n)}" for n in self._id_names)

    def _links_sql(self, source: str) -> str:
        """The link rows of the outcome table ``source`` (``outcome``, or a part of it) joined to their
        input rows: every column of the ``links`` view."""
        diffs = "".join(f", o.{ident(n)}" for n, _ in self.diff_columns)
        return " UNION ALL ".join(f"""
            SELECT o.group_id, o.side, a.source_file, a.source_row, a._key AS key, a._amount AS amount,
                   o.rule, o.score, o.status{diffs}{self._id_columns(s)}, {SIDE_NO[s]} AS _side_no, a._rid AS _rid
            FROM {source} o JOIN rows_{s} a ON a._rid = o._rid WHERE o.side = '{s}' AND o.is_link"""
                                  for s in self._sides)

    def link_parts(self, columns: Sequence[str], order: str, *, rows: int | None = None, lanes: int = 1) -> list[Callable]:
        """The ``links`` view's ``columns`` in ``order`` (which must begin with ``group_id``), part
        after part: consecutive ranges of group ids of about ``rows`` (default
        :data:`LINK_PART_ROWS`, shared by the ``lanes`` that write parts at once, so the write holds
        as many rows whatever their number) link rows each, so the parts one after another are the
        links in that order. Each part is a job for :func:`recon_helpers.export.write_csv`: called with a lane (a
        connection of :meth:`writers`; None: the store's own), it yields the part's relation. The
        ranges are cut here, before any part runs on a lane.

        Why parts: one sort of every link row holds all of them at once (~400 MiB of DuckDB's sort
        at 1,000,000 rows per side, most of the write's peak memory); a part's sort holds only its
        own. Why each part's outcome rows are first copied to a small table of its own
        (``link_part_<k>``, dropped when its part is written): the join then builds its hash table
        on the part (known to be small) and streams the input rows past it, instead of building one
        on a million input rows for every part.
        """
        if not order.replace(" ", "").startswith("group_id,"):
            raise ValueError(f"link parts are ranges of group ids: the order must begin with group_id, not {order!r}")
        select = ", ".join(ident(c) for c in columns)
        kept = ", ".join(["side", "_rid", "is_link", "group_id", "rule", "score", "status"]
                         + [ident(n) for n, _ in self.diff_columns])  # what _links_sql reads

        @contextlib.contextmanager
        def part(lane, k: int, where: str):
            lane = lane or self
            table = f"link_part_{k}"
            lane.run(f"CREATE OR REPLACE TABLE {table} AS SELECT {kept} FROM outcome WHERE is_link AND ({where})")
            try:
                yield lane.relation(f"SELECT {select} FROM ({self._links_sql(table)}) l ORDER BY {order}")
            finally:
                lane.run(f"DROP TABLE IF EXISTS {table}")

        ranges = self._group_ranges(rows or max(1, LINK_PART_ROWS // lanes))
        return [functools.partial(part, k=k, where=where) for k, where in enumerate(ranges)]

    def query_part(self, select_sql: str) -> Callable:
        """A query as one job for :func:`recon_helpers.export.write_csv_files` (see :meth:`link_parts`):
        run on the lane it is given (None: the store's own connection)."""
        @contextlib.contextmanager
        def part(lane):
            yield (lane or self).relation(select_sql)

        return part

    def _group_ranges(self, rows: int) -> list[str]:
        """Conditions on ``group_id`` that cut the link rows into consecutive ranges of about ``rows``
        rows (a range is never cut inside one group id, so a big group makes a big part; rows with
        no group id, which ``ORDER BY`` puts last, belong to the last range).

        Group ids are global row numbers (0 .. all rows - 1): their counts per 1/1024 of that span
        say where to cut, in one aggregate.
        """
        total = self.scalar("SELECT count(*) FROM outcome WHERE is_link") or 0
        if total <= rows:
            return ["TRUE"]
        width = max(1, -(-sum(self.side_rows.values()) // 1024))
        counts = self.arrow(f"""
            SELECT CAST(floor(group_id / {width}) AS BIGINT) AS bucket, count(*) AS n FROM outcome
            WHERE is_link AND group_id IS NOT NULL GROUP BY 1 ORDER BY 1""").to_pydict()
        cuts, held = [], 0
        for bucket, n in zip(counts["bucket"], counts["n"]):
            if held and held + n > rows:
                cuts.append(bucket * width)
                held = 0
            held += n
        if not cuts:
            return ["TRUE"]
        bounds = [f"group_id < {cuts[0]}"]
        bounds += [f"group_id >= {lo} AND group_id < {hi}" for lo, hi in zip(cuts, cuts[1:])]
        return bounds + [f"group_id >= {cuts[-1]} OR group_id IS NULL"]

    def exceptions_view(self) -> str:
        """The name of the ``exceptions`` view (``exception_rows`` with each row's ``candidates``, and
        the texts of keyless refusals), built on first call: the candidate texts as the small table
        ``cand_text``, the refusal texts' pieces as ``kpieces`` (see
        :meth:`~recon_helpers.engine.store_keyless.KeylessSql.keyless_pieces_sql`), then the view.

        Why the refusal texts here and not when the rule refused: see
        :meth:`~recon_helpers.engine.store_keyless.KeylessSql.record_keyless_ambiguous`. Why the
        pieces as a table and the text put together in the view: the whole texts as a table held
        ~200 MiB more at the write's peak (30% ambiguous lines at 1,000,000 rows), the pieces'
        aggregate inside the write's sort was slower, and the refusal, the longer half of a text,
        is one of a few."""
        if self._exceptions_ready:
            return "exceptions"
        shown = "".join(f", e.{ident(n)}" for n in self._id_names)
        detail, kjoin = "e.detail", ""
        pieces = self.keyless_pieces_sql()
        if pieces is not None:  # a keyless rule refused rows: their texts, from pieces
            self.run(f"CREATE OR REPLACE TABLE kpieces AS {pieces}")
            detail = "COALESCE(k.detail, e.detail)"
            kjoin = f" LEFT JOIN ({self.keyless_detail_sql('kpieces')}) k ON k.side = e.side AND k._rid = e._rid"
        self.run(f"""
            CREATE OR REPLACE TABLE cand_text AS {self._candidate_texts_sql(self._sides)};
            CREATE OR REPLACE VIEW exceptions AS
            SELECT e.side, e.source_file, e.source_row, e.key, e.amount, e.category, {detail} AS detail,
                   COALESCE(t.candidates, '') AS candidates, e.group_id, e.rule{shown}, e._side_no, e._rid
            FROM exception_rows e LEFT JOIN cand_text t ON t.side = e.side AND t._rid = e._rid{kjoin}""")
        self._exceptions_ready = True
        return "exceptions"

    def _candidate_texts_sql(self, sides: Sequence[str]) -> str:
        """SELECT side, _rid, candidates: per excepted row, its best three candidates as
        ``side:file:row (score)`` joined by '; ' (a candidate met twice keeps its best rank and score).

        Why three ``max(CASE ...)`` and ``concat_ws`` rather than an ordered string aggregate: with
        at most three pieces the order is the piece's place, and a plain aggregate is cheaper than
        sorting inside every group (and reads the same on every back-end; ``concat_ws`` skips the
        missing pieces). Why ``concat`` under a ``CASE`` rather than ``||``: one string per piece
        instead of one per operator (~12% of the statement), NULL where ``||`` gives NULL."""
        rows = " UNION ALL ".join(
            f"SELECT '{s}' AS side, _rid, source_file, source_row FROM rows_{s}" for s in sides)
        pieces = ", ".join(f"max(CASE WHEN c.rn = {n} THEN c.piece END)" for n in (1, 2, 3))
        return f"""
            SELECT c.side, c._rid, concat_ws('; ', {pieces}) AS candidates
            FROM (SELECT c.side, c._rid, c.rn,
                         CASE WHEN a.source_file IS NOT NULL AND a.source_row IS NOT NULL AND c.score IS NOT NULL
                              THEN concat(c.cside, ':', a.source_file, ':', CAST(a.source_row AS VARCHAR), ' (',
                                          CAST(round(c.score, 2) AS VARCHAR), ')') END AS piece
                  FROM (SELECT side, _rid, cside, crid, score,
                               row_number() OVER (PARTITION BY side, _rid ORDER BY rank, score DESC, cside, crid) AS rn
                        FROM (SELECT side, _rid, cside, crid, min(rank) AS rank, max(score) AS score
                              FROM cands GROUP BY side, _rid, cside, crid) d) c
                  JOIN ({rows}) a ON a.side = c.cside AND a._rid = c.crid
                  WHERE c.rn <= 3) c
            GROUP BY c.side, c._rid"""

    def side_figures(self, sides: Sequence[str]) -> pa.Table:
        """Per side: input rows, outcome rows, rows with no outcome, (row, outcome) pairs, and rows and
        totals - all, matched, unmatched (exact decimals).

        Every row is decided exactly once iff missing = 0 and joined = outcomes = rows: each row
        has at least one outcome, there are as many pairs as rows (so exactly one each), and every
        outcome names a real row. Why numpy: a side's ``_rid`` is a permutation of 0..n-1 (see
        :func:`content_rank`), so counting each row's outcomes is one ``bincount`` over the outcome
        ids instead of joining a million rows to their outcomes; money is summed by Arrow in decimal.
        (A port to a distributed engine would do this as the one LEFT JOIN aggregate per side instead:
        it fetches every outcome id.) An Arrow table, one row per side: the check runs on every match,
        and a match of Arrow or Parquet inputs should not need pandas for it.
        """
        return pa.Table.from_pylist([self._side_figure(s) for s in sides])

    def _side_figure(self, side: str) -> dict:
        """One side's figures (see ``side_figures``); a row with k outcomes counts k times, like a join."""
        rows = self.arrow(f"SELECT _rid, _amount FROM rows_{side}")
        out = self.arrow(f"SELECT _rid, is_link FROM outcome WHERE side = '{side}'")
        n = rows.num_rows
        rid = pc.fill_null(out.column("_rid"), -1).to_numpy(zero_copy_only=False)
        flag = out.column("is_link")
        link = pc.fill_null(flag, False).to_numpy(zero_copy_only=False).astype(bool)
        excepted = pc.fill_null(pc.invert(flag), False).to_numpy(zero_copy_only=False).astype(bool)
        real = (rid >= 0) & (rid < n)
        per_row = np.bincount(rid[real], minlength=n)  # per row id: its outcomes
        links = np.bincount(rid[real & link], minlength=n)
        others = np.bincount(rid[real & excepted], minlength=n)
        row_ids = rows.column("_rid").to_numpy(zero_copy_only=False)
        amount = rows.column("_amount")

        def total(weight: np.ndarray) -> Decimal:  # sum of amounts, each row counted ``weight`` times
            picked = [pc.filter(amount, pa.array(weight[row_ids] >= k)) for k in range(1, int(weight.max(initial=0)) + 1)]
            return sum((pc.sum(p).as_py() or Decimal("0") for p in picked), Decimal("0"))

        return {"side": side, "n_rows": n, "n_outcomes": len(rid), "n_missing": int((per_row == 0).sum()),
                "n_joined": int(per_row.sum()), "total": pc.sum(amount).as_py() or Decimal("0"),
                "matched_rows": int(links.sum()), "matched": total(links),
                "unmatched_rows": int(others.sum()), "unmatched": total(others)}

    def category_figures(self) -> pa.Table:
        """Per exception category and side: rows and amount total."""
        return self.arrow("""
            SELECT category, side, count(*) AS rows, COALESCE(sum(amount), 0) AS amount
            FROM exception_rows GROUP BY category, side ORDER BY category, side""")

    def relation(self, select_sql: str):
        """A query the back-end can hand to :func:`recon_helpers.export.write_csv` (lazy on DuckDB)."""
        return self.backend.relation(select_sql)

    def keeping_order(self) -> ContextManager[None]:
        """Inside: what :meth:`relation` returns keeps its rows' order through a writer's projection
        (the back-end's ``keeping_order``; a back-end without one hands over finished tables)."""
        keep = getattr(self.backend, "keeping_order", None)
        return keep() if keep is not None else contextlib.nullcontext()

    @contextlib.contextmanager
    def writers(self) -> Iterator[Sequence[Any]]:
        """Inside: the lanes :func:`recon_helpers.export.write_csv_files` writes :meth:`link_parts`
        and :meth:`query_part` on, every relation keeping its order. The back-end's ``writers`` (DuckDB: a connection per
        thread, each query on one thread), else the store alone (``(None,)``)."""
        writers = getattr(self.backend, "writers", None)
        if writers is None:
            with self.keeping_order():
                yield (None,)
            return
        with writers() as lanes:
            yield lanes

    def compact(self) -> None:
        """Make the tables written so far smaller where the back-end can (its ``compact``, see
        :class:`recon_helpers.engine.backends.duckdb_backend.DuckDBBackend`): a match calls it once
        its inputs are in and once its rules are done. A result is held while it is written,
        reviewed and shown."""
        compact = getattr(self.backend, "compact", None)
        if compact is not None:
            compact()

    def write_parquet(self, select_sql: str, path: Path) -> None:
        """Write a query's result as Parquet (exact types), straight from the back-end."""
        self.backend.write_parquet(select_sql, path)
