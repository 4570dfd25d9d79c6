"""What every scenario shares: a check object a notebook interrogates, one call per cell.

A scenario module builds a :class:`Check` (loading its inputs, preparing and matching them); the
notebook then asks it questions - ``check.exceptions("missing_on_left")``, ``check.kpis()``,
``check.write(output_dir)`` - instead of passing four loose arguments to functions. The generic part
lives here: exceptions of a category, exact totals, headline figures, the output folder, labels,
load reports and rejects. A scenario adds its own lists (e.g. ``billed_not_shipped()``).

Helpers for the money scenarios: :func:`age_bucket` (the aging buckets a collector follows up by),
:func:`record_ages` (how old the open items are, in summary.json, for the alerts),
:func:`write_workbook` (every list of a run in one Excel file, a sheet per list) and
:func:`hop_exceptions` (the exceptions of a run that matches several hops, as one table).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon_helpers.engine.result import EXCEPTION_COLUMNS, MatchResult
from recon_helpers.engine.taxonomy import labels as category_labels
from recon_helpers.errors import UsageError
from recon_helpers.export import atomic_path, write_csv, write_text
from recon_helpers.periods import Period
from recon_helpers.scenarios.registry import SINGLE_RUN, Scenario
from recon_helpers.sources.result import LoadResult

_CENT = Decimal("0.01")


def total(series: pd.Series) -> Decimal:
    """Exact sum of a money column (nulls ignored), 0.00 when empty."""
    arr = pa.array(series, type=pa.decimal128(18, 2)) if len(series) else pa.array([], pa.decimal128(18, 2))
    value = pc.sum(arr).as_py()
    return (value if value is not None else Decimal("0")).quantize(_CENT)


def as_of_day(text: str | None, period: Period, *, name: str = "as_of") -> dt.date:
    """The day figures are aged at: ``text`` as YYYY-MM-DD, the period's last day when empty."""
    if not text:
        return period.last_day
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise UsageError(f"{name}={text!r} is not a day: write it as YYYY-MM-DD, e.g. {period.last_day}") from None


#: an aging bucket: (label, first day, last day or None for "and older")
Bucket = tuple[str, int, "int | None"]


def age_bucket(days: int, buckets: Sequence[Bucket]) -> str:
    """The label of the bucket ``days`` falls in (buckets in order, first match); "" when none does."""
    for label, low, high in buckets:
        if days >= low and (high is None or days <= high):
            return label
    return ""


def hop_exceptions(hops: Mapping[str, MatchResult]) -> pd.DataFrame:
    """The exceptions of several matches of one run (hop name -> result) as one table with ``hop``.

    The right row of a pair carries the left row's key in ``key`` (the payout, order or deposit the
    difference is about; a bank row's own serial says nothing to the reader), its own in ``row_key``.
    """
    parts = []
    for hop, result in hops.items():
        exc = result.exceptions.copy()
        exc.insert(0, "hop", hop)
        exc["row_key"] = exc["key"]
        left_key = exc[exc["side"] == "left"].dropna(subset=["group_id"]).drop_duplicates("group_id")
        by_group = dict(zip(left_key["group_id"], left_key["key"]))
        paired = ((exc["side"] == "right") & exc["group_id"].isin(list(by_group))).fillna(False).to_numpy(dtype=bool)
        exc.loc[paired, "key"] = exc.loc[paired, "group_id"].map(by_group)
        parts.append(exc)
    return pd.concat(parts, ignore_index=True)


def in_scope_match_rate(results: Sequence[MatchResult]) -> str:
    """Share of the rows in scope (linked, or excepted other than out_of_scope) that matched
    automatically, over one or several matches, as a percentage text. Rows a recipe leaves out of
    scope (another platform's bank credits) say nothing about how well this run matched."""
    linked = excepted = 0
    for result in results:
        linked += len(result.links)
        exc = result.exceptions
        excepted += int((exc["category"] != "out_of_scope").fillna(True).sum())
    return f"{100 * linked / (linked + excepted):.1f}%" if linked + excepted else "100.0%"


