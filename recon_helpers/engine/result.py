"""The result of one match: links, exceptions and the summary, kept in DuckDB until asked for."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Iterable

import pyarrow as pa

from recon_helpers.engine.recipe import Recipe
from recon_helpers.engine.sql import ident
from recon_helpers.engine.store import MatchStore
from recon_helpers.errors import InvariantError, UsageError
from recon_helpers.export import atomic_path, write_csv_files

if TYPE_CHECKING:
    import pandas as pd

LINK_COLUMNS = ("group_id", "side", "source_file", "source_row", "key", "amount", "rule", "status", "score")
EXCEPTION_COLUMNS = ("side", "source_file", "source_row", "key", "amount", "category", "detail", "candidates",
                     "group_id", "rule")
_LINK_ORDER = "group_id, _side_no, _rid"
WRITE_FORMATS = ("csv", "parquet")
_EXC_ORDER = "category, key, group_id, _side_no, _rid"
#: result columns whose text is only ever the engine's own words (a side; a status; candidates, which
#: start with a side): no cell can start a formula, so the CSV writer skips the test on them
_ENGINE_WORDS = ("side", "status", "candidates")


# ---------------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SideSummary:
    """Rows and totals of one side; total = matched_total + unmatched_total (exact)."""

    label: str
    rows: int
    total: Decimal
    matched_rows: int
    matched_total: Decimal
    unmatched_rows: int
    unmatched_total: Decimal


@dataclass(frozen=True)
class CategorySummary:
    category: str
    side: str
    rows: int
    amount: Decimal


@dataclass(frozen=True)
class MatchSummary:
    """Figures a reviewer reads first: rows and totals per side, exceptions per category, auto-match rate."""

    recipe: str
    sides: dict[str, SideSummary]
    categories: list[CategorySummary]
    rows: int
    matched_rows: int
    auto_match_rate: float

    def exception_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.categories:
            out[c.category] = out.get(c.category, 0) + c.rows
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: money as decimal strings."""
        return {
            "recipe": self.recipe,
            "rows": self.rows,
            "matched_rows": self.matched_rows,
            "auto_match_rate": round(self.auto_match_rate, 6),
            "sides": {s: {k: (str(v) if isinstance(v, Decimal) else v) for k, v in vars(x).items()}
                      for s, x in self.sides.items()},
            "exceptions": [{"category": c.category, "side": c.side, "rows": c.rows, "amount": str(c.amount)}
                           for c in self.categories],
        }


