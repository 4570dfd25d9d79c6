"""Alerts as data: thresholds from ``templates/alerts/*.yaml`` checked on every run of a month's report.

A rule names a test (``when``) and its threshold; :func:`evaluate` applies every rule to one run's
outcome (its ``summary.json``, ``exceptions.csv``, recorded figures and the action lists its page showed,
see :func:`recon_helpers.report.cells.read_tables`), and the batch gathers the alerts of all runs
into ``alerts.json``, the top of ``index.html`` and each run's page. Rules are validated on load; an
unknown test or key names the file and the field.
"""
from __future__ import annotations

import csv
import functools
import json
import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from recon_helpers import catalog
from recon_helpers.errors import TemplateError
from recon_helpers.export import as_decimal

WHEN = Literal["auto_match_rate_below", "row_amount_above", "category_total_above", "rows_above", "run_failed",
               "kpi_above", "kpi_below", "control_total_mismatch", "table_value_above"]
#: how a load report states a control total that does not tie (sources.result.ControlCheck.__str__)
_MISMATCH = re.compile(r"([^<>\n]{0,80}?): file says ([^,<>\n]+), rows give ([^<>\n]+?) - MISMATCH")


class AlertRule(catalog.StrictModel):
    """One threshold: which test, on which categories/side/scenarios, how serious."""

    name: str
    title: str
    when: WHEN
    threshold: Decimal | None = None
    categories: list[str] = []
    side: str | None = None
    kpi: str | None = None
    scenarios: list[str] = []
    severity: Literal["warning", "critical"] = "warning"
    #: table_value_above: the action-list columns holding the figure (the first one a list has), and the
    #: column whose money the message adds up
    columns: list[str] = []
    amount_column: str = "amount"
    unit: str = ""


class AlertFile(catalog.StrictModel):
    alerts: list[AlertRule]


@dataclass(frozen=True)
class Alert:
    """One alert raised for one run: the rule, the run, and the figure that crossed the threshold."""

    name: str
    title: str
    severity: str
    scenario: str
    run: str
    message: str
    link: str | None = None
    run_title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.lru_cache(maxsize=4)
def load_rules(folder: str | None = None) -> tuple[AlertRule, ...]:
    """Every rule of ``templates/alerts/*.yaml`` (or of ``folder``), in file then written order."""
    base = Path(folder) if folder else catalog.root() / "alerts"
    rules: list[AlertRule] = []
    for path in sorted(base.glob("*.yaml")):
        doc = catalog.read_yaml(path)
        try:
            rules += AlertFile.model_validate(doc).alerts
        except ValidationError as exc:
            raise catalog.schema_error(exc, origin=catalog.display_path(path), error=TemplateError) from None
    return tuple(rules)


def _exception_rows(run_folder: Path) -> list[dict[str, str]]:
    path = run_folder / "exceptions.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _summary(run_folder: Path) -> dict[str, Any] | None:
    path = run_folder / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _kpi_check(rule: AlertRule, kpis: list[dict], threshold: Decimal) -> str | None:
    """A recorded headline figure (by label, e.g. "Unpaid over 30 days") above or below the threshold."""
    for figure in kpis:
        if rule.kpi and rule.kpi.lower() in str(figure.get("label", "")).lower():
            value = as_decimal(str(figure.get("value", "")).rstrip("%"))
            if value is None:
                continue
            if (rule.when == "kpi_above" and value > threshold) or (rule.when == "kpi_below" and value < threshold):
                return f"{figure['label']} {figure.get('display', value)} ({'>' if rule.when == 'kpi_above' else '<'} {threshold})"
    return None


def watched_columns(rules: tuple[AlertRule, ...] | None = None) -> frozenset[str]:
    """Columns of an action list that some ``table_value_above`` rule reads (what a page hands to the batch)."""
    found: set[str] = set()
    for rule in rules if rules is not None else load_rules():
        if rule.when == "table_value_above":
            found.update([*rule.columns, rule.amount_column])
    return frozenset(found)


