"""Reconciliation cycles: a day, an ISO week or a month (日对账 / 周对账 / 月对账), and the grace window.

``Cycle.parse("2026-10")``, ``Cycle.parse("2026-W42")`` (Monday 12 to Sunday 18 October) and
``Cycle.parse("2026-10-15")`` give the first and last day of the cycle; a week may span two months
(2026-W44 is 26 October to 1 November). A scenario loads each side's rows of the cycle *and* of a
grace window around it (a parcel shipped on the 31st is billed on the 1st), matches them, and then:

* a pair with one row inside the cycle and one outside is a **timing difference** (listed, not missing);
* an unmatched row outside the cycle belongs to the neighbouring cycle: out of scope here;
* everything inside the cycle is judged as usual.

:func:`where` says for each row whether it lies before, inside or after the cycle.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from recon_helpers.errors import PeriodError
from recon_helpers.periods import Period

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

BEFORE, INSIDE, AFTER = "before", "inside", "after"
#: the kinds of cycle, as a scenario's registry entry lists them (``cycles:``), and how they read
KIND_LABELS = {"month": "月对账 month", "week": "周对账 week", "day": "日对账 day"}


@dataclass(frozen=True, order=True)
class Cycle:
    """A reconciliation period: ``first_day`` to ``last_day`` (both included); ``str()`` gives it back as
    written (``2026-10``, ``2026-W42``, ``2026-10-15``)."""

    first_day: dt.date
    last_day: dt.date
    kind: str
    text: str

    @classmethod
    def parse(cls, value: str | Period | Cycle) -> Cycle:
        """A month ``YYYY-MM``, an ISO week ``YYYY-Www`` or a day ``YYYY-MM-DD``; anything else is a PeriodError."""
        if isinstance(value, Cycle):
            return value
        if isinstance(value, Period):
            return cls(value.first_day, value.last_day, "month", str(value))
        text = str(value).strip()
        week = _WEEK.match(text)
        if week:
            try:
                monday = dt.date.fromisocalendar(int(week.group(1)), int(week.group(2)), 1)
            except ValueError:
                raise PeriodError(text) from None
            return cls(monday, monday + dt.timedelta(days=6), "week", text)
        day = _DAY.match(text)
        if day:
            try:
                d = dt.date(int(day.group(1)), int(day.group(2)), int(day.group(3)))
            except ValueError:
                raise PeriodError(text) from None
            return cls(d, d, "day", text)
        month = Period.parse(text)
        return cls(month.first_day, month.last_day, "month", str(month))

    def __str__(self) -> str:
        return self.text

    @property
    def kind_label(self) -> str:
        """How the cycle's kind reads to a person: 月对账 month, 周对账 week, 日对账 day."""
        return KIND_LABELS[self.kind]

    @property
    def label(self) -> str:
        """The cycle as a title names it: ``周对账 week 2026-W44 (2026-10-26 – 2026-11-01)``."""
        span = "" if self.kind == "day" else f" ({self.first_day} – {self.last_day})"
        return f"{self.kind_label} {self.text}{span}"

    @property
    def days(self) -> list[dt.date]:
        return [self.first_day + dt.timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]

    @property
    def end(self) -> dt.datetime:
        """The first moment after the cycle (where ages and cut-offs are counted to)."""
        return dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time())

    def window(self, grace_days: int) -> tuple[dt.date, dt.date]:
        """The days whose rows are loaded: the cycle and ``grace_days`` either side."""
        grace = dt.timedelta(days=int(grace_days))
        return self.first_day - grace, self.last_day + grace

    def next(self) -> Cycle:
        """The cycle after this one (next day, week or month)."""
        if self.kind == "day":
            return Cycle.parse((self.first_day + dt.timedelta(days=1)).isoformat())
        if self.kind == "week":
            y, w, _ = (self.first_day + dt.timedelta(days=7)).isocalendar()
            return Cycle.parse(f"{y}-W{w:02d}")
        return Cycle.parse(Period.parse(self.text).next())

    def previous(self) -> Cycle:
        """The cycle before this one (previous day, week or month): whose close carries into this one."""
        if self.kind == "day":
            return Cycle.parse((self.first_day - dt.timedelta(days=1)).isoformat())
        if self.kind == "week":
            y, w, _ = (self.first_day - dt.timedelta(days=7)).isocalendar()
            return Cycle.parse(f"{y}-W{w:02d}")
        return Cycle.parse(Period.parse(self.text).previous())


def day_of(times: pd.Series) -> pd.Series:
    """The calendar day of each time (null stays null)."""
    return pd.to_datetime(times.astype("datetime64[s]")).dt.date


def where(times: pd.Series, cycle: Cycle) -> pd.Series:
    """``before`` / ``inside`` / ``after`` the cycle for each time (a row without a time is inside)."""
    days = day_of(times)
    out = pd.Series(INSIDE, index=times.index, dtype="string")
    out[(days < cycle.first_day).fillna(False).to_numpy(dtype=bool)] = BEFORE
    out[(days > cycle.last_day).fillna(False).to_numpy(dtype=bool)] = AFTER
    return out


def in_window(frame: pd.DataFrame, time: str, cycle: Cycle, grace_days: int) -> pd.DataFrame:
    """The rows of ``frame`` whose ``time`` falls in the cycle or its grace window (no time: kept)."""
    if time not in frame.columns:
        return frame
    low, high = cycle.window(grace_days)
    days = day_of(frame[time])
    keep = days.isna() | ((days >= low) & (days <= high))
    return frame[keep.fillna(True).to_numpy(dtype=bool)]
