"""What the engine needs to know of a finding: a plain record, so scoring runs without a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class FindingLike(Protocol):
    id: int | None
    site_id: str
    check_id: str
    code: str
    status: str
    subject: str
    message: str
    url: str | None
    fingerprint: str
    details: dict[str, Any]


@dataclass(frozen=True)
class PlainFinding:
    id: int | None
    site_id: str
    check_id: str
    code: str
    status: str  # fail / pass / unverifiable / not_applicable
    subject: str = ""
    message: str = ""
    url: str | None = None
    fingerprint: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, f: FindingLike) -> PlainFinding:
        return cls(id=f.id, site_id=f.site_id, check_id=f.check_id, code=f.code, status=f.status,
                   subject=f.subject or "", message=f.message or "", url=f.url, fingerprint=f.fingerprint or "",
                   details=dict(f.details or {}))


def reason_of(f: FindingLike) -> str:
    """Why a finding could not be verified, in the words the check gave."""
    details = f.details or {}
    reason = details.get("reason") if isinstance(details, dict) else None
    return str(reason or f.message or f.code)
