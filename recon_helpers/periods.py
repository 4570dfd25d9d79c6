"""Accounting periods: a month written YYYY-MM, with its first and last day."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from recon_helpers.errors import PeriodError

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month. ``str(Period)`` is ``YYYY-MM``; periods sort in time order."""

    year: int
    month: int

    @classmethod
    def parse(cls, value: "str | Period") -> "Period":
        """Read ``YYYY-MM``; anything else raises :class:`PeriodError` naming the value."""
        if isinstance(value, Period):
            return value
        m = _PERIOD.match(str(value).strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise PeriodError(str(value))
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return self.next().first_day - dt.timedelta(days=1)

    def next(self) -> "Period":
        return Period(self.year + (self.month == 12), self.month % 12 + 1)

    def previous(self) -> "Period":
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def days(self) -> list[dt.date]:
        d, out = self.first_day, []
        while d <= self.last_day:
            out.append(d)
            d += dt.timedelta(days=1)
        return out

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