def _table_check(rule: AlertRule, tables: list[dict], threshold: Decimal) -> str | None:
    """Rows of a shown action list whose ``columns`` figure is above the threshold (e.g. unpaid for more
    than 15 days): how many, their money and the largest figure. The list with the most such rows counts,
    so a list shown twice is not counted twice."""
    best: tuple[int, Decimal, Decimal] | None = None
    for table in tables:
        values = table.get("values", {})
        column = next((c for c in rule.columns if c in values), None)
        if column is None:
            continue
        figures = [as_decimal(str(v)) for v in values[column]]
        amounts = values.get(rule.amount_column) or [None] * len(figures)
        over = [(f, as_decimal(str(a)) if a is not None else None) for f, a in zip(figures, amounts) if f is not None and f > threshold]
        if over and (best is None or len(over) > best[0]):
            best = (len(over), sum((a for _, a in over if a is not None), Decimal("0.00")), max(f for f, _ in over))
    if best is None:
        return None
    unit = f" {rule.unit}" if rule.unit else ""
    return f"{best[0]:,} item(s) beyond {threshold:,.0f}{unit}, {best[1]:,.2f} in all, the oldest {best[2]:,.0f}{unit}"


def _stated_rate(kpis: list[dict]) -> Decimal | None:
    """The run's recorded "Auto-match rate" figure as a fraction (``"93.1%"`` -> 0.931), None if none."""
    for figure in kpis:
        if "auto-match rate" in str(figure.get("label", "")).lower():
            value = as_decimal(str(figure.get("value", "")).rstrip("%"))
            if value is not None:
                return value / 100 if str(figure.get("value", "")).endswith("%") else value
    return None


def _check(rule: AlertRule, *, ok: bool, summary: dict | None, rows: list[dict[str, str]], kpis: list[dict],
           shown: str, tables: list[dict] | None = None) -> str | None:
    """The message of the alert when ``rule`` fires, else None."""
    threshold = rule.threshold if rule.threshold is not None else Decimal("0")
    if rule.when == "run_failed":
        return None if ok else "the notebook stopped with an error; see its page"
    if rule.when in ("kpi_above", "kpi_below"):
        return _kpi_check(rule, kpis, threshold)
    if rule.when == "table_value_above":
        return _table_check(rule, tables or [], threshold)
    if rule.when == "control_total_mismatch":
        found = [" ".join(m.group(1).split()[-4:]) + f": file {m.group(2)}, rows {m.group(3)}" for m in _MISMATCH.finditer(shown)]
        return "; ".join(dict.fromkeys(found)) if found else None
    if rule.when == "auto_match_rate_below":
        stated = _stated_rate(kpis)
        if summary is None and stated is None:
            return None
        # the rate the scenario states (over the rows in scope) wins over the raw match summary's
        rate = stated if stated is not None else Decimal(str(summary.get("auto_match_rate", 1)))
        return f"auto-match rate {rate:.1%} < {threshold:.0%}" if rate < threshold else None
    chosen = [r for r in rows if (not rule.categories or r.get("category") in rule.categories)
              and (rule.side is None or r.get("side") == rule.side)]
    amounts = [a for a in (as_decimal(r.get("amount")) for r in chosen) if a is not None]
    if rule.when == "row_amount_above":
        over = [a for a in amounts if abs(a) > threshold]
        return f"{len(over)} line(s) above {threshold:,.2f}, largest {max(over, key=abs):,.2f}" if over else None
    if rule.when == "category_total_above":
        total = sum(amounts, Decimal("0"))
        return f"total {total:,.2f} > {threshold:,.2f}" if abs(total) > threshold else None
    if rule.when == "rows_above":
        total = sum((abs(a) for a in amounts), Decimal("0.00"))
        return f"{len(chosen):,} rows > {threshold:,.0f}, {total:,.2f} in all" if len(chosen) > threshold else None
    return None


def evaluate(*, scenario: str, run: str, ok: bool, run_folder: Path, link: str | None = None,
             rules: tuple[AlertRule, ...] | None = None, run_title: str | None = None, kpis: list[dict] | None = None,
             shown: str = "", tables: list[dict] | None = None) -> list[Alert]:
    """The alerts one run raises (rules default to :func:`load_rules`).

    ``kpis`` are the run's recorded figures; ``shown`` the text of its outputs (where a load report
    states a control total that does not tie); ``tables`` the action lists its page showed
    (:func:`recon_helpers.report.cells.read_tables`).
    """
    summary, rows = _summary(run_folder), _exception_rows(run_folder)
    raised = []
    for rule in rules if rules is not None else load_rules():
        if rule.scenarios and scenario not in rule.scenarios:
            continue
        message = _check(rule, ok=ok, summary=summary, rows=rows, kpis=kpis or [], shown=shown, tables=tables)
        if message:
            raised.append(Alert(rule.name, rule.title, rule.severity, scenario, run, message, link, run_title))
    return raised
