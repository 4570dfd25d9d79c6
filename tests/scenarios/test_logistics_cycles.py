"""The logistics notebooks reconcile a week and a day as well as a month (日对账 / 周对账 / 月对账).

Each scenario whose registry entry declares the ``week`` and ``day`` cycles runs under papermill for an
ISO week that spans two months (2026-W44: 26 October to 1 November) and for one day, on the demo month.
Its exceptions.csv lands in the cycle's own folder, holds what the scenario finds for that cycle, and
every finding is a discrepancy the demo injected (a shorter cycle never invents one: rows just
outside it are timing, not missing).
"""
from __future__ import annotations

import csv
import importlib

import papermill
import pytest

from recon_helpers.scenarios import SINGLE_RUN, with_notebooks
from recon_helpers.testing import truth_rows

pytestmark = pytest.mark.notebook

CYCLES = {"week": "2026-W44", "day": "2026-10-15"}
RUNS = [(s.name, kind, period) for s in with_notebooks() for kind, period in CYCLES.items() if kind in s.cycles]


def _pairs(rows) -> set[tuple[str, str]]:
    return {(str(c), str(k)) for c, k in rows if c != "out_of_scope"}


def test_the_logistics_entries_declare_every_cycle():
    declared = {s.name: s.cycles for s in with_notebooks()}
    for name in ("courier_bill", "returns", "outbound"):
        assert set(declared[name]) == {"month", "week", "day"}, name
    assert all(s.cycles == ["month"] for s in with_notebooks() if s.name not in ("courier_bill", "returns", "outbound"))


@pytest.mark.parametrize("name, kind, period", RUNS, ids=[f"{n}-{k}" for n, k, _ in RUNS])
def test_a_week_and_a_day_run_under_papermill(name, kind, period, demo_dir, notebooks_dir, tmp_path):
    entry = next(s for s in with_notebooks() if s.name == name)
    run = entry.run_names()[0]
    out = tmp_path / "reports"
    papermill.execute_notebook(
        str(notebooks_dir / entry.notebook), str(tmp_path / f"{name}_{kind}.ipynb"),
        parameters={"period": period, "data_dir": str(demo_dir), "output_dir": str(out), **entry.run_parameters(run)},
        kernel_name="python3", cwd=str(notebooks_dir), progress_bar=False)
    written = out / period / name / run / "exceptions.csv"
    with written.open(encoding="utf-8-sig", newline="") as fh:
        in_csv = _pairs((r["category"], r["key"]) for r in csv.DictReader(fh))

    module = importlib.import_module(f"recon_helpers.scenarios.{name}")
    check = module.check(period=period, data_dir=demo_dir, **entry.run_parameters(run))
    assert str(check.period) == period
    table = check.exception_table
    assert in_csv == _pairs(zip(table["category"], table["key"]))

    truth = {(t["category"], t["key"]) for t in truth_rows(demo_dir, name) if run == SINGLE_RUN or t["key2"] == run}
    assert in_csv <= truth, sorted(in_csv - truth)
    if kind == "week":
        assert in_csv, "the demo injects discrepancies in the last week of the month"


# --- recon report for a week or a day: the registry's cycles decide what runs ----------------------
LOGISTICS = {"courier_bill", "returns", "outbound"}
MONEY = {"cashier", "collections", "ledger", "customer_statement"}


@pytest.mark.parametrize("kind, period", CYCLES.items())
def test_a_week_or_day_plan_runs_the_scenarios_that_declare_it_and_says_why_the_others_wait(kind, period, notebooks_dir):
    from recon_helpers.report.batch import plan_report

    planned, skipped = plan_report(notebooks_dir, kind=kind)
    assert {(p.scenario, p.run) for p in planned} == {(s.name, r) for s in with_notebooks() if s.name in LOGISTICS
                                                      for r in s.run_names()}
    assert {s.scenario for s in skipped} == MONEY
    assert all(f"not run for a {kind}" in s.reason and "月对账 month only" in s.reason for s in skipped)
    month, skipped_in_month = plan_report(notebooks_dir, kind="month")
    assert not skipped_in_month and {p.scenario for p in month} == LOGISTICS | MONEY


