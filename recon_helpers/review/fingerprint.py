"""Stable row identities: a fingerprint of where a row comes from and what it says, never its position.

A decision must find its rows again after a re-run, even when the export was downloaded again with rows
in another order or with new rows in between; and it must *not* find them when a row's content changed
(then the decision is stale and shown as such). So a row is identified by

    sha256(file inside the data folder, every value of the loaded row except its row number, n)

where ``n`` counts identical rows of the same file (the second of two identical bill lines is ``n = 1``):
rows that say exactly the same thing can only be told apart by their order among themselves. An
exception's fingerprint adds its side and amount, because the amount may come from a calculation (the
rate card's expected fee): a changed calculation is a changed row.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

#: columns that say where a row sits, not what it says
_PLACE_COLUMNS = ("source_file", "source_row", "template")
#: canonical fields shown as the counterparty of a row, first present wins
COUNTERPARTY_FIELDS = ("counterparty", "customer_id", "salesperson", "carrier", "channel")
#: canonical fields that describe a row for remembered matches (a payer name, a memo), first present wins
DESCRIPTOR_FIELDS = ("counterparty", "memo", "customer_id", "order_id")
DATE_FIELDS = ("txn_time", "value_date", "due_date")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def relative_file(path: Any, data_dir: Path) -> str:
    """A source file as named inside the data folder (``courier/sf_bill.xlsx``), else its file name."""
    text = str(path)
    for base in {str(data_dir), str(data_dir.resolve())}:
        prefix = base.rstrip("/") + "/"
        if text.startswith(prefix):
            return text[len(prefix):]
    return Path(text).name


def row_fingerprints(table: pd.DataFrame, data_dir: Path) -> pd.DataFrame:
    """``source_file, source_row, row_fp`` for every row of a loaded table (see the module docstring)."""
    if not {"source_file", "source_row"} <= set(table.columns) or not len(table):
        return pd.DataFrame(columns=["source_file", "source_row", "row_fp"])
    content_columns = sorted(c for c in table.columns if c not in _PLACE_COLUMNS)
    text = pd.Series("", index=table.index, dtype="object")
    for column in content_columns:
        values = table[column].astype("string").fillna("\x00").astype("object")
        text = text + column + "\x1e" + values + "\x1f"
    files = table["source_file"].astype("string").map(lambda f: relative_file(f, data_dir)).astype("object")
    content = (files + "\x1d" + text).map(lambda t: _digest(t))
    order = pd.DataFrame({"content": content, "source_row": table["source_row"].astype("int64")})
    nth = order.sort_values("source_row", kind="stable").groupby("content").cumcount().reindex(order.index)
    fps = [_digest(c, str(n)) for c, n in zip(content, nth)]
    return pd.DataFrame({"source_file": table["source_file"].astype("string").to_numpy(),
                         "source_row": table["source_row"].astype("int64").to_numpy(), "row_fp": fps})


def first_present(row: pd.Series, fields: tuple[str, ...]) -> str:
    for name in fields:
        if name in row.index and pd.notna(row[name]) and str(row[name]).strip():
            return str(row[name]).strip()
    return ""


def date_of(row: pd.Series) -> Any:
    for name in DATE_FIELDS:
        if name in row.index and pd.notna(row[name]):
            return pd.Timestamp(row[name]).date()
    return None


def item_fingerprint(side: str, row_fp: str, amount: Any) -> str:
    """An exception's fingerprint: its row's fingerprint, its side and its amount."""
    return _digest(str(side), row_fp, "" if amount is None or pd.isna(amount) else str(amount))


def source_rows(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every loaded row of every input, indexed by (source_file, source_row), for lookups."""
    frames = [t for t in tables.values() if {"source_file", "source_row"} <= set(t.columns) and len(t)]
    if not frames:
        return pd.DataFrame()
    rows = pd.concat([f.astype("object") for f in frames], ignore_index=True)
    rows["source_row"] = rows["source_row"].astype("int64")
    rows["source_file"] = rows["source_file"].astype(str)
    return rows.drop_duplicates(["source_file", "source_row"]).set_index(["source_file", "source_row"])
