"""How inputs reach the match store: row ids from content, and Parquet files the store reads itself.

Why apart from :mod:`.store`: the store runs the rules; this says which row is which (``_rid``, the
rank by source_file and source_row, from which group ids derive) and what a Parquet input is, before
any rule runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def content_rank(table: pa.Table) -> pa.Array:
    """Row ids that depend on content, not input order: the rank by (source_file, source_row).

    Cheap when the table is one file in row order (the usual case): then the rank is the position.
    """
    rank = content_order(table)
    return pa.array(np.arange(table.num_rows, dtype=np.int64) if rank is None else rank)


def content_order(table: pa.Table) -> np.ndarray | None:
    """Each row's rank by (source_file, source_row) (ties and NULLs last in input order), or None
    when the rows already are in that order, i.e. the rank is the position: one file (a NULL file
    counts as one more value) whose source_row never decreases - checked without sorting."""
    n = table.num_rows
    files, rows = table.column("source_file"), table.column("source_row")
    if n < 2 or (pc.count_distinct(files, mode="all").as_py() <= 1 and rows.null_count == 0
                 and pc.all(pc.greater_equal(rows.slice(1), rows.slice(0, n - 1))).as_py()):
        return None
    order = pc.sort_indices(table.select(["source_file", "source_row"]),
                            sort_keys=[("source_file", "ascending"), ("source_row", "ascending")])
    rank = np.empty(n, dtype=np.int64)
    rank[order.to_numpy()] = np.arange(n, dtype=np.int64)
    return rank


@dataclass(frozen=True)
class ParquetInput:
    """A Parquet file that the store reads itself, straight into ``rows_<side>`` (DuckDB back-end).

    Why: read by DuckDB, only the columns a match needs are read, into DuckDB's own table, with no
    Arrow copy of the input held beside it. ``schema``: the table as the match sees it (the
    file's ``columns``, plus ``source_file`` - the file's name - and ``source_row`` - 1..n - when
    the file lacks them).
    """

    path: Path
    columns: tuple[str, ...]
    schema: pa.Schema
    num_rows: int

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    @classmethod
    def open(cls, path: Path, columns: Sequence[str] | None = None) -> "ParquetInput":
        """The file's metadata and schema (``columns``: the ones to read, default all); OSError or
        ArrowException when it is no Parquet file."""
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path)
        file_schema = meta.schema_arrow
        names = [c for c in (file_schema.names if columns is None else columns) if c in file_schema.names]
        fields = [file_schema.field(c) for c in names]
        if "source_file" not in names:
            fields.append(pa.field("source_file", pa.string()))
        if "source_row" not in names:
            fields.append(pa.field("source_row", pa.int64()))
        return cls(Path(path), tuple(names), pa.schema(fields), meta.metadata.num_rows)

    def content_order(self) -> np.ndarray | None:
        """:func:`content_order` of the file's rows, reading only what it must: nothing when the
        file has neither column, source_row alone when its statistics say one source_file."""
        import pyarrow.parquet as pq

        keys = [c for c in ("source_file", "source_row") if c in self.columns]
        if "source_file" in keys and self._one_source_file():
            keys.remove("source_file")
        if not keys:
            return None  # one file, its rows numbered 1..n in file order
        with pq.ParquetFile(self.path) as file:  # not pq.read_table: its dataset layer imports pandas
            table = file.read(columns=keys)
        if "source_file" not in keys:
            table = table.append_column("source_file", pa.nulls(table.num_rows, pa.string()))
        if "source_row" not in keys:  # numbered 1..n in file order, as a loaded table without them is
            table = table.append_column("source_row", pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)))
        return content_order(table)

    def _one_source_file(self) -> bool:
        """Whether the row groups' statistics show a single, never-empty source_file value."""
        import pyarrow.parquet as pq

        meta = pq.read_metadata(self.path)
        values = set()
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            chunk = next(group.column(j) for j in range(group.num_columns)
                         if group.column(j).path_in_schema == "source_file")
            stats = chunk.statistics
            if stats is None or not stats.has_min_max or not stats.has_null_count or stats.null_count:
                return False
            values |= {stats.min, stats.max}
        return len(values) == 1
