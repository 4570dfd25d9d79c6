"""Mapping raw columns to canonical fields: header lookup, parsing per field, rejected cells.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from recon_helpers import canonical
from recon_helpers.errors import SourceFileError, TemplateError
from recon_helpers.sources import cells, headers
from recon_helpers.sources.opening import Row
from recon_helpers.sources.reading import Body
from recon_helpers.sources.rejects import FlagCode
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
        self.preamble = ""  # the lines above the header (titles carry a statement's period)
        self._clean: dict[int, Any] = {}
        self._money: dict[int, cells.Parsed] = {}
        self.keys: dict[str, list[int]] = {}
        for i, name in enumerate(header):
            if name:
                for key in headers.cell_keys(name):
                    self.keys.setdefault(key, []).append(i)

    def find(self, names: list[str], *, field_name: str, optional: bool) -> int | None:
        for name in names:
            for alt in name.split("|"):
                hits = self.keys.get(headers.name_key(alt))
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

    def use_body(self, body: Body) -> None:
        """Read ``body`` from now on (the next chunk of a file): the per-column caches belong to the old one."""
        self.body = body
        self._clean.clear()
        self._money.clear()

    def drop_rows(self, keep: "pa.Array") -> None:
        """Keep only the body rows where ``keep`` is true (summary and subtotal lines leave the data)."""
        body = self.body
        body.columns = {j: pc.filter(arr, keep) for j, arr in body.columns.items()}
        body.rows = pc.filter(body.rows, keep)
        body.n = len(body.rows)
        self.use_body(body)


@dataclass
class CellProblem:
    """Rows of one column that break a rule of the template: which (``mask``), where (``column``), the
    reject code and the reason a person reads; shared by the field mapping and the loader's own checks
    (e.g. cells too long), which turn them into rejects or flags."""

    mask: Any
    column: int | None
    code: str
    reason: str
    reject: bool = True    # False: the row loads, flagged (a blank id on a row that is real money)


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
    look.drop_rows(pc.invert(hit))
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
                      *([n] for n in spec.column[1:] if spec.first_filled), *([n] for n in spec.fallback),
                      *(rule.column for rule in spec.when_blank)]:
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


def build_fields(template: SourceTemplate, look: Columns) -> tuple[dict[str, Any], list[CellProblem], list[str]]:
    n = look.body.n
    values: dict[str, Any] = {}
    problems: list[CellProblem] = []
    warnings: list[str] = []
    still_blank: dict[str, Any] = {}   # direction rows no word decided, for from_sign
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
                    problems.append(CellProblem(parsed.bad, col, parsed.code, parsed.reason))
                    if spec.when_blank:
                        text, flags, notes, undecided = _words_when_blank(parsed.values, pc.is_null(text), spec,
                                                                          look, fname)
                        problems += flags
                        warnings += notes
                        if spec.from_sign:
                            still_blank[fname] = undecided
                    else:
                        text = parsed.values
                        if spec.from_sign and col is not None:
                            still_blank[fname] = pc.is_null(look.clean(col))
                if spec.fallback:
                    text, flags = _with_fallback(text, spec.fallback, look, col, fname)
                    problems += flags
                result = text
            elif kind in ("datetime", "date"):
                formats = spec.formats
                if spec.time_column:
                    tcol = look.find(spec.time_column, field_name=fname, optional=True)
                    if tcol is not None:
                        text = cells.join_date_time(text, look.clean(tcol))
                        formats = cells.date_time_formats(spec.formats, spec.time_formats)
                parsed = _parse_dates(text, formats, spec, look, fname, date_only=kind == "date")
                if pc.any(parsed.bad).as_py():  # cells spaced unlike the format (SPDB's two spaces): retry
                    spaced, single = single_spaced(text, formats)
                    if spaced is not text or single != formats:
                        parsed = _parse_dates(spaced, single, spec, look, fname, date_only=kind == "date")
                problems.append(CellProblem(parsed.bad, col, parsed.code, parsed.reason))
                result = parsed.values
            elif kind == "measure":
                parsed = cells.parse_measure(text, allow_negative=spec.allow_negative,
                                             decimal_comma=template.decimal_comma)
                problems.append(CellProblem(parsed.bad, col, parsed.code, parsed.reason))
                factor = _unit_factor(look, col, fname, headers.MEASURE_FAMILY.get(fname, "measure"))
                result = _scaled(parsed.values, factor, canonical.MEASURE_TYPE)
            elif kind == "int":
                parsed = cells.parse_int(text, allow_negative=spec.allow_negative)
                problems.append(CellProblem(parsed.bad, col, parsed.code, parsed.reason))
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
            # a cell already rejected as unreadable is not reported a second time as empty
            bad_already = [p.mask for p in problems[first_problem:] if p.code]
            missing = pc.is_null(result)
            for m in bad_already:
                missing = pc.and_(missing, pc.invert(m))
            if kind == "id":
                where = f"column {look.name(col)!r}" if col is not None else "the cell"
                problems.append(CellProblem(missing, col, FlagCode.MISSING_ID.value, f"{where} (field {fname!r}) is empty"))
            else:
                problems.append(CellProblem(missing, col if col is not None else _first_column(spec, look), "missing_value",
                                         f"field {fname!r} needs a value and the cell is empty"))
        values[fname] = result
    if "direction" in still_blank and "amount" in values:
        values["direction"], used = _direction_from_sign(values["direction"], still_blank["direction"],
                                                         values["amount"])
        for prob in problems:
            if prob.code == FlagCode.DIRECTION_UNKNOWN.value:
                prob.mask = pc.and_(prob.mask, pc.invert(used))
    return values, _ids_on_money_rows(problems, values), warnings


def _words_when_blank(mapped, blank, spec, look: Columns, field_name: str):
    """Where the field's own cell is blank, the first rule whose column has a known word decides.

    Alipay leaves 收/支 empty on refunds while 资金状态 says 已收入: reading that as neutral would miss
    money in. A blank cell whose rule columns hold a word no rule knows is flagged, not guessed.
    Returns the values, the flags, notes for the report and the rows still undecided.
    """
    result = mapped
    undecided = pc.fill_null(blank, False)
    unknown = pc.and_(undecided, False)
    notes: list[str] = []
    own = look.find(spec.column, field_name=field_name, optional=True) if spec.column else None
    for rule in spec.when_blank:
        j = look.find(rule.column, field_name=f"{field_name}.when_blank", optional=True)
        if j is None:
            continue
        words = look.clean(j)
        parsed = cells.map_values(words, rule.map, unmapped="reject")
        known = pc.and_(pc.is_valid(words), pc.invert(pc.fill_null(parsed.bad, True)))
        decide = pc.fill_null(pc.and_(undecided, known), False)
        count = int(pc.sum(pc.cast(decide, pa.int64())).as_py() or 0)
        if count:
            result = pc.if_else(decide, parsed.values, result)
            notes.append(f"{count} row(s) have an empty {look.name(own) if own is not None else field_name!r}: "
                         f"{look.name(j)!r} decided {field_name!r}")
        unknown = pc.or_(unknown, pc.fill_null(pc.and_(undecided, pc.and_(pc.is_valid(words), pc.invert(known))), False))
        undecided = pc.and_(undecided, pc.invert(decide))
    unknown = pc.and_(unknown, undecided)
    words_known = ", ".join(k for r in spec.when_blank for k in r.map)
    code = FlagCode.DIRECTION_UNKNOWN if field_name == "direction" else FlagCode.VALUE_UNKNOWN
    flag = CellProblem(unknown, own, code.value,
                    f"{field_name!r} cannot be known: its cell is empty and the status says something the template "
                    f"does not know (it knows {words_known})", reject=False)
    return result, [flag], notes, undecided


def _direction_from_sign(direction, blank, amount):
    """Where no word decided the direction, a signed amount does (in > 0, out < 0)."""
    sign = pc.if_else(pc.greater(amount, 0), "in", pc.if_else(pc.less(amount, 0), "out", pa.scalar(None, pa.string())))
    use = pc.and_(pc.fill_null(blank, False), pc.is_valid(sign))
    return pc.if_else(use, sign, direction), use


def _with_fallback(text, names: list[str], look: Columns, col: int | None, field_name: str):
    """A blank id takes the template's fallback column (JD 交易订单号 empty -> 商家订单号); the rows are flagged."""
    flags: list[CellProblem] = []
    for name in names:
        j = look.find([name], field_name=field_name, optional=True)
        if j is None or j == col:
            continue
        other = look.clean(j)
        used = pc.and_(pc.is_null(text), pc.is_valid(other))
        flags.append(CellProblem(used, col, FlagCode.ID_FALLBACK.value,
                              f"{look.name(col) if col is not None else field_name!r} is empty; "
                              f"{look.name(j)!r} used as {field_name!r}", reject=False))
        text = pc.coalesce(text, other)
    return text, flags


