from datetime import date

import pytest

from graph.calendar import MAX_POINTS, add_months, trend_dates
from graph.errors import InvalidArgument


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2021, 1, 31), 1, date(2021, 2, 28)),
        (date(2020, 1, 31), 1, date(2020, 2, 29)),
        (date(2021, 11, 15), 3, date(2022, 2, 15)),
        (date(2021, 7, 1), 12, date(2022, 7, 1)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_trend_keeps_the_anchor_day_and_ends_on_to() -> None:
    assert trend_dates(date(2021, 1, 31), date(2021, 4, 15), 1) == [
        date(2021, 1, 31),
        date(2021, 2, 28),
        date(2021, 3, 31),
        date(2021, 4, 15),
    ]


def test_a_single_day_is_one_point() -> None:
    assert trend_dates(date(2021, 7, 1), date(2021, 7, 1), 3) == [date(2021, 7, 1)]


def test_reversed_range_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="after"):
        trend_dates(date(2021, 7, 2), date(2021, 7, 1), 1)


def test_too_many_points_are_rejected() -> None:
    with pytest.raises(InvalidArgument, match=str(MAX_POINTS)):
        trend_dates(date(1900, 1, 1), date(2021, 1, 1), 1)
