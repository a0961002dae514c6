"""The evidence store's tables (SQLAlchemy 2.x).

Every row that describes what was seen belongs to one run (`run_id`) and one site, so every run is
kept whole and a check can be re-run later on exactly what that run saw. Raw bodies, PDFs and
screenshots live in the content-addressed blob store (see ``storage.blobs``); rows hold their sha256.

Schema changes go through an Alembic migration in ``storage/migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Site(Base):
    """A unit under assessment, as the operator listed it (latest known description)."""

    __tablename__ = "sites"
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_type: Mapped[str] = mapped_column(String(32))  # county / department / township / city ...
    category: Mapped[str | None] = mapped_column(String(8))  # A / B where the rubric ranks by category
    url: Mapped[str] = mapped_column(Text)
    rubric: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)  # render mode, extra hosts, has_website
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Run(Base):
    """One crawl-and-check run over a list of sites. Never overwritten: history is the product."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), default="crawl")  # crawl / nightly / demo / distributed
    status: Mapped[str] = mapped_column(String(16), default="running")  # running/finished/failed/interrupted
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    as_of: Mapped[dt.date] = mapped_column(Date)
    assessment_year: Mapped[int] = mapped_column(Integer)
    tool_version: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # snapshot: limits, UA, rubric overrides
    sites_file: Mapped[str | None] = mapped_column(Text)
    previous_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    message: Mapped[str | None] = mapped_column(Text)


class RunSite(Base):
    """One site inside one run: the unit of work (resume, distributed workers) and its outcome."""

    __tablename__ = "run_sites"
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"), primary_key=True)
    # snapshot of the site's description at run time, so later edits of the sites file don't rewrite history
    name: Mapped[str] = mapped_column(String(200))
    unit_type: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    rubric: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending -> crawling -> crawled -> checked -> scored ; or failed / unreachable
    status: Mapped[str] = mapped_column(String(16), default="pending")
    worker: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    pages_reused: Mapped[int] = mapped_column(Integer, default=0)  # 304 / unchanged, evidence reused
    bytes_downloaded: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)  # fetch statuses histogram, limits hit
    error: Mapped[str | None] = mapped_column(Text)


class Page(Base):
    """One fetch of one URL in one run, whatever came back. The fetch status is not a finding."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("run_id", "site_id", "url", name="uq_page_run_site_url"),
        Index("ix_pages_run_site", "run_id", "site_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    url: Mapped[str] = mapped_column(Text)  # as requested (normalised)
    final_url: Mapped[str | None] = mapped_column(Text)  # after redirects
    # home / platform / column_list / document / attachment / guide / annual_report / link_probe / other
    kind: Mapped[str] = mapped_column(String(24), default="other")
    # ok, not_modified_reused, not_found, server_error, timeout, dns_error, connection_refused, blocked,
    # robots_disallowed, too_large, redirect_offsite, redirect_loop, trap_suppressed, decode_error,
    # connection_lost, limit_reached, error
    fetch_status: Mapped[str] = mapped_column(String(24))
    http_status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(120))
    encoding: Mapped[str | None] = mapped_column(String(32))
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str | None] = mapped_column(String(64))  # raw body in the blob store
    size: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    publish_date: Mapped[dt.date | None] = mapped_column(Date)
    column_id: Mapped[int | None] = mapped_column(Integer)  # columns.id the page was reached from
    rendered: Mapped[bool] = mapped_column(Boolean, default=False)  # rendered by the browser
    screenshot_sha256: Mapped[str | None] = mapped_column(String(64))
    reused_from_run: Mapped[int | None] = mapped_column(Integer)  # evidence reused after a 304, or copied unasked
    # as-of date of the run whose request last vouched for this evidence (a 200 or a 304); a row copied from
    # the previous run without a request keeps it, so the crawler can revalidate evidence older than a max age
    validated_as_of: Mapped[dt.date | None] = mapped_column(Date)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    referer: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Column(Base):
    """A column (栏目) of the platform's menu, with what its list showed."""

    __tablename__ = "columns"
    __table_args__ = (Index("ix_columns_run_site", "run_id", "site_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    name: Mapped[str] = mapped_column(String(200))  # exactly as shown
    url: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("columns.id"))
    level: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str | None] = mapped_column(String(24))  # menu / tree / js_var / link
    item_count: Mapped[int | None] = mapped_column(Integer)  # None = list could not be read
    total_reported: Mapped[int | None] = mapped_column(Integer)  # total announced by the pager, if any
    newest_date: Mapped[dt.date | None] = mapped_column(Date)
    oldest_date: Mapped[dt.date | None] = mapped_column(Date)
    list_pages: Mapped[int] = mapped_column(Integer, default=0)
    capped_at: Mapped[int | None] = mapped_column(Integer)  # per-column cap hit (newest N kept)
    empty_note: Mapped[str | None] = mapped_column(Text)  # text shown instead of items, e.g. 本栏目暂无信息
    list_status: Mapped[str | None] = mapped_column(String(24))  # fetch status of its list page
    position: Mapped[int] = mapped_column(Integer, default=0)


