"""Load a raw export as downloaded into one canonical table, with provenance, rejects and a report.

    result = load("downloads/20881234_20261001_账务明细.zip")      # template detected from content
    table, rejects, report = result

Why it is built this way:

* **Content, not offsets.** Preambles change length between versions (Alipay 4 -> 0 -> 24 -> 23 lines,
  WeChat 16 -> 17 -> 18), so the header row is the scanned row that best fits a template's column
  fingerprint, and the data ends where the footer starts: the last block of lines that start with a
  marker or totals label (``#…``, ``----``, ``合计``, ``本页合计`` ...) and are shaped like a footer
  (``sources/footers.py``), never at a data row that happens to hold such a word. Page subtotals
  inside the data, and the footer's own figures, are confirmed by totals that tie
  (``sources/subtotals.py``).
* **Speed.** The data block between header and footer is handed as bytes to ``pyarrow.csv`` (which
  transcodes GBK itself, multithreaded) as all-string columns; cleaning and parsing are
  ``pyarrow.compute`` kernels. Python walks rows only when a file is irregular (ragged rows, quoted
  newlines, blank lines) - then the standard ``csv`` module re-reads the block so every row keeps its
  true line number.
* **Nothing silently dropped.** Every data row is loaded or rejected (``rows_read == rows_loaded +
  rows_rejected``); preamble, footer and blank lines are counted, and every load checks that they
  add up to the lines of the file (``result.check_accounting``: an ``InvariantError`` is a bug).
  A damaged row is rejected, not its file. Totals the file states about itself are checked and a
  mismatch becomes a report warning.
* **Bounded.** Sizes, ZIP members, sheets, lines and cells are capped (``sources/limits.py``). A big
  text table is decoded, parsed and canonicalised in chunks of about 32 MiB (``RECON_CHUNK_BYTES``),
  and a file on disk is read again piece by piece instead of being held whole, so memory is the
  result plus a chunk; the chunks' rejects, flags, warnings and totals add up to the file's, and the
  counts are checked on the whole file.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon_helpers import canonical
from recon_helpers.errors import SourceFileError, TemplateError
from recon_helpers.sources import limits, structured
from recon_helpers.sources.detection import HeaderFit, pick_candidate
from recon_helpers.sources.mapping import (
    CellProblem,
    Columns,
    build_fields,
    constant_column,
    flagged_cells,
    needed_columns,
    rejected_cells,
    split_summary_rows,
)
from recon_helpers.sources.opening import (
    Candidate,
    Row,
    TextCandidate,
    open_candidates,
    read_bytes,
)
from recon_helpers.sources.reading import Body, chunk_bytes, footer_regex, long_cells, sheet_body, text_chunks, text_layout
from recon_helpers.sources.rejects import rejects_frame, rows_rejected
from recon_helpers.sources.result import ControlCheck, LoadReport, LoadResult, check_accounting
from recon_helpers.sources.subtotals import Carry, Loaded, check_footer, footer_lines, split_page_subtotals, tally_loaded
from recon_helpers.sources.templates import SourceTemplate, get_template, list_templates
from recon_helpers.sources.totals import Tallies, compare_totals, tally_totals

# =========================================================================== load()

def _header_width(cand: Candidate, header_index: int, template: SourceTemplate) -> tuple[list[str], int]:
    """Header cells and the number of cells data rows have (trailing commas add an empty column)."""
    header = list(cand.head[header_index].cells)
    while header and not header[-1]:
        header.pop()
    if len(header) > limits.get("max_columns"):
        line = cand.head[header_index].line
        raise SourceFileError(f"the header has {len(header):,} columns, far more than any export; "
                              f"{limits.how_to_raise('max_columns')}", source_file=cand.source_file, row=line)
    footer = footer_regex(template)
    samples = []
    for r in cand.head[header_index + 1: header_index + 51]:
        if footer.match(r.text):
            break
        if any(r.cells):
            samples.append(len(r.cells))
    width = max(len(header), Counter(samples).most_common(1)[0][0] if samples else 0)
    return header, width


@dataclass
class _Tallies:
    """What the parts of a table read in chunks add up to, for the checks made once at the end."""

    carry: Carry = field(default_factory=Carry)          # data rows before the chunk, for page subtotals
    totals: Tallies = field(default_factory=dict)         # the template's declared control totals
    loaded: Loaded = field(default_factory=Loaded)        # loaded rows' figures, for the footer's
    footer: list = field(default_factory=list)            # the footer's totals lines (subtotals.footer_lines)


@dataclass
class _Part:
    """One chunk of a table, read and canonicalised: its rows, rejects, flags and counts."""

    table: pa.Table
    entries: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    warnings: list[str]
    rows_read: int
    rows_rejected: int
    summary: list[Row]
    subtotals: list[Row]
    blank_lines: int
    continuation_lines: int


def _read_part(template: SourceTemplate, look: Columns, body: Body, source_file: str, tallies: _Tallies,
               *, chunked: bool) -> _Part:
    """Canonicalise one body (a whole table, or a chunk of one) and add it to ``tallies``."""
    look.use_body(body)
    summary = split_summary_rows(template, look)
    subtotals = split_page_subtotals(template, look, tallies.carry if chunked else None)
    values, problems, warnings = build_fields(template, look)
    problems += too_long_problems(look)
    n = body.n
    rejected, entries = rejected_cells(problems, look, n)
    for entry in entries:
        if entry["code"] == "too_long" and entry["value"]:  # the rejects table shows the start, not 1 MB
            entry["value"] = f"{entry['value'][:100]}… ({len(entry['value']):,} characters)"
    keep = pc.invert(rejected) if n else pa.array([], pa.bool_())
    for line, text, reason in body.bad_rows:
        entries.append({"source_file": source_file, "source_row": line, "column": "", "value": text,
                        "reason": reason, "code": "bad_row"})
    flags = flagged_cells(problems, look, keep) if n else []
    tallies.totals = tally_totals(template, look, keep, tallies.totals)
    if tallies.footer:
        tallies.loaded = tally_loaded(template, look, keep, [r.line for r in subtotals], tallies.loaded)
    table = _assemble(template, values, keep, body, source_file, n)
    n_rejected = int(pc.sum(pc.cast(rejected, pa.int64())).as_py() or 0) if n else 0
    return _Part(table, entries, flags, warnings + body.warnings, n + len(body.bad_rows),
                 n_rejected + len(body.bad_rows), summary, subtotals, body.blank_lines, body.continuation_lines)


def _bodies(cand: Candidate, header_index: int, width: int, needed: list[int], template: SourceTemplate,
            look: Columns, tallies: _Tallies) -> tuple[Iterator[Body], list[Row], int, bool]:
    """The table's bodies to read (one, or a big text file's chunks), its footer rows, blank tail, and
    whether it is read in more than one chunk."""
    if isinstance(cand, TextCandidate):
        layout = text_layout(cand, header_index, width, template)
        tallies.footer = footer_lines(template, look, layout.footer)
        size = chunk_bytes()
        if cand.rereadable and layout.end - layout.start > size:
            cand.release()  # a big file on disk: its body is read again piece by piece, not held whole
        return (text_chunks(cand, layout, width, needed, size), layout.footer, layout.blank_tail,
                layout.end - layout.start > size)
    body = sheet_body(cand, header_index, width, needed, template)
    tallies.footer = footer_lines(template, look, body.footer)
    return iter([body]), body.footer, 0, False


def _load_table(cand: Candidate, fit: HeaderFit, template: SourceTemplate, because: str) -> LoadResult:
    """Read the table part by part (a big text file in chunks), then check it adds up as a whole."""
    header_index = fit.row_index
    assert header_index is not None
    header, width = _header_width(cand, header_index, template)
    header_line = cand.head[header_index].line
    probe = Body({}, pa.array([], pa.int64()), 0, [])
    look = Columns(header + [""] * (width - len(header)), probe, template, cand.source_file, header_line)
    needed = needed_columns(template, look)
    width = max([width] + [j + 1 for j in needed])
    look.header = header + [""] * (width - len(header))
    look.body = Body({j: pa.array([], pa.string()) for j in needed}, pa.array([], pa.int64()), 0, [])
    look.preamble = "\n".join(r.text for r in cand.head[:header_index])
    lines_in_file = _physical_records(cand)
    tallies = _Tallies()
    bodies, footer, blank_tail, chunked = _bodies(cand, header_index, width, needed, template, look, tallies)
    parts = [_read_part(template, look, body, cand.source_file, tallies, chunked=chunked) for body in bodies]
    if isinstance(cand, TextCandidate):
        cand.release()  # the columns are read: the file's bytes (as big as the file) are not needed any more
    return _finish(cand, template, because, header_index, look, parts, footer, blank_tail, tallies, lines_in_file)


def _finish(cand: Candidate, template: SourceTemplate, because: str, header_index: int, look: Columns,
            parts: list[_Part], footer: list[Row], blank_tail: int, tallies: _Tallies,
            lines_in_file: int) -> LoadResult:
    """One table, rejects table and report from the parts; the checks that need the whole file."""
    header_line = cand.head[header_index].line
    summary = [r for p in parts for r in p.summary]
    subtotal_rows = sum(len(p.subtotals) for p in parts)
    checks, total_warnings = compare_totals(template, tallies.totals, cand.head[:header_index], summary + footer)
    footer_checks = check_footer(look, tallies.footer, tallies.loaded)
    checks += footer_checks
    total_warnings += [f"control total mismatch: {c}" for c in footer_checks if c.ok is False]
    tables = [p.table for p in parts]
    table = (pa.concat_tables(tables) if len(tables) > 1 else tables[0]).to_pandas(types_mapper=pd.ArrowDtype)
    rejects = rejects_frame([e for p in parts for e in p.entries])
    flags = [f for p in parts for f in p.flags]
    report = LoadReport(
        source_file=cand.source_file, template=template.name, detected_because=because, encoding=cand.encoding,
        rows_read=sum(p.rows_read for p in parts), rows_loaded=len(table),
        rows_rejected=sum(p.rows_rejected for p in parts), preamble_lines=header_line - 1, footer_lines=len(footer),
        blank_lines=sum(p.blank_lines for p in parts) + blank_tail, header_line=header_line, sheet=cand.sheet,
        control_totals=checks, summary_lines=len(summary) + subtotal_rows,
        warnings=merge_counted([w for p in parts for w in p.warnings]) + total_warnings)
    report.flags, report.rows_flagged = flags, len({f["source_row"] for f in flags})
    report.warnings[0:0] = flag_warnings(flags)
    if report.rows_rejected:
        report.warnings.insert(0, f"{report.rows_rejected} row(s) rejected: see the rejects table")
    if len(footer) > 50:
        report.warnings.append(f"{len(footer)} lines after the footer marker on line {footer[0].line} "
                               "were not loaded; check they are not data")
    result = LoadResult(table, rejects, report)
    header_breaks = cand.head[header_index].lines - 1  # line breaks inside quoted header cells
    continuation = sum(p.continuation_lines for p in parts)
    check_accounting(result, lines=lines_in_file, continuation=continuation + header_breaks)
    return result


_COUNTED_WARNING = re.compile(r"^(\d+) (.*)$", re.S)


def merge_counted(warnings: list[str]) -> list[str]:
    """Warnings of the chunks of one file as one list: ``12 cell(s) …`` and ``3 cell(s) …`` add up."""
    merged: dict[str, int | None] = {}
    for text in warnings:
        m = _COUNTED_WARNING.match(text)
        key, count = (m.group(2), int(m.group(1))) if m else (text, None)
        if key in merged and count is not None and merged[key] is not None:
            merged[key] += count
        elif key not in merged:
            merged[key] = count
    return [key if count is None else f"{count} {key}" for key, count in merged.items()]


def too_long_problems(look: Columns) -> list[CellProblem]:
    """Cells past ``max_cell_chars`` (a 1,000,000-character cell is damage, not data) reject their row."""
    reason = "the cell is too long to be a value (a damaged or hostile file); " + limits.how_to_raise("max_cell_chars")
    return [CellProblem(mask, j, "too_long", reason) for j, mask in long_cells(look.body)]


def _physical_records(cand: Candidate) -> int:
    """Lines of a text file, rows of a sheet: what the report's counts must add up to."""
    if isinstance(cand, TextCandidate):
        data = cand.data
        return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return len(cand.rows)


