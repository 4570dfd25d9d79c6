"""The cashier scenario (业务员收款 vs 出纳日记账 vs 银行): what salespeople collected, what the cashier
booked, and the cash that reached the bank.

``check = cashier.check(period="2026-10", data_dir="data/demo", late_days=3)`` matches the receipt log
(收据号 per receipt) against the cashier journal (recipe ``cashier``) and lists what the finance
manager acts on:

* ``check.never_handed_in()``: receipts the cashier never booked (the money is still with the salesperson);
* ``check.booked_without_receipt()``: journal receipts no salesperson logged;
* ``check.amount_differences()``: booked at another amount (difference = booked - receipt);
* ``check.method_differences()``: collected in cash but booked as a transfer (or the other way round);
* ``check.late_deposits()``: handed in more than ``late_days`` days after collecting;
* ``check.per_salesperson()``: each salesperson's month in one line;
* the cash at the bank (recipe ``cashier_deposits_bank``): ``check.deposits_not_banked()``,
  ``check.deposit_differences()``, ``check.cash_credits_without_deposit()`` and ``check.cash_position()``.
"""
from __future__ import annotations

from recon_helpers.scenarios.cashier.check import CashierCheck, check, method_of

__all__ = ["CashierCheck", "check", "method_of"]
