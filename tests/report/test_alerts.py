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
    assert "50.0%" in raised["low_auto_match_rate"] and "80%" in raised["low_auto_match_rate"]
    assert raised["overcharge"].startswith("1 笔") and "50.00" in raised["overcharge"] and "CNY 55.00" in raised["overcharge"]
    assert "2 笔" in raised["billed_not_shipped_total"] and "CNY 620.00" in raised["billed_not_shipped_total"]
    assert "合计 运费 (total): file 2368, rows 2300.00" in raised["control_total"]
    assert "run_failed" not in raised and "unmatched_collections" not in raised, "that rule is for collections only"


def test_every_shipped_alert_reads_as_a_sentence_in_chinese_and_english_with_what_to_do(tmp_path):
    folder = run_folder(tmp_path, rate=0.5)
    raised = alerts.evaluate(scenario="courier_bill", run="sf", ok=False, run_folder=folder,
                             shown="合计 (total): file says 9, rows give 8 - MISMATCH")
    assert {a.name for a in raised} == {"run_failed", "control_total", "low_auto_match_rate", "overcharge", "billed_not_shipped_total"}
    for alert in raised:
        for text in (alert.message, alert.action):
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), f"{alert.name}: no Chinese in {text!r}"
            assert sum(ch.isascii() and ch.isalpha() for ch in text) > 20, f"{alert.name}: no English in {text!r}"
            assert "{" not in text and " > " not in text, f"{alert.name}: an unfilled figure or a bare comparison in {text!r}"
        assert alert.action.rstrip().endswith("."), f"{alert.name}: the action is a sentence"


def test_a_message_naming_a_figure_its_test_does_not_give_names_the_file_and_the_field(tmp_path):
    (tmp_path / "mine.yaml").write_text(
        "alerts:\n  - name: x\n    title: X\n    when: rows_above\n    message: '{count} rows, oldest {oldest}'\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"mine.yaml.*alerts\[0\].*oldest.*rows_above"):
        alerts.load_rules(str(tmp_path))


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
    assert [a.message for a in raised] == ["Unpaid over 30 days 超30天未收 为 1,200.00，高于 0。"
                                           "Unpaid over 30 days 超30天未收 is 1,200.00, above 0."]


def test_a_broken_rule_file_names_the_file_and_the_field(tmp_path):
    (tmp_path / "mine.yaml").write_text("alerts:\n  - name: x\n    title: X\n    when: sometimes\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"mine.yaml.*alerts\[0\]\.when"):
        alerts.load_rules(str(tmp_path))


def summary_with_ages(folder: Path, name: str, items: pd.DataFrame, days: str) -> Path:
    from recon_helpers.scenarios.base import record_ages

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps({"rows": 10, "auto_match_rate": 0.99, "exceptions": []}), encoding="utf-8")
    record_ages(folder / "summary.json", name, items, days=days)
    return folder


def test_unpaid_beyond_days_reads_the_ages_the_collections_check_recorded(tmp_path):
    from decimal import Decimal

    unsettled = pd.DataFrame({"order_id": ["T1", "T2", "T3", "T4"], "age_days": [3, 16, 28, 15],
                              "amount": [Decimal("10.00"), Decimal("20.50"), Decimal("5.25"), Decimal("99.00")]})
    folder = summary_with_ages(tmp_path / "late", "unsettled_orders", unsettled, "age_days")
    recorded = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["ages"]["unsettled_orders"]
    assert recorded["items"] == 4 and recorded["by_age"][0] == {"days": 28, "items": 1, "amount": "5.25"}
    assert "order_id" not in json.dumps(recorded), "ages and money only"
    raised = names(alerts.evaluate(scenario="collections", run="taobao", ok=True, run_folder=folder))
    message = raised["unpaid_beyond_days"]
    assert message.startswith("2 笔订单下单超过 15 天仍未结算到账，合计 25.75 元，最久 28 天。"), message
    assert "2 order(s) placed more than 15 days ago" in message and "CNY 25.75" in message
    assert "overcharge" not in raised and "overdue_beyond_days" not in raised
    calm = summary_with_ages(tmp_path / "calm", "unsettled_orders", unsettled[unsettled["age_days"] <= 15], "age_days")
    assert "unpaid_beyond_days" not in names(alerts.evaluate(scenario="collections", run="taobao", ok=True, run_folder=calm))


def test_the_age_threshold_is_the_templates_not_the_scenarios(tmp_path):
    unsettled = pd.DataFrame({"age_days": [3, 16, 28], "amount": ["1.00", "2.00", "4.00"]})
    folder = summary_with_ages(tmp_path / "run", "unsettled_orders", unsettled, "age_days")
    rule = alerts.AlertRule(name="late", title="Late", when="age_above", ages="unsettled_orders", threshold=2)
    raised = alerts.evaluate(scenario="collections", run="jd", ok=True, run_folder=folder, rules=(rule,))
    assert "3 项超过 2 天仍未结清，合计 7.00 元，最久 28 天。3 item(s) open for more than 2 days" in raised[0].message


def test_overdue_receivables_and_credit_limit_breaches_alert_on_the_customer_statement(tmp_path):
    folder = tmp_path / "customer_statement" / "all"
    overdue = pd.DataFrame({"customer_id": ["KH1", "KH2", "KH3"], "days_past_due": [45, 31, 30],
                            "amount": ["100.00", "50.00", "70.00"]})
    summary_with_ages(folder, "overdue_invoices", overdue, "days_past_due")
    write_csv(pd.DataFrame({"side": ["customer", "customer", "left"], "key": ["KH0008", "KH0010", "INV1"],
                            "amount": ["7747.20", "12839.40", "300.00"],
                            "category": ["credit_limit_breach", "credit_limit_breach", "missing_on_right"]}),
              folder / "exceptions.csv")
    raised = {a.name: a for a in alerts.evaluate(scenario="customer_statement", run="all", ok=True, run_folder=folder)}
    breach = raised["credit_limit_breach"]
    assert breach.message.startswith("2 位客户的应收余额超过其信用额度，合计超出 20,586.60 元。"), breach.message
    assert "2 customer(s) owe more than their credit limit, CNY 20,586.60 over" in breach.message
    assert "Hold credit sales" in breach.action and "暂停" in breach.action
    assert "2 张发票逾期超过 30 天，合计 150.00 元，最久逾期 45 天" in raised["overdue_beyond_days"].message
    assert "overcharge" not in raised, "a customer's payment is not a courier's over-charge"
