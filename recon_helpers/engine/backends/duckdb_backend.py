"""The default back-end: one embedded DuckDB connection in memory (the matcher's original home)."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from recon_helpers.engine.sql import dialect_copy, ident, literal

#: rows of an input whose text columns are looked at to tell keys (one value a row) from repeated words
SAMPLE_ROWS = 20_000
#: a text column with more distinct values than this share of the sampled rows is stored uncompressed...
UNIQUE_SHARE = 0.5
#: ... when its values are this short on average (FSST pays on long texts even when each is unique)
SHORT_TEXT = 24


class DuckDBBackend:
    """Runs the store's SQL on an in-memory DuckDB; inputs are Arrow tables scanned zero-copy.

    The store's long-lived tables (:attr:`COMPRESSED_TABLES`: the input rows and the outcome) live in
    a *compressed* in-memory database (``compressed``, the default); the rules' intermediate tables
    (pairs, snapshots, candidates, the parts of a write) stay in the plain one. A match calls
    :meth:`compact` (a DuckDB checkpoint) once its input rows are in and once its rules are done.

    Why: a match's result is held while it is written, reviewed and shown (a notebook holds
    several), and its tables are most of a match's memory; the input rows are also held through
    every rule, so compressing them first lowers the match's own peak. Why not everything: a
    checkpoint compresses every table of its database, on one thread per row group, and a table
    the next rule drops is not worth it. What it costs, at 1,000,000 rows per side (courier): input
    rows 250 -> 90 MiB for ~0.5 s, the outcome 241 -> 14 MiB for ~0.6 s (see :meth:`create_table`
    for why an input's keys are left uncompressed). The automatic checkpoint is held back
    (``checkpoint_threshold``), so it never falls in the middle of a rule; ``compressed=False``
    keeps every table plain.
    """

    name = "duckdb"
    #: the attached compressed database, and the tables created there (all others stay in the plain ``memory``)
    COMPRESSED_DB = "store"
    COMPRESSED_TABLES = frozenset({"rows_left", "rows_right", "rows_third", "outcome", "outcome_exc", "cands", "suggest"})
    #: tables take ``DELETE`` (a snapshot of undecided rows drops a rule's few decisions in place)
    deletes_rows = True
    errors: tuple[type[BaseException], ...] = (duckdb.Error,)

    def __init__(self, *, threads: int | None = None, compressed: bool = True):
        self.con = duckdb.connect(":memory:")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET preserve_insertion_order = false")
        self.compressed = compressed
        if compressed:  # DIALECT: DuckDB's compressed in-memory database, checkpointed when compact() says
            self.con.execute(f"ATTACH ':memory:' AS {self.COMPRESSED_DB} (COMPRESS); SET checkpoint_threshold = '1TB'; "
                             f"SET search_path = 'memory.main,{self.COMPRESSED_DB}.main'")

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def run(self, sql: str) -> None:
        self.con.execute(sql)

    def arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def scalar(self, sql: str):
        rows = self.con.execute(sql).fetchall()
        return rows[0][0] if rows else None

    def relation(self, select_sql: str):
        """A lazy DuckDB relation of a query (for :func:`recon_helpers.export.write_csv`)."""
        return self.con.sql(select_sql)

    @contextlib.contextmanager
    def keeping_order(self) -> Iterator[None]:
        """Inside: a query's rows keep their order to the end, e.g. a CSV writer's projection over a
        sorted query.

        Why: the connection runs with ``preserve_insertion_order`` off (the rules' joins and inserts
        need no order and run leaner without it), and then DuckDB may write a projection of sorted
        rows from several threads in the order they finish: a links file whose 2,048-row chunks of
        two ranges of groups interleave.
        """
        self.con.execute("SET preserve_insertion_order = true")
        try:
            yield
        finally:
            self.con.execute("SET preserve_insertion_order = false")

    def threads(self) -> int:
        """The threads DuckDB runs a query on (its ``threads`` setting: the machine's cores unless set)."""
        return int(self.scalar("SELECT current_setting('threads')"))

    @contextlib.contextmanager
    def writers(self) -> Iterator[list]:
        """Inside: one connection (:class:`Lane`) per thread the back-end runs on, for parts written
        side by side (:func:`recon_helpers.export.write_csv`); each query runs on one thread, and
        every query's rows keep their order (as in :meth:`keeping_order`).

        Why: DuckDB writes the CSV of a sorted query on about one thread, whatever ``threads`` says,
        so the links' parts one after another leave a core idle. Two parts at once on one thread
        each (and the exceptions beside them) wrote 1,000,000 courier rows per side in ~3 s instead
        of ~4 s, and ambiguity30's in ~4.2 s instead of ~8 s, for ~100 MiB more at courier's peak.
        On one thread this is the connection itself. ``threads`` is a setting of the whole
        database: it is put back when the block ends.
        """
        threads = self.threads()
        if threads < 2:
            with self.keeping_order():
                yield [Lane(self.con)]
            return
        lanes = [Lane(self.con.cursor(), self.con) for _ in range(threads)]
        self.con.execute("SET threads = 1")
        try:
            with self.keeping_order():
                yield lanes
        finally:
            self.con.execute(f"SET threads = {threads}")
            for lane in lanes:
                lane.close()

    def home(self, table: str) -> str:
        """The name to create a store table under: in the compressed database when it is one of
        :attr:`COMPRESSED_TABLES`; queries find it by its bare name (``search_path``)."""
        if self.compressed and table in self.COMPRESSED_TABLES:
            return f"{self.COMPRESSED_DB}.{table}"  # DIALECT: a table of an attached database
        return table

    def create_table(self, name: str, select_sql: str) -> None:
        """``CREATE OR REPLACE TABLE name AS select_sql`` in the table's :meth:`home`. In the
        compressed database, a short text column whose first rows (:data:`SAMPLE_ROWS`) are nearly
        all distinct is declared ``USING COMPRESSION uncompressed``.

        Why: DuckDB's checkpoint tries a dictionary (with FSST) on every text column. On a column of
        one value per row - a waybill or order number - that costs ~0.25 s per million rows and
        saves ~12 bytes a row; on a column that repeats (a channel, a batch id, the file name) it is
        cheap and saves most of the column. The first rows tell them apart cheaply (a Parquet input
        reads only its first pages for them); a wrong guess costs memory or time, never a result."""
        self._create_on(self.con, name, select_sql)

    def create_tables(self, jobs: "list[tuple[str, str, dict[str, pa.Table]]]") -> None:
        """Each ``(name, select_sql, inputs)`` as :meth:`create_table` does, the Arrow ``inputs``
        registered under their names for its statement only; side by side, on a connection each,
        when the back-end runs on more than one thread.

        Why: an input read from a Parquet file of one row group is read on one thread, so the
        sides one after another leave a core idle (see ``MatchStore.prepare_rows``)."""
        from concurrent.futures import ThreadPoolExecutor

        threads = self.threads()
        if threads < 2 or len(jobs) < 2:
            for name, select_sql, inputs in jobs:
                self._create_with_inputs(self.con, name, select_sql, inputs)
            return
        lanes = [Lane(self.con.cursor(), self.con) for _ in jobs]
        try:
            with ThreadPoolExecutor(len(jobs), thread_name_prefix="create_tables") as pool:
                futures = [pool.submit(self._create_with_inputs, lane.con, *job) for lane, job in zip(lanes, jobs)]
                for future in futures:
                    future.result()
        finally:
            for lane in lanes:
                lane.close()

    def _create_with_inputs(self, con: duckdb.DuckDBPyConnection, name: str, select_sql: str,
                            inputs: "dict[str, pa.Table]") -> None:
        for input_name, table in inputs.items():
            con.register(input_name, table)
        try:
            self._create_on(con, name, select_sql)
        finally:
            for input_name in inputs:
                con.unregister(input_name)

    def _create_on(self, con: duckdb.DuckDBPyConnection, name: str, select_sql: str) -> None:
        home = self.home(name)
        if home == name:
            con.execute(f"CREATE OR REPLACE TABLE {name} AS {select_sql}")
            return
        columns = [(c[0], c[1]) for c in con.execute(f"DESCRIBE {select_sql}").fetchall()]  # binds, reads no rows
        keys = self._distinct_texts(con, select_sql, [c for c, t in columns if t == "VARCHAR"])
        definition = ", ".join(f"{ident(c)} {t}" + (" USING COMPRESSION uncompressed" if c in keys else "")
                               for c, t in columns)  # DIALECT: DuckDB's per-column compression
        con.execute(f"CREATE OR REPLACE TABLE {home} ({definition}); INSERT INTO {home} {select_sql}")

    @staticmethod
    def _distinct_texts(con: duckdb.DuckDBPyConnection, select_sql: str, texts: list[str]) -> set[str]:
        """The ``texts`` columns of a query with more distinct values than :data:`UNIQUE_SHARE` of
        its first :data:`SAMPLE_ROWS` rows, shorter than :data:`SHORT_TEXT` bytes on average."""
        if not texts:
            return set()
        counts = con.execute(
            f"SELECT count(*), {', '.join(f'approx_count_distinct({ident(c)}), avg(strlen({ident(c)}))' for c in texts)} "
            f"FROM (SELECT * FROM ({select_sql}) q LIMIT {SAMPLE_ROWS}) s").fetchone()
        n, stats = counts[0], counts[1:]
        return {c for c, distinct, length in zip(texts, stats[::2], stats[1::2])
                if n and distinct > UNIQUE_SHARE * n and (length or 0) < SHORT_TEXT}

    def compact(self) -> None:
        """Compress what the compressed database got since the last call (a DuckDB checkpoint; the
        plain tables are not touched); a no-op when the tables are kept plain."""
        if self.compressed:
            self.con.execute(f"CHECKPOINT {self.COMPRESSED_DB}")

    def write_parquet(self, select_sql: str, path: Path) -> None:
        """Write a query's result as Parquet (exact types), straight from DuckDB."""
        self.con.execute(dialect_copy(select_sql, str(path), fmt="parquet"))

    def close(self) -> None:
        self.con.close()


class Lane:
    """A connection to the back-end's database that one thread runs its statements on (a part
    written by :meth:`DuckDBBackend.writers`, an input created by :meth:`DuckDBBackend.create_tables`):
    ``run`` and ``relation``, finding the store's tables by the same ``search_path`` as the
    back-end's own connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, parent: duckdb.DuckDBPyConnection | None = None):
        self.con = con
        self._own = parent is not None
        if parent is not None:  # a cursor starts with the defaults of its session settings
            path = parent.execute("SELECT current_setting('search_path')").fetchone()[0]
            if path:
                con.execute(f"SET search_path = {literal(path)}")

    def run(self, sql: str) -> None:
        self.con.execute(sql)

    def relation(self, select_sql: str):
        return self.con.sql(select_sql)

    def close(self) -> None:
        if self._own:
            self.con.close()
