"""Helpers for tests and for scenario authors: the demo month's truth and small canonical tables.

The demo month (``recon demo``) lists every discrepancy it injected in ``truth/<scenario>.csv``
(columns ``scenario, category, key, key2, amount_diff, ...``); a scenario is right when it finds
exactly those. :func:`read_truth` and :func:`truth_keys` read them; :func:`canonical_frame` builds
a tiny typed table the way a loader would, for hand-made cases::

    bill = canonical_frame("sf_bill.xlsx", waybill_no=["SF1", "SF2"], amount=["12.00", "8.50"])
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd

from recon_helpers.canonical import CANONICAL_FIELDS, INT_DTYPE, MEASURE_DTYPE, TEXT_DTYPE, money

#: columns a scenario computes (not canonical fields of a loaded table), by kind
EXTRA_MONEY_COLUMNS = ("expected_fee",)
EXTRA_MEASURE_COLUMNS = ("chargeable_weight",)


def truth_path(data_dir: str | Path, scenario: str) -> Path:
    return Path(data_dir) / "truth" / f"{scenario}.csv"


def read_truth(data_dir: str | Path, scenario: str) -> pd.DataFrame:
    """The injected discrepancies of one scenario, every column as text (empty cells as "")."""
    return pd.read_csv(truth_path(data_dir, scenario), dtype=str, keep_default_na=False)


def truth_rows(data_dir: str | Path, scenario: str) -> list[dict[str, str]]:
    """The same as dicts, for tests that iterate."""
    with truth_path(data_dir, scenario).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def truth_keys(data_dir: str | Path, scenario: str, category: str | None = None, key2: str | None = None) -> set[str]:
    """Keys of the truth rows of a category (and ``key2``, e.g. the carrier)."""
    return {row["key"] for row in truth_rows(data_dir, scenario)
            if (category is None or row["category"] == category) and (key2 is None or row["key2"] == key2)}


def _kind(name: str) -> str:
    if name in EXTRA_MONEY_COLUMNS:
        return "money"
    if name in EXTRA_MEASURE_COLUMNS:
        return "measure"
    spec = CANONICAL_FIELDS.get(name)
    return spec.kind if spec is not None else "text"


def _times(values: Sequence[str]) -> pd.Series:
    """``MM-DD`` means that day of October 2026 at 10:00; anything else is parsed as written."""
    texts = [f"2026-{v} 10:00:00" if len(str(v)) == 5 else str(v) for v in values]
    return pd.Series(pd.to_datetime(texts)).astype("timestamp[s][pyarrow]")


def canonical_frame(source_file: str, **columns: Iterable[object]) -> pd.DataFrame:
    """A small canonical table with provenance (``source_file``, ``source_row`` from 2), typed by field kind:
    money exact from strings, ``txn_time`` from ``MM-DD``, integers as int64, the rest as text."""
    values = {name: list(v) for name, v in columns.items()}
    n = len(next(iter(values.values()))) if values else 0
    out: dict[str, object] = {"source_file": pd.array([source_file] * n, dtype=TEXT_DTYPE),
                              "source_row": pd.array(range(2, n + 2), dtype=INT_DTYPE)}
    for name, column in values.items():
        kind = _kind(name)
        if kind == "money":
            out[name] = money(column)
        elif kind == "datetime":
            out[name] = _times(column)
        elif kind == "measure":
            out[name] = pd.array([None if v is None else Decimal(str(v)) for v in column], dtype=MEASURE_DTYPE)
        elif kind == "int":
            out[name] = pd.array(column, dtype=INT_DTYPE)
        else:
            out[name] = pd.array(column, dtype=TEXT_DTYPE)
    return pd.DataFrame(out)
