"""The collections scenario (回款): one platform's month from orders to the bank.

``check = collections.check(period="2026-10", data_dir="data/demo", platform="jd")`` loads the
platform's orders and settlement file and the company bank statement, and reconciles each hop:

* orders -> settlement (``collections_orders_settlement``; Taobao: ``collections_taobao_alipay``):
  ``check.unsettled_orders()`` (the follow-up list, aged 0-7, 8-30, 31-60, over 60 days; ``check.aging()``)
  and ``check.settlement_differences()`` (over- and under-settlement, orders and payouts);
* settlement -> payouts -> bank (``collections_payouts_bank`` / ``collections_withdrawal_bank``, bank
  credits of the platform's payer only): ``check.payouts_not_credited()``, ``check.credits_without_payout()``;
* the settlement's own lines: ``check.fee_check()`` / ``check.fee_differences()`` (fees against the
  contract rate per platform and category, templates/fees/), ``check.monthly_fees()``, ``check.refunds()``;
* the month: ``check.tie_out()``, ``check.cash_by_day()`` and ``check.cash_chart()`` (expected against
  received), ``check.write(out)`` (CSV, summary and an Excel workbook of every list).

How each platform books money is its *layout* (:mod:`.flows`); contract rates are :mod:`.fees`.
"""
from __future__ import annotations

from recon_helpers.scenarios.collections.check import AGE_BUCKETS, CollectionsCheck, Platform, check

__all__ = ["AGE_BUCKETS", "CollectionsCheck", "Platform", "check"]