#: Excel number format of money cells: thousands separator, two places, negatives in red
MONEY_FORMAT = '#,##0.00;[Red]-#,##0.00'
_SHEET_BAD = str.maketrans({c: "_" for c in '[]:*?/\\'})


def write_workbook(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Every list in one ``.xlsx`` a person opens in Excel: a sheet per list (in the given order), the
    header row bold and frozen, money as numbers with :data:`MONEY_FORMAT`, never as text.

    A sheet name is cut to Excel's 31 characters (without ``[]:*?/\\``); an empty list keeps its header.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for name, frame in sheets.items():
        title = str(name).translate(_SHEET_BAD)[:31] or "sheet"
        while title in used:
            title = title[:28] + f"_{len(used)}"
        used.add(title)
        sheet = book.create_sheet(title)
        sheet.append([str(c) for c in frame.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        money_columns = [i for i, c in enumerate(frame.columns, start=1) if _is_money(frame[c])]
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
        for i in money_columns:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = MONEY_FORMAT
        for i, column in enumerate(frame.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
            sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, width + 2))
    out = Path(path)
    with atomic_path(out) as temp:  # a failed save keeps the previous workbook whole
        book.save(temp)
    return out


def _is_money(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.ArrowDtype):
        return pa.types.is_decimal(series.dtype.pyarrow_dtype)
    return series.dtype == object and len(series) > 0 and all(isinstance(v, Decimal) for v in series.dropna())


def _cell(value: Any) -> Any:
    """A value as openpyxl writes it: Decimal stays a number, missing is empty, timestamps plain."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (list, tuple, set, dict)):
        return str(value)
    return value


@dataclass
class Check:
    """One run of a scenario: its inputs as loaded, the match result and what to ask of them."""

    scenario: Scenario
    period: Period
    data_dir: Path
    result: MatchResult
    inputs: dict[str, LoadResult] = field(default_factory=dict)
    run: str = SINGLE_RUN

    # -- what it is -----------------------------------------------------------------------------
    @property
    def title(self) -> str:
        """Heading of the run, e.g. ``快递账单核对 Courier bill check · sf · 2026-10``."""
        run = "" if self.run == SINGLE_RUN else f" · {self.run}"
        return f"{self.scenario.title}{run} · {self.period}"

    @property
    def labels(self) -> dict[str, str]:
        """category -> label in this scenario (engine, recipe, then the scenario's own wording)."""
        return category_labels(self.result.recipe, self.scenario.labels)

    # -- exceptions -----------------------------------------------------------------------------
    @property
    def exception_table(self) -> pd.DataFrame:
        """Every exception this check reports: the match's own, unless the scenario refines them.

        A scenario whose categories depend on row values the recipe cannot express (returns: a
        waybill still in transit is open, not missing; a receipt marked 破损 is damaged) overrides
        this; :meth:`exceptions`, :meth:`amount` and :meth:`write` then use the refined table.
        """
        return self.result.exceptions

    def findings_exceptions(self) -> pd.DataFrame:
        """The exceptions that are findings (out-of-scope rows left out), each group named with its hop
        so that groups of two matches never merge: what a chart of differences per category counts."""
        exc = self.exception_table
        exc = exc[(exc["category"] != "out_of_scope").fillna(True).to_numpy(dtype=bool)].copy()
        if "hop" in exc.columns and "group_id" in exc.columns:
            exc["group_id"] = [None if pd.isna(g) else f"{h}:{g}" for h, g in zip(exc["hop"], exc["group_id"])]
        return exc.reset_index(drop=True)

    @property
    def id_columns(self) -> list[str]:
        """The rows' own id columns the recipes name (``ids:``; order no., waybill, bank serial), over
        every match of the run: lists and files keep them beside ``key`` so a row joins back to its file."""
        hops = getattr(self, "hops", None)
        results = list(hops().values()) if callable(hops) else [self.result]
        return list(dict.fromkeys(name for r in results for name in r.id_names))

    @property
    def exception_columns(self) -> list[str]:
        """The columns of exceptions.csv: the engine's, then the id columns (:attr:`id_columns`)."""
        return [*EXCEPTION_COLUMNS, *self.id_columns]

    def with_ids(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (rows of the match, by side, file and row) with the id columns it lacks, from the match."""
        row = ["side", "source_file", "source_row"]
        missing = [c for c in self.result.id_names if c not in frame.columns]
        if not missing or not set(row) <= set(frame.columns) or not len(frame):
            return frame
        ids = self.result.exceptions[[*row, *missing]].drop_duplicates(row)
        merged = frame.merge(ids, on=row, how="left", validate="many_to_one")
        merged.index = frame.index
        return merged

    def exceptions(self, category: str | tuple[str, ...] | None = None, side: str | None = None) -> pd.DataFrame:
        """The exceptions of one category (or several, or all) on one side (or both), with the rows' ids."""
        exc = self.with_ids(self.exception_table)
        mask = pd.Series(True, index=exc.index)
        if category is not None:
            categories = (category,) if isinstance(category, str) else tuple(category)
            mask &= exc["category"].astype("string").isin(categories).fillna(False)
        if side is not None:
            mask &= (exc["side"].astype("string") == side).fillna(False)
        return exc[mask.to_numpy(dtype=bool)]

    def amount(self, category: str | tuple[str, ...], side: str) -> Decimal:
        """Exact money of the exceptions of a category on one side."""
        return total(self.exceptions(category, side)["amount"])

    def relative_files(self, frame: pd.DataFrame, column: str = "source_file") -> pd.DataFrame:
        """``frame`` with its file column shown relative to the data folder (``courier/sf_bill.xlsx``):
        a list is read by people, and the machine's folder says nothing to them."""
        if column not in frame.columns or not len(frame):
            return frame
        prefixes = {str(self.data_dir).rstrip("/") + "/", str(self.data_dir.resolve()).rstrip("/") + "/"}
        files = frame[column].astype("string")
        for prefix in prefixes:
            files = files.str.removeprefix(prefix)
        return frame.assign(**{column: files})

    # -- figures --------------------------------------------------------------------------------
    @property
    def auto_match_rate(self) -> str:
        """Share of all rows (both sides) matched automatically, as a percentage text."""
        return f"{100 * self.result.summary.auto_match_rate:.1f}%"

    def kpis(self) -> dict[str, Any]:
        """Headline figures: rows per side, matched, auto-match rate, open exceptions. Scenarios extend it."""
        summary = self.result.summary
        figures: dict[str, Any] = {f"{s.label} rows 行数": s.rows for s in summary.sides.values()}
        figures["Matched rows 已核对"] = summary.matched_rows
        figures["Auto-match rate 自动核对率"] = self.auto_match_rate
        figures["Exceptions 差异"] = sum(c.rows for c in summary.categories if c.category != "out_of_scope")
        return figures

    # -- inputs ---------------------------------------------------------------------------------
    def load_report(self, name: str) -> Any:
        """How input ``name`` was loaded (template, rows read / loaded / rejected, checks)."""
        return self.inputs[name].report

    @property
    def rejects(self) -> dict[str, pd.DataFrame]:
        """Each input's rejected rows, by input name (for ``report.rejected_rows(**check.rejects)``)."""
        return {name: loaded.rejects for name, loaded in self.inputs.items()}

    # -- output ---------------------------------------------------------------------------------
    def output_folder(self, output_dir: str | Path) -> Path:
        """``<output_dir>/<period>/<scenario>/<run>/`` (created)."""
        return self.scenario.output_folder(output_dir, str(self.period), self.run)

    def write(self, output_dir: str | Path) -> dict[str, Path]:
        """Write links, exceptions and summary.json of this run into its output folder.

        When the scenario refines the match's exceptions (:attr:`exception_table`), exceptions.csv
        holds the refined ones, in the match's columns.
        """
        paths = self.result.write(self.output_folder(output_dir))
        refined = self.exception_table
        if refined is not self.result.exceptions and paths["exceptions"].suffix == ".csv":
            refined = self.with_ids(refined)
            write_csv(refined[[c for c in self.exception_columns if c in refined.columns]], paths["exceptions"])
            refine_summary(paths.get("summary"), refined)
        return paths

    def write_hops(self, output_dir: str | Path, exceptions: pd.DataFrame, workbook_name: str) -> dict[str, Path]:
        """Write a run of several matches (``self.hops()``): links and ``exceptions`` with a ``hop`` column,
        summary.json with one summary per hop plus the KPIs, and the workbook of ``self.lists()``."""
        folder = self.output_folder(output_dir)
        links = pd.concat([r.links.assign(hop=h) for h, r in self.hops().items()], ignore_index=True)
        paths = {"links": write_csv(links[["hop", *[c for c in links.columns if c != "hop"]]], folder / "links.csv"),
                 "exceptions": write_csv(exceptions[["hop", *self.exception_columns, "row_key"]]
                                         .astype({"candidates": "string"}), folder / "exceptions.csv")}
        summary = {hop: r.summary.to_dict() for hop, r in self.hops().items()}
        summary["kpis"] = {k: str(v) for k, v in self.kpis().items()}
        paths["summary"] = folder / "summary.json"
        write_text(paths["summary"], json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        paths["workbook"] = write_workbook(self.lists(), folder / workbook_name)
        return paths

    def _repr_html_(self) -> str:
        return f"<b>{escape(self.title)}</b>" + self.result._repr_html_()


def refine_summary(path: Path | None, refined: pd.DataFrame) -> None:
    """summary.json's exception counts from the refined exceptions, so that it, exceptions.csv and the
    workbook built from both tell the same story (a return billed as an outbound is its own category
    there, not the engine's missing_on_left)."""
    if path is None or not Path(path).is_file() or "category" not in refined.columns:
        return
    summary = json.loads(Path(path).read_text(encoding="utf-8"))
    counts: dict[tuple[str, str], list] = {}
    for category, side, amount in zip(refined["category"], refined["side"], refined.get("amount", [None] * len(refined))):
        entry = counts.setdefault((str(category), str(side)), [0, Decimal(0)])
        entry[0] += 1
        if amount is not None and not pd.isna(amount):
            entry[1] += Decimal(str(amount))
    summary["exceptions"] = [{"category": c, "side": s, "rows": n, "amount": str(total)}
                             for (c, s), (n, total) in sorted(counts.items())]
    write_text(path, json.dumps(summary, ensure_ascii=False, indent=2))


def record_ages(path: Path | None, name: str, items: pd.DataFrame, *, days: str, amount: str = "amount") -> None:
    """Record in summary.json (``ages.<name>``) how old a run's open items are: how many and how much
    money per age in days, oldest first. The month's alerts read this figure (e.g. "collections unpaid
    beyond 15 days") with whatever threshold their template sets, not the page's table; ages and money
    only, nothing personal."""
    if path is None or not Path(path).is_file():
        return
    by_age: dict[int, list] = {}
    for age, money_ in zip(items[days], items[amount]) if len(items) else ():
        if age is None or pd.isna(age):
            continue
        entry = by_age.setdefault(int(age), [0, Decimal("0.00")])
        entry[0] += 1
        entry[1] += Decimal(str(money_)) if money_ is not None and not pd.isna(money_) else Decimal("0.00")
    summary = json.loads(Path(path).read_text(encoding="utf-8"))
    summary.setdefault("ages", {})[name] = {
        "unit": "days", "items": sum(n for n, _ in by_age.values()),
        "by_age": [{"days": d, "items": n, "amount": f"{m:.2f}"} for d, (n, m) in sorted(by_age.items(), reverse=True)]}
    write_text(path, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
