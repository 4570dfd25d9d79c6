"""A carrier's rate cards together: one card per service (顺丰标快, 顺丰特快) and per date range.

Contracts change mid-month (a price change on the 15th applies from that day) and a carrier sells
several services at different prices, so a month's bill is priced by several cards. A
:class:`RateBook` holds them, refuses two cards of one service whose date ranges overlap (which one
would apply is then a guess), and prices each shipment with the card of its service in force on its
ship date. Files: ``rate_cards/<carrier>.yaml`` plus any ``rate_cards/<carrier>_*.yaml``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recon_helpers.errors import TemplateError, UsageError
from recon_helpers.scenarios.courier_bill import pricing
from recon_helpers.scenarios.courier_bill.rate_card import RateCard, read_rate_card

_OPEN_START = dt.date.min
_OPEN_END = dt.date.max


def _span(card: RateCard) -> tuple[dt.date, dt.date]:
    return card.effective_from or _OPEN_START, card.effective_to or _OPEN_END


def _where(card: RateCard) -> str:
    return card.source_file or f"{card.carrier} {card.service}"


@dataclass(frozen=True)
class RateBook:
    """The cards of one carrier, checked: same carrier, no two cards of a service in force on one day."""

    carrier: str
    cards: tuple[RateCard, ...]

    @classmethod
    def of(cls, cards: Iterable[RateCard]) -> RateBook:
        """A book of ``cards``; a TemplateError names both files when two cards of a service overlap."""
        cards = tuple(cards)
        if not cards:
            raise UsageError("a rate book needs at least one rate card")
        carriers = {c.carrier for c in cards}
        if len(carriers) > 1:
            raise TemplateError(f"rate cards of several carriers ({', '.join(sorted(carriers))}) cannot form one book",
                                template_file=_where(cards[0]))
        for i, a in enumerate(cards):
            for b in cards[i + 1:]:
                (a0, a1), (b0, b1) = _span(a), _span(b)
                if a.service == b.service and a0 <= b1 and b0 <= a1:
                    raise TemplateError(
                        f"rate cards for service {a.service or '(no service)'!r} overlap: {_where(a)} "
                        f"({a0 if a.effective_from else 'open'} to {a1 if a.effective_to else 'open'}) and "
                        f"{_where(b)} ({b0 if b.effective_from else 'open'} to {b1 if b.effective_to else 'open'}); "
                        "make the ranges meet without overlapping (a price change on the 15th: the old card ends "
                        "on the 14th)", template_file=_where(b), field="effective_from")
        return cls(carrier=carriers.pop(), cards=tuple(sorted(cards, key=lambda c: (c.service, _span(c)[0]))))

    @property
    def services(self) -> list[str]:
        return sorted({c.service for c in self.cards})

    def card_for(self, day: dt.date, service: str | None = None) -> RateCard:
        """The card of ``service`` in force on ``day`` (the only service when none is given)."""
        wanted = self._service(service)
        for card in self.cards:
            if card.service == wanted and card.applies_on(day):
                return card
        raise UsageError(f"no {self.carrier} rate card for service {wanted!r} on {day}: add a card whose "
                         "effective_from/effective_to cover that day")

    def _service(self, service: str | None) -> str:
        text = "" if service is None or (not isinstance(service, str) and pd.isna(service)) else str(service).strip()
        if text in self.services:
            return text
        matches = [s for s in self.services if s and (s in text or text in s)] if text else []
        if len(matches) == 1:
            return matches[0]
        if len(self.services) == 1:
            return self.services[0]
        raise UsageError(f"service {text!r} does not name one of the {self.carrier} cards' services "
                         f"({', '.join(self.services)}): give the service column (产品类型)")

    def price(self, shipments: pd.DataFrame, *, date: str = "txn_time", service: str | None = "service",
              **options: Any) -> pd.DataFrame:
        """:func:`pricing.price` with each row's own card (by service and ship date); a row no card
        covers keeps its place with a ``pricing_problem``. Adds column ``rate_card_file``."""
        if date not in shipments.columns:
            raise UsageError(f"pricing with a rate book needs the ship date column {date!r}")
        days = pd.to_datetime(shipments[date].astype("datetime64[s]")).dt.date
        services = shipments[service] if service and service in shipments.columns else pd.Series(None, index=shipments.index)
        chosen: list[int | None] = []
        problems: list[str | None] = []
        for day, svc in zip(days, services):
            try:
                card = self.card_for(day, svc) if not pd.isna(day) else None
                chosen.append(None if card is None else self.cards.index(card))
                problems.append(None if card is not None else f"ship date missing ({date!r} is empty): cannot pick a rate card")
            except UsageError as exc:
                chosen.append(None)
                problems.append(str(exc))
        parts = []
        picks = pd.Series(chosen, index=shipments.index, dtype="Int64")
        for ci, card in enumerate(self.cards):
            rows = shipments[(picks == ci).fillna(False).to_numpy(dtype=bool)]
            if len(rows):
                parts.append(pricing.price(rows, card, **options).assign(rate_card_file=_where(card)))
        unpriced = shipments[picks.isna().to_numpy(dtype=bool)]
        if len(unpriced):
            filler = pricing.price(unpriced.iloc[0:0], self.cards[0], **options)
            parts.append(unpriced.assign(**{c: pd.Series(pd.NA, index=unpriced.index, dtype=filler[c].dtype)
                                            for c in filler.columns if c not in unpriced.columns and c != "pricing_problem"},
                                         pricing_problem=[p for p, c in zip(problems, chosen) if c is None],
                                         rate_card_file=None))
        out = pd.concat(parts)
        return out.loc[shipments.index]


def read_rate_book(paths: Iterable[str | Path]) -> RateBook:
    """The book of the given card files (each validated)."""
    return RateBook.of(read_rate_card(Path(p)) for p in paths)


def book_files(folder: str | Path, carrier: str) -> list[Path]:
    """``<carrier>.yaml`` and ``<carrier>_*.yaml`` in ``folder``, sorted."""
    folder = Path(folder)
    return sorted([*folder.glob(f"{carrier}.yaml"), *folder.glob(f"{carrier}_*.yaml")])
