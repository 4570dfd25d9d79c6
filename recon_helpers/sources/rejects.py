"""The rejects table: one schema for every reader, one list of reason codes with their meaning.

A row that cannot be loaded is never dropped: it becomes a row of the rejects table, which names the
file, the physical row (line of a text file, row of a sheet, first line of a bank entry), the column,
the raw value and the reason in words. ``code`` is stable, for filtering and counting; the meaning of
each code is in :class:`RejectCode`. A row can have several rejected cells (one reject row each), so
*rows* rejected are counted with :func:`rows_rejected`, never ``len(rejects)``.
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa

#: the columns of every rejects table, in this order
REJECT_COLUMNS = ("source_file", "source_row", "column", "value", "reason", "code")


class RejectCode(str, Enum):
    """Why a row was rejected; the docstring of each member is its one-line meaning."""

    BAD_AMOUNT = "bad_amount"
    BAD_NUMBER = "bad_number"
    BAD_MEASURE = "bad_measure"
    BAD_INTEGER = "bad_integer"
    BAD_DATE = "bad_date"
    BAD_VALUE = "bad_value"
    BAD_DIRECTION = "bad_direction"
    BAD_ROW = "bad_row"
    TOO_LONG = "too_long"
    MISSING_VALUE = "missing_value"
    MISSING_AMOUNT = "missing_amount"
    MISSING_DATE = "missing_date"
    SUB_CENT_AMOUNT = "sub_cent_amount"
    BAD_STATEMENT_LINE = "bad_statement_line"

    @property
    def meaning(self) -> str:
        return MEANINGS[self]


MEANINGS: dict[RejectCode, str] = {
    RejectCode.BAD_AMOUNT: "the money cell is not an amount (after removing ¥, 元, spaces and thousands separators)",
    RejectCode.BAD_NUMBER: "the cell is not a number, or too large for its type",
    RejectCode.BAD_MEASURE: "the weight or size cell is not a number of 0 or more (negatives need allow_negative)",
    RejectCode.BAD_INTEGER: "the cell is not a whole number (quantities: 0 or more unless allow_negative)",
    RejectCode.BAD_DATE: "the cell is not a date or time in any format the template declares",
    RejectCode.BAD_VALUE: "the cell is not one of the values the template maps (e.g. 收入/支出)",
    RejectCode.BAD_DIRECTION: "the credit/debit mark of a bank entry is not one the format allows",
    RejectCode.BAD_ROW: "the line cannot be read as a row: ragged, a quote never closed, bytes in another "
                        "encoding, NUL bytes, or longer than the max_line_bytes limit",
    RejectCode.TOO_LONG: "the cell is longer than the max_cell_chars limit (damage or a hostile file, not data)",
    RejectCode.MISSING_VALUE: "a required cell is empty",
    RejectCode.MISSING_AMOUNT: "the bank entry has no amount",
    RejectCode.MISSING_DATE: "the bank entry has no booking or value date",
    RejectCode.SUB_CENT_AMOUNT: "the bank amount has digits below a cent, so it cannot be booked exactly",
    RejectCode.BAD_STATEMENT_LINE: "an MT940 :61: statement line does not follow date, credit/debit mark, amount, type",
}

class FlagCode(str, Enum):
    """Why a row that loaded carries a flag (``LoadReport.flags``): it is kept, but cannot be fully trusted."""

    ID_FALLBACK = "id_fallback"
    MISSING_ID = "missing_id"
    DIRECTION_UNKNOWN = "direction_unknown"
    VALUE_UNKNOWN = "value_unknown"

    @property
    def meaning(self) -> str:
        return FLAG_MEANINGS[self]


FLAG_MEANINGS: dict[FlagCode, str] = {
    FlagCode.ID_FALLBACK: "the id cell is empty; the template's fallback column stands in for it",
    FlagCode.MISSING_ID: "the id cell is empty; the row is kept because it is real money, but cannot be matched by id",
    FlagCode.DIRECTION_UNKNOWN: "收/支 is empty and no status word the template knows says which way the money went",
    FlagCode.VALUE_UNKNOWN: "the cell is empty and no word in the template's other columns decides its value",
}

_TYPES = {"source_row": pa.int64()}


def rejects_frame(entries: Iterable[dict[str, Any]], *, source_file: str | None = None) -> pd.DataFrame:
    """The rejects table from dicts with the :data:`REJECT_COLUMNS` keys, sorted by row then column.

    ``source_file`` fills in the file for readers whose entries do not carry it. An unknown code is a
    bug of ours (every reader uses :class:`RejectCode`), so it raises rather than reaching a user.
    """
    rows = [dict(e) for e in entries]
    known = {c.value for c in RejectCode}
    for row in rows:
        if source_file is not None and not row.get("source_file"):
            row["source_file"] = source_file
        code = row.get("code")
        row["code"] = code.value if isinstance(code, RejectCode) else code
        if row["code"] not in known:
            raise ValueError(f"reject code {row['code']!r} is not a RejectCode: add it with its meaning")
    arrays = {c: pa.array([r.get(c) for r in rows], type=_TYPES.get(c, pa.string())) for c in REJECT_COLUMNS}
    frame = pa.table(arrays).to_pandas(types_mapper=pd.ArrowDtype)
    if len(frame):
        frame = frame.sort_values(["source_row", "column"], kind="stable").reset_index(drop=True)
    return frame


def rows_rejected(rejects: pd.DataFrame) -> int:
    """How many input rows the rejects table stands for (a row with two bad cells counts once)."""
    if not len(rejects):
        return 0
    return int(rejects[["source_file", "source_row"]].drop_duplicates().shape[0])
