"""Dates as they are written on Chinese government pages: ``2025-03-01``, ``2025/3/1``, ``2025.03.01``,
``2025年3月1日``, ``二〇二五年三月一日``. Checks judge against the run's as-of date, never the wall clock."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator

from checks.text import cn_year, nfkc

_CN_NUM = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
           "九": 9, "十": 10}

_NUMERIC = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?!\d)")
_CHINESE = re.compile(r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月"
                      r"([一二三四五六七八九十]{1,3})日")


def _cn_small(token: str) -> int | None:
    """一 .. 三十一 in Chinese numerals."""
    if not token:
        return None
    if token == "十":
        return 10
    if "十" in token:
        tens, _, ones = token.partition("十")
        t = _CN_NUM.get(tens, 0) if tens else 1
        o = _CN_NUM.get(ones, 0) if ones else 0
        return t * 10 + o
    return _CN_NUM.get(token)


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def iter_dates(text: str | None) -> Iterator[tuple[dt.date, int, int]]:
    """Every full date (year, month, day) in ``text`` with its span in the NFKC-normalised text."""
    s = nfkc(text)
    for m in _NUMERIC.finditer(s):
        d = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            yield d, m.start(), m.end()
    for m in _CHINESE.finditer(s):
        y = cn_year(m.group(1))
        mo = _cn_small(m.group(2))
        da = _cn_small(m.group(3))
        if y and mo and da:
            d = _safe_date(y, mo, da)
            if d:
                yield d, m.start(), m.end()


def parse_date(text: str | None) -> dt.date | None:
    """The first date in ``text``, or None."""
    for d, _, _ in iter_dates(text):
        return d
    return None


def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar months later (31 Aug + 6 months = 28/29 Feb)."""
    idx = d.month - 1 + months
    y, m = d.year + idx // 12, idx % 12 + 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def add_period(d: dt.date, *, days: int = 0, months: int = 0, years: int = 0) -> dt.date:
    return add_months(d, months + 12 * years) + dt.timedelta(days=days)


def labelled_dates(text: str | None, label_pattern: str, *, gap: int = 6) -> list[tuple[dt.date, int, int]]:
    """Dates that follow a label (``更新日期：2026-03-01``, ``2026年3月修订`` is handled by the caller's
    pattern): the label must end at most ``gap`` characters before the date."""
    s = nfkc(text)
    labels = [m.end() for m in re.finditer(label_pattern, s)]
    out = []
    for d, a, b in iter_dates(s):
        if any(0 <= a - end <= gap for end in labels):
            out.append((d, a, b))
    return out
