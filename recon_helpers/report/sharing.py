"""What leaves the workspace: a run's files made safe to share before they are published.

After a notebook ran, every file of its folder goes through here: no absolute path of this machine
(the data folder's files are named relative to it, other folders by a label such as ``<reports>``),
personal data masked (:mod:`recon_helpers.masking`: declared columns, then the pattern scan) unless
masking was turned off explicitly, and formulas neutralised in CSV and Excel
(:mod:`recon_helpers.export`). The notebook's outputs are cleaned before its HTML is made, so the page,
the executed ``.ipynb`` kept for audit, the CSVs and the workbook all say the same.
"""
from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape as html_escape
from pathlib import Path
from typing import Any

from recon_helpers import export, masking

#: absolute paths of this machine that no rule above named: POSIX system roots and Windows drives
_POSIX_PATH = re.compile(r"(?<![\w.:/~<>-])/(?:home|root|tmp|work|Users|var|opt|usr|mnt|srv|private|data|media|etc)"
                         r"(?:/[^\s\"'<>()\[\]{},;:|*?]+)+")
_WINDOWS_PATH = re.compile(r"(?<![\w])[A-Za-z]:[\\/](?:[^\s\"'<>|*?\\/]+[\\/])*[^\s\"'<>|*?\\/]*")
#: a cell that may name a path holds a slash or a backslash (RE2, see masking.matching_cells)
_MAY_HOLD_PATH = r"[/\\]"
_SCRIPT = re.compile(r"(<script\b.*?</script>)", re.IGNORECASE | re.DOTALL)


@dataclass
class Sharer:
    """Cleans text, tables and notebooks of one report run: paths scrubbed, personal data masked.

    ``roots`` maps an absolute folder to what a reader sees instead (``""`` for the data folder, so
    ``<data folder>/courier/sf.xlsx`` reads ``courier/sf.xlsx``).
    """

    roots: Mapping[str, str]
    mask: bool = True
    _ordered: list[tuple[str, str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pairs: dict[str, str] = {}
        for folder, label in self.roots.items():
            if not folder:
                continue
            for variant in {str(folder), str(Path(folder).resolve()), os.path.realpath(folder)}:
                variant = variant.rstrip("/\\")
                if len(variant) > 1:
                    pairs[variant + os.sep] = f"{label}/" if label else ""
                    pairs[variant] = label or "."
        self._ordered = sorted(pairs.items(), key=lambda kv: -len(kv[0]))

    @classmethod
    def for_run(cls, *, data_dir: Path, reports_dir: Path, notebooks_dir: Path | None, mask: bool,
                staging_dir: Path | None = None, workspace_dir: Path | None = None) -> Sharer:
        """The folders of a report run: data (files read relative to it), reports, notebooks, the review
        workspace (the one given, else the data folder's default one that the review cell names), Python, home."""
        from recon_helpers.review.workspace import FOLDER_NAME

        roots = {str(data_dir.resolve().parent / FOLDER_NAME): "<workspace>"}
        if workspace_dir is not None:
            roots[str(workspace_dir)] = "<workspace>"
        roots.update({str(data_dir): "", str(reports_dir): "<reports>", sys.prefix: "<python>", sys.base_prefix: "<python>"})
        if staging_dir is not None:
            roots[str(staging_dir)] = "<reports>"
        if notebooks_dir is not None:
            roots[str(notebooks_dir)] = "<notebooks>"
        roots[str(Path(__file__).resolve().parents[2])] = "<workbench>"
        roots[str(Path.home())] = "~"
        return cls(roots=roots, mask=mask)

    # -- text ------------------------------------------------------------------------------------
    def known_roots(self, text: str, *, markup: bool = False) -> str:
        """``text`` with each known folder replaced by its label; in ``markup`` (HTML outside scripts) the
        label is escaped, or a browser would take ``<workspace>`` for a tag and show nothing of it."""
        for prefix, label in self._ordered:
            if prefix in text:
                text = text.replace(prefix, html_escape(label, quote=False) if markup else label)
        return text

    def scrub(self, text: str, *, markup: bool = False) -> str:
        """``text`` without an absolute path: known folders by label, any other by its last part."""
        text = self.known_roots(text, markup=markup)
        text = _POSIX_PATH.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)
        return _WINDOWS_PATH.sub(lambda m: "…\\" + re.split(r"[\\/]", m.group(0).rstrip("\\/"))[-1], text)

    def text(self, value: str, *, markup: bool = False) -> str:
        """Plain text as shared: scrubbed, and scanned for personal numbers when masking is on."""
        value = self.scrub(value, markup=markup)
        return masking.scan_text(value) if self.mask else value

    def html(self, value: str) -> str:
        """HTML as shared: text outside scripts is scrubbed and scanned; scripts (plotly.js, the table
        bundle) only lose known folders, their data having been masked before it was drawn."""
        parts = _SCRIPT.split(value)
        return "".join(self.known_roots(p) if i % 2 else self.text(p, markup=True) for i, p in enumerate(parts))

    def json_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json_value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.json_value(v) for k, v in value.items()}
        return value

    # -- notebooks -------------------------------------------------------------------------------
    def notebook(self, nb: Any) -> Any:
        """The executed notebook as shared: metadata (papermill's paths), sources and every output
        scrubbed and scanned, in place."""
        for key in list(nb.get("metadata", {})):
            if key not in ("kernelspec", "language_info"):
                nb["metadata"][key] = self.json_value(nb["metadata"][key])
        for cell in nb.get("cells", []):
            cell["source"] = self.text(str(cell.get("source", "")))
            for output in cell.get("outputs", []) or []:
                self._output(output)
        return nb

    def _output(self, output: Any) -> None:
        if "text" in output:
            output["text"] = self.text(_joined(output["text"]))
        if output.get("output_type") == "error":
            output["evalue"] = self.text(str(output.get("evalue", "")))
            output["traceback"] = [self.text(line) for line in output.get("traceback", [])]
        data = output.get("data") or {}
        if "text/html" in data and "text/plain" in data:
            # the plain form is the object's repr (whole tables, account numbers and all); the page shows
            # the HTML, which was built from masked tables, so the shared notebook keeps only that form
            data["text/plain"] = "(shown as HTML)"
        for mime in list(data):
            value = data[mime]
            if mime == "text/html":
                data[mime] = self.html(_joined(value))
            elif mime.startswith("text/"):
                data[mime] = self.text(_joined(value))
            elif mime.endswith("json") and "plotly" not in mime:
                data[mime] = self.json_value(value)

    # -- tables ----------------------------------------------------------------------------------
    def frame(self, frame: Any) -> Any:
        """A table as shared: personal columns masked, every text cell scanned and scrubbed."""
        import pandas as pd

        out = masking.mask_frame(frame) if self.mask else frame.copy()
        for column in out.columns:
            if pd.api.types.is_object_dtype(out[column].dtype) or pd.api.types.is_string_dtype(out[column].dtype):
                hits = masking.matching_cells(out[column], _MAY_HOLD_PATH)
                out[column] = masking.map_text_cells(out[column], self.scrub, where=hits)
        return out

    def csv_file(self, path: Path) -> Path:
        """Rewrite a CSV of the run as shared (masked, scrubbed, neutralised), atomically."""
        import pandas as pd

        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        return export.write_csv(self.frame(frame), path)


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


