"""The shared Check: exceptions by category and side, exact amounts, headline figures, files for people."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from recon_helpers.engine import match
from recon_helpers.periods import Period
from recon_helpers.scenarios.base import Check
from recon_helpers.scenarios.registry import scenario
from recon_helpers.testing import canonical_frame


def small_check(tmp_path: Path) -> Check:
    data = tmp_path / "data"
    left = canonical_frame(f"{data}/erp/shipments.csv", waybill_no=["A", "B", "C"], expected_fee=["10.00", "12.00", "5.00"],
                           chargeable_weight=["1.0", "2.0", "1.0"])
    right = canonical_frame(f"{data}/courier/sf_bill.xlsx", waybill_no=["A", "B", "D"], amount=["10.00", "15.50", "7.25"],
                            billed_weight=["1.0", "2.0", "0.5"])
    result = match(left, right, "courier_bill")
    return Check(scenario=scenario("courier_bill"), period=Period.parse("2026-10"), data_dir=data, result=result, run="sf")


def test_exceptions_and_amounts_by_category_and_side(tmp_path):
    check = small_check(tmp_path)
    assert list(check.exceptions("missing_on_left", "right")["key"]) == ["D"]
    assert list(check.exceptions("missing_on_right")["key"]) == ["C"]
    assert check.amount("missing_on_left", "right") == Decimal("7.25")
    assert set(check.exceptions(("missing_on_left", "missing_on_right"))["key"]) == {"C", "D"}


def test_headline_figures_count_rows_matches_and_exceptions(tmp_path):
    figures = small_check(tmp_path).kpis()
    assert figures["Matched rows 已核对"] == 2 and figures["Auto-match rate 自动核对率"] == "33.3%"
    assert figures["Exceptions 差异"] == 4  # C missing, D missing, B's fee pair (both rows)


def test_lists_name_files_relative_to_the_data_folder(tmp_path):
    check = small_check(tmp_path)
    shown = check.relative_files(check.exceptions("missing_on_left"))
    assert list(shown["source_file"]) == ["courier/sf_bill.xlsx"]


def test_a_run_writes_into_period_scenario_run(tmp_path):
    written = small_check(tmp_path).write(tmp_path / "out")
    assert written["links"].parent == tmp_path / "out" / "2026-10" / "courier_bill" / "sf"


def test_exceptions_and_the_files_carry_the_rows_ids_even_when_a_scenario_refines_them(tmp_path):
    """The recipe's ids (courier_bill: the waybill as each side wrote it) are in check.exceptions()
    and exceptions.csv, also when a scenario rebuilds the exception table without them."""
    import pandas as pd

    class Refined(Check):
        @property
        def exception_table(self) -> pd.DataFrame:
            exc = self.result.exceptions
            return exc.drop(columns=self.result.id_names).assign(detail=exc["detail"] + " (refined)")

    plain = small_check(tmp_path)
    assert plain.id_columns == ["waybill_no"]
    assert list(plain.exceptions("missing_on_left", "right")["waybill_no"]) == ["D"]
    refined = Refined(**{f: getattr(plain, f) for f in ("scenario", "period", "data_dir", "result", "run")})
    shown = refined.exceptions(side="right")
    assert shown["waybill_no"].tolist() == shown["key"].tolist() and shown["detail"].str.endswith("(refined)").all()
    written = pd.read_csv(refined.write(tmp_path / "out")["exceptions"], encoding="utf-8-sig", dtype=str)
    assert list(written.columns) == refined.exception_columns
    assert written.dropna(subset=["source_row"])["waybill_no"].notna().all()
