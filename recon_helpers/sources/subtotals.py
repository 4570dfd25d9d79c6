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

from dataclasses import dataclass
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


def figure_columns(template: SourceTemplate, look: Columns) -> Figures:
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
    values = {}
    for j, what in how.items():
        if what == "sum":
            parsed = cells.parse_decimal(look.clean(j), scale=3, decimal_comma=template.decimal_comma)
            values[j] = pc.fill_null(parsed.values, Decimal(0))
    return Figures(how, values)


def line_figures(texts: list[str], figures: Figures) -> dict[int, Decimal] | None:
    """The figures of a totals line by column, or None when a filled cell besides the label is no figure."""
    label_at = next((j for j, t in enumerate(texts) if t), None)
    out = {}
    for j, text in enumerate(texts):
        if not text or j == label_at:
            continue
        value = cells.scalar_decimal(text) if j in figures.how else None
        if value is None:
            return None
        out[j] = value
    return out


def _range_figures(found: dict[int, Decimal], figures: Figures, start: int, stop: int,
                   skip: list[int]) -> dict[int, Decimal]:
    """The figures rows ``start`` to ``stop`` give (rows in ``skip``, earlier subtotals, left out)."""
    skip = [k for k in skip if start <= k < stop]
    out: dict[int, Decimal] = {}
    for j in found:
        if figures.how[j] == "count":
            out[j] = Decimal(stop - start - len(skip))
        else:
            column = figures.values[j]
            total = pc.sum(column.slice(start, stop - start)).as_py() or Decimal(0)
            out[j] = total - sum((column[k].as_py() for k in skip), Decimal(0))
    return out


def _ties(found: dict[int, Decimal], given: dict[int, Decimal]) -> bool:
    return all(given[j] == value for j, value in found.items())


def split_page_subtotals(template: SourceTemplate, look: Columns) -> list[Row]:
    """Take page subtotals (label lines whose figures tie with the rows above) out of the data."""
    body = look.body
    if not body.n:
        return []
    read = sorted(body.columns)[:_LABEL_COLUMNS]
    labelled = None
    for j in read:
        hit = pc.fill_null(pc.match_substring_regex(look.clean(j), footers.LABEL_CELL.pattern), False)
        labelled = hit if labelled is None else pc.or_(labelled, hit)
    if labelled is None or not pc.any(labelled).as_py():
        return []
    figures = figure_columns(template, look)
    width = max(body.columns) + 1
    subtotals: list[int] = []
    start = 0
    for i in pc.indices_nonzero(_array(labelled)).to_pylist():
        texts = [""] * width
        for j in body.columns:
            texts[j] = cells.clean_scalar(body.columns[j][i].as_py()) or ""
        if not footers.LABEL_CELL.match(next((t for t in texts if t), "")):
            continue
        found = line_figures(texts, figures)
        page = found and _range_figures(found, figures, start, i, subtotals)
        running = found and _range_figures(found, figures, 0, i, subtotals)  # a running total since the header
        if found and (_ties(found, page) or _ties(found, running)):
            subtotals.append(i)
            start = i + 1
    if not subtotals:
        return []
    rows = [Row(body.rows[i].as_py(), _texts(body, i, width), ",".join(_texts(body, i, width))) for i in subtotals]
    keep = np.ones(body.n, dtype=bool)
    keep[subtotals] = False
    keep = pa.array(keep)
    body.columns = {j: pc.filter(arr, keep) for j, arr in body.columns.items()}
    body.rows = pc.filter(body.rows, keep)
    body.n = len(body.rows)
    look._clean.clear()
    look._money.clear()
    return rows


def _array(values: Any) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _texts(body: Any, i: int, width: int) -> list[str]:
    texts = [""] * width
    for j, arr in body.columns.items():
        texts[j] = cells.clean_scalar(arr[i].as_py()) or ""
    return texts


def check_footer(template: SourceTemplate, look: Columns, keep: Any, footer: list[Row],
                 last_subtotal_line: int | None) -> list[ControlCheck]:
    """The footer's totals lines against the loaded rows (or the last page's): one check per figure.

    Labelled ``footer line N (label) column`` so a mismatch names the line; the file is named by the
    report the checks go into.
    """
    if template.control_totals or not footer or not look.body.n:
        return []
    figures = figure_columns(template, look)
    if not figures.how:
        return []
    loaded = _array(keep)
    scopes = [loaded]
    if last_subtotal_line is not None:
        scopes.append(pc.and_(loaded, pc.greater(look.body.rows, last_subtotal_line)))
    checks: list[ControlCheck] = []
    for row in footer:
        if footers.is_note(row.text) or not footers.LABEL_CELL.match(next((c for c in row.cells if c), "")):
            continue
        found = line_figures(list(row.cells), figures)
        if not found:
            continue
        label = next(c for c in row.cells if c)
        results = [_scope_figures(found, figures, scope) for scope in scopes]
        actual = next((r for r in results if _ties(found, r)), results[0])
        for j, expected in found.items():
            name = f"footer line {row.line} ({label}) {look.name(j)}"
            measure = "count" if figures.how[j] == "count" else "total"
            checks.append(ControlCheck(name, measure, expected, _as_written(actual[j], expected),
                                       expected == actual[j]))
    return checks


def _scope_figures(found: dict[int, Decimal], figures: Figures, scope: Any) -> dict[int, Decimal]:
    n = int(pc.sum(pc.cast(scope, pa.int64())).as_py() or 0)
    out: dict[int, Decimal] = {}
    for j in found:
        if figures.how[j] == "count":
            out[j] = Decimal(n)
        else:
            out[j] = pc.sum(pc.filter(figures.values[j], scope)).as_py() or Decimal(0)
    return out


def _as_written(actual: Decimal, expected: Decimal) -> Decimal:
    """The rows' figure with as many decimals as the file wrote (``4.00``, not ``4.000``) when exact."""
    try:
        shown = actual.quantize(expected)
    except ArithmeticError:
        return actual
    return shown if shown == actual else actual