def _ids_on_money_rows(problems: list[CellProblem], values: dict[str, Any]) -> list[CellProblem]:
    """A row without its id still loads (flagged) when it is real money; without an amount it is rejected.

    A blank 交易订单号 on a card spend is still money out: rejecting it would lose the money, while the
    flag tells the analyst the row cannot be matched by id.
    """
    amount = values.get("amount")
    out: list[CellProblem] = []
    for prob in problems:
        if prob.code != FlagCode.MISSING_ID.value:
            out.append(prob)
            continue
        if amount is None:  # no money in this table: nothing keeps a row without its id
            money = pc.fill_null(pc.and_(prob.mask, False), False)
        else:
            money = pc.is_valid(amount)
        out.append(CellProblem(pc.and_(prob.mask, pc.invert(money)), prob.column, "missing_value",
                            prob.reason + " and the row has no amount either"))
        out.append(CellProblem(pc.and_(prob.mask, money), prob.column, FlagCode.MISSING_ID.value,
                            prob.reason + "; kept because it has an amount, but it cannot be matched by this id",
                            reject=False))
    return out


def _unit_factor(look: Columns, index: int | None, field_name: str, family: str) -> Decimal:
    """The factor a header's unit asks for (``重量(g)`` -> 0.001 kg); a unit of another kind is refused."""
    if index is None or index >= len(look.header):
        return Decimal(1)
    unit = headers.header_unit(look.header[index])
    factor = headers.unit_factor(unit, family)
    if factor is None:
        units = ", ".join(headers.UNITS.get(family, {})) or "none"
        raise SourceFileError(
            f"column {look.header[index]!r} is in {unit!r}, which field {field_name!r} cannot be converted from "
            f"(it takes {units}); convert the column or map another one", source_file=look.source_file,
            row=look.header_line, column=look.header[index])
    return factor


