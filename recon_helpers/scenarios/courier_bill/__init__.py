"""The courier-bill scenario: own shipments against one courier's monthly bill and its rate card.

``check = courier_bill.check(period="2026-10", data_dir="data/demo", carrier="sf")`` loads our
shipments and the carrier's bill, prices every shipment of that carrier with its rate card
(:mod:`.pricing`, cards in ``templates/rate_cards/``, schema in :mod:`.rate_card`), matches them with
the ``courier_bill`` recipe and answers the four questions an analyst acts on:

* ``check.billed_not_shipped()`` (``missing_on_left``): dispute the line, we never sent that waybill;
  the engine's missing_on_left lines that the references explain get their own categories,
  ``return_billed_as_outbound`` and ``cancelled_before_pickup`` (:data:`NOT_OURS_CATEGORIES`);
* ``check.shipped_not_billed()`` (``missing_on_right``): expect it on next month's bill (accrue it);
* ``check.charged_twice()`` (``duplicate_on_right``): claim the second charge back;
* ``check.fee_differences()`` (``weight_mismatch``: a higher chargeable weight than ours;
  ``rate_card_violation``: same weight, different price), each with the rate card's own calculation
  and the rule the bill broke (zone, weight, price: :mod:`.disputes`).

Among the lines we did not send, the references in the data folder (``courier/return_waybills.csv``,
``wms/outbound.xlsx``) explain some: ``check.returns_billed_as_outbound()`` and
``check.cancelled_before_pickup()``. ``check.dispute_list()`` gathers every over-charge, and
``check.write()`` also writes it as ``dispute_<carrier>.xlsx``; ``check.totals_by_category()``,
``check.totals_by_day()``, ``check.overcharge_chart()`` and ``check.waterfall()`` go from billed to
expected; ``courier_bill.summary(period=..., data_dir=...)`` puts every carrier side by side.
"""
from __future__ import annotations

from recon_helpers.scenarios.courier_bill.check import (
           FEE_CATEGORIES,
           NOT_OURS_CATEGORIES,
           NOT_OURS_REASONS,
           Carrier,
           CourierCheck,
           carrier,
           check,
           for_carrier,
           summary,
)

__all__ = ["FEE_CATEGORIES", "NOT_OURS_CATEGORIES", "NOT_OURS_REASONS", "Carrier", "CourierCheck", "carrier", "check", "for_carrier", "summary"]
