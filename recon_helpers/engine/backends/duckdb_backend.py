"""The default back-end: one embedded DuckDB connection in memory (the matcher's original home)."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from recon_helpers.engine.sql import dialect_copy


class DuckDBBackend:
    """Runs the store's SQL on an in-memory DuckDB; inputs are Arrow tables scanned zero-copy."""

    name = "duckdb"
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

    def write_parquet(self, select_sql: str, path: Path) -> None:
        """Write a query's result as Parquet (exact types), straight from DuckDB."""
        self.con.execute(dialect_copy(select_sql, str(path), fmt="parquet"))

    def close(self) -> None:
        self.con.close()
