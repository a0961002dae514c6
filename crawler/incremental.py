"""What the previous run saw of a site, loaded once per site, and when its evidence may be reused.

Two levels of reuse on a nightly recrawl:

- **Conditional requests** (any page): If-None-Match / If-Modified-Since from the previous run's row; a 304
  hands the spider the stored body, which is parsed again (``ConditionalRequestMiddleware``).
- **Skipping** (pages under unchanged columns): when every list page of a column answers 304 or is
  byte-identical and the column lists the same entries (title, URL, date) as last time, the documents,
  attachments and link probes under it are not requested at all: their rows are copied from the previous
  run (``ReusedPage``). Never for a page that failed last time or carried an error note, never for a
  rendered page, and never for evidence last confirmed by a request ``GOVAUDIT_REVALIDATE_DAYS`` or more
  before this run's as-of date (as-of dates on both sides, so a silently edited document is caught within
  that many days of nightly runs; 0 turns skipping off).

Skipping needs a previous run that finished the site (a crashed one may lack the children of a page), and
a page's children are the pages the previous run requested with it as referer — what parsing it again
would queue on an unchanged platform.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from storage import models as m

DONE_STATUSES = frozenset({"crawled", "checked", "scored"})
# what a crawl must have walked for its pages to stand for the whole site (screenshots add no page)
FULL_SCOPE = frozenset({"menu", "lists", "documents", "attachments", "link_probes"})
DOCUMENT_KINDS = frozenset({"document", "guide", "annual_report"})
# kinds a skipped page's children can have: its attachments, the interpretations it links, the JSON that fills
# its runtime box; link probes are decided after the walk, list pages are always requested
CHILD_KINDS = DOCUMENT_KINDS | {"attachment", "other"}

# what the previous row may have been for a request of each kind (a document URL that served a file is
# stored as an attachment)
REUSABLE_AS: dict[str, frozenset[str]] = {
    "document": DOCUMENT_KINDS | {"attachment"},
    "attachment": frozenset({"attachment"}),
    "other": frozenset({"other"}),
    "link_probe": frozenset({"link_probe"}),
}
OTHER = REUSABLE_AS["other"]

Entry = tuple[str, str | None, dt.date | None]  # a list entry: title, URL, date


@dataclass(frozen=True)
class PrevPage:
    id: int
    url: str
    final_url: str | None
    kind: str
    fetch_status: str
    http_status: int | None
    content_type: str | None
    etag: str | None
    last_modified: str | None
    sha256: str | None
    rendered: bool
    error: str | None
    referer: str | None
    validated_as_of: dt.date


@dataclass
class PreviousRun:
    """The newest earlier run with pages of this site: its pages by URL, list entries by column path."""

    run_id: int | None = None
    as_of: dt.date | None = None
    finished: bool = False  # the site was crawled to the end in that run
    pages: dict[str, PrevPage] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)  # referer -> URLs requested from it
    entries: dict[tuple[str, ...], list[Entry]] = field(default_factory=dict)  # column path -> entries

    def conditional(self, url: str) -> dict[str, Any] | None:
        """What a conditional request for ``url`` sends and what its 304 reuses (None: ask unconditionally)."""
        p = self.pages.get(url)
        if p is None or p.fetch_status != "ok" or not p.sha256 or p.rendered or not (p.etag or p.last_modified):
            return None  # a rendered DOM is not what a 304 vouches for
        return {"run_id": self.run_id, "final_url": p.final_url, "etag": p.etag, "last_modified": p.last_modified,
                "sha256": p.sha256, "content_type": p.content_type, "http_status": p.http_status}

    def same_entries(self, path: list[str], entries: list[Entry]) -> bool:
        return self.entries.get(tuple(path), []) == entries


@dataclass(frozen=True)
class ReuseVerdict:
    page: PrevPage | None  # the row to copy, or None: request the page
    why_not: str | None = None  # "stale", "failed", "unknown" ... when it must be requested


class ReusePolicy:
    """Decides whether a page under an unchanged column may be copied from the previous run unasked."""

    def __init__(self, prev: PreviousRun, as_of: dt.date | None, revalidate_days: int, blob_exists,
                 scope: frozenset[str] = FULL_SCOPE) -> None:
        self.prev = prev
        self.as_of = as_of
        self.revalidate_days = revalidate_days
        self.blob_exists = blob_exists
        self.enabled = bool(prev.run_id is not None and prev.finished and as_of is not None and revalidate_days > 0
                            and scope >= FULL_SCOPE)

    def verdict(self, url: str, kinds: frozenset[str] | None = None) -> ReuseVerdict:
        """May ``url`` be copied unasked? ``kinds``: what the previous row must have been for its copy to be
        what this request would store (a link probe is not a document's copy, nor the other way round)."""
        p = self.prev.pages.get(url)
        if not self.enabled or p is None:
            return ReuseVerdict(None, "unknown")
        if kinds is not None and p.kind not in kinds:
            return ReuseVerdict(None, "kind")
        if p.fetch_status != "ok" or p.error:
            return ReuseVerdict(None, "failed")  # a failed fetch is always retried
        if p.rendered:
            return ReuseVerdict(None, "rendered")
        if not self.fresh(p):
            return ReuseVerdict(None, "stale")
        if p.kind != "link_probe" and (not p.sha256 or not self.blob_exists(p.sha256)):
            return ReuseVerdict(None, "no_body")  # the stored body was pruned: the copy would be hollow
        if p.kind in DOCUMENT_KINDS:
            # the JSON that fills a document's runtime box is copied with it (its links are stored on the
            # document's rows): both or neither
            for child in self.prev.children.get(url, ()):
                if self.prev.pages[child].kind == "other" and self.verdict(child, OTHER).page is None:
                    return ReuseVerdict(None, "child")
        return ReuseVerdict(p)

    def fresh(self, p: PrevPage) -> bool:
        """Confirmed by a request fewer than ``revalidate_days`` before this run's as-of date (a run dated
        before the evidence was confirmed is not a nightly successor: ask)."""
        age = (self.as_of - p.validated_as_of).days if self.as_of and p.validated_as_of else -1
        return 0 <= age < self.revalidate_days


def _previous_run_with_pages(s, run_id: int, site_id: str) -> int | None:
    """The newest earlier run holding pages of this site. Asked of run_sites (one row per run and site) and
    then of pages by (run, site): the pages index starts with run_id, so asking pages alone for the newest
    run of a site walks through every other site's pages of that run first."""
    earlier = s.scalars(select(m.RunSite.run_id).where(m.RunSite.site_id == site_id, m.RunSite.run_id < run_id)
                        .order_by(m.RunSite.run_id.desc())).all()
    for prev in earlier:
        if s.scalar(select(m.Page.id).where(m.Page.run_id == prev, m.Page.site_id == site_id).limit(1)) is not None:
            return prev
    return None


def load_previous(store, run_id: int, site_id: str) -> PreviousRun:
    """One query per table for the whole site, so no request ever waits on a lookup of the previous run."""
    with store.session() as s:
        prev = _previous_run_with_pages(s, run_id, site_id)
        if prev is None:
            return PreviousRun()
        as_of = s.scalar(select(m.Run.as_of).where(m.Run.id == prev))
        status, stats = s.execute(select(m.RunSite.status, m.RunSite.stats)
                                  .where(m.RunSite.run_id == prev, m.RunSite.site_id == site_id)).one_or_none() \
            or (None, None)
        rows = s.execute(select(m.Page.id, m.Page.url, m.Page.final_url, m.Page.kind, m.Page.fetch_status,
                                m.Page.http_status, m.Page.content_type, m.Page.etag, m.Page.last_modified,
                                m.Page.sha256, m.Page.rendered, m.Page.error, m.Page.referer,
                                m.Page.validated_as_of)
                         .where(m.Page.run_id == prev, m.Page.site_id == site_id)).all()
        cols = s.execute(select(m.Column.id, m.Column.name, m.Column.parent_id)
                         .where(m.Column.run_id == prev, m.Column.site_id == site_id)).all()
        items = s.execute(select(m.ColumnItem.column_id, m.ColumnItem.title, m.ColumnItem.url, m.ColumnItem.date)
                          .where(m.ColumnItem.run_id == prev, m.ColumnItem.site_id == site_id)
                          .order_by(m.ColumnItem.column_id, m.ColumnItem.position, m.ColumnItem.id)).all()
    # a crawl that stopped half-way, or walked only part of the site (a refetch for one check), lacks children
    # of its pages: its rows may answer conditional requests, not stand in for pages left unasked
    prev_scope = set((stats or {}).get("scope") or FULL_SCOPE)
    out = PreviousRun(run_id=prev, as_of=as_of, finished=status in DONE_STATUSES and prev_scope >= FULL_SCOPE)
    children: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        # rows written before pages.validated_as_of existed were all requested in their own run
        page = PrevPage(id=r.id, url=r.url, final_url=r.final_url, kind=r.kind, fetch_status=r.fetch_status,
                        http_status=r.http_status, content_type=r.content_type, etag=r.etag,
                        last_modified=r.last_modified, sha256=r.sha256, rendered=bool(r.rendered), error=r.error,
                        referer=r.referer, validated_as_of=r.validated_as_of or as_of)
        out.pages.setdefault(r.url, page)
        if r.referer and r.kind in CHILD_KINDS:
            children[r.referer].append(r.url)
    out.children = dict(children)
    by_id = {c.id: c for c in cols}

    def path(cid: int) -> tuple[str, ...]:
        names: list[str] = []
        seen: set[int] = set()
        while cid in by_id and cid not in seen:
            seen.add(cid)
            names.insert(0, by_id[cid].name)
            cid = by_id[cid].parent_id
        return tuple(names)

    entries: dict[tuple[str, ...], list[Entry]] = {}
    for it in items:
        entries.setdefault(path(it.column_id), []).append((it.title, it.url, it.date))
    out.entries = entries
    return out
