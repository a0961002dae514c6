"""Does this year's annual report repeat last year's? Sentence-level comparison of the reports' prose.

Two honest reports on the same template share a lot: section headings, table labels, set phrases such
as 本报告根据《中华人民共和国政府信息公开条例》……编制. Those are removed first (table cells, boilerplate
patterns from ``checks/data/annual_report.yaml``, lines of numbers, short sentences), and years are masked so
that a copy whose only change is 2024年 → 2025年 is still a copy. Other numbers are kept: a sentence whose
figures were updated is not a repeated sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from checks.base import load_data
from checks.table_grid import Grid
from checks.text import YEAR_TOKEN, sentences, squash

_LEADING_NUMBER = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|\([一二三四五六七八九十]+\)|\d+[.、])+")
_YEAR = re.compile(YEAR_TOKEN + r"(?=年)")


@dataclass(frozen=True)
class CopySettings:
    threshold: float
    min_sentence_chars: int
    min_compared_chars: int
    max_quoted: int
    boilerplate: tuple[re.Pattern[str], ...]


@cache
def settings() -> CopySettings:
    c = load_data("annual_report.yaml")["copy"]
    return CopySettings(threshold=float(c["threshold"]), min_sentence_chars=int(c["min_sentence_chars"]),
                        min_compared_chars=int(c["min_compared_chars"]),
                        max_quoted=int(c.get("max_quoted_sentences", 5)),
                        boilerplate=tuple(re.compile(p) for p in c["boilerplate"]))


@dataclass
class CopyResult:
    ratio: float
    compared_chars: int
    repeated: list[str]  # this year's sentences (as written) found in last year's report

    @property
    def copied(self) -> bool:
        return self.ratio >= settings().threshold


def _cell_labels(tables: list[Grid]) -> set[str]:
    out = set()
    for g in tables:
        for row in g.rows:
            for c in row:
                s = squash(c.text)
                if len(s) >= 6 and not s.isdigit():
                    out.add(s)
    return out


def comparable(text: str, tables: list[Grid]) -> list[tuple[str, str]]:
    """(normalised, as written) prose sentences of a report: what the copy comparison looks at."""
    cfg = settings()
    labels = _cell_labels(tables)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for sent in sentences(text):
        s = _LEADING_NUMBER.sub("", squash(sent))
        if sum(1 for ch in s if "\u4e00" <= ch <= "\u9fff") < cfg.min_sentence_chars:
            continue  # short sentences, headings and rows of numbers
        if any(p.search(s) for p in cfg.boilerplate):
            continue
        stripped = re.sub(r"\d+", "", s)
        if any(lab in s or re.sub(r"\d+", "", lab) == stripped for lab in labels if len(lab) >= 8):
            continue  # a table row read as text (PDF) or a caption repeated from the table
        norm = _YEAR.sub("Y", s)
        if norm in seen:
            continue
        seen.add(norm)
        out.append((norm, sent.strip()))
    return out


def compare(this_text: str, this_tables: list[Grid], last_text: str, last_tables: list[Grid]) -> CopyResult:
    this = comparable(this_text, this_tables)
    last = {n for n, _ in comparable(last_text, last_tables)}
    total = sum(len(n) for n, _ in this)
    repeated = [(n, w) for n, w in this if n in last]
    ratio = (sum(len(n) for n, _ in repeated) / total) if total else 0.0
    quoted = [w for _, w in sorted(repeated, key=lambda p: -len(p[0]))]
    return CopyResult(ratio=ratio, compared_chars=total, repeated=quoted)
