"""The check contract: one module per check, a stable id, pure functions over stored evidence.

A check module defines ``CHECK = CheckSpec(...)`` whose ``run(ctx)`` returns findings. It never fetches and
never imports a spider: everything it may look at is in ``ctx.evidence`` (see ``storage.evidence``).
Status vocabulary (../shared/DESIGN.md): ``fail``, ``pass``, ``unverifiable`` (always with the reason; never
costs points) and ``not_applicable``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from storage.evidence import SiteEvidence

Status = Literal["fail", "pass", "unverifiable", "not_applicable"]
STATUSES: tuple[str, ...] = ("fail", "pass", "unverifiable", "not_applicable")
SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "info")

# What the crawler can be asked to refetch for a check (``govaudit check --refetch``).
SCOPES: frozenset[str] = frozenset({"menu", "lists", "documents", "attachments", "link_probes", "screenshots"})


@dataclass
class Finding:
    """One conclusion of a check. ``subject`` names what it is about (a column, an element, a URL) and,
    with the code, makes the finding's identity across runs (its fingerprint)."""

    code: str
    status: Status
    message: str
    subject: str = ""
    url: str | None = None
    evidence: str | None = None
    evidence_file: str | None = None  # blob sha256
    evidence_page: int | None = None  # 1-based PDF page
    severity: str = "medium"
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"bad status {self.status!r} for {self.code}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"bad severity {self.severity!r} for {self.code}")
        if self.status == "unverifiable" and not (self.details.get("reason") or self.message):
            raise ValueError(f"{self.code}: unverifiable needs a reason")

    def fingerprint(self, check_id: str) -> str:
        return fingerprint(check_id, self.code, self.subject)


def url_subject(url: str) -> str:
    """A URL as a finding subject: path plus ``?query``, no scheme/host/port, so a site moved to another
    port keeps its findings' identity (docs/conventions.md)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fingerprint(check_id: str, code: str, subject: str) -> str:
    return hashlib.sha1(f"{check_id}|{code}|{subject}".encode()).hexdigest()


@dataclass(frozen=True)
class CheckContext:
    evidence: SiteEvidence
    params: dict[str, Any] = field(default_factory=dict)  # per-rubric / per-run parameters (e.g. sample size)

    @property
    def as_of(self) -> dt.date:
        return self.evidence.as_of

    @property
    def assessment_year(self) -> int:
        return self.evidence.assessment_year


@dataclass(frozen=True)
class CheckSpec:
    id: str  # stable: never renamed once released
    version: str  # bump when the logic changes what it concludes
    title: str  # plain Chinese, shown in reports
    codes: tuple[str, ...]  # every finding code this check can emit
    run: Callable[[CheckContext], list[Finding]]
    needs: frozenset[str] = frozenset({"menu", "lists", "documents"})  # crawl scope for --refetch
    rubric_refs: tuple[str, ...] = ()  # "changning-2020:附件2 第X项" style references


@cache
def load_data(name: str) -> Any:
    """Load a data table (YAML) kept next to the checks in checks/data/."""
    text = resources.files("checks").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)
