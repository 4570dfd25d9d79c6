"""The review queue's rows: a check's exceptions, each with its fingerprint, date, counterparty and candidates.

Built only from the public surface every scenario shares - ``check.result.exceptions`` (side,
source_file, source_row, key, amount, category, detail, candidates, group_id, rule) and the loaded
inputs ``check.inputs`` - so a new scenario gets review for free.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pandas as pd

from recon_helpers.review.fingerprint import (
    COUNTERPARTY_FIELDS,
    DESCRIPTOR_FIELDS,
    date_of,
    first_present,
    item_fingerprint,
    relative_file,
    row_fingerprints,
    source_rows,
)

ITEM_COLUMNS = ["fingerprint", "side", "category", "label", "key", "amount", "date", "age_days", "counterparty",
                "descriptor", "detail", "rule", "group_id", "source_file", "source_row", "candidates", "opened_in"]
#: one engine candidate: ``right:/data/courier/sf_bill.xlsx:15 (1.0)``
_CANDIDATE = re.compile(r"^\s*(?P<side>[a-z_]+):(?P<file>.+):(?P<row>\d+)\s*\((?P<score>[-+0-9.eE]+)\)\s*$")


def parse_candidates(text: Any) -> list[dict[str, Any]]:
    """The engine's candidate list as ``side, source_file, source_row, score`` records (best first)."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return []
    found = []
    for part in str(text).split(";"):
        m = _CANDIDATE.match(part)
        if m:
            found.append({"side": m["side"], "source_file": m["file"], "source_row": int(m["row"]),
                          "score": float(m["score"])})
    return found


def exception_items(check: Any) -> pd.DataFrame:
    """One row per exception of ``check`` (out-of-scope rows excluded): the queue before any decision."""
    exc = check.result.exceptions
    exc = exc[(exc["category"].astype("string") != "out_of_scope").fillna(True).to_numpy(dtype=bool)]
    data_dir = check.data_dir
    tables = {name: loaded.table for name, loaded in check.inputs.items()}
    fps = pd.concat([row_fingerprints(t, data_dir) for t in tables.values()] or [pd.DataFrame()], ignore_index=True)
    fp_of = {(str(f), int(r)): fp for f, r, fp in fps[["source_file", "source_row", "row_fp"]].itertuples(index=False)} \
        if len(fps) else {}
    rows = source_rows(tables)
    labels = check.labels
    last_day = check.period.last_day
    records = []
    fallback_seen: dict[tuple, int] = {}
    for e in exc.itertuples(index=False):
        where = (str(e.source_file), int(e.source_row))
        row_fp = fp_of.get(where)
        if row_fp is None:  # a row the inputs do not hold (a prepared or summed row): its own content
            own = (relative_file(e.source_file, data_dir), str(e.key), str(e.amount))
            fallback_seen[own] = fallback_seen.get(own, -1) + 1
            row_fp = "|".join(own) + f"#{fallback_seen[own]}"
        source = rows.loc[where] if len(rows) and where in rows.index else pd.Series(dtype=object)
        day = date_of(source)
        records.append({
            "fingerprint": item_fingerprint(e.side, row_fp, e.amount), "side": e.side, "category": e.category,
            "label": labels.get(e.category, e.category), "key": e.key,
            "amount": Decimal(str(e.amount)) if pd.notna(e.amount) else Decimal("0.00"),
            "date": day, "age_days": (last_day - day).days if day else None,
            "counterparty": first_present(source, COUNTERPARTY_FIELDS),
            "descriptor": first_present(source, DESCRIPTOR_FIELDS) or (str(e.key) if pd.notna(e.key) else ""),
            "detail": e.detail, "rule": e.rule, "group_id": e.group_id,
            "source_file": relative_file(e.source_file, data_dir), "source_row": int(e.source_row),
            "candidates": parse_candidates(e.candidates), "opened_in": str(check.period),
            "_where": where,
        })
    items = pd.DataFrame.from_records(records, columns=[*ITEM_COLUMNS, "_where"])
    by_place = {w: fp for w, fp in zip(items["_where"], items["fingerprint"])}
    items["candidates"] = [[{**c, "fingerprint": by_place.get((c["source_file"], c["source_row"]))} for c in cands]
                           for cands in items["candidates"]]
    items["source_file_abs"] = [w[0] for w in items["_where"]]
    return items.drop(columns="_where")
