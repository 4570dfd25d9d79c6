"""Rows are known by what they say and where they come from, never by their position."""
from __future__ import annotations

import pandas as pd

from recon_helpers.canonical import MONEY_DTYPE
from recon_helpers.review.fingerprint import row_fingerprints


def _bill(rows: list[tuple[str, str, int]], folder: str = "/data/2026-10") -> pd.DataFrame:
    return pd.DataFrame({"waybill_no": [r[0] for r in rows], "amount": pd.array([r[1] for r in rows], dtype=MONEY_DTYPE),
                         "source_file": f"{folder}/courier/sf_bill.xlsx", "source_row": [r[2] for r in rows]})


def _fps(table: pd.DataFrame, folder: str = "/data/2026-10") -> dict[int, str]:
    from pathlib import Path

    out = row_fingerprints(table, Path(folder))
    return dict(zip(out["source_row"], out["row_fp"]))


def test_reordered_rows_keep_their_fingerprints():
    first = _fps(_bill([("SF1", "10.00", 2), ("SF2", "12.00", 3), ("SF3", "9.00", 4)]))
    moved = _fps(_bill([("SF3", "9.00", 2), ("SF4", "1.00", 3), ("SF1", "10.00", 4), ("SF2", "12.00", 5)]))
    assert moved[4] == first[2] and moved[5] == first[3] and moved[2] == first[4]
    assert moved[3] not in first.values()


def test_a_changed_value_changes_the_fingerprint():
    before = _fps(_bill([("SF1", "10.00", 2)]))
    after = _fps(_bill([("SF1", "10.50", 2)]))
    assert before[2] != after[2]


def test_identical_rows_are_told_apart_by_their_order_among_themselves():
    fps = _fps(_bill([("SF1", "10.00", 2), ("SF9", "3.00", 3), ("SF1", "10.00", 4)]))
    assert len(set(fps.values())) == 3
    again = _fps(_bill([("SF1", "10.00", 7), ("SF1", "10.00", 8)]))
    assert again[7] == fps[2] and again[8] == fps[4]


def test_the_same_file_in_another_folder_has_the_same_fingerprints():
    here = _fps(_bill([("SF1", "10.00", 2)]), "/data/2026-10")
    there = _fps(_bill([("SF1", "10.00", 2)], folder="/mnt/share/2026-10"), "/mnt/share/2026-10")
    assert here == there
