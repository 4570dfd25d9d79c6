"""Where the data of a table ends: footers recognised by position and shape, never by one word.

A footer is the *last* block of a table: a line that starts with a footer label or marker (``#``,
``----``, ``合计``, ``本页合计`` ...), shaped like a footer (a label in the first cells and a few figures,
or a ``#`` note), with nothing shaped like a data row after it. So a data row whose waybill cell
happens to read ``合计`` stays data when data rows follow it. A line whose first cell *is* a label
and that fills every column (a totals row with a figure under each) ends the data only when it is
in that last block; a marker inside a cell's text (``SF合计123``) never ends the data by itself.

Where the footer has figures, :mod:`recon_helpers.sources.subtotals` confirms it by totals that tie
(a mismatch is a control-total finding), and recognises page subtotals inside the data the same way.

The label variants are data, not code: :data:`FOOTER_LABELS` lists the words, a template's
``footer.markers`` add its own regexes. A label may carry a short prefix or suffix (``本页合计``,
``人民币合计``, ``合计金额``, ``总计(元)``).
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

#: words that label a totals line; a label is one of these with at most 6 characters around it
FOOTER_LABELS = ("合计", "总计", "小计", "汇总", "累计", "Total", "TOTAL", "Subtotal")

#: a cell that is a footer label (``本页合计``, ``人民币合计``, ``合计金额``, ``总计(元)``)
LABEL_CELL = re.compile(r"^.{0,6}(?:" + "|".join(map(re.escape, FOOTER_LABELS)) + r").{0,6}$")


def label_regex(markers: Sequence[str]) -> str:
    """The regex source a footer's first line starts with: the template's markers or a label cell."""
    labels = r"[^,\n\"]{0,6}(?:" + "|".join(map(re.escape, FOOTER_LABELS)) + r")"
    return "(?:" + "|".join([*markers, labels]) + ")"


def is_note(text: str) -> bool:
    """``#`` comments and ``----`` rules are footer lines whatever their cells."""
    return text.lstrip(" \t,\"'`").startswith(("#", "---", "===", "***"))


def data_shaped(cells: Sequence[str], width: int) -> bool:
    """As many cells as the header and most of them filled: a data row, not a totals line.

    A totals line fills its label and a few figures (``合计,,,,,13560.00,,``); a data row fills
    most of its cells. Width 1-4 tables are too narrow to tell, so there every row counts as data
    unless it is a note.
    """
    filled = sum(1 for c in cells if c)
    return len(cells) >= width - 1 and filled > max(2, width // 2)


def _is_label(cells: Sequence[str]) -> bool:
    first = next((c for c in cells if c), "")
    return bool(LABEL_CELL.match(first))


def footer_shaped(cells: Sequence[str], text: str, width: int) -> bool:
    return is_note(text) or not data_shaped(cells, width)


#: one line of a table for :func:`first_footer`: its cells, its text and where the next line starts
Line = tuple[list[str], str, int]


def first_footer(candidates: Iterable[int], line_at: Callable[[int], Line | None], width: int) -> int | None:
    """The first candidate line after which no data-shaped line follows (the footer's start), or None.

    ``candidates`` are the positions (byte offsets or row indexes, ascending) of lines that start
    with a marker; ``line_at(pos)`` reads the line at ``pos`` (None past the end). When a data row
    follows a candidate, the search goes on after that data row, so each line is read about once.
    """
    resume = -1
    for start in candidates:
        if start <= resume:
            continue
        first = line_at(start)
        if first is None:
            return None
        dense = not footer_shaped(first[0], first[1], width)
        if dense and not _is_label(first[0]):
            continue
        pos = first[2]
        data_at = None
        while (line := line_at(pos)) is not None:
            cells, text, following = line
            if any(cells) and not is_note(text) and data_shaped(cells, width):
                data_at = pos
                break
            pos = following
        if data_at is None:
            return start  # the last block: a totals row filled in every column is still the footer
        resume = data_at
    return None
