"""Totals that tie: page subtotals inside the data, and the footer's own figures, confirmed by numbers.

Some bank and courier exports print a subtotal at the end of every page (``本页合计,,,1,200.00,...``)
and a total at the end of the file. A label alone never decides what such a line is - a waybill
cell may read ``合计`` - so its *numbers* do:

* a **page subtotal** is a line inside the data whose first filled cell is a totals label
  (:data:`footers.LABEL_CELL`), whose other filled cells are all figures, and whose figures equal
  the data rows since the previous subtotal (or since the header: a running total): each amount,
  weight or quantity the sum of its column, a number under an id or text column the number of rows.
  It is taken out of the data and counted as a summary line (``rows read = loaded + rejected``, and
  preamble + header + rows + blank + footer + summary lines = the lines of the file). A label line
  whose figures do not tie stays data, and is loaded or rejected like any row;
* the **footer** (found by position and shape, :mod:`footers`) is confirmed by its figures the same
  way, against the loaded rows (or the last page's): a tie confirms it, a mismatch keeps it the
  footer and becomes a control-total finding naming the file, the footer line and both figures.
  Templates that declare their own ``control_totals`` have their footers checked by those instead.

Figures are compared only in the columns the template reads (the others are not parsed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon_helpers import canonical
from recon_helpers.sources import cells, footers
from recon_helpers.sources.mapping import Columns
from recon_helpers.sources.opening import Row
from recon_helpers.sources.result import ControlCheck
from recon_helpers.sources.templates import SourceTemplate

#: kinds of field whose column a total sums; an id or text column holds a count of rows instead
_SUMMED = {"money", "measure", "int"}
_COUNTED = {"id", "text"}
#: a subtotal's label sits in one of the first few columns the template reads
_LABEL_COLUMNS = 3


@dataclass
class Figures:
    """What a totals line can be compared with: per column, ``sum`` or ``count``; parsed sum columns."""

    how: dict[int, str]
    values: dict[int, Any]


@dataclass
class Tally:
    """Figures of some rows per column (a sum, or the number of rows for a count column)."""

    sums: dict[int, Decimal] = field(default_factory=dict)
    n: int = 0

    def plus(self, other: "Tally") -> "Tally":
        keys = set(self.sums) | set(other.sums)
        return Tally({j: self.sums.get(j, Decimal(0)) + other.sums.get(j, Decimal(0)) for j in keys}, self.n + other.n)

    def figures(self, found: dict[int, Decimal], how: dict[int, str]) -> dict[int, Decimal]:
        return {j: Decimal(self.n) if how[j] == "count" else self.sums.get(j, Decimal(0)) for j in found}


@dataclass
class Carry:
    """The data rows before a chunk of a file read in chunks: since the last subtotal, and since the header."""

    page: Tally = field(default_factory=Tally)
    run: Tally = field(default_factory=Tally)


def figure_how(template: SourceTemplate, look: Columns) -> dict[int, str]:
    """The columns read whose figure on a totals line has a meaning: a sum, or the number of rows."""
    how: dict[int, str] = {}
    for fname, spec in template.mapping.items():
        kind = canonical.CANONICAL_FIELDS[fname].kind if fname in canonical.CANONICAL_FIELDS else "text"
        names = [[n] for n in spec.income + spec.expense]
        if spec.column:
            names.append(spec.column)
        for name in names:
            j = look.find(name, field_name=fname, optional=True)
            if j is None or j not in look.body.columns:
                continue
            if kind in _SUMMED or spec.income or spec.expense:
                how[j] = "sum"
            elif kind in _COUNTED:
                how.setdefault(j, "count")
    return how


def figure_columns(template: SourceTemplate, look: Columns) -> Figures:
    """:func:`figure_how` and the sum columns parsed (empty or unreadable cells count 0)."""
    how = figure_how(template, look)
    values = {}
    for j, what in how.items():
        if what == "sum":
            parsed = cells.parse_decimal(look.clean(j), scale=3, decimal_comma=template.decimal_comma)
            values[j] = pc.fill_null(parsed.values, Decimal(0))
    return Figures(how, values)


def line_figures(texts: list[str], how: dict[int, str]) -> dict[int, Decimal] | None:
    """The figures of a totals line by column, or None when a filled cell besides the label is no figure."""
    label_at = next((j for j, t in enumerate(texts) if t), None)
    out = {}
    for j, text in enumerate(texts):
        if not text or j == label_at:
            continue
        value = cells.scalar_decimal(text) if j in how else None
        if value is None:
            return None
        out[j] = value
    return out


def _tally(figures: Figures, start: int, stop: int, skip: list[int], mask: Any = None) -> Tally:
    """The rows ``start`` to ``stop`` (those in ``skip`` left out; with ``mask``, only where it is True)."""
    skip = [k for k in skip if start <= k < stop]
    sums: dict[int, Decimal] = {}
    if mask is not None:
        chosen = pc.fill_null(_array(mask).slice(start, stop - start), False)
        n = int(pc.sum(pc.cast(chosen, pa.int64())).as_py() or 0)
        for j, column in figures.values.items():
            sums[j] = pc.sum(pc.filter(column.slice(start, stop - start), chosen)).as_py() or Decimal(0)
        return Tally(sums, n)
    for j, column in figures.values.items():
        total = pc.sum(column.slice(start, stop - start)).as_py() or Decimal(0)
        sums[j] = total - sum((column[k].as_py() for k in skip), Decimal(0))
    return Tally(sums, stop - start - len(skip))


def _ties(found: dict[int, Decimal], given: dict[int, Decimal]) -> bool:
    return all(given[j] == value for j, value in found.items())


def _labelled(look: Columns) -> Any:
    """Rows whose first columns read hold a totals label (the candidates, checked one by one)."""
    labelled = None
    for j in sorted(look.body.columns)[:_LABEL_COLUMNS]:
        hit = pc.fill_null(pc.match_substring_regex(look.clean(j), footers.LABEL_CELL.pattern), False)
        labelled = hit if labelled is None else pc.or_(labelled, hit)
    return labelled


def split_page_subtotals(template: SourceTemplate, look: Columns, carry: Carry | None = None) -> list[Row]:
    """Take page subtotals (label lines whose figures tie with the rows above) out of the data.

    ``carry``: for a file read in chunks, the rows before this chunk (updated with this chunk's).
    """
    body = look.body
    if not body.n:
        return []
    labelled = _labelled(look)
    candidates = pc.indices_nonzero(_array(labelled)).to_pylist() if labelled is not None else []
    if not candidates and carry is None:
        return []
    figures = figure_columns(template, look)
    width = max(body.columns) + 1
    subtotals: list[int] = []
    before = carry or Carry()
    start = 0
    for i in candidates:
        texts = _texts(body, i, width)
        if not footers.LABEL_CELL.match(next((t for t in texts if t), "")):
            continue
        found = line_figures(texts, figures.how)
        if not found:
            continue
        rows = _tally(figures, start, i, subtotals)
        page = rows if subtotals else before.page.plus(rows)
        running = before.run.plus(_tally(figures, 0, i, subtotals))  # a running total since the header
        if _ties(found, page.figures(found, figures.how)) or _ties(found, running.figures(found, figures.how)):
            subtotals.append(i)
            start = i + 1
    if carry is not None:
        chunk = _tally(figures, 0, body.n, subtotals)
        tail = _tally(figures, start, body.n, subtotals)
        carry.page = tail if subtotals else carry.page.plus(chunk)
        carry.run = carry.run.plus(chunk)
    if not subtotals:
        return []
    rows_out = [Row(body.rows[i].as_py(), _texts(body, i, width), ",".join(_texts(body, i, width))) for i in subtotals]
    keep = np.ones(body.n, dtype=bool)
    keep[subtotals] = False
    look.drop_rows(pa.array(keep))
    return rows_out


def _array(values: Any) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _texts(body: Any, i: int, width: int) -> list[str]:
    texts = [""] * width
    for j, arr in body.columns.items():
        texts[j] = cells.clean_scalar(arr[i].as_py()) or ""
    return texts


@dataclass
class Loaded:
    """The loaded rows' figures for the footer: all of them, and the last page's (after the last subtotal)."""

    all: Tally = field(default_factory=Tally)
    page: Tally = field(default_factory=Tally)
    any_subtotal: bool = False


def footer_lines(template: SourceTemplate, look: Columns, footer: list[Row]) -> list[tuple[Row, str, dict, dict]]:
    """The footer's totals lines with figures: (row, label, figures and their kind by column); none when the template
    declares its own control totals (those check the footer instead)."""
    if template.control_totals or not footer:
        return []
    how = figure_how(template, look)
    out = []
    for row in footer:
        first = next((c for c in row.cells if c), "")
        if footers.is_note(row.text) or not footers.LABEL_CELL.match(first):
            continue
        found = line_figures(list(row.cells), how)
        if found:
            out.append((row, first, found, {j: how[j] for j in found}))
    return out


def tally_loaded(template: SourceTemplate, look: Columns, keep: Any, subtotal_lines: list[int],
                 before: Loaded | None = None) -> Loaded:
    """Add the loaded rows of ``look`` (``keep``) to ``before``: all, and those after the last subtotal."""
    before = before or Loaded()
    if not look.body.n:
        return before
    figures = figure_columns(template, look)
    chunk = _tally(figures, 0, look.body.n, [], keep)
    if subtotal_lines:
        after = pc.and_(_array(keep), pc.greater(look.body.rows, max(subtotal_lines)))
        return Loaded(before.all.plus(chunk), _tally(figures, 0, look.body.n, [], after), True)
    return Loaded(before.all.plus(chunk), before.page.plus(chunk), before.any_subtotal)


def check_footer(look: Columns, lines: list[tuple[Row, str, dict, dict]], loaded: Loaded) -> list[ControlCheck]:
    """The footer's totals lines against the loaded rows (or the last page's): one check per figure.

    Labelled ``footer line N (label) column`` so a mismatch names the line; the file is named by the
    report the checks go into.
    """
    checks: list[ControlCheck] = []
    for row, label, found, how in lines:
        scopes = [loaded.all] + ([loaded.page] if loaded.any_subtotal else [])
        results = [scope.figures(found, how) for scope in scopes]
        actual = next((r for r in results if _ties(found, r)), results[0])
        for j, expected in found.items():
            measure = "count" if how[j] == "count" else "total"
            checks.append(ControlCheck(f"footer line {row.line} ({label}) {look.name(j)}", measure, expected,
                                       _as_written(actual[j], expected), expected == actual[j]))
    return checks


def _as_written(actual: Decimal, expected: Decimal) -> Decimal:
    """The rows' figure with as many decimals as the file wrote (``4.00``, not ``4.000``) when exact."""
    try:
        shown = actual.quantize(expected)
    except ArithmeticError:
        return actual
    return shown if shown == actual else actual
