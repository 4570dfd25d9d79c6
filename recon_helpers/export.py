"""Files written for people: one function writes every CSV a person opens, so every rule holds everywhere.

A CSV from the workbench is opened in Excel by an analyst, a manager, a carrier. So it is UTF-8 with
a byte-order mark (without it Excel shows Chinese as mojibake), money keeps its places (``12.50``),
times read ``2026-10-01 09:30:00``, and every writer of the project goes through :func:`write_csv`
(loads, match results, rejects, exports) rather than each calling pandas its own way.

DuckDB writes the file (from a pandas frame, an Arrow table or a DuckDB relation alike): it is fast,
streams large results without a pandas copy, and formats decimals exactly.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

#: the byte-order mark Excel needs to read a CSV as UTF-8
BOM = "\ufeff"


def _relation(data: Any, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    if isinstance(data, duckdb.DuckDBPyRelation):
        return data
    if isinstance(data, pd.DataFrame):
        data = pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, pa.Table):
        return con.from_arrow(data)
    raise TypeError(f"write_csv needs a pandas DataFrame, an Arrow table or a DuckDB relation, not {type(data).__name__}")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_csv(data: pd.DataFrame | pa.Table | duckdb.DuckDBPyRelation, path: str | Path) -> Path:
    """Write ``data`` as a CSV a person opens in Excel: UTF-8 with BOM, header, exact decimals.

    The BOM is written as part of the first header cell (DuckDB has no BOM option), which is byte for
    byte what Excel and ``encoding="utf-8-sig"`` readers expect. The folder is created when missing.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:") if not isinstance(data, duckdb.DuckDBPyRelation) else None
    try:
        rel = _relation(data, con)
        columns = list(rel.columns)
        if not columns:
            out.write_text(BOM, encoding="utf-8")
            return out
        exprs = [f"{_quoted(columns[0])} AS {_quoted(BOM + columns[0])}", *(_quoted(c) for c in columns[1:])]
        rel.project(", ".join(exprs)).write_csv(str(out), header=True)
    finally:
        if con is not None:
            con.close()
    return out
