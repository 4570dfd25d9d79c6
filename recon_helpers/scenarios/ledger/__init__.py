"""The ledger scenario (账证核对): business-system documents against general-ledger postings.

``check = ledger.check(period="2026-10", data_dir="data/demo")`` matches every audited ERP document
(sales, purchase, receipt, payment, expense) with the ledger's lines by 业务单据号 (recipe ``ledger``)
and lists the corrections: ``check.never_posted()``, ``check.posted_twice()``, ``check.wrong_amounts()``,
``check.wrong_accounts()`` (against the account map, :mod:`.accounts`), ``check.postings_without_document()``.
``check.trial_balance()`` ties the period out per account (documents through the map vs the ledger).
Each ``check.write(out)`` records the run (:mod:`.history`); ``check.since_last_run(out)`` says which
findings were fixed since the last run, which are new and which are still open.
"""
from __future__ import annotations

from recon_helpers.scenarios.ledger.check import LedgerCheck, check

__all__ = ["LedgerCheck", "check"]
