"""The default back-end: one embedded DuckDB connection in memory (the matcher's original home)."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from recon_helpers.engine.sql import dialect_copy


class DuckDBBackend:
    """Runs the store's SQL on an in-memory DuckDB; inputs are Arrow tables scanned zero-copy.

    The store's tables live in a *compressed* in-memory database (``compressed``, the default), and
    :meth:`compact` compresses them once the rules are done. Why: a match's result is held while it
    is written, reviewed and shown (a notebook holds several), and its tables are most of a match's
    memory: at 1,000,000 rows per side 494 MiB, 60 MiB once compressed (dictionary, FSST, bit
    packing; the engine's own words and the few files repeat on every row). DuckDB compresses a
    table when it checkpoints; the automatic checkpoint is held back (``checkpoint_threshold``), so
    it does not fall in the middle of a rule and the rules run on the plain tables they just wrote.
    Compressing costs about 1 s per million rows per side; ``compressed=False`` keeps the tables plain.
    """

    name = "duckdb"
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
            self.con.execute("ATTACH ':memory:' AS store (COMPRESS); USE store; SET checkpoint_threshold = '1TB'")

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

    def compact(self) -> None:
        """Compress the tables written so far (a DuckDB checkpoint of the compressed database); a
        no-op when the tables are kept plain."""
        if self.compressed:
            self.con.execute("CHECKPOINT store")

    def write_parquet(self, select_sql: str, path: Path) -> None:
        """Write a query's result as Parquet (exact types), straight from DuckDB."""
        self.con.execute(dialect_copy(select_sql, str(path), fmt="parquet"))

    def close(self) -> None:
        self.con.close()
