"""The customer-statement scenario (客户对账): receivables per customer, and a statement to send.

``check = customer_statement.check(period="2026-10", data_dir="data/demo")`` matches the month's
invoices against customer payments (recipe ``customer_statement``) and answers:

* ``check.balances()``: per customer opening + invoices - payments - credit notes = closing;
* ``check.unpaid_invoices()``, ``check.payment_differences()`` (short and over payments),
  ``check.unapplied_payments()``, ``check.open_items()``;
* ``check.aging()`` (current, 1-30, 31-60, 61-90, over 90 days past due, from the payment terms),
  ``check.overdue()``, ``check.credit_limit_breaches()``;
* ``check.statement(code)`` and ``check.write_statements(out)``: the statement of account (对账单) per
  customer as HTML and PDF (:mod:`.statement`, templates/statements/);
* ``check.record_reply(out, code, confirmed=False, disputed_lines=[...])`` and ``check.carry_forward(out)``:
  the customer's answer and the next period's opening (:mod:`.replies`), read by
  ``check(..., opening=<carry_forward.json>)``.
"""
from __future__ import annotations

from recon_helpers.scenarios.customer_statement.check import AGING_BUCKETS, StatementCheck, check

__all__ = ["AGING_BUCKETS", "StatementCheck", "check"]
