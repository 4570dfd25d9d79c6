"""The returns scenario: platform return requests, courier return waybills, warehouse receipts.

``check = returns.check(period="2026-10", data_dir="data/demo")`` links the three files with the
``returns`` recipe (request -> waybill by 售后单号, waybill -> receipt by 运单号), lays every return out
as one case (:mod:`.cases`) and names its first problem; the lists an analyst acts on:

* ``check.refunded_not_received()`` (status_mismatch): refund paid, goods not in the warehouse;
* ``check.not_shipped_back()`` (missing_waybill): requested, the courier has no waybill;
* ``check.not_received()`` (not_received): the waybill was signed for, the warehouse booked nothing;
* ``check.quantity_differences()``, ``check.damaged()``, ``check.not_requested()``,
  ``check.received_not_refunded()``;
* ``check.open_by_age()`` and ``check.follow_up()``: returns not finished, by age (0-7, 8-15, 16-30,
  over 30 days). A return still on its way is open, not a difference.

Status words and age buckets are the registry entry's ``settings`` (templates/scenarios/returns.yaml).
"""
from __future__ import annotations

from recon_helpers.scenarios.returns.cases import CATEGORIES
from recon_helpers.scenarios.returns.check import ReturnsCheck, check

__all__ = ["CATEGORIES", "ReturnsCheck", "check"]