# --------------------------------------------------------------------------------------------
# the run's workbook
# --------------------------------------------------------------------------------------------
#: matched rows beyond this stay in links.csv only: a workbook is for working the exceptions, and Excel
#: slows down (and writing it takes a minute) with hundreds of thousands of rows
MAX_MATCHED_ROWS = 50_000
#: columns of the result tables that hold whole numbers (row numbers, group ids): numbers in Excel
_INTEGER_COLUMNS = ("source_row", "group_id")


def _typed(frame: Any) -> Any:
    """A result table read back as text, with money as exact decimals and row numbers as integers."""
    import pandas as pd

    if "amount" in frame.columns:
        frame["amount"] = frame["amount"].map(export.as_decimal)
    for column in _INTEGER_COLUMNS:
        if column in frame.columns and frame[column].str.fullmatch(r"\d{1,15}").all():
            frame[column] = pd.to_numeric(frame[column])
    return frame


@dataclass
class RunWorkbook:
    """A run's workbook before it is written: its sheets in order, and the sheets that show only their
    first rows (:data:`recon_helpers.export.SHOWN_ROWS`) with the CSV that holds all of them."""

    sheets: dict[str, Any]
    full_files: dict[str, str]


def workbook_sheets(run_folder: Path, *, labels: Mapping[str, str] | None = None) -> RunWorkbook | None:
    """The sheets of a run's Excel workbook from its written results: a summary, then one sheet per
    exception category (both sides, money as exact decimals; a long one shows its first rows, totals
    of all, and points to exceptions.csv), then the matched rows. None when the run wrote no
    ``exceptions.csv``."""
    import pandas as pd

    exceptions_path = run_folder / "exceptions.csv"
    if not exceptions_path.is_file():
        return None
    exceptions = _typed(pd.read_csv(exceptions_path, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
    summary_path = run_folder / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    names, taken = dict(labels or {}), set()
    summary_name = export.sheet_name("汇总 Summary", taken)
    sheet_of = {str(c): export.sheet_name(names.get(c, c), taken) for c in sorted(set(exceptions.get("category", [])))}
    rows = [{"category": c["category"], "label": names.get(c["category"], c["category"]), "side": c["side"],
             "rows": int(c["rows"]), "amount": Decimal(str(c["amount"])), "sheet": sheet_of.get(c["category"], "")}
            for c in summary.get("exceptions", [])]
    sheets: dict[str, Any] = {summary_name: pd.DataFrame(rows, columns=["category", "label", "side", "rows", "amount", "sheet"])}
    full_files: dict[str, str] = {}
    if "category" in exceptions.columns:
        for category, part in exceptions.groupby("category", sort=True):
            sheets[sheet_of[str(category)]] = part.reset_index(drop=True)
            full_files[sheet_of[str(category)]] = exceptions_path.name
    links_path = run_folder / "links.csv"
    if links_path.is_file():
        links = pd.read_csv(links_path, dtype=str, keep_default_na=False, encoding="utf-8-sig", nrows=MAX_MATCHED_ROWS + 1)
        if len(links) > MAX_MATCHED_ROWS:
            links = pd.DataFrame({"note": [f"More than {MAX_MATCHED_ROWS:,} matched rows: see links.csv beside this workbook "
                                           f"超过 {MAX_MATCHED_ROWS:,} 行，见同目录 links.csv"]})
        sheets[export.sheet_name("已核对 Matched", taken)] = _typed(links)
    return RunWorkbook(sheets, full_files)


def write_workbook(run_folder: Path, path: Path, *, sharer: Sharer | None, labels: Mapping[str, str] | None = None) -> Path | None:
    """``<scenario>.xlsx`` of a run; None without results. ``sharer`` masks and scrubs the tables; None
    when the run's CSVs were already made safe to share (the batch shares them first)."""
    book = workbook_sheets(run_folder, labels=labels)
    if book is None:
        return None
    shared = {name: sharer.frame(frame) for name, frame in book.sheets.items()} if sharer is not None else book.sheets
    return export.write_xlsx(shared, path, money=["amount"], totals_by="side", full_files=book.full_files)
