"""Mapping raw columns to canonical fields: header lookup, parsing per field, rejected cells.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from recon_helpers import canonical
from recon_helpers.errors import SourceFileError, TemplateError
from recon_helpers.sources import cells
from recon_helpers.sources.opening import Row
from recon_helpers.sources.reading import Body
from recon_helpers.sources.templates import SourceTemplate

# =========================================================================== mapping to canonical

class Columns:
    """Header lookup and per-column caches (cleaned text, parsed money) for one table."""

    def __init__(self, header: list[str], body: Body, template: SourceTemplate, source_file: str, header_line: int):
        self.header = header
        self.body = body
        self.template = template
        self.source_file = source_file
        self.header_line = header_line
        self._clean: dict[int, Any] = {}
        self._money: dict[int, cells.Parsed] = {}
        self.keys: dict[str, list[int]] = {}
        for i, name in enumerate(header):
            if name:
                self.keys.setdefault(cells.loose_key(name), []).append(i)

    def find(self, names: list[str], *, field_name: str, optional: bool) -> int | None:
        for name in names:
            for alt in name.split("|"):
                hits = self.keys.get(cells.loose_key(alt))
                if hits:
                    if len(hits) > 1:
                        cols = ", ".join(str(h + 1) for h in hits)
                        raise SourceFileError(
                            f"column {alt!r} appears {len(hits)} times in the header (columns {cols}), so "
                            f"field {field_name!r} is ambiguous; map it with `position:` in the template",
                            source_file=self.source_file, row=self.header_line, column=alt)
                    return hits[0]
        if optional:
            return None
        shown = ", ".join(h for h in self.header if h)
        raise SourceFileError(
            f"the header has no column {' / '.join(names)!r} for field {field_name!r} of template "
            f"{self.template.name}; the header is: {shown}. Mark the field `optional: true` or fix the mapping",
            source_file=self.source_file, row=self.header_line)

    def name(self, index: int) -> str:
        return self.header[index] if index < len(self.header) and self.header[index] else f"column {index + 1}"

    def raw(self, index: int):
        return self.body.columns[index]

    def clean(self, index: int):
        if index not in self._clean:
            self._clean[index] = cells.clean_cells(self.raw(index), null_values=self.template.null_values,
                                                       quirks=self.body.quirks)
        return self._clean[index]

    def money(self, index: int) -> cells.Parsed:
        if index not in self._money:
            self._money[index] = cells.parse_money(self.clean(index), decimal_comma=self.template.decimal_comma)
        return self._money[index]


@dataclass
class _Problem:
    mask: Any
    column: int | None
    code: str
    reason: str


def split_summary_rows(template: SourceTemplate, look: Columns) -> list[Row]:
    """Take in-table summary lines (上月结转, 本月合计 ...) out of the data; return them as rows."""
    spec = template.summary_rows
    if spec is None or not look.body.n:
        return []
    col = look.find(spec.column, field_name="summary_rows", optional=True)
    if col is None:
        return []
    hit = pc.fill_null(pc.is_in(look.clean(col), value_set=pa.array(spec.values, pa.string())), False)
    if not pc.any(hit).as_py():
        return []
    body = look.body
    idx = pc.indices_nonzero(hit if isinstance(hit, pa.Array) else hit.combine_chunks()).to_pylist()
    width = len(look.header)
    rows = []
    for i in idx:
        texts = [""] * width
        for j, arr in body.columns.items():
            value = arr[i].as_py()
            texts[j] = cells.clean_scalar(value) or ""
        rows.append(Row(body.rows[i].as_py(), texts, ",".join(texts)))
    keep = pc.invert(hit)
    body.columns = {j: pc.filter(arr, keep) for j, arr in body.columns.items()}
    body.rows = pc.filter(body.rows, keep)
    body.n = len(body.rows)
    look._clean.clear()
    look._money.clear()
    return rows


def needed_columns(template: SourceTemplate, look: Columns) -> list[int]:
    idx: set[int] = set()
    for fname, spec in template.mapping.items():
        if spec.position is not None:
            idx.add(spec.position - 1)
        if spec.column:
            j = look.find(spec.column, field_name=fname, optional=spec.optional)
            if j is not None:
                idx.add(j)
        for names in [*([n] for n in spec.income + spec.expense), spec.time_column,
                      *([n] for n in spec.column[1:] if spec.first_filled)]:
            if names:
                j = look.find(names, field_name=fname, optional=True)
                if j is not None:
                    idx.add(j)
    if template.summary_rows is not None:
        j = look.find(template.summary_rows.column, field_name="summary_rows", optional=True)
        if j is not None:
            idx.add(j)
    for check in template.control_totals:
        for names in ([check.sum] if check.sum else []) + ([check.where.column] if check.where else []):
            j = look.find(names, field_name=f"control_totals.{check.label}", optional=True)
            if j is not None:
                idx.add(j)
    return sorted(idx)


def _field_order(template: SourceTemplate) -> list[str]:
    first = [n for n, s in template.mapping.items() if not s.sign_from]
    return first + [n for n, s in template.mapping.items() if s.sign_from]


def constant_column(value: str | None, n: int):
    return pa.array([value] * n, pa.string())


def build_fields(template: SourceTemplate, look: Columns) -> tuple[dict[str, Any], list[_Problem], list[str]]:
    n = look.body.n
    values: dict[str, Any] = {}
    problems: list[_Problem] = []
    warnings: list[str] = []
    for fname in _field_order(template):
        spec = template.mapping[fname]
        kind = canonical.CANONICAL_FIELDS[fname].kind
        first_problem = len(problems)
        col: int | None = None
        if spec.position is not None:
            col = spec.position - 1
            if col >= len(look.header) and col not in look.body.columns:
                raise SourceFileError(f"field {fname!r} maps column {spec.position}, but the header has only "
                                      f"{len(look.header)} columns", source_file=look.source_file,
                                      row=look.header_line)
        elif spec.column:
            col = look.find(spec.column, field_name=fname, optional=spec.optional)
        if kind == "money":
            result, probs, note = _money_field(fname, spec, look, col, values, n)
            problems += probs
            warnings += note
        elif spec.value is not None:
            result = constant_column(spec.value, n)
        elif col is None and not (spec.income or spec.expense):
            result = pa.nulls(n, canonical.field_type(fname))
        else:
            text = look.clean(col)
            if spec.first_filled:
                for other in spec.column:
                    j = look.find([other], field_name=fname, optional=True)
                    if j is not None and j != col:
                        text = pc.coalesce(text, look.clean(j))
            if spec.pattern:
                text = cells.extract(text, spec.pattern)
            if kind in ("id", "text"):
                if kind == "id":
                    text = cells.fold_key(text)
                if spec.strip_prefix:
                    text = cells.strip_prefixes(text, spec.strip_prefix)
                if spec.map:
                    parsed = cells.map_values(text, spec.map, unmapped=spec.unmapped)
                    problems.append(_Problem(parsed.bad, col, parsed.code, parsed.reason))
                    text = parsed.values
                result = text
            elif kind in ("datetime", "date"):
                formats = spec.formats
                if spec.time_column:
                    tcol = look.find(spec.time_column, field_name=fname, optional=True)
                    if tcol is not None:
                        text = cells.join_date_time(text, look.clean(tcol))
                        formats = cells.date_time_formats(spec.formats, spec.time_formats)
                parsed = cells.parse_datetime(text, formats=formats, date_only=kind == "date")
                problems.append(_Problem(parsed.bad, col, parsed.code, parsed.reason))
                result = parsed.values
            elif kind == "measure":
                parsed = cells.parse_measure(text, allow_negative=spec.allow_negative,
                                             decimal_comma=template.decimal_comma)
                problems.append(_Problem(parsed.bad, col, parsed.code, parsed.reason))
                result = parsed.values
            elif kind == "int":
                parsed = cells.parse_int(text, allow_negative=spec.allow_negative)
                problems.append(_Problem(parsed.bad, col, parsed.code, parsed.reason))
                result = parsed.values
            else:  # pragma: no cover - canonical kinds are all handled above
                raise TemplateError(f"field kind {kind!r} is not supported", template_file=template.path)
        if spec.invalid == "empty":
            for prob in problems[first_problem:]:
                count = int(pc.sum(pc.cast(pc.fill_null(prob.mask, False), pa.int64())).as_py() or 0)
                if count:
                    where = look.name(prob.column) if prob.column is not None else fname
                    warnings.append(f"{count} cell(s) in column {where!r} could not be read ({prob.reason}) and "
                                    f"were left empty in field {fname!r}")
            del problems[first_problem:]
        if spec.required:
            if col is None and (spec.income or spec.expense):  # a cell of the field already found bad
                bad_already = [p.mask for p in problems[first_problem:]]
            else:
                bad_already = [p.mask for p in problems if p.column == col and col is not None]
            missing = pc.is_null(result)
            for m in bad_already:
                missing = pc.and_(missing, pc.invert(m))
            problems.append(_Problem(missing, col if col is not None else _first_column(spec, look), "missing_value",
                                     f"field {fname!r} needs a value and the cell is empty"))
        values[fname] = result
    return values, problems, warnings


def _first_column(spec, look: Columns) -> int | None:
    """The column a missing income/expense amount is reported under: the first of them in the file."""
    for name in [*spec.income, *spec.expense]:
        j = look.find([name], field_name="amount", optional=True)
        if j is not None:
            return j
    return None


def _money_field(fname: str, spec, look: Columns, col: int | None, values: dict[str, Any], n: int):
    problems: list[_Problem] = []
    notes: list[str] = []

    def parsed_of(index: int) -> cells.Parsed:
        if spec.pattern:
            return cells.parse_money(cells.extract(look.clean(index), spec.pattern),
                                     decimal_comma=look.template.decimal_comma)
        return look.money(index)

    def note(p: cells.Parsed, index: int) -> None:
        if p.rounded:
            notes.append(f"{p.rounded} value(s) in column {look.name(index)!r} had more than 2 decimals and were "
                         "rounded half-up to fen")

    if spec.value is not None:
        p = cells.parse_money(pa.array([spec.value] * n, pa.string()))
        return p.values, problems, notes
    if spec.income or spec.expense:
        parts = []
        for names, sign in [*((n, 1) for n in spec.income), *((n, -1) for n in spec.expense)]:
            j = look.find([names], field_name=fname, optional=True)
            if j is None:
                continue
            p = parsed_of(j)
            note(p, j)
            problems.append(_Problem(p.bad, j, p.code, p.reason))
            v = p.values if sign > 0 else pc.negate(pc.abs(p.values))
            parts.append(v)
        if not parts:
            if spec.optional:
                return pa.nulls(n, canonical.MONEY_TYPE), problems, notes
            raise SourceFileError(f"the header has neither {spec.income} nor {spec.expense} for field {fname!r}",
                                  source_file=look.source_file, row=look.header_line)
        total = parts[0]
        for extra in parts[1:]:
            both_null = pc.and_(pc.is_null(total), pc.is_null(extra))
            summed = pc.add(pc.fill_null(total, Decimal(0)), pc.fill_null(extra, Decimal(0)))
            total = pc.if_else(both_null, pa.scalar(None, summed.type), summed)
        result = pc.cast(total, canonical.MONEY_TYPE)
    elif col is None:
        return pa.nulls(n, canonical.MONEY_TYPE), problems, notes
    else:
        p = parsed_of(col)
        note(p, col)
        problems.append(_Problem(p.bad, col, p.code, p.reason))
        result = p.values
        if spec.pattern:
            unmatched = pc.and_(pc.is_valid(look.clean(col)), pc.is_null(result))
            problems.append(_Problem(pc.and_(unmatched, pc.invert(p.bad)), col, "bad_amount",
                                     f"the cell does not match the pattern {spec.pattern!r}")
                            if spec.required else _Problem(pc.and_(unmatched, False), col, "", ""))
    if spec.negate:
        result = pc.negate(result)
    if spec.sign_from:
        direction = values[spec.sign_from]
        out = pc.fill_null(pc.equal(direction, "out"), False)
        inn = pc.fill_null(pc.equal(direction, "in"), False)
        result = pc.if_else(out, pc.negate(pc.abs(result)), pc.if_else(inn, pc.abs(result), result))
    return pc.cast(result, canonical.MONEY_TYPE), problems, notes


def rejected_cells(problems: list[_Problem], look: Columns, n: int) -> tuple[Any, list[dict[str, Any]]]:
    rejected = pa.array([False] * n) if n else pa.array([], pa.bool_())
    entries: list[dict[str, Any]] = []
    rows = look.body.rows
    for prob in problems:
        mask = pc.fill_null(prob.mask, False)
        if not pc.any(mask).as_py():
            continue
        rejected = pc.or_(rejected, mask)
        idx = pc.indices_nonzero(mask if isinstance(mask, pa.Array) else mask.combine_chunks())
        raw = look.raw(prob.column) if prob.column is not None and prob.column in look.body.columns else None
        for i in idx.to_pylist():
            value = raw[i].as_py() if raw is not None else None
            entries.append({"source_file": look.source_file, "source_row": rows[i].as_py(),
                            "column": look.name(prob.column) if prob.column is not None else "",
                            "value": None if value is None else str(value).strip(cells.TRIM_CHARS),
                            "reason": prob.reason, "code": prob.code})
    return rejected, entries


