"""Dates as Chinese platforms print them: 2025-03-01, 2025/3/1, 2025.03.01, 2025年3月1日, 20250301."""

from __future__ import annotations

import datetime as dt
import re

DATE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2})(?!\d))")


def parse_date(text: str | None) -> dt.date | None:
    """First valid calendar date in the text, or None."""
    if not text:
        return None
    for m in DATE_RE.finditer(str(text)):
        y = int(m.group(1))
        mo, d = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
        try:
            return dt.date(y, int(mo), int(d))
        except ValueError:
            continue
    return None


def parse_date_value(value: object) -> dt.date | None:
    """A date from a JSON value: text, or a Unix timestamp in seconds or milliseconds."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        ts = float(value)
        if ts > 1e11:
            ts /= 1000.0
        if 3e8 < ts < 5e9:
            return dt.datetime.fromtimestamp(ts, dt.UTC).date()
        return None
    return parse_date(str(value))
