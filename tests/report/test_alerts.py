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


def test_unpaid_beyond_days_fires_from_the_collections_list_of_unsettled_orders(tmp_path):
    from decimal import Decimal

    from recon_helpers.report.cells import TABLE_MIME, ActionTable, read_tables

    unsettled = pd.DataFrame({"order_id": ["T1", "T2", "T3", "T4"], "age_days": [3, 16, 28, 15],
                              "amount": [Decimal("10.00"), Decimal("20.50"), Decimal("5.25"), Decimal("99.00")],
                              "follow_up": ["x"] * 4})
    bundle = ActionTable(unsettled)._repr_mimebundle_()
    assert set(bundle[TABLE_MIME]["values"]) == {"age_days", "amount"}, "only what a rule reads leaves the kernel"
    nb = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "display_data", "data": bundle}]}]}
    raised = names(alerts.evaluate(scenario="collections", run="taobao", ok=True, run_folder=tmp_path, tables=read_tables(nb)))
    assert raised["unpaid_beyond_days"] == "2 item(s) beyond 15 days, 25.75 in all, the oldest 28 days"
    assert "overcharge" not in raised and "overdue_beyond_days" not in raised
    calm = names(alerts.evaluate(scenario="collections", run="taobao", ok=True, run_folder=tmp_path,
                                 tables=read_tables({"cells": [{"outputs": [{"data": ActionTable(unsettled.head(1))._repr_mimebundle_()}]}]})))
    assert "unpaid_beyond_days" not in calm


def test_overdue_receivables_and_credit_limit_breaches_alert_on_the_customer_statement(tmp_path):
    folder = tmp_path / "customer_statement" / "all"
    folder.mkdir(parents=True)
    write_csv(pd.DataFrame({"side": ["customer", "customer", "left"], "key": ["KH0008", "KH0010", "INV1"],
                            "amount": ["7747.20", "12839.40", "300.00"],
                            "category": ["credit_limit_breach", "credit_limit_breach", "missing_on_right"]}),
              folder / "exceptions.csv")
    overdue = {"rows": 3, "columns": ["customer_id", "days_past_due", "amount"],
               "values": {"days_past_due": [45, 31, 30], "amount": ["100.00", "50.00", "70.00"]}}
    raised = names(alerts.evaluate(scenario="customer_statement", run="all", ok=True, run_folder=folder, tables=[overdue]))
    assert raised["credit_limit_breach"] == "2 rows > 0, 20,586.60 in all"
    assert raised["overdue_beyond_days"] == "2 item(s) beyond 30 days, 150.00 in all, the oldest 45 days"
    assert "overcharge" not in raised, "a customer's payment is not a courier's over-charge"
