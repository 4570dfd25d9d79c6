"""Explaining a match: one row per difference, with the money at stake.

A match result lists exceptions per input row, which is what a reviewer needs to find each row. A
manager asks a different question: how many differences are there, and how much money is at stake?
A fee dispute is one difference with two rows (our shipment and the bill line), so counting rows
double-counts it and adding both amounts inflates it. :func:`differences` folds the rows of one
exception group into one difference whose ``difference`` is right minus left (exact decimals):

* a pair that disagrees (e.g. rate_card_violation): billed 25.00 - expected 15.00 = +10.00;
* a row missing on the right (e.g. shipped, not billed): 0 - 24.00 = -24.00;
* a row missing on the left or an extra duplicate on the right: +amount.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from recon_helpers import canonical

if TYPE_CHECKING:  # imported when a difference is explained (of a pandas exceptions table), not with the engine
    import pandas as pd

DIFFERENCE_COLUMNS = ("category", "key", "left_amount", "right_amount", "difference", "rows", "group_id")


def _exceptions_of(result: Any) -> pd.DataFrame:
    import pandas as pd

    frame = result if isinstance(result, pd.DataFrame) else getattr(result, "exceptions", None)
    if not isinstance(frame, pd.DataFrame) or not {"category", "side", "amount"} <= set(frame.columns):
        raise TypeError("pass a match result or its exceptions table (columns category, side, amount)")
    return frame


def _side_total(amounts: pd.Series, sides: pd.Series, side: str) -> Decimal:
    import pandas as pd

    picked = [a for a, s in zip(amounts, sides) if s == side and a is not None and not pd.isna(a)]
    return sum(picked, Decimal("0.00"))


def differences(result: Any) -> pd.DataFrame:
    """One row per difference: rows sharing a category and group_id are one difference.

    Returns columns category, key, left_amount, right_amount, difference (= right - left), rows,
    group_id; money exact. Third-side rows count with the right side (what arrived vs what was asked).
    """
    import pandas as pd

    exceptions = _exceptions_of(result)
    if exceptions.empty:
        return pd.DataFrame({c: pd.Series(dtype=canonical.MONEY_DTYPE if "amount" in c or c == "difference"
                                          else canonical.TEXT_DTYPE)
                             for c in DIFFERENCE_COLUMNS}).astype({"rows": "int64"})
    frame = exceptions.reset_index(drop=True)
    group = frame["group_id"] if "group_id" in frame.columns else pd.Series([None] * len(frame))
    # rows without a group are a difference of their own
    unit = [f"g{g}" if g is not None and not pd.isna(g) else f"r{i}" for i, g in enumerate(group)]
    sides = frame["side"].astype("string").replace({"third": "right"})
    out = []
    for (category, _), part in frame.assign(_unit=unit, _side=sides).groupby(["category", "_unit"], sort=True):
        left = _side_total(part["amount"], part["_side"], "left")
        right = _side_total(part["amount"], part["_side"], "right")
        keys = [k for k in part["key"].astype("string").dropna().unique()] if "key" in part.columns else []
        gid = part["group_id"].iloc[0] if "group_id" in part.columns else None
        out.append({"category": str(category), "key": ", ".join(sorted(keys)), "left_amount": left,
                    "right_amount": right, "difference": right - left, "rows": len(part),
                    "group_id": None if gid is None or pd.isna(gid) else str(gid)})
    table = pd.DataFrame(out, columns=list(DIFFERENCE_COLUMNS))
    for col in ("left_amount", "right_amount", "difference"):
        table[col] = pd.array(table[col].tolist(), dtype=canonical.MONEY_DTYPE)
    return table.sort_values(["category", "key"], kind="stable").reset_index(drop=True)


def by_category(result: Any) -> pd.DataFrame:
    """Differences per category: count, and the net money at stake (right - left), exact."""
    import pandas as pd

    diffs = differences(result)
    rows = []
    for category, part in diffs.groupby("category", sort=True):
        rows.append({"category": category, "differences": len(part),
                     "difference": sum(part["difference"].tolist(), Decimal("0.00"))})
    table = pd.DataFrame(rows, columns=["category", "differences", "difference"])
    table["difference"] = pd.array(table["difference"].tolist(), dtype=canonical.MONEY_DTYPE)
    return table.sort_values(["differences", "category"], ascending=[False, True], kind="stable").reset_index(drop=True)
