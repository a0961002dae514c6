"""The store pipeline: bodies go to the content-addressed blob store as they arrive, rows are written in
batches (``GOVAUDIT_WRITE_BATCH`` records or ``GOVAUDIT_WRITE_INTERVAL`` seconds, whichever comes first; see
``crawler.store_writer``). A kill -9 loses at most the last batch's rows, and a resumed run crawls the site
again from a clean slate anyway; a batch that fails is written again record by record, so a bad record costs
itself only."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter
from typing import Any

from sqlalchemy import delete, update

from crawler.items import PageRecord, ReusedPage, ScreenshotRecord
from crawler.store_writer import NOT_REQUESTED, ShotStored, SiteWriter
from storage import models as m

logger = logging.getLogger(__name__)

__all__ = ["StorePipeline", "clear_site_rows", "NOT_REQUESTED"]


class StorePipeline:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        st = crawler.settings
        self.batch_items = max(1, st.getint("GOVAUDIT_WRITE_BATCH", 200))
        self.batch_seconds = max(0.0, st.getfloat("GOVAUDIT_WRITE_INTERVAL", 0.5))
        self.buffer: list[Any] = []
        self._timer: Any = None
        self.writer: SiteWriter | None = None
        self.statuses: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.pages_fetched = 0  # requests answered with a body (or a failure)
        self.pages_revalidated = 0  # conditional requests answered 304: the stored body reused
        self.pages_skipped = 0  # not requested: the previous run's rows copied (unchanged column)
        self.bytes = 0
        self.write_errors = 0
        self.batches = 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def spider(self):
        return self.crawler.spider

    @property
    def pages_reused(self) -> int:
        return self.pages_revalidated + self.pages_skipped

    # -- lifecycle ---------------------------------------------------------------------------------------

    def open_spider(self) -> None:
        sp = self.spider
        sp.pipeline = self  # the spider calls finish() once it knows why it closed
        self.writer = SiteWriter(sp.store, sp.run_id, sp.site_id, getattr(sp, "as_of", None))
        clear_site_rows(sp.store, sp.run_id, sp.site_id)
        with sp.store.session() as s:
            s.execute(update(m.RunSite).where(m.RunSite.run_id == sp.run_id, m.RunSite.site_id == sp.site_id)
                      .values(status="crawling", started_at=m.utcnow(), finished_at=None, error=None,
                              worker=f"{socket.gethostname()}:{os.getpid()}", pages_fetched=0, pages_reused=0,
                              bytes_downloaded=0))

    def close_spider(self) -> None:
        for done in self.spider.unfinished_columns():
            self.buffer.append(done)
        self.flush()

    def finish(self) -> None:
        """Final status and stats of the site (called from the spider_closed signal, after close_spider)."""
        self.flush()
        sp = self.spider
        status, error = sp.outcome()
        stats = dict(sp.run_stats())
        stats.update({
            "fetch_status": dict(sorted(self.statuses.items())),
            "page_kinds": dict(sorted(self.kinds.items())),
            "bytes": self.bytes,
            "pages_fetched": self.pages_fetched,
            "pages_reused": self.pages_reused,
            "write_batches": self.batches,
        })
        incremental = dict(stats.get("incremental") or {})
        incremental.update({"fetched": self.pages_fetched, "revalidated": self.pages_revalidated,
                            "skipped": self.pages_skipped})
        stats["incremental"] = incremental
        if self.write_errors:
            stats["write_errors"] = self.write_errors
        with sp.store.session() as s:
            s.execute(update(m.RunSite).where(m.RunSite.run_id == sp.run_id, m.RunSite.site_id == sp.site_id)
                      .values(status=status, error=error, finished_at=m.utcnow(), stats=stats,
                              pages_fetched=self.pages_fetched, pages_reused=self.pages_reused,
                              bytes_downloaded=self.bytes))

    # -- items -------------------------------------------------------------------------------------------

    def process_item(self, item):
        try:
            staged = self._prepare(item)
        except Exception:  # a bad record must not cost the site; it is counted and logged
            self.write_errors += 1
            logger.exception("could not store %r", getattr(item, "url", item))
            return item
        self.buffer.append(staged)
        if len(self.buffer) >= self.batch_items or self.batch_seconds == 0:
            self.flush()
        elif self._timer is None:
            self._timer = _call_later(self.batch_seconds, self._on_timer)
        return item

    def _prepare(self, item: Any) -> Any:
        """Counters now, and bodies into the blob store now (a batch holds rows, not megabytes of bodies)."""
        blobs = self.spider.store.blobs
        if isinstance(item, PageRecord):
            if item.body is not None:
                item.sha256 = blobs.put(item.body)
                item.size = len(item.body)
                item.body = None
            elif item.sha256 and item.size is None and blobs.exists(item.sha256):
                item.size = blobs.path(item.sha256).stat().st_size
            if item.screenshot:
                item.screenshot_sha256 = blobs.put(item.screenshot)
                item.screenshot = None
            self.statuses[item.fetch_status] += 1
            self.kinds[item.kind] += 1
            if item.network and item.fetch_status not in NOT_REQUESTED:
                if item.reused_from_run is not None:
                    self.pages_revalidated += 1
                else:
                    self.pages_fetched += 1
            self.bytes += item.wire_bytes
        elif isinstance(item, ReusedPage):
            self.statuses[item.fetch_status] += 1
            self.kinds[item.kind] += 1
            self.pages_skipped += 1
        elif isinstance(item, ScreenshotRecord):
            return ShotStored(url=item.url, sha256=blobs.put(item.png))
        return item

    def _on_timer(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        if not self.buffer or self.writer is None:
            return
        batch, self.buffer = self.buffer, []
        t0 = time.monotonic()
        try:
            self.writer.write(batch)
            self.batches += 1
        except Exception:
            logger.exception("a batch of %d records could not be stored; storing them one by one", len(batch))
            for item in batch:
                try:
                    self.writer.write([item])
                except Exception:  # this record is lost; the others are kept
                    self.write_errors += 1
                    logger.exception("could not store %r", getattr(item, "url", item))
        logger.debug("stored %d records in %.3f s", len(batch), time.monotonic() - t0)


def _call_later(seconds: float, fn):
    from twisted.internet import reactor

    return reactor.callLater(seconds, fn)  # type: ignore[attr-defined]


def clear_site_rows(store, run_id: int, site_id: str) -> None:
    """Remove what an interrupted earlier attempt stored for this run and site, before crawling it anew."""
    with store.session() as s:
        for model in (m.ColumnItem, m.Attachment, m.Link, m.Document):
            s.execute(delete(model).where(model.run_id == run_id, model.site_id == site_id))
        s.execute(delete(m.Page).where(m.Page.run_id == run_id, m.Page.site_id == site_id))
        s.execute(update(m.Column).where(m.Column.run_id == run_id, m.Column.site_id == site_id)
                  .values(parent_id=None))
        s.execute(delete(m.Column).where(m.Column.run_id == run_id, m.Column.site_id == site_id))
