"""What a load gives back: the canonical table, the rejected rows and the report of what happened.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from recon_helpers.errors import InvariantError, SourceFileError
from recon_helpers.export import write_csv

# =========================================================================== results

@dataclass
class ControlCheck:
    """One total the file states about itself, compared with the loaded rows."""

    label: str
    measure: str                 # "total" or "count"
    expected: Decimal | int | None
    actual: Decimal | int | None
    ok: bool | None              # None: the stated figure was not found

    def __str__(self) -> str:
        state = {True: "ok", False: "MISMATCH", None: "not found"}[self.ok]
        return f"{self.label} ({self.measure}): file says {self.expected}, rows give {self.actual} - {state}"


#: a load rejecting more than this share of its data rows is a failed load, not a few bad lines
MAX_REJECTED_SHARE = 0.10


@dataclass
class LoadReport:
    """What ``load()`` did with a file: which template and why, how many rows went where, checks."""

    source_file: str
    template: str
    detected_because: str
    encoding: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    preamble_lines: int = 0
    footer_lines: int = 0
    blank_lines: int = 0
    summary_lines: int = 0       # in-table summary lines (template summary_rows) and page subtotals that tie
    header_line: int | None = None
    sheet: str | None = None
    control_totals: list[ControlCheck] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows_flagged: int = 0        # loaded rows that carry a flag (blank id, fallback id used); counted in rows_loaded
    flags: list[dict[str, Any]] = field(default_factory=list)   # one per flagged cell, in the rejects' columns

    def problems(self, max_rejected_share: float = MAX_REJECTED_SHARE) -> list[str]:
        """What makes this load untrustworthy, one line each, saying what to check (empty: fine).

        Every data row rejected, more than ``max_rejected_share`` of them rejected, or a total the file
        states about itself that the loaded rows do not give.
        """
        out = []
        where = f"{self.source_file}: "
        if self.rows_read and not self.rows_loaded:
            out.append(f"{where}0 of {self.rows_read} rows loaded; the template {self.template} does not read this "
                       "file's rows - check the rejects file for the reason, or pass --template")
        elif self.rows_read and self.rows_rejected / self.rows_read > max_rejected_share:
            out.append(f"{where}{self.rows_rejected} of {self.rows_read} rows rejected (more than "
                       f"{max_rejected_share:.0%}); check the rejects file - a changed layout or a wrong template")
        for check in self.control_totals:
            if check.ok is False:
                out.append(f"{where}control total {check.label} disagrees: file says {check.expected}, "
                           f"rows give {check.actual}; check for missing or rejected rows")
        return out

    def _repr_html_(self) -> str:
        alarms = self.problems()
        banner = "".join(f"<p style='color:#b00020;font-weight:bold'>{html.escape(a)}</p>" for a in alarms)
        rows = [
            ("file", self.source_file + (f" [sheet {self.sheet}]" if self.sheet else "")),
            ("template", self.template), ("why", self.detected_because), ("encoding", self.encoding or "-"),
            ("header line", self.header_line if self.header_line is not None else "-"),
            ("rows read / loaded / rejected", f"{self.rows_read} / {self.rows_loaded} / {self.rows_rejected}"),
            ("rows loaded with a flag", self.rows_flagged),
            ("preamble / footer / blank / summary lines",
             f"{self.preamble_lines} / {self.footer_lines} / {self.blank_lines} / {self.summary_lines}"),
        ]
        rows += [("check", str(c)) for c in self.control_totals]
        rows += [("warning", w) for w in self.warnings]
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                       f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return f"{banner}<table class='recon-load-report'>{body}</table>"


@dataclass
class LoadResult:
    """The canonical table, the rejected cells and the report; unpacks as ``table, rejects, report``."""

    table: pd.DataFrame
    rejects: pd.DataFrame
    report: LoadReport

    def __iter__(self) -> Iterator[Any]:
        return iter((self.table, self.rejects, self.report))

    def write(self, out_path: str | Path) -> Path:
        """Write the table as ``.parquet`` (exact decimals) or ``.csv`` (decimals as text ``12.30``).

        Rejects go beside it as ``<name>.rejects.csv`` (header only when there are none, so a stale
        file from an earlier run never lingers) and are never lost.
        """
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pandas(self.table, preserve_index=False), out)
        elif out.suffix.lower() == ".csv":
            write_csv(self.table, out)
        else:
            raise SourceFileError("output must end in .parquet or .csv", source_file=out.as_posix())
        write_csv(self.rejects, out.with_name(out.stem + ".rejects.csv"))
        return out

    def _repr_html_(self) -> str:
        parts = [self.report._repr_html_(), "<h4>first rows</h4>", self.table.head(10).to_html(index=False)]
        if len(self.rejects):
            parts += [f"<h4>rejects ({len(self.rejects)})</h4>", self.rejects.head(10).to_html(index=False)]
        return "".join(parts)


def check_accounting(result: LoadResult, *, lines: int | None = None, continuation: int = 0) -> None:
    """Every row read is loaded or rejected, once; with ``lines``, every line of the file is counted.

    ``rows_read == rows_loaded + rows_rejected``, no source row both loaded and rejected, and (for a
    table) preamble + header + rows read + blank + footer + summary lines + lines inside quoted
    cells == the lines of the file. Broken, it is a bug of the loader, never the file's fault, so
    it raises :class:`~recon_helpers.errors.InvariantError` rather than return a table that lost rows.
    """
    report, table, rejects = result.report, result.table, result.rejects
    problems = []
    if report.rows_loaded != len(table):
        problems.append(f"rows_loaded {report.rows_loaded} but the table has {len(table)} rows")
    if report.rows_read != report.rows_loaded + report.rows_rejected:
        problems.append(f"rows read {report.rows_read} != loaded {report.rows_loaded} + rejected "
                        f"{report.rows_rejected}")
    both = _loaded_and_rejected(table, rejects)
    if len(both):
        problems.append(f"rows both loaded and rejected: {both[:5].tolist()}")
    if lines is not None:
        header = 1 if report.header_line is not None else 0
        counted = (report.preamble_lines + header + report.rows_read + report.blank_lines + report.footer_lines
                   + report.summary_lines + continuation)
        if counted != lines:
            problems.append(f"the report accounts for {counted} of the file's {lines} lines")
    if problems:
        raise InvariantError(f"{report.source_file}: the load lost track of rows ({'; '.join(problems)}); "
                             "this is a bug of the workbench - please report it with the file")


def _loaded_and_rejected(table: pd.DataFrame, rejects: pd.DataFrame) -> np.ndarray:
    """Source rows both in the table and in the rejects (when the table's rows are unique), in numpy:
    a Python set of two million row numbers would cost more memory than the table's own column."""
    if "source_row" not in table.columns or not len(table) or not len(rejects):
        return np.array([], dtype=np.int64)
    loaded = table["source_row"].to_numpy(dtype=np.int64, na_value=-1)
    if np.unique(loaded).size != loaded.size:
        return np.array([], dtype=np.int64)
    return np.intersect1d(loaded, rejects["source_row"].to_numpy(dtype=np.int64, na_value=-1))