def test_a_period_kind_no_chosen_scenario_reconciles_is_refused_with_the_choice(notebooks_dir):
    from recon_helpers.errors import UsageError
    from recon_helpers.report.batch import plan_report

    with pytest.raises(UsageError, match="no scenario of --only reconciles a week: choose from courier_bill, outbound, returns"):
        plan_report(notebooks_dir, only=["cashier", "ledger"], kind="week")


def test_a_week_report_runs_the_logistics_runs_and_lists_the_money_scenarios_as_not_run(demo_dir, notebooks_dir, tmp_path):
    import json

    from recon_helpers.report.batch import run_reports

    run = run_reports(period="2026-W44", data_dir=demo_dir, out_dir=tmp_path / "reports", notebooks_dir=notebooks_dir,
                      jobs=2)
    assert run.ok, [(o.name, o.run, o.error) for o in run.failed]
    assert {o.name for o in run.outcomes} == LOGISTICS and len(run.outcomes) == 6
    assert {s.scenario for s in run.skipped} == MONEY
    assert run.out_dir.name == "2026-W44" and (run.out_dir / "outbound" / "all" / "exceptions.csv").is_file()

    manifest = json.loads(run.manifest.read_text(encoding="utf-8"))
    assert manifest["period"] == "2026-W44" and manifest["period_kind"] == "week"
    assert {s["name"] for s in manifest["skipped"]} == MONEY and all(s["status"] == "skipped" for s in manifest["skipped"])
    index = run.index.read_text(encoding="utf-8")
    assert "周对账 week 2026-W44 (2026-10-26 – 2026-11-01)" in index
    assert all(f'data-scenario="{name}"' in index for name in MONEY)
    page = (run.out_dir / "outbound" / "all" / "outbound.html").read_text(encoding="utf-8")
    assert "周对账 week 2026-W44" in page


def test_a_day_report_runs_the_day_and_skips_a_month_only_scenario(demo_dir, notebooks_dir, tmp_path):
    from recon_helpers.report.batch import run_reports

    run = run_reports(period="2026-10-15", data_dir=demo_dir, out_dir=tmp_path / "reports", notebooks_dir=notebooks_dir,
                      only=["outbound", "cashier"])
    assert run.ok and [(o.name, o.run) for o in run.outcomes] == [("outbound", "all")]
    assert [s.scenario for s in run.skipped] == ["cashier"]
    assert "日对账 day 2026-10-15" in run.index.read_text(encoding="utf-8")
    in_csv = (run.out_dir / "outbound" / "all" / "exceptions.csv").read_text(encoding="utf-8-sig")
    check = importlib.import_module("recon_helpers.scenarios.outbound").check(period="2026-10-15", data_dir=demo_dir)
    assert in_csv.count("\n") - 1 == len(check.exception_table)


def test_a_day_closes_and_carries_its_open_items_into_the_next_day(demo_dir, tmp_path):
    from recon_helpers.review.carry import is_closed
    from recon_helpers.review.close import close_period, close_scenario
    from recon_helpers.review.session import ReviewSession
    from recon_helpers.review.workspace import Workspace
    from recon_helpers.scenarios import outbound

    workspace = Workspace(tmp_path / "ws", timeout=20)
    # `recon close` takes a week too (it used to refuse anything but YYYY-MM)
    lines = close_scenario(period="2026-W44", scenario="outbound", by="王会计", data_dir=demo_dir, workspace=tmp_path / "ws")
    assert lines[0].startswith("closed outbound all 2026-W44 by 王会计")
    assert is_closed(workspace, period="2026-W44", scenario="outbound", run="all")
    day = ReviewSession(outbound.check(period="2026-10-15", data_dir=demo_dir), workspace, actor="王会计")
    open_items = day.queue(status="open")
    assert len(open_items)
    day.wait(open_items["fingerprint"], note="warehouse asked")
    closed = close_period(day, by="王会计")
    assert set(closed.carried["fingerprint"]) == set(open_items["fingerprint"])
    next_day = ReviewSession(outbound.check(period="2026-10-16", data_dir=demo_dir), workspace, actor="王会计")
    opening = next_day.items[next_day.items["opening"]]
    assert set(opening["fingerprint"]) == set(open_items["fingerprint"])
    assert (opening["opened_in"] == "2026-10-15").all()