class MatchResult:
    """Links, exceptions and summary of one match.

    Links and exceptions live in the match store as DuckDB tables and become pandas DataFrames only when
    asked for (``.links``, ``.exceptions``), so a large match can be written without converting it.
    """

    def __init__(self, recipe: Recipe, ws: MatchStore, sides: list[str], diff_names: list[str]):
        self.recipe = recipe
        self.sides = sides
        self.diff_names = diff_names
        self.inputs: dict[str, dict[str, Any]] = {}
        self._ws = ws
        self._links: pd.DataFrame | None = None
        self._exceptions: pd.DataFrame | None = None
        self._summary: MatchSummary | None = None
        self._figures: list[SimpleNamespace] | None = None

    # -- tables --------------------------------------------------------------------------------
    def _select(self, view: str, columns: Iterable[str], order: str) -> str:
        """SELECT of a result view, in its deterministic order."""
        return f"SELECT {', '.join(ident(c) for c in columns)} FROM {view} ORDER BY {order}"

    @property
    def id_names(self) -> list[str]:
        """The rows' own id columns the recipe carries (``ids:``), after the fixed columns."""
        return [n for n in self.recipe.ids.names() if any(n in getattr(self.recipe.ids, s) for s in self.sides)]

    @property
    def link_columns(self) -> list[str]:
        return list(LINK_COLUMNS) + list(self.diff_names) + self.id_names

    @property
    def exception_columns(self) -> list[str]:
        return list(EXCEPTION_COLUMNS) + self.id_names

    @property
    def links(self) -> pd.DataFrame:
        """group_id, side, source_file, source_row, key, amount, rule, status, score, diff_*, then the
        recipe's ``ids`` columns (one row per linked input row; a group's rows share its group_id and
        differences)."""
        if self._links is None:
            self._links = self._ws.pandas(self._select("links", self.link_columns, _LINK_ORDER))
        return self._links

    @property
    def exceptions(self) -> pd.DataFrame:
        """side, source_file, source_row, key, amount, category, detail, candidates, group_id, rule, then
        the recipe's ``ids`` columns."""
        if self._exceptions is None:
            self._exceptions = self._ws.pandas(self._select(self._ws.exceptions_view(), self.exception_columns,
                                                            _EXC_ORDER))
        return self._exceptions

    def links_arrow(self) -> pa.Table:
        return self._ws.arrow(self._select("links", self.link_columns, _LINK_ORDER))

    def exceptions_arrow(self) -> pa.Table:
        return self._ws.arrow(self._select(self._ws.exceptions_view(), self.exception_columns, _EXC_ORDER))

    @property
    def summary(self) -> MatchSummary:
        if self._summary is None:
            self._summary = self._build_summary()
        return self._summary

    def _build_summary(self) -> MatchSummary:
        figures = self._figures if self._figures is not None else _records(self._ws.side_figures(self.sides))
        per_cat = _records(self._ws.category_figures())
        by_side = {row.side: row for row in figures}
        sides = {}
        for row in (by_side[s] for s in self.sides):
            sides[row.side] = SideSummary(
                label=self.recipe.side_label(row.side), rows=int(row.n_rows), total=_dec(row.total),
                matched_rows=int(row.matched_rows), matched_total=_dec(row.matched),
                unmatched_rows=int(row.unmatched_rows), unmatched_total=_dec(row.unmatched))
        cats = [CategorySummary(category=r.category, side=r.side, rows=int(r.rows), amount=_dec(r.amount))
                for r in per_cat]
        rows = sum(s.rows for s in sides.values())
        matched = sum(s.matched_rows for s in sides.values())
        return MatchSummary(recipe=self.recipe.name, sides=sides, categories=cats, rows=rows,
                            matched_rows=matched, auto_match_rate=(matched / rows if rows else 1.0))

    # -- checks and output ---------------------------------------------------------------------
    def check(self) -> None:
        """Every input row appears exactly once across links and exceptions, and per side
        total = matched + unmatched (exact decimals). Raises InvariantError otherwise.

        One aggregate query per side (input rows left-joined to their outcomes), see
        ``MatchStore.side_figures``; its figures are kept for the summary.
        """
        figures = _records(self._ws.side_figures(self.sides))
        problems = []
        for r in figures:
            n, n_out = int(r.n_rows), int(r.n_outcomes)
            if not (int(r.n_missing) == 0 and int(r.n_joined) == n_out == n):
                problems.append(f"{r.side}: {n} input rows but {n_out} results for "
                                f"{n - int(r.n_missing)} distinct rows")
            if _dec(r.total) != _dec(r.matched) + _dec(r.unmatched):
                problems.append(f"{r.side}: total {r.total} != matched {r.matched} + unmatched {r.unmatched}")
        if problems:
            raise InvariantError(f"recipe {self.recipe.name!r} broke the every-row-exactly-once rule: "
                                 + "; ".join(problems) + ". This is a bug in the matcher: please report it "
                                 "with the recipe and the input files")
        self._figures = figures

    def write(self, out_dir: str | Path, *, format: str = "csv") -> dict[str, Path]:
        """Write links, exceptions (``format`` "csv" or "parquet") and summary.json into ``out_dir``.

        CSV is UTF-8 with a byte-order mark, so Excel shows the Chinese text; money is written as
        decimal strings (``12.50``). Parquet keeps the exact types (decimal128) and is the faster
        choice for very large results. Rows are ordered deterministically: links by group, side,
        row; exceptions by category, key, group, side, row. Files are written by DuckDB directly
        from the result tables, without a pandas copy; links.csv part by part (consecutive ranges of
        groups, each sorted on its own, see ``MatchStore.link_parts``), so its sort never holds every
        link row at once; the parts and the exceptions are written side by side where the back-end
        runs on more than one thread (``MatchStore.writers``). Each file is written atomically (a temporary
        file beside it, renamed when whole), so a write that fails part-way keeps the previous file.
        """
        if format not in WRITE_FORMATS:
            raise UsageError(f"unknown output format {format!r}; use one of {', '.join(WRITE_FORMATS)}")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"links": out / f"links.{format}", "exceptions": out / f"exceptions.{format}",
                 "summary": out / "summary.json"}
        # the exceptions view (its candidate and refusal texts) built here, on every thread, before the
        # parts are written side by side: built inside its part, on one thread, it was the write's
        # longest path (ambiguity30 at 1,000,000 rows: ~3 s of ~5.4 s)
        exceptions = self._select(self._ws.exceptions_view(), self.exception_columns, _EXC_ORDER)
        if format == "csv":
            with self._ws.writers() as lanes:  # the exceptions first: one part, the longest where texts are long
                links_parts = self._ws.link_parts(self.link_columns, _LINK_ORDER, lanes=len(lanes))
                write_csv_files({paths["exceptions"]: [self._ws.query_part(exceptions)], paths["links"]: links_parts},
                                plain=_ENGINE_WORDS, lanes=lanes)
        else:
            for name, select in (("links", self._select("links", self.link_columns, _LINK_ORDER)),
                                 ("exceptions", exceptions)):
                with atomic_path(paths[name]) as temp:
                    self._ws.write_parquet(select, temp)
        doc = self.summary.to_dict()
        if self.inputs:
            doc["inputs"] = self.inputs
        with atomic_path(paths["summary"]) as temp, temp.open("w", encoding="utf-8") as stream:
            json.dump(doc, stream, ensure_ascii=False, indent=2)
            stream.write("\n")
        return paths

    def close(self) -> None:
        self._ws.close()

    def _repr_html_(self) -> str:
        s = self.summary
        rows = "".join(
            f"<tr><td>{html.escape(x.label)} ({side})</td><td>{x.rows}</td><td>{x.total}</td>"
            f"<td>{x.matched_rows}</td><td>{x.matched_total}</td><td>{x.unmatched_rows}</td><td>{x.unmatched_total}</td></tr>"
            for side, x in s.sides.items())
        cats = "".join(f"<tr><td>{html.escape(c.category)}</td><td>{c.side}</td><td>{c.rows}</td><td>{c.amount}</td></tr>"
                       for c in s.categories)
        return (f"<div><b>匹配结果 match: {html.escape(s.recipe)}</b> — auto-match rate "
                f"{s.auto_match_rate:.1%} ({s.matched_rows} of {s.rows} rows)"
                "<table><tr><th>side</th><th>rows</th><th>total</th><th>matched</th><th>matched total</th>"
                f"<th>unmatched</th><th>unmatched total</th></tr>{rows}</table>"
                "<table><tr><th>exception</th><th>side</th><th>rows</th><th>amount</th></tr>"
                f"{cats}</table></div>")

    def __repr__(self) -> str:
        s = self.summary
        return (f"MatchResult(recipe={s.recipe!r}, rows={s.rows}, matched={s.matched_rows}, "
                f"exceptions={s.exception_counts()})")


def _records(figures: Any) -> list[SimpleNamespace]:
    """The rows of a store's figures (an Arrow table; a pandas frame from the Spark store) as records."""
    rows = figures.to_pylist() if isinstance(figures, pa.Table) else figures.to_dict("records")
    return [SimpleNamespace(**row) for row in rows]


def _dec(value: Any) -> Decimal:
    if value is None or (isinstance(value, float) and value != value):
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))


