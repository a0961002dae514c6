"""Writing one site's crawl records into the evidence store, a batch per transaction.

A batch is written with a handful of Core statements whatever its size (one INSERT ... RETURNING for its
pages, one for its documents, executemany for links, list items and attachments), where one transaction per
page cost about 8 ms of ORM work per page. Ids handed out in a batch (columns, pages, documents) and attachment
download results only become the writer's own once the batch is committed, so a batch that fails can be
written again item by item without pointing at rows that were rolled back.

Pages copied from the previous run (``ReusedPage``) get their previous row, and for a document its
document, links and attachments, loaded with one query per table for the whole batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from crawler.incremental import DOCUMENT_KINDS
from crawler.items import (
    ColumnDone,
    ColumnsFound,
    ItemsFound,
    ListedItem,
    PageRecord,
    ReusedPage,
)
from storage import models as m

# statuses of rows recorded without any request being sent
NOT_REQUESTED = frozenset({"trap_suppressed", "limit_reached", "robots_disallowed", "redirect_offsite"})
_DOC_FIELDS = ("doc_number", "index_no", "publisher", "disclosure_mode", "validity")
_DOC_CLIP = {"publisher": 200, "doc_number": 120, "index_no": 120}
_CHUNK = 500  # values per IN (...) list
_T_PAGE = m.Page.__table__
_T_DOC = m.Document.__table__
_T_LINK = m.Link.__table__
_T_ATT = m.Attachment.__table__

AttachmentResult = tuple[str, str | None, int | None, str | None]  # fetch_status, content type, size, sha256


@dataclass
class ShotStored:
    """A screenshot already in the blob store, waiting for its page row."""

    url: str
    sha256: str


def _clip(value: Any, n: int) -> Any:
    return value[:n] if isinstance(value, str) else value


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i:i + _CHUNK]


@dataclass
class _Staged:
    """Ids and results handed out by the batch being written; merged into the writer after commit."""

    columns: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    docs: dict[str, int] = field(default_factory=dict)
    results: dict[str, AttachmentResult] = field(default_factory=dict)
    attachment_urls: set[str] = field(default_factory=set)


class SiteWriter:
    """What one site's crawl has written so far (row ids by key and URL) and how to write the next batch."""

    def __init__(self, store, run_id: int, site_id: str, as_of: dt.date | None) -> None:
        self.store = store
        self.run_id = run_id
        self.site_id = site_id
        self.as_of = as_of
        self.column_ids: dict[str, int] = {}
        self.page_ids: dict[str, int] = {}
        self.doc_ids: dict[str, int] = {}
        self.attachment_results: dict[str, AttachmentResult] = {}
        self.attachment_urls: set[str] = set()  # URLs with Attachment rows in committed batches

    def write(self, items: list[Any]) -> None:
        staged = _Staged()
        with self.store.session() as s:
            _Batch(self, s, staged).write(items)
        self.column_ids.update(staged.columns)
        self.page_ids.update(staged.pages)
        self.doc_ids.update(staged.docs)
        self.attachment_results.update(staged.results)
        self.attachment_urls |= staged.attachment_urls


