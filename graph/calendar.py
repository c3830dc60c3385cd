"""Dates for trends: steps of whole months, anchored on the first date."""

from __future__ import annotations

import calendar
from datetime import date

from graph.errors import InvalidArgument

MAX_POINTS = 600


def add_months(start: date, months: int) -> date:
    """`start` moved by whole months; a day past the month's end becomes its last day."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if not date.min.year <= year <= date.max.year:
        raise InvalidArgument(f"{months} months after {start} is past the calendar's last year, {date.max.year}")
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def trend_dates(start: date, end: date, months: int) -> list[date]:
    """`start`, then every `months` months up to `end`; `end` itself is always the last point."""
    if start > end:
        raise InvalidArgument(f"from ({start}) is after to ({end})")
    dates: list[date] = []
    while (point := add_months(start, len(dates) * months)) < end:
        dates.append(point)
        if len(dates) >= MAX_POINTS:
            raise InvalidArgument(f"more than {MAX_POINTS} points: choose a longer step or a shorter range")
    return [*dates, end]
