"""Alerts as data: thresholds from ``templates/alerts/*.yaml`` checked on every run of a month's report.

A rule names a test (``when``), its threshold, and how the alert reads: ``message`` (the figure and the
threshold, in Chinese and English) and ``action`` (what the reader should do). :func:`evaluate` applies
every rule to one run's outcome: its ``summary.json`` (match figures, and the ages of its open items that
the scenario recorded, see :func:`recon_helpers.scenarios.base.record_ages`), ``exceptions.csv``, its
headline figures and the text its page showed. The batch gathers the alerts of all runs into
``alerts.json``, the top of ``index.html`` and each run's page. Rules are validated on load: an unknown
test or key, or a message naming a figure its test does not give, names the file and the field.
"""
from __future__ import annotations

import csv
import functools
import json
import re
import string
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError, model_validator

from recon_helpers import catalog
from recon_helpers.errors import TemplateError
from recon_helpers.export import as_decimal
from recon_helpers.scenarios.base import age_bucket

WHEN = Literal["auto_match_rate_below", "row_amount_above", "category_total_above", "rows_above", "run_failed",
               "kpi_above", "kpi_below", "control_total_mismatch", "age_above"]
#: how a load report states a control total that does not tie (sources.result.ControlCheck.__str__)
_MISMATCH = re.compile(r"([^<>\n]{0,80}?): file says ([^,<>\n]+), rows give ([^<>\n]+?) - MISMATCH")

#: the figures each test gives its message and action, e.g. ``{count} 笔 ... {amount}``
FIELDS: dict[str, frozenset[str]] = {
    "run_failed": frozenset(),
    "control_total_mismatch": frozenset({"totals"}),
    "auto_match_rate_below": frozenset({"rate", "threshold"}),
    "row_amount_above": frozenset({"count", "threshold", "largest"}),
    "category_total_above": frozenset({"count", "threshold", "total"}),
    "rows_above": frozenset({"count", "threshold", "amount"}),
    "kpi_above": frozenset({"label", "value", "threshold"}),
    "kpi_below": frozenset({"label", "value", "threshold"}),
    "age_above": frozenset({"count", "threshold", "amount", "oldest"}),
}

#: how an alert reads when its rule gives no ``message`` of its own
DEFAULT_MESSAGES: dict[str, str] = {
    "run_failed": "报告运行中断，未生成完整结果。The report stopped with an error before it finished.",
    "control_total_mismatch": "文件自带的合计与明细之和不符：{totals}。The total a file states does not equal the sum of "
                              "its rows: {totals}.",
    "auto_match_rate_below": "自动核对率为 {rate}，低于 {threshold} 的下限。The auto-match rate is {rate}, below the "
                             "{threshold} floor.",
    "row_amount_above": "{count} 笔差异单笔超过 {threshold} 元，最大 {largest} 元。{count} line(s) differ by more than "
                        "CNY {threshold} each, the largest by CNY {largest}.",
    "category_total_above": "{count} 笔差异合计 {total} 元，超过 {threshold} 元。{count} line(s) add up to CNY {total}, "
                            "above CNY {threshold}.",
    "rows_above": "{count} 笔差异（合计 {amount} 元），超过 {threshold} 笔。{count} line(s) (CNY {amount} in all), more "
                  "than {threshold}.",
    "kpi_above": "{label} 为 {value}，高于 {threshold}。{label} is {value}, above {threshold}.",
    "kpi_below": "{label} 为 {value}，低于 {threshold}。{label} is {value}, below {threshold}.",
    "age_above": "{count} 项超过 {threshold} 天仍未结清，合计 {amount} 元，最久 {oldest} 天。{count} item(s) "
                 "open for more than {threshold} days, CNY {amount} in all, the oldest {oldest} days.",
}
DEFAULT_ACTION = "打开该报告查看明细。Open the report for the details."


class AlertRule(catalog.StrictModel):
    """One threshold: which test, on which categories/side/scenarios, how serious, and how it reads."""

    name: str
    title: str
    when: WHEN
    threshold: Decimal | None = None
    categories: list[str] = []
    side: str | None = None
    kpi: str | None = None
    scenarios: list[str] = []
    severity: Literal["warning", "critical"] = "warning"
    #: age_above: which recorded list of open items (summary.json ``ages``, ages in days)
    ages: str | None = None
    #: the sentence with the figure and the threshold (``{count}``, ``{threshold}`` ...: see FIELDS), zh + en
    message: str | None = None
    #: what the reader should do about it, zh + en
    action: str = DEFAULT_ACTION

    @model_validator(mode="after")
    def _fields_exist(self) -> AlertRule:
        known = FIELDS[self.when]
        for key in ("message", "action"):
            text = getattr(self, key) or ""
            try:
                used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            except ValueError as exc:
                raise ValueError(f"{key} of alert {self.name!r} is not a valid template ({exc}): write figures as {{count}}") from None
            unknown = sorted(used - known)
            if unknown:
                offered = ", ".join(f"{{{f}}}" for f in sorted(known)) or "none"
                raise ValueError(f"{key} of alert {self.name!r} names {', '.join(unknown)}, which {self.when} does not give "
                                 f"(it gives {offered})")
        if self.when == "age_above" and not self.ages:
            raise ValueError(f"alert {self.name!r} (age_above) needs `ages:`, the list of open items its scenario records "
                             "in summary.json, e.g. ages: unsettled_orders")
        if self.when == "age_above" and self.threshold is not None and self.threshold != self.threshold.to_integral_value():
            raise ValueError(f"alert {self.name!r}: an age threshold is a whole number of days, not {self.threshold}")
        return self


class AlertFile(catalog.StrictModel):
    alerts: list[AlertRule]


