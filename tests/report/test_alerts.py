"""Alerts as data: each test of templates/alerts/ fires on the figures of one run, and a bad rule names its file."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from recon_helpers.errors import TemplateError
from recon_helpers.export import write_csv
from recon_helpers.report import alerts


def run_folder(tmp_path: Path, *, rate: float = 0.95) -> Path:
    folder = tmp_path / "courier_bill" / "sf"
    folder.mkdir(parents=True)
    summary = {"rows": 100, "auto_match_rate": rate, "exceptions": [
        {"category": "missing_on_left", "side": "right", "rows": 2, "amount": "620.00"},
        {"category": "rate_card_violation", "side": "right", "rows": 2, "amount": "70.00"}]}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    write_csv(pd.DataFrame({"side": ["right", "right", "right", "right"], "key": ["A", "B", "C", "D"],
                            "amount": ["600.00", "20.00", "55.00", "15.00"],
                            "category": ["missing_on_left", "missing_on_left", "rate_card_violation", "rate_card_violation"]}),
              folder / "exceptions.csv")
    return folder


def names(raised: list[alerts.Alert]) -> dict[str, str]:
    return {a.name: a.message for a in raised}


def test_the_shipped_rules_fire_on_the_figures_of_a_run(tmp_path):
    folder = run_folder(tmp_path, rate=0.5)
    shown = "合计 运费 (total): file says 2368, rows give 2300.00 - MISMATCH"
    raised = names(alerts.evaluate(scenario="courier_bill", run="sf", ok=True, run_folder=folder, shown=shown))
    assert raised["low_auto_match_rate"] == "auto-match rate 50.0% < 80%"
    assert raised["overcharge"] == "1 line(s) above 50.00, largest 55.00"
    assert raised["billed_not_shipped_total"] == "total 620.00 > 500.00"
    assert raised["control_total"] == "合计 运费 (total): file 2368, rows 2300.00"
    assert "run_failed" not in raised and "unmatched_collections" not in raised, "that rule is for collections only"


def test_a_calm_run_raises_nothing_and_a_failed_one_says_so(tmp_path):
    folder = run_folder(tmp_path)
    rules = tuple(r for r in alerts.load_rules() if r.name in ("low_auto_match_rate", "run_failed", "control_total"))
    assert alerts.evaluate(scenario="courier_bill", run="sf", ok=True, run_folder=folder, rules=rules) == []
    failed = alerts.evaluate(scenario="courier_bill", run="sf", ok=False, run_folder=folder, rules=rules, link="courier_bill/sf/x.html")
    assert [(a.name, a.severity, a.link) for a in failed] == [("run_failed", "critical", "courier_bill/sf/x.html")]


def test_a_figure_rule_reads_the_recorded_kpis(tmp_path):
    rule = alerts.AlertRule(name="old", title="Unpaid", when="kpi_above", kpi="over 30 days", threshold=0)
    kpis = [{"label": "Unpaid over 30 days 超30天未收", "value": "1200.00", "display": "1,200.00"}]
    raised = alerts.evaluate(scenario="collections", run="all", ok=True, run_folder=tmp_path, rules=(rule,), kpis=kpis)
    assert [a.message for a in raised] == ["Unpaid over 30 days 超30天未收 1,200.00 (> 0)"]


def test_a_broken_rule_file_names_the_file_and_the_field(tmp_path):
    (tmp_path / "mine.yaml").write_text("alerts:\n  - name: x\n    title: X\n    when: sometimes\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"mine.yaml.*alerts\[0\]\.when"):
        alerts.load_rules(str(tmp_path))
