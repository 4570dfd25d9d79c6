"""The ledger scenario on the demo month, on a voucher posted to the wrong account, and a re-check after a fix."""
from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from recon_helpers.errors import TemplateError
from recon_helpers.scenarios import ledger
from recon_helpers.scenarios.ledger.accounts import account_map
from recon_helpers.sources import load
from recon_helpers.testing import truth_rows


@pytest.fixture(scope="module")
def check(demo_dir):
    return ledger.check(period="2026-10", data_dir=demo_dir)


def _copy_with_gl(demo_dir, tmp_path, corrupted_copy, edits):
    gl = demo_dir / "finance" / "gl_export.xlsx"
    broken = corrupted_copy(gl, load(gl).report, tmp_path, edits)
    data = tmp_path / "data"
    shutil.copytree(demo_dir / "erp", data / "erp")
    (data / "finance").mkdir(parents=True)
    shutil.move(broken, data / "finance" / "gl_export.xlsx")
    return data


def test_finds_exactly_the_injected_problems_with_their_amounts(check, demo_dir):
    truth = truth_rows(demo_dir, "ledger")
    found = {(r.category, r.key) for r in check.exceptions().itertuples() if r.category != "out_of_scope"}
    assert found == {(t["category"], t["key"]) for t in truth}
    want = lambda cat: {t["key"]: Decimal(t["amount_diff"]) for t in truth if t["category"] == cat}  # noqa: E731
    assert dict(zip(check.never_posted()["doc_no"], -check.never_posted()["amount"])) == want("missing_on_right")
    assert dict(zip(check.posted_twice()["doc_no"], check.posted_twice()["amount"])) == want("duplicate_on_right")
    assert dict(zip(check.wrong_amounts()["doc_no"], check.wrong_amounts()["difference"])) == want("amount_mismatch")
    assert check.wrong_accounts().empty and check.postings_without_document().empty


def test_the_trial_balance_is_explained_by_the_findings(check):
    tb = check.trial_balance()
    # both sides balance: the map's postings and the ledger's vouchers are double entries
    assert sum(tb["documents_debit"]) == sum(tb["documents_credit"])
    assert sum(tb["ledger_debit"]) == sum(tb["ledger_credit"])
    # what the ledger holds beyond the documents, debit side = posted twice + wrong amounts - never posted
    # (each document's debit postings add up to its amount)
    extra = sum(check.posted_twice()["amount"]) + sum(check.wrong_amounts()["difference"]) - sum(check.never_posted()["amount"])
    assert sum(tb["debit_difference"]) == extra
    cash = tb.set_index("account").loc["1001"]  # only expense claims touch cash: the one posted twice
    twice = check.posted_twice().set_index("doc_no")
    assert cash["credit_difference"] == twice.loc["FYBX202610290009", "amount"]


def test_a_voucher_posted_to_the_wrong_account_is_listed(check, demo_dir, tmp_path, corrupted_copy):
    gl = check.gl
    line = gl[(gl["ledger_account"] == "6601") & (gl["doc_no"] == "FYBX202610010001")].iloc[0]
    data = _copy_with_gl(demo_dir, tmp_path, corrupted_copy, [(int(line["source_row"]), "科目编码", "6602")])
    redone = ledger.check(period="2026-10", data_dir=data)
    wrong = redone.wrong_accounts()
    assert list(wrong["doc_no"]) == ["FYBX202610010001"]
    assert wrong["expected"].iloc[0] == "1001 贷; 6601 借" and wrong["posted"].iloc[0] == "1001 贷; 6602 借"
    assert ("wrong_account", "FYBX202610010001") in {(r.category, r.key) for r in redone.exceptions().itertuples()}
    tb = redone.trial_balance().set_index("account")
    assert tb.loc["6602", "ledger_debit"] == line["amount"] and tb.loc["6602", "documents_debit"] == 0


def test_a_recheck_after_a_correction_says_what_was_fixed(check, demo_dir, tmp_path, corrupted_copy):
    out = tmp_path / "reports"
    check.write(out, recorded_at="2026-11-03T09:00:00+00:00")
    wrong = check.wrong_amounts().set_index("doc_no").loc["SKD202610060002"]  # a receipt: two lines, both the amount
    gl = check.gl
    lines = gl[gl["doc_no"] == "SKD202610060002"]
    edits = [(int(r.source_row), "借方金额" if r.amount > 0 else "贷方金额", str(wrong["document_amount"])) for r in lines.itertuples()]
    data = _copy_with_gl(demo_dir, tmp_path, corrupted_copy, edits)
    fixed = ledger.check(period="2026-10", data_dir=data)
    fixed.write(out, recorded_at="2026-11-04T09:00:00+00:00")
    changes = fixed.since_last_run(out).set_index(["category", "key"])
    assert changes.loc[("amount_mismatch", "SKD202610060002"), "status"].startswith("fixed")
    assert (changes.drop(index=[("amount_mismatch", "SKD202610060002")])["status"].str.startswith("still open")).all()
    assert len(changes) == len(check.findings())
    history = fixed.history(out)
    assert list(history["run"]) == [1, 2] and list(history["findings"]) == [9, 8]


def test_the_account_map_is_validated(tmp_path):
    assert [p.account for p in account_map().documents["收款单"]] == ["1002", "1122"]
    bad = tmp_path / "map.yaml"
    bad.write_text("name: m\ndocuments:\n  收款单:\n    - {account: '1002', side: left, part: gross}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"map\.yaml.*side"):
        account_map(bad)