class _Batch:
    def __init__(self, writer: SiteWriter, session, staged: _Staged) -> None:
        self.w = writer
        self.s = session
        self.st = staged
        self.page_rows: list[dict[str, Any]] = []
        self.doc_rows: list[tuple[str, dict[str, Any]]] = []  # page URL, row without page_id
        self.link_rows: list[dict[str, Any]] = []
        self.item_rows: list[tuple[str, dict[str, Any]]] = []  # column key, row without column_id
        self.attachment_rows: list[tuple[dict[str, Any], AttachmentResult | None]] = []  # row, previous result
        self.attachment_done: list[str] = []  # attachment URLs whose download result is known in this batch
        self.column_done: list[ColumnDone] = []
        self.shots: list[ShotStored] = []

    # -- lookups over the committed and the staged ids ---------------------------------------------------

    def column_id(self, key: str | None) -> int | None:
        if not key:
            return None
        return self.st.columns.get(key) or self.w.column_ids.get(key)

    def page_known(self, url: str) -> bool:
        return url in self.w.page_ids or url in self._new_page_urls

    def result(self, url: str) -> AttachmentResult | None:
        return self.st.results.get(url) or self.w.attachment_results.get(url)

    # -- the batch ---------------------------------------------------------------------------------------

    def write(self, items: list[Any]) -> None:
        self._new_page_urls: set[str] = set()
        prev = _PreviousRows.load(self.s, self.w.site_id, [it for it in items if isinstance(it, ReusedPage)])
        for item in items:
            if isinstance(item, PageRecord):
                self._page(item)
            elif isinstance(item, ReusedPage):
                self._reused(item, prev)
            elif isinstance(item, ColumnsFound):
                self._columns(item)
            elif isinstance(item, ColumnDone):
                self.column_done.append(item)
            elif isinstance(item, ShotStored):
                self.shots.append(item)
            elif isinstance(item, ItemsFound):
                self._listed(item.listed)
                for at in item.attachments:
                    self._attachment({"page_url": item.page_url or at.url, "url": at.url, "document_id": None,
                                      "anchor_text": at.anchor_text, "ext": at.ext}, None, None)
        self._insert()
        self._update()

    def _columns(self, found: ColumnsFound) -> None:
        # parents first: a second-level column needs its parent's id, which the database hands out
        todo = [c for c in found.columns if self.column_id(c.key) is None]
        while todo:
            ready = [c for c in todo if not c.parent_key or self.column_id(c.parent_key) is not None
                     or c.parent_key not in {t.key for t in todo}]
            if not ready:
                ready = todo  # a parent that never comes: keep the column, without its parent
            rows = []
            for c in ready:
                row = m.Column(run_id=self.w.run_id, site_id=self.w.site_id, name=_clip(c.name, 200), url=c.url,
                               parent_id=self.column_id(c.parent_key), level=c.level, source=c.source,
                               position=c.position)
                self.s.add(row)
                rows.append((c.key, row))
            self.s.flush()
            for key, row in rows:
                self.st.columns[key] = row.id
            todo = [c for c in todo if c not in ready]

    def _page_row(self, url: str, **values: Any) -> None:
        if self.page_known(url):
            return  # the same URL reached twice (e.g. a JSON box fed from a document): one row
        self._new_page_urls.add(url)
        self.page_rows.append({"run_id": self.w.run_id, "site_id": self.w.site_id, "url": url, **values})

    def _page(self, rec: PageRecord) -> None:
        requested = rec.network and rec.fetch_status not in NOT_REQUESTED
        self._page_row(
            rec.url, final_url=rec.final_url, kind=rec.kind, fetch_status=rec.fetch_status,
            http_status=rec.http_status, content_type=_clip(rec.content_type, 120), encoding=rec.encoding,
            etag=_clip(rec.etag, 200), last_modified=_clip(rec.last_modified, 64), sha256=rec.sha256,
            size=rec.size, title=rec.title, publish_date=rec.publish_date, column_id=self.column_id(rec.column_key),
            rendered=rec.rendered, screenshot_sha256=rec.screenshot_sha256, reused_from_run=rec.reused_from_run,
            depth=rec.depth, referer=rec.referer, error=rec.error, elapsed_ms=rec.elapsed_ms,
            fetched_at=m.utcnow(), validated_as_of=self.w.as_of if requested else None)
        if rec.document is not None:
            d, f = rec.document, rec.document.fields
            self.doc_rows.append((rec.url, {
                "run_id": self.w.run_id, "site_id": self.w.site_id, "url": rec.url,
                "column_id": self.column_id(d.column_key), "kind": d.kind, "title": d.title,
                "written_date": f.get("written_date"), "publish_date": f.get("publish_date"),
                "body_text": d.body_text, "meta": d.meta, "rendered": d.rendered,
                **{k: _clip(f.get(k), _DOC_CLIP.get(k, 64)) for k in _DOC_FIELDS}}))
        from_url = rec.links_from or rec.url
        for ln in rec.links:
            self.link_rows.append({"run_id": self.w.run_id, "site_id": self.w.site_id, "from_url": from_url,
                                   "to_url": ln.to_url, "anchor_text": ln.anchor_text, "internal": ln.internal,
                                   "rendered": ln.rendered})
        for at in rec.attachments:
            self._attachment({"page_url": from_url, "url": at.url, "anchor_text": at.anchor_text, "ext": at.ext},
                             from_url, None)
        self._listed(rec.listed)
        if rec.kind == "attachment":
            self._downloaded(rec.url, (rec.fetch_status, _clip(rec.content_type, 120), rec.size,
                                       rec.sha256 if rec.fetch_status == "ok" else None))

    def _reused(self, rp: ReusedPage, prev: _PreviousRows) -> None:
        row = prev.pages.get(rp.prev_page_id)
        if row is None:
            raise LookupError(f"previous page row {rp.prev_page_id} of {rp.url} is gone")
        self._page_row(
            rp.url, final_url=row.final_url, kind=row.kind, fetch_status=row.fetch_status,
            http_status=row.http_status, content_type=row.content_type, encoding=row.encoding, etag=row.etag,
            last_modified=row.last_modified, sha256=row.sha256, size=row.size, title=row.title,
            publish_date=row.publish_date, column_id=self.column_id(rp.column_key), rendered=row.rendered,
            screenshot_sha256=None,  # a screenshot is taken anew (or not at all) in this run
            reused_from_run=rp.prev_run, depth=rp.depth, referer=rp.referer, error=row.error, elapsed_ms=None,
            fetched_at=row.fetched_at, validated_as_of=row.validated_as_of or prev.as_of.get(row.run_id))
        if row.kind in DOCUMENT_KINDS:
            for d in prev.documents.get(row.id, []):
                self.doc_rows.append((rp.url, {
                    "run_id": self.w.run_id, "site_id": self.w.site_id, "url": rp.url,
                    "column_id": self.column_id(rp.column_key), "kind": d.kind, "title": d.title,
                    "written_date": d.written_date, "publish_date": d.publish_date, "body_text": d.body_text,
                    "meta": d.meta, "rendered": d.rendered, **{k: getattr(d, k) for k in _DOC_FIELDS}}))
            for ln in prev.links.get(rp.url, []):
                self.link_rows.append({"run_id": self.w.run_id, "site_id": self.w.site_id, "from_url": ln.from_url,
                                       "to_url": ln.to_url, "anchor_text": ln.anchor_text, "internal": ln.internal,
                                       "rendered": ln.rendered})
            for a in prev.attachments.get(rp.url, []):
                self._attachment({"page_url": a.page_url, "url": a.url, "anchor_text": a.anchor_text, "ext": a.ext},
                                 a.page_url, (a.fetch_status, a.content_type, a.size, a.sha256))
        if row.kind == "attachment":
            self._downloaded(rp.url, (row.fetch_status, row.content_type, row.size,
                                      row.sha256 if row.fetch_status == "ok" else None))

    def _attachment(self, row: dict[str, Any], doc_url: str | None, before: AttachmentResult | None) -> None:
        row.update(run_id=self.w.run_id, site_id=self.w.site_id)
        row.setdefault("document_id", None)
        self.attachment_rows.append(({**row, "_doc_url": doc_url}, before))

    def _downloaded(self, url: str, result: AttachmentResult) -> None:
        self.st.results[url] = result
        self.attachment_done.append(url)

    def _listed(self, listed: list[ListedItem]) -> None:
        for it in listed:
            for key in it.column_keys:
                self.item_rows.append((key, {"run_id": self.w.run_id, "site_id": self.w.site_id, "title": it.title,
                                             "url": it.url, "date": it.date, "position": it.position}))

    # -- statements --------------------------------------------------------------------------------------

    def _insert(self) -> None:
        s = self.s
        if self.page_rows:
            ids = s.scalars(insert(_T_PAGE).returning(_T_PAGE.c.id, sort_by_parameter_order=True),
                            self.page_rows).all()
            self.st.pages.update({r["url"]: pid for r, pid in zip(self.page_rows, ids, strict=True)})
        page_ids = {**self.w.page_ids, **self.st.pages}
        if self.doc_rows:
            rows = [{**row, "page_id": page_ids.get(url)} for url, row in self.doc_rows]
            ids = s.scalars(insert(_T_DOC).returning(_T_DOC.c.id, sort_by_parameter_order=True), rows).all()
            for (url, _row), did in zip(self.doc_rows, ids, strict=True):
                self.st.docs[url] = did
        if self.link_rows:
            s.execute(insert(_T_LINK), self.link_rows)
        items = [{**row, "column_id": cid} for key, row in self.item_rows if (cid := self.column_id(key)) is not None]
        if items:
            s.execute(insert(m.ColumnItem.__table__), items)
        if self.attachment_rows:
            rows = []
            for row, before in self.attachment_rows:
                row = dict(row)
                doc_url = row.pop("_doc_url")
                if doc_url and row["document_id"] is None:
                    row["document_id"] = self.st.docs.get(doc_url) or self.w.doc_ids.get(doc_url)
                got = self.result(row["url"]) or before
                row.update(fetch_status=got[0] if got else None, content_type=got[1] if got else None,
                           size=got[2] if got else None, sha256=got[3] if got else None)
                rows.append(row)
                self.st.attachment_urls.add(row["url"])
            s.execute(insert(_T_ATT), rows)

    def _update(self) -> None:
        s = self.s
        run_id, site_id = self.w.run_id, self.w.site_id
        # every Attachment row of an earlier batch pointing at a file learns how its download went
        earlier = [u for u in dict.fromkeys(self.attachment_done) if u in self.w.attachment_urls]
        if earlier:
            t = _T_ATT
            stmt = (update(t).where(t.c.run_id == run_id, t.c.site_id == site_id, t.c.url == bindparam("b_url"))
                    .values(fetch_status=bindparam("b_status"), content_type=bindparam("b_ctype"),
                            size=bindparam("b_size"), sha256=bindparam("b_sha")))
            s.connection().execute(stmt, [{"b_url": u, "b_status": r[0], "b_ctype": r[1], "b_size": r[2],
                                           "b_sha": r[3]} for u in earlier if (r := self.st.results[u])])
        outcomes = [{"b_id": cid, "b_count": d.item_count, "b_total": d.total_reported, "b_newest": d.newest_date,
                     "b_oldest": d.oldest_date, "b_pages": d.list_pages, "b_cap": d.capped_at,
                     "b_note": _clip(d.empty_note, 500), "b_status": d.list_status}
                    for d in self.column_done for k in d.keys if (cid := self.column_id(k)) is not None]
        if outcomes:  # one executemany for the batch's column outcomes
            t = m.Column.__table__
            s.connection().execute(update(t).where(t.c.id == bindparam("b_id")).values(
                item_count=bindparam("b_count"), total_reported=bindparam("b_total"),
                newest_date=bindparam("b_newest"), oldest_date=bindparam("b_oldest"), list_pages=bindparam("b_pages"),
                capped_at=bindparam("b_cap"), empty_note=bindparam("b_note"), list_status=bindparam("b_status")),
                outcomes)
        for shot in self.shots:
            s.execute(update(m.Page).where(m.Page.run_id == run_id, m.Page.site_id == site_id, m.Page.url == shot.url)
                      .values(screenshot_sha256=shot.sha256))


