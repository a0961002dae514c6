"""What a report shows, as plain records read from the store (see ``reports.loader``).

Every writer (CSV, XLSX, HTML) takes a ``ReportData`` and nothing else, so they all show the same numbers
and none of them can touch the database or recompute a score.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from reports.disputes import DisputeRecord

TOTAL_INDICATOR = "__total__"  # the rubric engine's per-site total row (storage.models.Score)


@dataclass(frozen=True)
class RunInfo:
    id: int
    kind: str
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    as_of: dt.date
    assessment_year: int
    tool_version: str
    previous_run_id: int | None


@dataclass(frozen=True)
class SiteRow:
    """A site as the run saw it (the RunSite snapshot, not today's sites file)."""

    site_id: str
    name: str
    unit_type: str
    category: str | None
    url: str
    rubric: str | None
    status: str
    error: str | None
    pages_fetched: int


@dataclass(frozen=True)
class DisputeInfo:
    id: int
    reason: str
    author: str | None
    created_at: dt.datetime | None
    source: str


@dataclass
class FindingRow:
    id: int
    run_id: int
    site_id: str
    check_id: str
    check_version: str
    code: str
    status: str
    severity: str
    subject: str
    fingerprint: str
    message: str
    url: str | None
    evidence: str | None
    evidence_file: str | None  # blob sha256
    evidence_page: int | None
    details: dict[str, Any]
    created_at: dt.datetime | None
    # derived from other stored rows by the loader
    rubric_items: list[str] = field(default_factory=list)
    first_seen_run: int | None = None
    dispute: DisputeInfo | None = None
    page_screenshot: str | None = None  # blob sha256 of the screenshot of the page at ``url``, if taken

    @property
    def evidence_blob(self) -> str | None:
        """The file an auditor opens to verify: the finding's own, else a screenshot of its page."""
        return self.evidence_file or self.page_screenshot


@dataclass(frozen=True)
class ScoreRow:
    id: int
    site_id: str
    rubric_id: str
    indicator_id: str
    path: str
    name: str
    mode: str
    max_points: float
    deducted: float
    bonus: float
    score: float | None  # None = 待人工评分
    basis: tuple[int, ...]  # finding ids behind the score
    explanation: str | None
    grade: str | None
    rank: int | None
    adjusted: bool
    details: dict[str, Any] = field(default_factory=dict)  # the engine's extras, e.g. automated/manual split

    @property
    def is_total(self) -> bool:
        return self.indicator_id == TOTAL_INDICATOR

    @property
    def label(self) -> str:
        """How a finding's ``rubric_items`` names this indicator: rubric id, indicator id and path."""
        where = self.path or self.name
        return f"{self.rubric_id}:{self.indicator_id}" + (f" {where}" if where else "")


@dataclass
class ReportData:
    run: RunInfo
    sites: list[SiteRow]
    findings: list[FindingRow]
    scores: list[ScoreRow]
    check_titles: dict[str, str] = field(default_factory=dict)
    disputes: list[DisputeRecord] = field(default_factory=list)  # all, active or not, of the run's sites

    # Indexes built on first use: writers ask per finding and per site, and a run may hold 100k findings.
    @cached_property
    def _site_by_id(self) -> dict[str, SiteRow]:
        return {s.site_id: s for s in self.sites}

    @cached_property
    def _findings_by_site(self) -> dict[str, list[FindingRow]]:
        out: dict[str, list[FindingRow]] = defaultdict(list)
        for f in self.findings:
            out[f.site_id].append(f)
        return out

    @cached_property
    def _scores_by_site(self) -> dict[str, list[ScoreRow]]:
        out: dict[str, list[ScoreRow]] = defaultdict(list)
        for r in self.scores:
            out[r.site_id].append(r)
        return out

    def site(self, site_id: str) -> SiteRow | None:
        return self._site_by_id.get(site_id)

    def findings_of(self, site_id: str) -> list[FindingRow]:
        return list(self._findings_by_site.get(site_id, []))

    def scores_of(self, site_id: str) -> list[ScoreRow]:
        return list(self._scores_by_site.get(site_id, []))

    def totals(self) -> list[ScoreRow]:
        """The per-site total rows, ranked as the rubric engine ranked them (rank, then score)."""
        rows = [s for s in self.scores if s.is_total]
        return sorted(rows, key=lambda r: (r.rubric_id, r.rank if r.rank is not None else 10**9,
                                           -(r.score if r.score is not None else -1e9), r.site_id))