def _scaled(values, factor: Decimal, target: pa.DataType):
    """Values times an exact unit factor, rounded half-up to the target's decimals."""
    if factor == 1:
        return values
    scaled = pc.multiply(values, pa.scalar(factor))
    return pc.cast(pc.round(scaled, ndigits=target.scale, round_mode="half_towards_infinity"), target)


def _parse_dates(text, formats: list[str], spec, look: Columns, field_name: str, *, date_only: bool) -> cells.Parsed:
    if spec.year_from:
        return _parse_yearless(text, formats, spec.year_from, look, field_name, date_only=date_only)
    return cells.parse_datetime(text, formats=formats, date_only=date_only)


def single_spaced(text, formats: list[str]):
    """Runs of spaces in date cells and formats become one space (SPDB writes ``2026/10/01  09:00:00``).

    strptime itself lets one space match several, but the impossible-day check behind it reads the day
    digits with a regex built from the format, so cell and format must agree on the spacing.
    """
    formats = [re.sub(r"\s+", " ", f) for f in formats]
    if len(text) and pc.any(pc.match_substring(text, "  ")).as_py():
        text = pc.replace_substring_regex(text, r"\s{2,}", " ")
    return text, formats


def statement_month(pattern: str, look: Columns, field_name: str) -> tuple[int, int]:
    """The statement's year and month from its title lines (``招商银行信用卡对账单（… 2026年10月）``)."""
    found = re.search(pattern, look.preamble)
    if found is None:
        raise SourceFileError(
            f"field {field_name!r} has dates without a year, and no line above the header matches "
            f"{pattern!r} to give the statement's year; check the file still has its title line",
            source_file=look.source_file, row=look.header_line)
    month = int(found.group("month")) if "month" in found.groupdict() and found.group("month") else 12
    return int(found.group("year")), month


