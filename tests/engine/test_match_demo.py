"""Built-in recipes on the demo month find exactly the injected discrepancies (truth/*.csv)."""
from __future__ import annotations

import pandas as pd
import pytest

from recon_helpers.engine import match, match_files
from recon_helpers.scenarios.courier_bill import NOT_OURS_CATEGORIES, pricing, rate_card
from recon_helpers.sources import load
from recon_helpers.testing import read_truth as truth

CARRIERS = [("sf", "顺丰速运", "courier/sf_bill.xlsx"), ("zto", "中通快递", "courier/zto_bill.xlsx"),
            ("yto", "圆通速递", "courier/yto_bill.csv"), ("jdl", "京东物流", "courier/jd_bill.xlsx")]


@pytest.mark.parametrize("code, carrier, bill_path", CARRIERS)
def test_courier_bill_finds_every_injected_discrepancy_and_nothing_else(demo_dir, code, carrier, bill_path):
    shipments = load(demo_dir / "erp" / "shipments.csv").table
    ours = shipments[shipments["carrier"] == carrier].reset_index(drop=True)
    priced = pricing.price(ours, rate_card.load_rate_card(demo_dir / "rate_cards" / f"{code}.yaml"))
    bill = load(demo_dir / bill_path).table
    res = match(priced, bill, "courier_bill")

    # the engine calls every bill line we did not send missing_on_left; the courier check (not the
    # engine) tells a return billed as an outbound and a cancelled order's waybill apart from them
    expected = {("missing_on_left" if t.category in NOT_OURS_CATEGORIES else t.category, t.key)
                for t in truth(demo_dir, "courier_bill").itertuples() if t.key2 == code}
    # fee problems show both rows of the pair; the truth names the waybill once
    found = {(e.category, e.key) for e in res.exceptions.itertuples()}
    assert found == expected
    extra_charges = res.exceptions[res.exceptions["category"] == "duplicate_on_right"]
    wanted = {t.key: t.amount_diff for t in truth(demo_dir, "courier_bill").itertuples()
              if t.key2 == code and t.category == "duplicate_on_right"}
    assert {e.key: str(e.amount) for e in extra_charges.itertuples()} == wanted
    s = res.summary
    assert s.sides["left"].rows == len(ours) and s.sides["right"].rows == len(bill)


def test_erp_ledger_finds_unposted_double_posted_and_wrong_amounts(demo_dir, tmp_path):
    res = match_files(demo_dir / "erp" / "erp_documents.csv", demo_dir / "finance" / "gl_export.xlsx",
                      "ledger", out_dir=tmp_path)
    expected = {(t.category, t.key) for t in truth(demo_dir, "ledger").itertuples()}
    found = {(e.category, e.key) for e in res.exceptions.itertuples() if e.category != "out_of_scope"}
    assert found == expected
    written = pd.read_csv(tmp_path / "exceptions.csv", dtype=str)
    assert len(written) == len(res.exceptions)
    assert (tmp_path / "links.csv").exists() and (tmp_path / "summary.json").exists()
