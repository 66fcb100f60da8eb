"""The working-day calendar counts deadlines the way an office does: weekends, holidays and 调休."""

import datetime as dt

from hypothesis import given, strategies as st

from shangliang.core.calendar import WorkingCalendar

D = dt.date
# National Day 2026: Oct 1-7 off, Sunday Sep 27 and Saturday Oct 10 worked instead.
NATIONAL_DAY = WorkingCalendar(
    holidays=frozenset(D(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset({D(2026, 9, 27), D(2026, 10, 10)}),
)


def test_weekend_is_skipped():
    friday = D(2026, 11, 20)
    assert WorkingCalendar().add_working_days(friday, 1) == D(2026, 11, 23)


def test_holidays_are_skipped_and_swapped_weekend_days_count():
    assert NATIONAL_DAY.is_working_day(D(2026, 9, 27))  # a Sunday worked instead
    assert not NATIONAL_DAY.is_working_day(D(2026, 10, 5))  # a Monday off
    # From Wed Sep 30: the next working day is Thu Oct 8, then Fri Oct 9, then Sat Oct 10.
    assert NATIONAL_DAY.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert NATIONAL_DAY.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)


def test_zero_days_is_the_start_and_negative_is_refused():
    import pytest

    assert WorkingCalendar().add_working_days(D(2026, 1, 1), 0) == D(2026, 1, 1)
    with pytest.raises(ValueError):
        WorkingCalendar().add_working_days(D(2026, 1, 1), -1)


@given(start=st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31)), days=st.integers(0, 60))
def test_adding_then_counting_gives_back_the_days(start, days):
    end = NATIONAL_DAY.add_working_days(start, days)
    assert NATIONAL_DAY.working_days_between(start, end) == days
    assert days == 0 or NATIONAL_DAY.is_working_day(end)