class ColumnItem(Base):
    """One entry of a column's list (title, link, date as listed)."""

    __tablename__ = "column_items"
    __table_args__ = (Index("ix_column_items_run_site", "run_id", "site_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    column_id: Mapped[int] = mapped_column(ForeignKey("columns.id"))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    date: Mapped[dt.date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Document(Base):
    """A document page (policy, interpretation, guide, annual report ...) with its metadata table."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_run_site", "run_id", "site_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))
    url: Mapped[str] = mapped_column(Text)
    column_id: Mapped[int | None] = mapped_column(Integer)
    # policy / interpretation / annual_report / guide / system / other
    kind: Mapped[str] = mapped_column(String(24), default="other")
    title: Mapped[str | None] = mapped_column(Text)
    doc_number: Mapped[str | None] = mapped_column(String(120))  # 文号
    index_no: Mapped[str | None] = mapped_column(String(120))  # 索引号
    publisher: Mapped[str | None] = mapped_column(String(200))  # 发布机构
    written_date: Mapped[dt.date | None] = mapped_column(Date)  # 成文日期
    publish_date: Mapped[dt.date | None] = mapped_column(Date)  # 发布日期
    disclosure_mode: Mapped[str | None] = mapped_column(String(64))  # 公开方式 (HTML metadata)
    validity: Mapped[str | None] = mapped_column(String(64))  # 有效性
    body_text: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the raw metadata table, label -> value
    rendered: Mapped[bool] = mapped_column(Boolean, default=False)


class Attachment(Base):
    """A file linked from a document (PDF, DOC/DOCX, WPS, OFD ...), recorded even when not parsed."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_run_site", "run_id", "site_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    page_url: Mapped[str] = mapped_column(Text)  # the page that links it
    url: Mapped[str] = mapped_column(Text)
    anchor_text: Mapped[str | None] = mapped_column(Text)
    ext: Mapped[str | None] = mapped_column(String(12))
    fetch_status: Mapped[str | None] = mapped_column(String(24))
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))


class Link(Base):
    """A link seen on a stored page, with its anchor text."""

    __tablename__ = "links"
    __table_args__ = (Index("ix_links_run_site", "run_id", "site_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    from_url: Mapped[str] = mapped_column(Text)
    to_url: Mapped[str] = mapped_column(Text)
    anchor_text: Mapped[str | None] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=True)
    rendered: Mapped[bool] = mapped_column(Boolean, default=False)  # only present after JS rendering


class Finding(Base):
    """What a check concluded, with its evidence. Passes are findings too."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("run_id", "site_id", "check_id", "fingerprint", name="uq_finding"),
        Index("ix_findings_run_site", "run_id", "site_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    check_id: Mapped[str] = mapped_column(String(32))
    check_version: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))  # e.g. guide.element_missing
    status: Mapped[str] = mapped_column(String(16))  # fail / pass / unverifiable / not_applicable
    severity: Mapped[str] = mapped_column(String(8), default="medium")  # high / medium / low / info
    subject: Mapped[str] = mapped_column(Text, default="")  # what it is about: column, element, URL
    # stable across runs: sha1(check_id|code|subject); diff and disputes key on it
    fingerprint: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)  # snippet
    evidence_file: Mapped[str | None] = mapped_column(String(64))  # blob sha256 (screenshot / PDF)
    evidence_page: Mapped[int | None] = mapped_column(Integer)  # PDF page number, 1-based
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Score(Base):
    """One indicator's score for one site under one rubric in one run (and the total rows)."""

    __tablename__ = "scores"
    __table_args__ = (Index("ix_scores_run_site", "run_id", "site_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    rubric_id: Mapped[str] = mapped_column(String(64))
    indicator_id: Mapped[str] = mapped_column(String(64))  # "__total__" for the site's total row
    path: Mapped[str] = mapped_column(Text, default="")  # 一级/二级/三级 names joined with " / "
    name: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(16), default="automated")  # automated / partial / manual
    max_points: Mapped[float] = mapped_column(Float, default=0.0)
    deducted: Mapped[float] = mapped_column(Float, default=0.0)
    bonus: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float | None] = mapped_column(Float)  # None = 待人工评分
    basis: Mapped[list[Any]] = mapped_column(default=list)  # finding ids behind the score
    explanation: Mapped[str | None] = mapped_column(Text)
    grade: Mapped[str | None] = mapped_column(String(16))
    rank: Mapped[int | None] = mapped_column(Integer)
    adjusted: Mapped[bool] = mapped_column(Boolean, default=False)  # recomputed after disputes
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Dispute(Base):
    """An auditor's dispute of a finding; keyed on the fingerprint so it follows the finding across runs."""

    __tablename__ = "disputes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    fingerprint: Mapped[str] = mapped_column(String(40))
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(16), default="cli")  # cli / overrides_file
