"""The evidence of one site in one run, as plain records: what every check takes as input.

Like Lighthouse's artifacts: gathered once by the crawler, stored, and re-loadable at any time so a check
runs offline and gives the same answer. Checks see these dataclasses, never ORM rows or the network.
Blob contents (HTML bodies, PDFs) are read through ``SiteEvidence.blob`` from the content-addressed store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import models as m


@dataclass(frozen=True)
class SiteInfo:
    site_id: str
    name: str
    unit_type: str  # county / department / township / city ...
    category: str | None
    url: str
    rubric: str | None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_department(self) -> bool:
        return self.unit_type in {"department", "部门", "县直部门", "区直部门", "市直部门"}


@dataclass(frozen=True)
class PageRec:
    id: int
    url: str
    final_url: str | None
    kind: str
    fetch_status: str
    http_status: int | None
    content_type: str | None
    encoding: str | None
    sha256: str | None
    size: int | None
    title: str | None
    publish_date: dt.date | None
    column_id: int | None
    rendered: bool
    screenshot_sha256: str | None
    referer: str | None
    error: str | None


@dataclass(frozen=True)
class ColumnRec:
    id: int
    name: str
    url: str | None
    parent_id: int | None
    level: int
    source: str | None
    item_count: int | None
    total_reported: int | None
    newest_date: dt.date | None
    oldest_date: dt.date | None
    capped_at: int | None
    empty_note: str | None
    list_status: str | None


@dataclass(frozen=True)
class ColumnItemRec:
    id: int
    column_id: int
    title: str
    url: str | None
    date: dt.date | None


@dataclass(frozen=True)
class DocumentRec:
    id: int
    url: str
    column_id: int | None
    kind: str
    title: str | None
    doc_number: str | None
    index_no: str | None
    publisher: str | None
    written_date: dt.date | None
    publish_date: dt.date | None
    disclosure_mode: str | None
    validity: str | None
    body_text: str | None
    meta: dict[str, Any]
    rendered: bool
    page_id: int | None


@dataclass(frozen=True)
class AttachmentRec:
    id: int
    document_id: int | None
    page_url: str
    url: str
    anchor_text: str | None
    ext: str | None
    fetch_status: str | None
    content_type: str | None
    size: int | None
    sha256: str | None


@dataclass(frozen=True)
class LinkRec:
    from_url: str
    to_url: str
    anchor_text: str | None
    internal: bool
    rendered: bool


@dataclass
class SiteEvidence:
    """Everything one run saw of one site, plus the dates the checks must judge against."""

    run_id: int
    site: SiteInfo
    as_of: dt.date
    assessment_year: int
    run_status: str  # the RunSite status: crawled / unreachable / failed ...
    pages: list[PageRec]
    columns: list[ColumnRec]
    items: list[ColumnItemRec]
    documents: list[DocumentRec]
    attachments: list[AttachmentRec]
    links: list[LinkRec]
    read_blob: Callable[[str], bytes] | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    def blob(self, sha256: str) -> bytes:
        if self.read_blob is None:
            raise LookupError("no blob store attached to this evidence")
        return self.read_blob(sha256)

    def text_of(self, page: PageRec) -> str | None:
        """Decoded body of a stored page (the crawler recorded the encoding it used)."""
        if not page.sha256:
            return None
        raw = self.blob(page.sha256)
        return raw.decode(page.encoding or "utf-8", errors="replace")

    @cached_property
    def page_by_url(self) -> dict[str, PageRec]:
        out: dict[str, PageRec] = {}
        for p in self.pages:
            out.setdefault(p.url, p)
            if p.final_url:
                out.setdefault(p.final_url, p)
        return out

    @cached_property
    def column_by_id(self) -> dict[int, ColumnRec]:
        return {c.id: c for c in self.columns}

    def items_of(self, column_id: int) -> list[ColumnItemRec]:
        return [i for i in self.items if i.column_id == column_id]

    def children_of(self, column_id: int | None) -> list[ColumnRec]:
        return [c for c in self.columns if c.parent_id == column_id]


def _recs(rows, rec_type):
    names = [f for f in rec_type.__dataclass_fields__]
    return [rec_type(**{n: getattr(r, n) for n in names}) for r in rows]


def load_evidence(session: Session, run_id: int, site_id: str,
                  read_blob: Callable[[str], bytes] | None = None) -> SiteEvidence:
    run = session.get(m.Run, run_id)
    if run is None:
        raise LookupError(f"no run {run_id}")
    rs = session.get(m.RunSite, (run_id, site_id))
    if rs is None:
        raise LookupError(f"site {site_id!r} is not part of run {run_id}")

    def rows(model):
        q = select(model).where(model.run_id == run_id, model.site_id == site_id).order_by(model.id)
        return session.scalars(q).all()

    site = SiteInfo(site_id=rs.site_id, name=rs.name, unit_type=rs.unit_type, category=rs.category,
                    url=rs.url, rubric=rs.rubric, options=dict(rs.options or {}))
    return SiteEvidence(
        run_id=run_id,
        site=site,
        as_of=run.as_of,
        assessment_year=run.assessment_year,
        run_status=rs.status,
        pages=_recs(rows(m.Page), PageRec),
        columns=_recs(rows(m.Column), ColumnRec),
        items=_recs(rows(m.ColumnItem), ColumnItemRec),
        documents=_recs(rows(m.Document), DocumentRec),
        attachments=_recs(rows(m.Attachment), AttachmentRec),
        links=_recs(rows(m.Link), LinkRec),
        read_blob=read_blob,
        stats=dict(rs.stats or {}),
    )
