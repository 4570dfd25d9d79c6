"""Three-way matching in SQL: a third table (warehouse receipts, ...) joined to the pairs a two-way
match found, as a mixin of :class:`recon_helpers.engine.store.MatchStore`."""
from __future__ import annotations

from typing import Sequence

from recon_helpers.engine.sql import (
    CompareSpec,
    evaluation_columns,
    ident,
    literal,
    normalised_key_expr,
)
from recon_helpers.engine.taxonomy import duplicate_on, missing_on


class ThreeWaySql:
    """The third-side statements of the match store (needs ``run``, ``_insert`` and the state tables)."""

    def third_way(self, *, partner: str, partner_col: str, steps: Sequence[object], required: bool,
                  compares: Sequence[CompareSpec], third_label: str, partner_label: str) -> None:
        """Attach third rows to the partner side by key after the two-way cascade.

        A link group whose partner row gets its third row stays a link (unless a third compare fails:
        then the whole group becomes exceptions of that category); a link group without its third row
        becomes missing_on_third when the third is required; a third row whose partner is an exception
        shares the partner's group and category; a third row without a partner is missing_on_<partner>;
        a second third row for the same partner row is duplicate_on_third.
        """
        pk = normalised_key_expr(f"p.{ident(partner_col)}", steps)
        tk = normalised_key_expr("t._key", steps)
        poff = self.offsets[partner]
        self.run(f"""
            CREATE OR REPLACE TABLE tjoin AS
            SELECT t._rid AS trid, p._rid AS prid, o.is_link, o.group_id, o.category,
                   row_number() OVER (PARTITION BY t._rid ORDER BY o.is_link DESC, p._rid) AS rn_t
            FROM rows_third t JOIN rows_{partner} p ON {tk} = {pk}
            JOIN outcome o ON o.side = '{partner}' AND o._rid = p._rid
            WHERE t._scope AND {tk} <> '';
            CREATE OR REPLACE TABLE tbest AS
            SELECT trid, prid, is_link, COALESCE(group_id, {poff} + prid) AS group_id, category,
                   row_number() OVER (PARTITION BY prid ORDER BY trid) AS rn_p
            FROM tjoin WHERE rn_t = 1;
            INSERT INTO cands SELECT 'third', b.trid, '{partner}', b.prid, 1.0, 1 FROM tbest b;""")
        self._insert(f"""
            SELECT 'third', b.trid, FALSE, b.group_id, 'third_key', NULL, NULL, {literal(duplicate_on('third'))},
                   'another ' || {literal(third_label)} || ' row was already attached to the same '
                   || {literal(partner_label)} || ' row'
            FROM tbest b WHERE b.rn_p > 1""")
        first = ("(SELECT min(o2._rid) FROM outcome o2 WHERE o2.group_id = b.group_id AND o2.is_link "
                 "AND o2.side = '{side}')")
        self.run(f"""
            CREATE OR REPLACE TABLE tlinked AS
            SELECT b.trid, b.prid, b.group_id, {first.format(side='left')} AS lrid, {first.format(side='right')} AS rrid
            FROM tbest b WHERE b.rn_p = 1 AND b.is_link""")
        if compares:
            a_cols = ", ".join(
                f"{'l' if c.a_side == 'left' else 'r'}.{ident(c.a_col)} AS {ident('a_' + c.name)}" for c in compares)
            shifted = [CompareSpec(**{**c.__dict__, "a_col": "a_" + c.name}) for c in compares]
            self.run(f"""
                CREATE OR REPLACE TABLE tev AS
                SELECT a.trid, a.group_id, {evaluation_columns(shifted, 'a', 't')}
                FROM (SELECT k.trid, k.group_id, {a_cols} FROM tlinked k
                      LEFT JOIN rows_left l ON l._rid = k.lrid LEFT JOIN rows_right r ON r._rid = k.rrid) a
                JOIN rows_third t ON t._rid = a.trid""")
        else:
            self.run("CREATE OR REPLACE TABLE tev AS SELECT trid, group_id, TRUE AS ok, "
                     "CAST(NULL AS VARCHAR) AS category, CAST(NULL AS VARCHAR) AS detail FROM tlinked")
        self._insert("SELECT 'third', trid, TRUE, group_id, 'third_key', 1.0, 'matched', NULL, NULL FROM tev")
        self.run("""
            UPDATE outcome SET is_link = FALSE, status = NULL, category = f.category, detail = f.detail
              FROM (SELECT group_id, min(category) AS category, min(detail) AS detail FROM tev WHERE NOT ok
                    GROUP BY group_id) f
              WHERE outcome.group_id = f.group_id AND outcome.is_link""")
        if required:
            self.run(f"""
                UPDATE outcome SET is_link = FALSE, status = NULL, category = {literal(missing_on('third'))},
                    detail = 'no ' || {literal(third_label)} || ' row for this group'
                  WHERE is_link AND group_id IN (
                    SELECT o.group_id FROM outcome o WHERE o.is_link AND o.side = '{partner}'
                      AND NOT EXISTS (SELECT 1 FROM tlinked k WHERE k.prid = o._rid))""")
        # third rows whose partner is an exception: share its group and category
        self.run(f"""
            CREATE OR REPLACE TABLE tpartner_exc AS
            SELECT trid, prid, group_id, category FROM tbest WHERE rn_p = 1 AND NOT is_link;
            UPDATE outcome SET group_id = e.group_id FROM tpartner_exc e
              WHERE outcome.side = '{partner}' AND outcome._rid = e.prid AND outcome.group_id IS NULL""")
        self._insert(f"""
            SELECT 'third', trid, FALSE, group_id, 'third_key', NULL, NULL, category,
                'its ' || {literal(partner_label)} || ' row is itself an exception (' || category || ')'
            FROM tpartner_exc""")
        self._insert(f"""
            SELECT 'third', t._rid, FALSE, NULL, NULL, NULL, NULL, {literal(missing_on(partner))},
                'no ' || {literal(partner_label)} || ' row with key ' || COALESCE(t._key, '(empty)')
            FROM rows_third t WHERE t._scope
              AND NOT EXISTS (SELECT 1 FROM outcome o WHERE o.side = 'third' AND o._rid = t._rid)""")
        self.drop("tjoin", "tbest", "tlinked", "tev", "tpartner_exc")

    # -- results -------------------------------------------------------------------------------
