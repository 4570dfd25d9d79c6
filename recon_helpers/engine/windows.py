"""Date windows of a recipe: how many days the right row's date may lie after (or before) the left's.

``days: 3`` is symmetric: the right date lies 3 days before to 3 days after the left date. A window
can also be one-sided and offset, written ``days: {min: 0, max: 3}`` ("0 to 3 days after": a bank
credit never arrives before the settlement it pays) or ``days: {min: 1, max: 1}`` ("exactly one day
after"). Always measured as *right date minus left date* in whole calendar days, for every rule and
compare that uses dates; in a compare between two named sides (e.g. right and third) it is the
second side's date minus the first's.
"""
from __future__ import annotations

from typing import Union

from pydantic import Field, model_validator

from recon_helpers.engine.steps import RecipeModel


class DayWindow(RecipeModel):
    """``{min: 0, max: 3}``: the right date minus the left date lies between ``min`` and ``max`` days."""

    min: int = Field(ge=-366, le=366)
    max: int = Field(ge=-366, le=366)

    @model_validator(mode="after")
    def _ordered(self) -> "DayWindow":
        if self.min > self.max:
            raise ValueError(f"days: min ({self.min}) is after max ({self.max}); write the earlier bound "
                             "as min, e.g. days: {min: 0, max: 3} for 0 to 3 days after")
        return self


Days = Union[int, DayWindow]


def check_days(value: "Days | None") -> "Days | None":
    """A plain ``days`` number is a symmetric window, so it cannot be negative."""
    if isinstance(value, int) and value < 0:
        raise ValueError("days cannot be negative; for a window that lies only after (or before) the "
                         "left date write days: {min: 0, max: 3}")
    return value


def bounds(days: "Days | None") -> tuple[int, int] | None:
    """(lowest, highest) allowed right-minus-left day difference; None without a window."""
    if days is None:
        return None
    if isinstance(days, DayWindow):
        return days.min, days.max
    return -int(days), int(days)


def reach(days: "Days | None") -> int | None:
    """The widest distance in days a window allows in either direction (for candidate lists)."""
    b = bounds(days)
    return None if b is None else max(abs(b[0]), abs(b[1]))


def describe(days: "Days | None") -> str:
    """The window in words, e.g. 'within 3 days', '0 to 3 days after', 'exactly 1 day after'."""
    b = bounds(days)
    if b is None:
        return "at any date"
    lo, hi = b
    if lo == -hi:
        return f"within {hi} day{'s' if hi != 1 else ''}"

    def part(n: int) -> str:
        return f"{abs(n)} day{'s' if abs(n) != 1 else ''} {'after' if n >= 0 else 'before'}"

    if lo == hi:
        return "the same day" if lo == 0 else f"exactly {part(lo)}"
    if lo >= 0:
        return f"{lo} to {part(hi)}"
    if hi <= 0:
        return f"{abs(hi)} to {part(lo)}"
    return f"{part(lo)} to {part(hi)}"


def between_sql(later: str, earlier: str, days: "Days | None") -> str:
    """SQL condition ``later - earlier`` (integer day numbers) inside the window; TRUE without one."""
    b = bounds(days)
    if b is None:
        return "TRUE"
    return f"{later} BETWEEN {earlier} + ({b[0]}) AND {earlier} + ({b[1]})"