@dataclass(frozen=True)
class Alert:
    """One alert raised for one run: the rule, the run, what crossed the threshold and what to do."""

    name: str
    title: str
    severity: str
    scenario: str
    run: str
    message: str
    link: str | None = None
    run_title: str | None = None
    action: str = ""

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


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _whole(value: Decimal | int) -> str:
    return f"{value:,.0f}"


def _kpi_check(rule: AlertRule, kpis: list[dict], threshold: Decimal) -> dict[str, str] | None:
    """A recorded headline figure (by label, e.g. "Unpaid over 30 days") above or below the threshold."""
    for figure in kpis:
        if rule.kpi and rule.kpi.lower() in str(figure.get("label", "")).lower():
            value = as_decimal(str(figure.get("value", "")).rstrip("%"))
            if value is None:
                continue
            if (rule.when == "kpi_above" and value > threshold) or (rule.when == "kpi_below" and value < threshold):
                return {"label": str(figure["label"]), "value": str(figure.get("display", value)), "threshold": f"{threshold:,}"}
    return None


#: the one bucket an age falls in when it is beyond a rule's threshold (scenarios.base.age_bucket)
_BEYOND = "beyond"


def _age_check(rule: AlertRule, summary: dict | None, threshold: Decimal) -> dict[str, str] | None:
    """The open items of the recorded list ``rule.ages`` older than the threshold: how many, their money,
    the oldest. Reads what the scenario recorded (summary.json ``ages``), not what its page shows."""
    recorded = ((summary or {}).get("ages") or {}).get(rule.ages or "")
    if not recorded:
        return None
    beyond = ((_BEYOND, int(threshold) + 1, None),)
    over = [entry for entry in recorded.get("by_age", []) if age_bucket(int(entry["days"]), beyond) == _BEYOND]
    if not over:
        return None
    count = sum(int(e["items"]) for e in over)
    amount = sum((Decimal(str(e["amount"])) for e in over), Decimal("0.00"))
    return {"count": _whole(count), "threshold": _whole(threshold), "amount": _money(amount),
            "oldest": _whole(max(int(e["days"]) for e in over))}


def _stated_rate(kpis: list[dict]) -> Decimal | None:
    """The run's recorded "Auto-match rate" figure as a fraction (``"93.1%"`` -> 0.931), None if none."""
    for figure in kpis:
        if "auto-match rate" in str(figure.get("label", "")).lower():
            value = as_decimal(str(figure.get("value", "")).rstrip("%"))
            if value is not None:
                return value / 100 if str(figure.get("value", "")).endswith("%") else value
    return None


def _figures(rule: AlertRule, *, ok: bool, summary: dict | None, rows: list[dict[str, str]], kpis: list[dict],
             shown: str) -> dict[str, str] | None:
    """The figures of the alert when ``rule`` fires (what its message names), else None."""
    threshold = rule.threshold if rule.threshold is not None else Decimal("0")
    if rule.when == "run_failed":
        return None if ok else {}
    if rule.when in ("kpi_above", "kpi_below"):
        return _kpi_check(rule, kpis, threshold)
    if rule.when == "age_above":
        return _age_check(rule, summary, threshold)
    if rule.when == "control_total_mismatch":
        found = [" ".join(m.group(1).split()[-4:]) + f": file {m.group(2)}, rows {m.group(3)}" for m in _MISMATCH.finditer(shown)]
        return {"totals": "; ".join(dict.fromkeys(found))} if found else None
    if rule.when == "auto_match_rate_below":
        stated = _stated_rate(kpis)
        if summary is None and stated is None:
            return None
        # the rate the scenario states (over the rows in scope) wins over the raw match summary's
        rate = stated if stated is not None else Decimal(str(summary.get("auto_match_rate", 1)))
        return {"rate": f"{rate:.1%}", "threshold": f"{threshold:.0%}"} if rate < threshold else None
    chosen = [r for r in rows if (not rule.categories or r.get("category") in rule.categories)
              and (rule.side is None or r.get("side") == rule.side)]
    amounts = [a for a in (as_decimal(r.get("amount")) for r in chosen) if a is not None]
    if rule.when == "row_amount_above":
        over = [a for a in amounts if abs(a) > threshold]
        return {"count": _whole(len(over)), "threshold": _money(threshold),
                "largest": _money(abs(max(over, key=abs)))} if over else None
    if rule.when == "category_total_above":
        total = sum(amounts, Decimal("0.00"))
        return {"count": _whole(len(amounts)), "threshold": _money(threshold), "total": _money(total)} if abs(total) > threshold else None
    if rule.when == "rows_above":
        total = sum((abs(a) for a in amounts), Decimal("0.00"))
        return {"count": _whole(len(chosen)), "threshold": _whole(threshold), "amount": _money(total)} if len(chosen) > threshold else None
    return None


def evaluate(*, scenario: str, run: str, ok: bool, run_folder: Path, link: str | None = None,
             rules: tuple[AlertRule, ...] | None = None, run_title: str | None = None, kpis: list[dict] | None = None,
             shown: str = "") -> list[Alert]:
    """The alerts one run raises (rules default to :func:`load_rules`).

    ``kpis`` are the run's recorded figures; ``shown`` the text of its outputs (where a load report
    states a control total that does not tie).
    """
    summary, rows = _summary(run_folder), _exception_rows(run_folder)
    raised = []
    for rule in rules if rules is not None else load_rules():
        if rule.scenarios and scenario not in rule.scenarios:
            continue
        figures = _figures(rule, ok=ok, summary=summary, rows=rows, kpis=kpis or [], shown=shown)
        if figures is not None:
            message = (rule.message or DEFAULT_MESSAGES[rule.when]).format(**figures)
            raised.append(Alert(rule.name, rule.title, rule.severity, scenario, run, message, link, run_title,
                                rule.action.format(**figures)))
    return raised
