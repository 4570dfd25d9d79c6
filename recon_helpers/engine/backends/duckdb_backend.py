"""The default back-end: one embedded DuckDB connection in memory (the matcher's original home)."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from recon_helpers.engine.sql import dialect_copy


class DuckDBBackend:
    """Runs the store's SQL on an in-memory DuckDB; inputs are Arrow tables scanned zero-copy."""

    name = "duckdb"
    #: tables take ``DELETE`` (a snapshot of undecided rows drops a rule's few decisions in place)
    deletes_rows = True
    errors: tuple[type[BaseException], ...] = (duckdb.Error,)

    def __init__(self, *, threads: int | None = None):
        self.con = duckdb.connect(":memory:")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET preserve_insertion_order = false")

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

    def write_parquet(self, select_sql: str, path: Path) -> None:
        """Write a query's result as Parquet (exact types), straight from DuckDB."""
        self.con.execute(dialect_copy(select_sql, str(path), fmt="parquet"))

    def close(self) -> None:
        self.con.close()
