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
    files = table["source_file"].astype("string").astype("object")
    named = {f: relative_file(f, data_dir) for f in files.unique()}
    content = [_digest(named[f] + "\x1d" + t) for f, t in zip(files, text)]
    order = pd.DataFrame({"content": content, "source_row": table["source_row"].astype("int64").to_numpy()},
                         index=table.index)
    nth = order.sort_values("source_row", kind="stable").groupby("content").cumcount().reindex(order.index)
    fps = [_digest(c, str(n)) for c, n in zip(content, nth)]
    return pd.DataFrame({"source_file": table["source_file"].astype("string").to_numpy(),
                         "source_row": table["source_row"].astype("int64").to_numpy(), "row_fp": fps})


def item_fingerprint(side: str, row_fp: str, amount: Any) -> str:
    """An exception's fingerprint: its row's fingerprint, its side and its amount."""
    return _digest(str(side), row_fp, "" if amount is None or pd.isna(amount) else str(amount))


def _first_of(table: pd.DataFrame, fields: tuple[str, ...]) -> pd.Series:
    """Per row, the first non-empty text among ``fields`` (in that order), else ""."""
    out = pd.Series("", index=table.index, dtype="object")
    for name in reversed(fields):
        if name in table.columns:
            values = table[name].astype("string").str.strip()
            present = values.notna() & (values != "")
            out = out.where(~present.fillna(False).to_numpy(dtype=bool), values.astype("object"))
    return out


def row_facts(table: pd.DataFrame, data_dir: Path) -> pd.DataFrame:
    """``source_file, source_row, row_fp, date, counterparty, descriptor`` of every row of a loaded table."""
    facts = row_fingerprints(table, data_dir)
    if not len(facts):
        return facts.assign(date=None, counterparty="", descriptor="")
    dates = pd.Series(pd.NaT, index=table.index, dtype="datetime64[s]")
    for name in reversed(DATE_FIELDS):
        if name in table.columns:
            values = pd.to_datetime(table[name].astype("object"), errors="coerce")
            dates = values.where(values.notna(), dates)
    facts["date"] = [d.date() if pd.notna(d) else None for d in dates]
    facts["counterparty"] = _first_of(table, COUNTERPARTY_FIELDS).to_numpy()
    facts["descriptor"] = _first_of(table, DESCRIPTOR_FIELDS).to_numpy()
    return facts