def flag_warnings(flags: list[dict[str, Any]]) -> list[str]:
    """One warning per kind of flag, naming the file, the column and the rows (the first ten)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for f in flags:
        groups.setdefault((f["source_file"], f["reason"]), []).append(f["source_row"])
    out = []
    for (source_file, reason), rows in groups.items():
        shown = ", ".join(str(r) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
        out.append(f"{len(rows)} row(s) loaded with a flag in {source_file}, row(s) {shown}: {reason}")
    return out


def _assemble(template: SourceTemplate, values: dict[str, Any], keep: Any, body: Body, source_file: str,
              n: int) -> pa.Table:
    arrays: dict[str, Any] = {}
    names = list(values)
    has_money = any(canonical.CANONICAL_FIELDS[f].kind == "money" for f in names)
    if has_money and "currency" not in values:
        values["currency"] = constant_column(template.currency, n)
        names.append("currency")
    if n and isinstance(keep, pa.ChunkedArray):
        keep = keep.combine_chunks()
    all_kept = bool(n) and bool(pc.all(keep).as_py())
    for fname in names:
        arr = values[fname]
        target = canonical.field_type(fname)
        if fname == "currency" and template.currency:
            arr = pc.coalesce(arr, pa.scalar(template.currency))
        arr = pc.cast(arr, target) if arr.type != target else arr
        arrays[fname] = arr if all_kept else (pc.filter(arr, keep) if n else pa.array([], target))
    kept_rows = pc.filter(body.rows, keep) if n and not all_kept else body.rows
    m = len(kept_rows)
    arrays["source_file"] = _repeat(source_file, m)
    arrays["source_row"] = kept_rows
    arrays["template"] = _repeat(template.name, m)
    return pa.table(arrays)


def _repeat(value: str, n: int) -> pa.Array:
    """``n`` copies of one string, built in Arrow (a Python list of a million strings is slow)."""
    dictionary = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value]))
    return dictionary.cast(pa.string())


def _load_with_parser(path: str | Path, template: SourceTemplate, because: str) -> LoadResult:
    source_file = Path(path).as_posix()
    data = read_bytes(path)
    try:
        table, rejects, meta = structured.read(template.parser, data, source_file)
    except (SourceFileError, TemplateError):
        raise
    except Exception as exc:  # a parser library's own exception: name the file, keep the cause
        raise SourceFileError(f"the {template.parser} parser could not read the file: {exc}",
                              source_file=source_file) from exc
    meta = dict(meta or {})
    if meta.get("format") and meta["format"] != template.name:  # e.g. an MT942 read by the mt940 template
        because = f"{because}; read as {meta['format']}"
    table = table.copy()
    if "source_file" not in table.columns:
        table["source_file"] = pd.Series([source_file] * len(table), dtype=canonical.TEXT_DTYPE)
    table["template"] = pd.Series([template.name] * len(table), dtype=canonical.TEXT_DTYPE, index=table.index)
    rejects = rejects if rejects is not None else rejects_frame([], source_file=source_file)
    n_rej = rows_rejected(rejects)
    checks = [c if isinstance(c, ControlCheck) else ControlCheck(**c) for c in meta.get("control_totals", [])]
    report = LoadReport(source_file=source_file, template=template.name, detected_because=because,
                        encoding=meta.get("encoding"), rows_read=len(table) + n_rej, rows_loaded=len(table),
                        rows_rejected=n_rej, control_totals=checks, warnings=list(meta.get("warnings", [])))
    report.warnings += [f"control total mismatch: {c}" for c in checks if c.ok is False]
    result = LoadResult(table, rejects, report)
    check_accounting(result)
    return result


def load(path: str | Path, template: "str | Path | SourceTemplate | None" = None) -> LoadResult:
    """Load one downloaded export into canonical columns.

    Parameters
    ----------
    path:
        The file as downloaded: CSV (any of UTF-8, UTF-8 BOM, GBK/GB18030, UTF-16), a ZIP holding CSVs,
        XLSX or XLS; or a bank file a parser template reads (MT940, CAMT.053, OFX).
    template:
        A template name (``recon templates`` lists them), a path to a YAML mapping, a SourceTemplate,
        or None to recognise the file by its content.

    Returns
    -------
    LoadResult
        ``table, rejects, report = load(...)``; see the module docstring.

    Raises
    ------
    SourceFileError
        The file cannot be read at all (missing, empty, binary, truncated, wrong encoding).
    DetectionError
        No template, or more than one, fits the file.
    TemplateError
        The template named does not exist or is broken.
    """
    source_file = Path(path).as_posix()
    if template is not None:
        tpl = get_template(template)
        if tpl.parser is not None:
            cands = open_candidates(path)
            pick_candidate(cands, [tpl], source_file)  # refuses a file without the format's markers
            return _load_with_parser(path, tpl, f"template {tpl.name} was given")
        cands = open_candidates(path, tpl.encoding)
        cand, fit = pick_candidate(cands, [tpl], source_file)  # raises DetectionError listing what is missing
        because = f"template {tpl.name} was given; " + fit.reason
        return _load_table(cand, fit, tpl, because)
    cands = open_candidates(path)
    cand, fit = pick_candidate(cands, list_templates(), source_file)
    if fit.template.parser is not None:
        return _load_with_parser(path, fit.template, fit.reason)
    return _load_table(cand, fit, fit.template, fit.reason)
