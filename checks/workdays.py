"""China's official working-day calendar (法定节假日 and the adjusted working weekends 调休上班).

Timeliness rules in the rubrics count working days (工作日), e.g. langfang-bazhou-2020-indicator-breakdown.txt,
政策解读 / 解读情况: "…在5个工作日内进行宣传解读". A plain Monday–Friday count is wrong around 春节 and 国庆,
when the State Council moves weekends, so the calendar comes from the maintained ``chinesecalendar``
package (its data follows the State Council's yearly 节假日安排 notice).

The package only knows the years it ships data for (2004–2026 in version 1.11). Outside them we raise
``CalendarNotCovered`` instead of guessing: a guessed working day could turn a timely publication into a
deduction. Callers turn that error into an ``unverifiable`` finding.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import chinese_calendar
from chinese_calendar import constants as _cc_data


class CalendarNotCovered(ValueError):
    """The date lies in a year the holiday calendar has no official data for."""


@cache
def covered_years() -> tuple[int, int]:
    """First and last year (inclusive) with official holiday data in the installed package."""
    years = {d.year for d in _cc_data.holidays} | {d.year for d in _cc_data.workdays}
    return min(years), max(years)


def _require_covered(day: dt.date) -> None:
    first, last = covered_years()
    if not first <= day.year <= last:
        raise CalendarNotCovered(
            f"no official holiday calendar for {day.year} (covered: {first}–{last}; "
            f"update the chinesecalendar package once the State Council publishes that year's schedule)")


def is_workday(day: dt.date) -> bool:
    """True on a working day, including a weekend made a working day by 调休."""
    _require_covered(day)
    return bool(chinese_calendar.is_workday(day))


def workdays_after(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: 0 for the same day or the next non-working days, 1 for the next working
    day, and so on. Negative when ``end`` is before ``start`` (same count, backwards).

    "Published within N working days" therefore means ``workdays_after(policy, interpretation) <= N``.
    """
    if end < start:
        return -workdays_after(end, start)
    _require_covered(start)
    _require_covered(end)
    count = 0
    day = start + dt.timedelta(days=1)
    while day <= end:
        if chinese_calendar.is_workday(day):
            count += 1
        day += dt.timedelta(days=1)
    return count


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The date ``n`` working days after ``start`` (``n`` >= 0; 0 gives ``start`` itself)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    _require_covered(start)
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        _require_covered(day)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day