def _parse_yearless(text, formats: list[str], pattern: str, look: Columns, field_name: str, *,
                    date_only: bool) -> cells.Parsed:
    """Dates written ``MM/DD``: the year is the statement's, or the year before for months after its month.

    A January statement lists December spending of the year before; a later month than the statement's
    can only be that. Formats that carry a year (BOC's regular statement beside its ``MM/DD`` reissue)
    are tried first, as written.
    """
    full = [f for f in formats if "%Y" in f or "%y" in f]
    partial = [f for f in formats if f not in full]
    first = cells.parse_datetime(text, formats=full, date_only=date_only) if full else None
    if first is not None and not pc.any(first.bad).as_py() or not partial:
        return first if first is not None else cells.parse_datetime(text, formats=formats, date_only=date_only)
    year, month = statement_month(pattern, look, field_name)
    dated = [f"%Y/{f}" for f in partial]
    pending = text if first is None else pc.if_else(pc.is_null(first.values), text, pa.scalar(None, pa.string()))

    def with_year(y: int) -> cells.Parsed:
        return cells.parse_datetime(pc.binary_join_element_wise(pa.scalar(f"{y}"), pending, "/"), formats=dated,
                                    date_only=date_only)

    this, before = with_year(year), with_year(year - 1)
    later = pc.fill_null(pc.greater(pc.month(this.values), month), False)
    values = pc.if_else(later, before.values, pc.coalesce(this.values, before.values))
    bad = pc.and_(this.bad, before.bad)
    if first is not None:
        values = pc.coalesce(first.values, values)
    return cells.Parsed(values, bad, this.code, f"not a date in any of the formats {', '.join(formats)} "
                        f"(a year-less date takes {year} from the statement's title)")


def _first_column(spec, look: Columns) -> int | None:
    """The column a missing income/expense amount is reported under: the first of them in the file."""
    for name in [*spec.income, *spec.expense]:
        j = look.find([name], field_name="amount", optional=True)
        if j is not None:
            return j
    return None


def _money_field(fname: str, spec, look: Columns, col: int | None, values: dict[str, Any], n: int):
    problems: list[CellProblem] = []
    notes: list[str] = []

    def parsed_of(index: int) -> cells.Parsed:
        factor = _unit_factor(look, index, fname, "money")
        text = cells.extract(look.clean(index), spec.pattern) if spec.pattern else look.clean(index)
        if factor != 1:  # 0.0025 万元 is 25.00 元: read the digits first, round after scaling
            p = cells.parse_decimal(text, scale=6, precision=30, decimal_comma=look.template.decimal_comma)
            return cells.Parsed(_scaled(p.values, factor, canonical.MONEY_TYPE), p.bad, "bad_amount", "not an amount")
        if spec.pattern:
            return cells.parse_money(text, decimal_comma=look.template.decimal_comma)
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
            problems.append(CellProblem(p.bad, j, p.code, p.reason))
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
        problems.append(CellProblem(p.bad, col, p.code, p.reason))
        result = p.values
        if spec.pattern:
            unmatched = pc.and_(pc.is_valid(look.clean(col)), pc.is_null(result))
            problems.append(CellProblem(pc.and_(unmatched, pc.invert(p.bad)), col, "bad_amount",
                                     f"the cell does not match the pattern {spec.pattern!r}")
                            if spec.required else CellProblem(pc.and_(unmatched, False), col, "", ""))
    if spec.negate:
        result = pc.negate(result)
    if spec.sign_from:
        direction = values[spec.sign_from]
        out = pc.fill_null(pc.equal(direction, "out"), False)
        inn = pc.fill_null(pc.equal(direction, "in"), False)
        result = pc.if_else(out, pc.negate(pc.abs(result)), pc.if_else(inn, pc.abs(result), result))
    return pc.cast(result, canonical.MONEY_TYPE), problems, notes


def rejected_cells(problems: list[CellProblem], look: Columns, n: int) -> tuple[Any, list[dict[str, Any]]]:
    rejected = pa.array([False] * n) if n else pa.array([], pa.bool_())
    entries: list[dict[str, Any]] = []
    rows = look.body.rows
    for prob in problems:
        mask = pc.fill_null(prob.mask, False)
        if not prob.reject or not pc.any(mask).as_py():
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


def flagged_cells(problems: list[CellProblem], look: Columns, keep: Any) -> list[dict[str, Any]]:
    """Rows that load but carry a flag (blank id, fallback id used), in the rejects table's columns."""
    entries: list[dict[str, Any]] = []
    rows = look.body.rows
    for prob in problems:
        if prob.reject:
            continue
        mask = pc.and_(pc.fill_null(prob.mask, False), keep)
        if not pc.any(mask).as_py():
            continue
        idx = pc.indices_nonzero(mask if isinstance(mask, pa.Array) else mask.combine_chunks())
        for i in idx.to_pylist():
            entries.append({"source_file": look.source_file, "source_row": rows[i].as_py(),
                            "column": look.name(prob.column) if prob.column is not None else "",
                            "value": None, "reason": prob.reason, "code": prob.code})
    return entries
