"""The working-day calendar follows the State Council's holiday schedule, including 调休 weekends."""

from __future__ import annotations

import datetime as dt

import pytest

from checks.workdays import CalendarNotCovered, add_workdays, covered_years, is_workday, workdays_after

D = dt.date


def test_2026_is_covered() -> None:
    first, last = covered_years()
    assert first <= 2026 <= last


def test_national_day_week_and_adjusted_weekend_2026() -> None:
    # 国务院办公厅 2026 schedule: 10月1日至7日放假, 10月10日（星期六）上班
    assert not is_workday(D(2026, 10, 1))
    assert not is_workday(D(2026, 10, 7))
    assert is_workday(D(2026, 10, 10)) and D(2026, 10, 10).weekday() == 5
    assert not is_workday(D(2026, 10, 11))  # an ordinary Sunday


def test_spring_festival_2026_adjusted_saturdays() -> None:
    assert is_workday(D(2026, 2, 14)) and D(2026, 2, 14).weekday() == 5
    assert is_workday(D(2026, 2, 28))
    assert not is_workday(D(2026, 2, 17))  # 春节


def test_workdays_after_counts_only_working_days() -> None:
    assert workdays_after(D(2026, 3, 2), D(2026, 3, 2)) == 0  # same day
    assert workdays_after(D(2026, 3, 6), D(2026, 3, 9)) == 1  # Friday -> Monday
    # 9月30日（Wed） -> 10月9日（Fri）: 10月1–7日 holidays, 8日 Thu and 9日 Fri are the working days => 2
    assert workdays_after(D(2026, 9, 30), D(2026, 10, 9)) == 2
    # with the 调休 Saturday 10月10日 it is one more than a Monday–Friday count would say
    assert workdays_after(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert workdays_after(D(2026, 3, 9), D(2026, 3, 6)) == -1


def test_add_workdays_skips_holidays() -> None:
    assert add_workdays(D(2026, 9, 30), 0) == D(2026, 9, 30)
    assert add_workdays(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_workdays(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert workdays_after(D(2026, 9, 30), add_workdays(D(2026, 9, 30), 5)) == 5


def test_outside_covered_years_is_an_explicit_error() -> None:
    _first, last = covered_years()
    with pytest.raises(CalendarNotCovered):
        is_workday(D(last + 1, 3, 1))
    with pytest.raises(CalendarNotCovered):
        workdays_after(D(last, 12, 30), D(last + 1, 1, 5))
    with pytest.raises(CalendarNotCovered):
        add_workdays(D(last, 12, 30), 30)
