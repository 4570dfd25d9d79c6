"""The outbound scenario: platform orders against the warehouse's outbound records.

``check = outbound.check(period="2026-10", data_dir="data/demo")`` loads every platform's order export
found in the data folder and the WMS outbound file, matches them per order with the ``outbound``
recipe (quantity and status compared) and applies the rules of :mod:`.rules` the recipe cannot
express. The lists an analyst acts on:

* ``check.paid_not_shipped()`` (missing_on_right): paid, open, past the promised time, no outbound;
* ``check.shipped_without_order()`` (missing_on_left): goods left with no order (补发, private sale);
* ``check.quantity_differences()`` (qty_mismatch; a shortfall is a partial shipment) and
  ``check.sku_differences()`` (sku_mismatch);
* ``check.shipped_after_cancellation()`` (status_mismatch);
* ``check.shipped_late()`` (shipped_late): later than the platform promises (``promise_hours``);
* ``check.not_yet_due()``: open orders still in time and closed orders never sent (out of scope);
* ``check.split_parcels()`` / ``check.merged_parcels()``: for the courier check;
* ``check.not_picked_up()`` (not_picked_up) and ``check.pickup_count_differences()``
  (pickup_count_mismatch): against the couriers' pickup records where present (:mod:`.pickups`).

``period`` may be a month, an ISO week or a day: a daily run carries the orders still open at the
start of the day into it (``check.carried_in()``).

Status words and promised hours are the registry entry's ``settings`` (templates/scenarios/outbound.yaml).
"""
from __future__ import annotations

from recon_helpers.scenarios.outbound import pickups
from recon_helpers.scenarios.outbound.check import CATEGORIES, OutboundCheck, check, load_inputs

__all__ = ["CATEGORIES", "OutboundCheck", "check", "load_inputs", "pickups"]
