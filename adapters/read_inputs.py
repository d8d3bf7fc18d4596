"""Inputs and defaults the reads of the CLI and of the HTTP API share (one definition for
both): the day a talk is due by, the month a meeting schedule is checked through, and an
event's field as history rows show it."""
from __future__ import annotations

import datetime as dt
from typing import Any

from domain.asof import SHANGHAI
from domain.errors import InvalidInput
from domain.members.care import check_date


def day_of(value: str | None) -> dt.date:
    """``value`` (YYYY-MM-DD, the ``today`` field) as a date; None: today in Beijing time.
    :class:`InvalidInput` (field ``today``) if it is not a date."""
    if value is None:
        return dt.datetime.now(SHANGHAI).date()
    try:
        return dt.date.fromisoformat(check_date(value))
    except ValueError as e:
        raise InvalidInput(str(e), "today") from None


def default_through(year: str) -> str:
    """December of a past year; in the current year, the month before this one. ``year``: YYYY."""
    today = dt.datetime.now(SHANGHAI).date()
    if int(year) < today.year:
        return f"{year}-12"
    if int(year) > today.year or today.month == 1:
        return f"{int(year) - 1}-12"  # no block of the year has ended yet
    return f"{year}-{today.month - 1:02d}"


def plain_detail(value: Any) -> Any:
    """An event's field in a history row: JSON values as they are, anything else as text."""
    return value if isinstance(value, (str, int, bool, type(None), list, dict)) else str(value)
