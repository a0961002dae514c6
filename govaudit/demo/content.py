"""Chinese text for the demo platforms: titles, paragraphs, dates, 索引号 and 文号.

Word tables live in ``data/content.yaml``; this module only draws from them with the generator's seeded
``random.Random`` so two generations give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import cache
from importlib import resources
from typing import Any

import yaml

from govaudit.demo.model import is_workday, previous_workday


@cache
def words() -> dict[str, Any]:
    text = resources.files("govaudit.demo").joinpath("data", "content.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def slug(name: str) -> str:
    return words()["column_slugs"][name]


def spread_dates(rng: random.Random, newest: dt.date, n: int, gap: tuple[int, int]) -> list[dt.date]:
    """``n`` working days, newest first, the first exactly ``newest`` (itself moved to a working day),
    then going back by a random gap of ``gap`` calendar days each time."""
    out: list[dt.date] = []
    day = previous_workday(newest)
    for _ in range(n):
        out.append(day)
        day = previous_workday(day - dt.timedelta(days=rng.randint(*gap)))
    return out


def pick(rng: random.Random, pool: list[str], k: int) -> list[str]:
    return rng.sample(pool, min(k, len(pool)))


def fill(template: str, **kw: Any) -> str:
    return template.format(**kw)


def index_no(credit_code: str, day: dt.date, seq: int) -> str:
    """索引号 as the national catalogue prints it: unit credit code / year - sequence."""
    return f"{credit_code}/{day.year}-{seq:05d}"


def doc_no(prefix: str, year: int, seq: int) -> str:
    """文号, e.g. 青政办发〔2026〕12号."""
    return f"{prefix}〔{year}〕{seq}号"


def written_before(rng: random.Random, published: dt.date) -> dt.date:
    """成文日期: a working day one to six days before publication."""
    day = published - dt.timedelta(days=rng.randint(1, 6))
    while not is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def fullwidth(text: str) -> str:
    return text.translate(FULLWIDTH)