@dataclass
class _PreviousRows:
    """The previous run's rows behind a batch's reused pages: one query per table."""

    pages: dict[int, Any] = field(default_factory=dict)
    documents: dict[int, list[Any]] = field(default_factory=dict)  # page id -> documents
    links: dict[str, list[Any]] = field(default_factory=dict)  # from URL -> links
    attachments: dict[str, list[Any]] = field(default_factory=dict)  # page URL -> attachments
    as_of: dict[int, dt.date] = field(default_factory=dict)  # run id -> as-of date

    @classmethod
    def load(cls, s, site_id: str, reused: list[ReusedPage]) -> _PreviousRows:
        out = cls()
        if not reused:
            return out
        # Core rows (named tuples), not ORM objects: a copy needs the values only
        for chunk in _chunks([r.prev_page_id for r in reused]):
            for row in s.execute(select(_T_PAGE).where(_T_PAGE.c.id.in_(chunk))):
                out.pages[row.id] = row
        doc_pages = [r for r in reused if (p := out.pages.get(r.prev_page_id)) is not None and p.kind in DOCUMENT_KINDS]
        for run in {r.prev_run for r in reused}:
            out.as_of[run] = s.scalar(select(m.Run.as_of).where(m.Run.id == run))
            urls = [r.url for r in doc_pages if r.prev_run == run]
            for chunk in _chunks([r.prev_page_id for r in doc_pages if r.prev_run == run]):
                # site_id too: the (run_id, site_id) index then finds this site's rows instead of scanning
                # every site's documents of that run, once per batch
                for d in s.execute(select(_T_DOC).where(_T_DOC.c.run_id == run, _T_DOC.c.site_id == site_id,
                                                        _T_DOC.c.page_id.in_(chunk))
                                   .order_by(_T_DOC.c.id)):
                    out.documents.setdefault(d.page_id, []).append(d)
            for chunk in _chunks(urls):
                for ln in s.execute(select(_T_LINK).where(_T_LINK.c.run_id == run, _T_LINK.c.site_id == site_id,
                                                          _T_LINK.c.from_url.in_(chunk)).order_by(_T_LINK.c.id)):
                    out.links.setdefault(ln.from_url, []).append(ln)
                for a in s.execute(select(_T_ATT).where(_T_ATT.c.run_id == run, _T_ATT.c.site_id == site_id,
                                                        _T_ATT.c.page_url.in_(chunk)).order_by(_T_ATT.c.id)):
                    out.attachments.setdefault(a.page_url, []).append(a)
        return out
