"""Keyless candidates in SQL: pairs inside tolerances and windows, group sums, subset-sum neighbours
and fuzzy-text pairs, as a mixin of :class:`recon_helpers.engine.store.MatchStore`."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import pyarrow as pa

from recon_helpers.engine.one_to_one import BlockResult, one_to_one
from recon_helpers.engine.sql import blank_key_sql, dialect_day_number, ident, literal
from recon_helpers.engine.taxonomy import AMBIGUOUS
from recon_helpers.engine.windows import Days, between_sql, bounds

if TYPE_CHECKING:
    import pandas as pd


class KeylessSql:
    """The keyless-rule statements of the match store (needs ``run``, ``_insert``, ``snapshot_unmatched``)."""

    # -- where candidates are decided (a Spark store keeps them in Spark: backends/spark_blocks.py) --
    def candidate_frame(self, sql: str, *, exact: bool = False) -> pd.DataFrame:
        """The candidate pairs of a query, for a Python decision: collected here, as a numpy frame
        (``exact``: with Arrow types, as text candidates need)."""
        return self.pandas(sql) if exact else self.numpy_frame(sql)

    def decide_one_to_one(self, cand: pd.DataFrame, costs: Callable[[pd.DataFrame], pd.DataFrame], *,
                          left: str = "left_rid", right: str = "right_rid") -> tuple[pd.DataFrame, BlockResult]:
        """(the candidates, ``one_to_one(costs(cand))``); ``left`` / ``right`` name the candidate
        columns that become the edges' left and right rows (Spark blocks the candidates by them)."""
        return cand, one_to_one(costs(cand))

    def decide_subsets(self, cand: pd.DataFrame, decide: Callable[[pd.DataFrame], list]) -> list:
        """``decide(cand)``: the subset-sum results [(orid, SubsetResult)] of candidates sorted by orid, mrid."""
        return decide(cand)

    def score_texts(self, cand: pd.DataFrame, score: Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``score(cand)``: the fuzzy rule's (accepted pairs, suggestions) of text candidates."""
        return score(cand)

    @staticmethod
    def _tolerance_join(a_amt: str, b_amt: str, abs_tol: Decimal, rel_tol: Decimal) -> str:
        """Join condition |a - b| <= abs_tol + rel_tol * |b| (b is the right side); an equi-join when exact."""
        if abs_tol == 0 and rel_tol == 0:
            return f"{a_amt} = {b_amt}"
        tol = f"({literal(abs_tol)} + {literal(rel_tol)} * abs({b_amt}))"
        return f"{a_amt} BETWEEN {b_amt} - {tol} AND {b_amt} + {tol}"

    @staticmethod
    def _same_join(same: Iterable[tuple[str, str]], a: str, b: str) -> str:
        return "".join(f" AND {a}.{ident(x)} = {b}.{ident(y)}" for x, y in same)

    def amount_date_candidates(self, *, days: Days, abs_tol: Decimal, rel_tol: Decimal,
                               same: Sequence[tuple[str, str]]) -> pd.DataFrame:
        """Pairs of undecided rows with amounts within tolerance and the right date inside the window
        ``days`` of the left date. Columns left_rid, right_rid, ddays (right - left) and dfen (right -
        left in fen, exact: amounts are DECIMAL(18,2)); numbers only, as text cost more to fetch
        than the pairs cost to decide."""
        ul, ur = self.snapshot_unmatched("left"), self.snapshot_unmatched("right")
        return self.candidate_frame(f"""
            SELECT l._rid AS left_rid, r._rid AS right_rid, CAST(r._day - l._day AS BIGINT) AS ddays,
                   CAST((r._amt - l._amt) * 100 AS BIGINT) AS dfen
            FROM {ul} l JOIN {ur} r ON {self._tolerance_join('l._amt', 'r._amt', abs_tol, rel_tol)}
                 AND {between_sql('r._day', 'l._day', days)}{self._same_join(same, 'l', 'r')}
            WHERE l._amt IS NOT NULL AND r._amt IS NOT NULL""")

    def record_keyless_ambiguous(self, lines: pa.Table, heads: Sequence[str], tails: Sequence[str], *,
                                 rule: str) -> None:
        """Record rows a keyless one-to-one rule refused as 'ambiguous' exceptions with their ranked
        candidates; their texts (:func:`recon_helpers.engine.keyless.explain`'s words) are kept as
        numbered pieces and put together by :meth:`keyless_detail_sql` when exceptions are read.

        Why not the texts here: at 30% ambiguous lines they are 520,000 texts of ~450 characters,
        built in ~1.8 s and compressed with the store at match end, while a match that is only
        summarised or checked never shows them. The pieces are small: per line of a row's candidate
        two numbers, and each distinct refusal and tail once.

        ``lines``, ``heads``, ``tails``: :func:`recon_helpers.engine.keyless.explanation_lines` (one
        line per row and candidate). The rows are undecided until now (they come from this rule's
        snapshot and are not among the pairs it linked), so no check against the outcome.
        """
        first = self._ktext_count
        at = first or 0  # this rule's pieces are numbered after those of an earlier keyless rule
        texts = pa.table({"id": pa.array(range(at, at + len(heads) + len(tails)), pa.int64()),
                          "text": pa.array([*heads, *tails], pa.string())})
        self.register("_klines", lines)
        self.register("_ktexts", texts)
        keep = (f"SELECT side, rid AS _rid, cside, crid, CAST(rank AS INTEGER) AS rank, tail + {at + len(heads)} AS tail, "
                f"head + {at} AS head FROM _klines")
        if first is None:
            self.run(f"CREATE OR REPLACE TABLE klines AS {keep}; CREATE OR REPLACE TABLE ktexts AS SELECT * FROM _ktexts")
        else:
            self.run(f"INSERT INTO klines {keep}; INSERT INTO ktexts SELECT * FROM _ktexts")
        self._ktext_count = at + texts.num_rows
        self._insert(f"""
            SELECT side, rid, FALSE, NULL, {literal(rule)}, NULL, NULL, {literal(AMBIGUOUS)}, NULL
            FROM _klines GROUP BY side, rid""")
        self.run("INSERT INTO cands SELECT side, rid, cside, crid, score, rank FROM _klines")
        self.unregister("_klines")
        self.unregister("_ktexts")

    def keyless_detail_sql(self, pieces: str | None = None) -> str | None:
        """SELECT side, _rid, detail: the texts of the rows keyless rules refused (see
        :meth:`record_keyless_ambiguous`), each the refusal, the ranked candidates as
        ``side:file:row`` and their tails joined by '; ', and '. Not linked - choose one'; None when
        no keyless rule refused a row. ``pieces``: a table of :meth:`keyless_pieces_sql` to read
        instead of that query."""
        source = pieces or self.keyless_pieces_sql()
        if source is None:
            return None
        return f"""
            SELECT p.side, p._rid, concat(h.text, p.saw, '. Not linked - choose one') AS detail
            FROM {source if pieces else f'({source})'} p JOIN ktexts h ON h.id = p.head"""

    def keyless_pieces_sql(self) -> str | None:
        """SELECT side, _rid, head, saw: per refused row its refusal's number in ``ktexts`` and its
        ranked candidates as one text (see :meth:`keyless_detail_sql`); None when no keyless rule
        refused a row.

        Why apart: the refusal is the longer half of a text and one of a few; a table of these
        pieces holds it once per row as a number."""
        if self._ktext_count is None:
            return None

        def label(a: str) -> str:  # as row_label_series names a row; NULL when the row is unknown
            return (f"CASE WHEN {a}.source_row IS NOT NULL THEN concat(coalesce({a}.source_file, 'None'), ':', "
                    f"CAST({a}.source_row AS VARCHAR)) END")
        # concat, not ||: one string built per piece instead of one per operator (all parts non-null)
        piece = (f"concat(k.cside, ':', coalesce(CASE WHEN k.cside = 'left' THEN {label('a')} ELSE {label('b')} END, "
                 "concat(k.cside, ' row')), t.text)")
        # a row's candidates in rank order: one max(CASE) per rank and concat_ws (which skips the ranks a
        # row lacks) cost a third less than an ordered string_agg, which sorts inside every row's group
        ranks = int(self.scalar("SELECT COALESCE(max(rank), 0) FROM klines")) + 1
        saw = ", ".join(f"max(CASE WHEN k.rank = {n} THEN {piece} END)" for n in range(ranks))
        return f"""
            SELECT k.side, k._rid, k.head, concat_ws('; ', {saw}) AS saw
            FROM klines k JOIN ktexts t ON t.id = k.tail
            LEFT JOIN rows_left a ON k.cside = 'left' AND a._rid = k.crid
            LEFT JOIN rows_right b ON k.cside = 'right' AND b._rid = k.crid
            GROUP BY k.side, k._rid, k.head"""

    def group_candidates(self, *, many: str, groups: Sequence[tuple[str, bool]], days: Days | None,
                         abs_tol: Decimal, rel_tol: Decimal, same: Sequence[tuple[str, str]]) -> pd.DataFrame:
        """Sum undecided rows of side ``many`` per group (fields, or the day of a timestamp field) and
        pair each group with undecided rows of the other side whose amount equals the sum (within
        tolerance) and whose date lies within ``days`` of the group's dates.

        Creates ``gsum`` and ``gmembers(gid, _rid)`` (for the rule's links and refusals: dropped by
        :meth:`drop_group_tables`); returns columns gid, orid, cost.
        """
        one = "right" if many == "left" else "left"
        um, uo = self.snapshot_unmatched(many), self.snapshot_unmatched(one)
        same_m = [x if many == "left" else y for x, y in same]
        same_o = [y if many == "left" else x for x, y in same]
        # a blank group field (no batch id) groups nothing: such rows are left to later rules
        gexprs = [dialect_day_number(ident(f)) if is_date else f"NULLIF(trim(CAST({ident(f)} AS VARCHAR)), '')"
                  for f, is_date in groups]
        gexprs += [f"CAST({ident(f)} AS VARCHAR)" for f in same_m]
        gcols = [f"_g{i}" for i in range(len(gexprs))]
        sel = ", ".join(f"{e} AS {c}" for e, c in zip(gexprs, gcols))
        notnull = " AND ".join(f"{c} IS NOT NULL" for c in gcols)
        first_same = len(gcols) - len(same_m)
        same_cond = "".join(f" AND g.{gcols[first_same + i]} = CAST(o.{ident(f)} AS VARCHAR)" for i, f in enumerate(same_o))
        window = ""
        if days is not None:  # right minus left inside the window for some member of the group
            lo, hi = bounds(days)
            window = (f" AND o._day BETWEEN g.d0 + ({lo}) AND g.d1 + ({hi})" if many == "left"
                      else f" AND o._day BETWEEN g.d0 - ({hi}) AND g.d1 - ({lo})")
        join = (self._tolerance_join("g.s", "o._amt", abs_tol, rel_tol) if many == "left"
                else self._tolerance_join("o._amt", "g.s", abs_tol, rel_tol))
        self.run(f"""
            CREATE OR REPLACE TABLE gm0 AS
              SELECT _rid, _amt, _day, {sel} FROM {um} u WHERE _amt IS NOT NULL;
            CREATE OR REPLACE TABLE gsum AS
              SELECT {', '.join(gcols)}, sum(_amt) AS s, min(_day) AS d0, max(_day) AS d1, count(*) AS n,
                     min(_rid) AS gid
              FROM gm0 WHERE {notnull} GROUP BY {', '.join(gcols)};
            CREATE OR REPLACE TABLE gmembers AS
              SELECT g.gid, m._rid FROM gm0 m JOIN gsum g ON {' AND '.join(f'm.{c} = g.{c}' for c in gcols)};""")
        self.drop("gm0")  # every undecided row of the side: held to the end of the match, compressed, never read
        return self.candidate_frame(f"""
            SELECT g.gid, o._rid AS orid,
                   CAST(abs(o._amt - g.s) AS DOUBLE)
                   + CAST(CASE WHEN o._day IS NULL OR g.d0 IS NULL THEN 0 WHEN o._day < g.d0 THEN g.d0 - o._day
                               WHEN o._day > g.d1 THEN o._day - g.d1 ELSE 0 END AS DOUBLE) AS cost
            FROM gsum g JOIN {uo} o ON {join}{window}{same_cond}
            WHERE o._amt IS NOT NULL""")

    def drop_group_tables(self) -> None:
        """Drop what :meth:`group_candidates` created, once its rule has recorded its decisions."""
        self.drop("gsum", "gmembers")

    def record_group_links(self, links: pd.DataFrame, *, many: str, rule: str) -> None:
        """Record group links (columns gid, orid, score): every member of the group plus the one row.
        Group id: the smallest left rid (the group's for many=left, the one row's for many=right)."""
        if links.empty:
            return
        one = "right" if many == "left" else "left"
        self.register("_glinks", links[["gid", "orid", "score"]].reset_index(drop=True))
        gid = "k.gid" if many == "left" else "k.orid"
        diff = "o._amt - g.s" if many == "left" else "g.s - o._amt"
        self.run(f"""
            CREATE OR REPLACE TABLE glinked AS
            SELECT k.gid, k.orid, k.score, {gid} AS group_id, CAST({diff} AS DECIMAL(38,2)) AS diff_amount
            FROM _glinks k JOIN rows_{one} o ON o._rid = k.orid JOIN gsum g ON g.gid = k.gid""")
        status = "CASE WHEN k.diff_amount = 0 THEN 'matched' ELSE 'within_tolerance' END"
        self._insert(f"""
            SELECT '{many}', m._rid, TRUE, k.group_id, {literal(rule)}, k.score, {status}, NULL, NULL, k.diff_amount
            FROM glinked k JOIN gmembers m ON m.gid = k.gid
            UNION ALL
            SELECT '{one}', k.orid, TRUE, k.group_id, {literal(rule)}, k.score, {status}, NULL, NULL, k.diff_amount
            FROM glinked k""", diffs=["diff_amount"])
        self.unregister("_glinks")
        self.drop("glinked")

    def subset_candidates(self, *, many: str, days: Days | None, same: Sequence[tuple[str, str]],
                          max_candidates: int) -> pd.DataFrame:
        """For each undecided row of the 'one' side, the nearest (by date, then rid) undecided rows of
        side ``many`` inside the window: columns orid, target_fen, mrid, fen.

        Why per day: which rows are nearest depends only on the one-row's day (and its ``same``
        fields), not on the row itself, so the ranking runs once per distinct day instead of once
        per row - a pairing of every credit with every line in an 11-day window was ~100M pairs at
        1M lines (9 s, 3 GiB); per day it is a few hundred thousand.
        """
        one = "right" if many == "left" else "left"
        um, uo = self.snapshot_unmatched(many), self.snapshot_unmatched(one)
        pairs = [(x, y) if many == "left" else (y, x) for x, y in same]  # (many field, one field)
        dcols = (["o._day AS _day"] if days is not None else []) + [
            f"o.{ident(f_one)} AS _s{i}" for i, (_, f_one) in enumerate(pairs)]
        dnotnull = "".join(f" AND o.{ident(f_one)} IS NOT NULL" for _, f_one in pairs)
        if days is not None:
            dnotnull += " AND o._day IS NOT NULL"
        window = ""
        if days is not None:  # right minus left inside the window; d is the one side's day
            lo, hi = bounds(days)
            window = (f" AND m._day BETWEEN d._day - ({hi}) AND d._day - ({lo})" if many == "left"
                      else f" AND m._day BETWEEN d._day + ({lo}) AND d._day + ({hi})")
        same_cond = "".join(f" AND m.{ident(f_many)} = d._s{i}" for i, (f_many, _) in enumerate(pairs))
        dist = "abs(m._day - d._day)" if days is not None else "0"
        dkeys = (["_day"] if days is not None else []) + [f"_s{i}" for i in range(len(pairs))]
        partition = f"PARTITION BY {', '.join('d.' + k for k in dkeys)} " if dkeys else ""
        back = " AND ".join((["n._day = o._day"] if days is not None else [])
                            + [f"n._s{i} = o.{ident(f_one)}" for i, (_, f_one) in enumerate(pairs)]) or "TRUE"
        dsel = ", ".join(dcols) if dcols else "TRUE AS _one"
        dcarry = "".join(f", d.{k}" for k in dkeys)
        return self.candidate_frame(f"""
            WITH d AS (SELECT DISTINCT {dsel} FROM {uo} o WHERE o._amt IS NOT NULL{dnotnull}),
            near AS (
              SELECT m._rid AS mrid, CAST(m._amt * 100 AS BIGINT) AS fen{dcarry},
                     row_number() OVER ({partition}ORDER BY {dist}, m._rid) AS rn
              FROM d JOIN {um} m ON m._amt IS NOT NULL{window}{same_cond})
            SELECT o._rid AS orid, CAST(o._amt * 100 AS BIGINT) AS target_fen, n.mrid, n.fen
            FROM {uo} o JOIN near n ON {back}
            WHERE n.rn <= {int(max_candidates)} AND o._amt IS NOT NULL
            ORDER BY orid, mrid""")

    def record_subset_links(self, links: pd.DataFrame, *, many: str, rule: str) -> None:
        """Record subset links (columns orid, mrid): the one row and its member rows (sum is exact)."""
        if links.empty:
            return
        one = "right" if many == "left" else "left"
        self.register("_slinks", links[["orid", "mrid"]].reset_index(drop=True))
        gid = "min(mrid)" if many == "left" else "min(orid)"
        self.run(f"CREATE OR REPLACE TABLE slinked AS SELECT orid, {gid} AS group_id FROM _slinks GROUP BY orid")
        self._insert(f"""
            SELECT '{many}', k.mrid, TRUE, s.group_id, {literal(rule)}, 1.0, 'matched', NULL, NULL, 0
            FROM _slinks k JOIN slinked s ON s.orid = k.orid
            UNION ALL
            SELECT '{one}', s.orid, TRUE, s.group_id, {literal(rule)}, 1.0, 'matched', NULL, NULL, 0 FROM slinked s""",
                     diffs=["diff_amount"])
        self.unregister("_slinks")
        self.drop("slinked")

    def fuzzy_candidates(self, *, left_col: str, right_col: str, days: Days | None, abs_tol: Decimal,
                         rel_tol: Decimal, same: Sequence[tuple[str, str]]) -> pd.DataFrame:
        """Pairs with amounts within tolerance (and dates in the window) whose texts are both present:
        columns left_rid, right_rid, ltext, rtext."""
        ul, ur = self.snapshot_unmatched("left"), self.snapshot_unmatched("right")
        window = f" AND {between_sql('r._day', 'l._day', days)}" if days is not None else ""
        lt, rt = f"CAST(l.{ident(left_col)} AS VARCHAR)", f"CAST(r.{ident(right_col)} AS VARCHAR)"
        return self.candidate_frame(f"""
            SELECT l._rid AS left_rid, r._rid AS right_rid, {lt} AS ltext, {rt} AS rtext
            FROM {ul} l JOIN {ur} r ON {self._tolerance_join('l._amt', 'r._amt', abs_tol, rel_tol)}{window}{self._same_join(same, 'l', 'r')}
            WHERE NOT {blank_key_sql(lt)} AND NOT {blank_key_sql(rt)}
            ORDER BY left_rid, right_rid""", exact=True)
