"""Control totals: the figures a file states about itself, checked against the loaded rows.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from recon_helpers import canonical
from recon_helpers.sources import cells
from recon_helpers.sources.mapping import Columns
from recon_helpers.sources.opening import Row
from recon_helpers.sources.result import ControlCheck
from recon_helpers.sources.templates import SourceTemplate

# =========================================================================== control totals

def _footer_value(row: Row, index: int) -> Decimal | None:
    return cells.scalar_decimal(row.cells[index]) if index < len(row.cells) else None


#: per control total (by label): rows counted, their sum (None for a count) and the summed column
Tallies = dict[str, tuple[int, Decimal | None, int | None]]


def tally_totals(template: SourceTemplate, look: Columns, keep: Any, before: Tallies | None = None) -> Tallies:
    """Count and sum the loaded rows of ``look`` for each declared control total, added to ``before``.

    A total whose column this variant of the layout lacks has no entry (there is no such total).
    """
    out: Tallies = dict(before or {})
    for spec in template.control_totals:
        sel = keep
        if spec.where is not None:
            wcol = look.find(spec.where.column, field_name=f"control_totals.{spec.label}", optional=True)
            if wcol is None:
                continue
            if spec.where.values:
                hit = pc.is_in(look.clean(wcol), value_set=pa.array(spec.where.values, pa.string()))
            else:
                hit = pc.not_equal(look.money(wcol).values, Decimal(0))
            sel = pc.and_(sel, pc.fill_null(hit, False))
        count = int(pc.sum(pc.cast(sel, pa.int64())).as_py() or 0) if look.body.n else 0
        total: Decimal | None = None
        scol = None
        if spec.sum:
            scol = look.find(spec.sum, field_name=f"control_totals.{spec.label}", optional=True)
            if scol is None:
                continue  # this variant of the layout has no such column, so no such total either
            vals = pc.filter(look.money(scol).values, sel) if look.body.n else pa.array([], canonical.MONEY_TYPE)
            total = pc.sum(vals).as_py() or Decimal("0.00")
        seen_count, seen_total, _ = out.get(spec.label, (0, None, scol))
        if total is not None:
            total = total + (seen_total or Decimal("0.00"))
        out[spec.label] = (seen_count + count, total, scol)
    return out


def check_totals(template: SourceTemplate, look: Columns, keep: Any, preamble: list[Row],
                  footer: list[Row]) -> tuple[list[ControlCheck], list[str]]:
    """The declared control totals of one table read at once (see :func:`compare_totals`)."""
    return compare_totals(template, tally_totals(template, look, keep), preamble, footer)


def compare_totals(template: SourceTemplate, tallies: Tallies, preamble: list[Row],
                   footer: list[Row]) -> tuple[list[ControlCheck], list[str]]:
    """Each declared control total: the figure the file states against what the loaded rows give."""
    checks: list[ControlCheck] = []
    warnings: list[str] = []
    around = "\n".join(r.text for r in preamble + footer)
    for spec in template.control_totals:
        if spec.label not in tallies:
            continue
        count, total, scol = tallies[spec.label]
        stated: dict[str, Any] = {}
        if spec.pattern:
            m = re.search(spec.pattern, around, re.M)
            if m:
                stated = {k: v for k, v in m.groupdict().items() if v is not None}
        elif spec.row:
            label = cells.loose_key(spec.row)
            for r in footer:
                if any(cells.loose_key(c).startswith(label) for c in r.cells if c) and scol is not None:
                    v = _footer_value(r, scol)
                    if v is not None:
                        stated["total"] = v
                    break
        elif spec.below:
            label = cells.loose_key(spec.below)
            for k, r in enumerate(footer[:-1]):
                keys = [cells.loose_key(c) for c in r.cells]
                if label in keys:
                    v = _footer_value(footer[k + 1], keys.index(label))
                    if v is not None:
                        stated["total" if spec.sum else "count"] = v
                    break
        if not stated:
            checks.append(ControlCheck(spec.label, "total" if spec.sum else "count", None,
                                       total if spec.sum else count, None))
            warnings.append(f"control total {spec.label!r} is declared by template {template.name} but was not "
                            "found in the file's preamble/footer")
            continue
        if "count" in stated:
            expected_count = int(cells.scalar_decimal(stated["count"]) or 0)
            checks.append(ControlCheck(spec.label, "count", expected_count, count, expected_count == count))
        if "total" in stated and spec.sum:
            expected = stated["total"]
            expected = expected if isinstance(expected, Decimal) else cells.scalar_decimal(expected)
            actual = total if total is not None else Decimal(0)
            ok = (abs(expected) == abs(actual)) if spec.absolute else expected == actual
            checks.append(ControlCheck(spec.label, "total", expected, actual, ok))
    for c in checks:
        if c.ok is False:
            warnings.append(f"control total mismatch: {c}")
    return checks, warnings
