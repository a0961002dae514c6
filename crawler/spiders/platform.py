"""The assessor's walk over one unit's disclosure platform.

home (unit URL) -> platform (政府信息公开 entry, or the URL itself) -> column tree (levels 1-2) ->
every column list with its pagination (links, 下一页, createPageHTML, JSON endpoints, browser as a last
resort) -> document pages (metadata, body, links, attachments, 解读 links) -> attachments; then, when the
walk is done, one probe per internal link not otherwise fetched, and screenshots of key pages.

Every fetch (or refusal) becomes one ``PageRecord``, every page copied from the previous run unasked one
``ReusedPage`` (crawler/incremental.py); the store pipeline writes them in batches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import scrapy
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, StopDownload
from scrapy.http import Response, TextResponse

from crawler.encoding import Decoded
from crawler.extract.classify import doc_kind
from crawler.extract.document import attachment_ext, is_interpretation_link, parse_document, runtime_box
from crawler.extract.html import parse_html, text_of
from crawler.extract.listing import (
    find_json_endpoints,
    json_page_url,
    parse_json_list,
    parse_list_page,
)
from crawler.extract.menu import MenuNode, column_tree, find_platform_link, more_links, tree_from_json
from crawler.fetch_status import TRANSIENT, looks_like_waf, status_for_failure, status_for_http
from crawler.incremental import DOCUMENT_KINDS, REUSABLE_AS, PreviousRun, ReusePolicy
from crawler.items import (
    AttachmentRow,
    ColumnsFound,
    ColumnSpec,
    DocumentRow,
    ItemsFound,
    LinkRow,
    PageRecord,
    ReusedPage,
    ScreenshotRecord,
)
from crawler.urls import HostPolicy, TrapDetector, normalise_url
from crawler.vocab import squash, vocab
from crawler.walks import ColumnInfo, Walk

logger = logging.getLogger(__name__)

ALL_SCOPES = frozenset({"menu", "lists", "documents", "attachments", "link_probes", "screenshots"})
_PLATFORM_MIN_SCORE = 3  # a home page whose own menu shows this many catalogue words is the platform


def expand_scope(scope: Iterable[str] | None) -> frozenset[str]:
    """What must be walked to fetch the requested scope: documents are reached through lists, lists
    through the menu, attachments through documents."""
    if scope is None:
        return ALL_SCOPES
    s = set(scope) & ALL_SCOPES
    if "attachments" in s:
        s.add("documents")
    if "documents" in s:
        s.add("lists")
    if s & {"lists", "screenshots", "link_probes"}:
        s.add("menu")
    s.add("menu")
    return frozenset(s)


def _json_load(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return None


class PlatformSpider(scrapy.Spider):
    name = "platform"

    def __init__(self, *, site: dict[str, Any], run_id: int, store: Any, scope: list[str] | None = None,
                 browser_ok: bool = False, browser_note: str | None = None,
                 previous: PreviousRun | None = None, as_of: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site_id: str = site["site_id"]
        self.site_url: str = normalise_url(site["url"]) or site["url"]
        self.options: dict[str, Any] = dict(site.get("options") or {})
        self.run_id = run_id
        self.store = store
        self.blobs = store.blobs
        self.scope = expand_scope(scope)
        self.browser_ok = browser_ok
        self.browser_note = browser_note
        self.prev = previous or PreviousRun()
        self.previous_run = self.prev.run_id
        self.as_of = as_of
        self.reuse = ReusePolicy(self.prev, as_of, 0, self._blob_exists)  # settings switch it on (from_crawler)
        self.unchanged_pages: set[str] = set()  # answered 304 / byte-identical to the previous run, or reused
        self.reused_urls: list[str] = []  # pages copied from the previous run: their links are added after the walk
        self.incremental: dict[str, int] = {"columns_unchanged": 0, "columns_changed": 0}
        self.host_policy = HostPolicy.for_site(self.site_url, self.options.get("hosts"))
        self.traps = TrapDetector()
        self.claimed: set[str] = set()
        self.columns: dict[str, ColumnInfo] = {}
        self.walks: dict[str, Walk] = {}
        self.link_candidates: dict[str, str] = {}  # internal link -> page that showed it
        self.screenshot_targets: list[str] = []
        self.platform_url: str | None = None
        self.unreachable: tuple[str, str] | None = None
        self.fatal_error: str | None = None
        self.phase = "walk"
        self.counters: dict[str, int] = {"fetches": 0, "probes": 0, "suppressed_rows": 0, "parse_errors": 0,
                                         "rendered": 0, "render_wanted_no_browser": 0, "screenshots": 0,
                                         "screenshot_errors": 0}
        self.limits_hit: dict[str, int] = {}
        self.close_reason: str | None = None
        self._column_seq = 0

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        st = crawler.settings
        spider.max_depth = st.getint("GOVAUDIT_MAX_DEPTH", 6)
        spider.max_pages = st.getint("GOVAUDIT_MAX_PAGES", 5000)
        spider.max_probes = st.getint("GOVAUDIT_MAX_PROBES", 1500)
        spider.max_suppressed = st.getint("GOVAUDIT_MAX_SUPPRESSED_ROWS", 500)
        spider.column_cap = st.getint("GOVAUDIT_COLUMN_CAP", 300)
        spider.max_list_pages = st.getint("GOVAUDIT_MAX_LIST_PAGES", 200)
        spider.attachment_maxsize = st.getint("GOVAUDIT_ATTACHMENT_MAXSIZE", 50 * 1024 * 1024)
        spider.download_maxsize = st.getint("DOWNLOAD_MAXSIZE", 0)
        spider.robots_policy = st.get("GOVAUDIT_ROBOTS_POLICY", "obey")
        spider.conditional = st.getbool("GOVAUDIT_CONDITIONAL", True)
        spider.revalidate_days = st.getint("GOVAUDIT_REVALIDATE_DAYS", 7)
        spider.reuse = ReusePolicy(spider.prev, spider.as_of, spider.revalidate_days if spider.conditional else 0,
                                   spider._blob_exists, spider.scope)
        render = str(spider.options.get("render") or st.get("GOVAUDIT_RENDER", "auto")).lower()
        spider.render_mode = render if render in ("auto", "never", "always") else "auto"
        spider.screenshots = st.getbool("GOVAUDIT_SCREENSHOTS", True) and "screenshots" in spider.scope
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_headers, signal=signals.headers_received)
        crawler.signals.connect(spider.on_bytes, signal=signals.bytes_received)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    # -- start -------------------------------------------------------------------------------------------

    async def start(self):
        out = self.fetch(self.site_url, kind="home", callback=self.parse_home, depth=0)
        if out is not None:
            yield out

    # -- fetching ----------------------------------------------------------------------------------------

    def fetch(self, url: str, *, kind: str, callback: Callable, depth: int, referer: str | None = None,
              column_key: str | None = None, meta: dict[str, Any] | None = None, method: str = "GET",
              render: bool = False, priority: int = 0, probe: bool = False,
              reclaim: bool = False, reuse: bool = False) -> Request | PageRecord | ReusedPage | None:
        """A request for a URL not yet claimed in this run, or a PageRecord saying why it was not sent, or —
        with ``reuse``, for a page under an unchanged column — the previous run's row to copy instead."""
        if url in self.claimed and not reclaim:
            return None
        self.claimed.add(url)
        if not self.host_policy.allows(url):
            return None
        base_meta: dict[str, Any] = {"g_url": url, "g_kind": kind, "g_depth": depth, "g_referer": referer,
                                     "g_column": column_key, "g_t0": time.monotonic()}
        trap = self.traps.verdict(url, referer)
        if trap and not reclaim and kind not in ("home", "platform"):
            return self._suppressed(url, kind, "trap_suppressed", trap, base_meta)
        if depth > self.max_depth:
            return self._suppressed(url, kind, "limit_reached", f"depth {depth} > {self.max_depth}", base_meta)
        if probe:
            if self.counters["probes"] >= self.max_probes:
                self._limit("max_probes")
                return None
            self.counters["probes"] += 1
        else:
            if self.counters["fetches"] >= self.max_pages:
                self._limit("max_pages")
                return self._suppressed(url, kind, "limit_reached", f"{self.max_pages} pages per site",
                                        base_meta)
            self.counters["fetches"] += 1
        if reuse and not render and not reclaim:
            verdict = self.reuse.verdict(url, REUSABLE_AS.get(kind))
            if verdict.page is not None:
                return ReusedPage(url=url, prev_page_id=verdict.page.id, prev_run=self.prev.run_id or 0,
                                  kind=verdict.page.kind, fetch_status=verdict.page.fetch_status, column_key=column_key,
                                  depth=depth, referer=referer)
            if verdict.why_not in ("stale", "failed"):
                # asked although its column is unchanged: evidence past its max age, or a fetch that failed
                key = "revalidated_stale" if verdict.why_not == "stale" else "retried_failed"
                self.incremental[key] = self.incremental.get(key, 0) + 1
        base_meta.update(meta or {})
        if kind == "attachment":
            base_meta["download_maxsize"] = self.attachment_maxsize
        if render:
            from scrapy_playwright.page import PageMethod

            base_meta.update({"playwright": True, "g_rendered": True,
                              "playwright_page_methods": [PageMethod("wait_for_load_state", "networkidle")]})
        elif self.conditional and method == "GET" and not reclaim and (prev := self.prev.conditional(url)):
            base_meta["prev_page"] = prev
        headers = {"Referer": referer} if referer else None
        return Request(url, callback=callback, errback=self.on_error, method=method, meta=base_meta,
                       headers=headers, dont_filter=True, priority=priority)

    def _suppressed(self, url: str, kind: str, status: str, reason: str, meta: dict[str, Any]) -> PageRecord | None:
        self._limit(status)
        if self.counters["suppressed_rows"] >= self.max_suppressed:
            return None
        self.counters["suppressed_rows"] += 1
        return PageRecord(url=url, kind=kind, fetch_status=status, error=reason, depth=meta["g_depth"],
                          referer=meta["g_referer"], column_key=meta["g_column"], network=False)

    def _limit(self, name: str) -> None:
        self.limits_hit[name] = self.limits_hit.get(name, 0) + 1

    def _blob_exists(self, sha256: str) -> bool:
        return self.blobs is not None and self.blobs.exists(sha256)

    def _same_as_before(self, rec: PageRecord) -> bool:
        """The previous run stored exactly this body for this URL (a 304, or the same bytes again)."""
        if rec.reused_from_run is not None:
            return True
        prev = self.prev.pages.get(rec.url)
        if prev is None or rec.rendered or not prev.sha256 or rec.body is None or prev.rendered:
            return False
        return hashlib.sha256(rec.body).hexdigest() == prev.sha256

    # -- incremental: pages copied from the previous run -------------------------------------------------

    def _emit(self, out: Request | PageRecord | ReusedPage | None) -> Iterator[Any]:
        if out is None:
            return
        if isinstance(out, ReusedPage):
            self._store_reused(out)
            yield from self._after_reuse(out)
            return
        yield out

    def _store_reused(self, rp: ReusedPage) -> None:
        """A copied page goes straight to the store pipeline: Scrapy's item path (spider middlewares, item
        pipeline manager, a coroutine or two per item) cost more than the copy itself, thousands of times over
        in a recrawl, and there is nothing for it to do with a row copied from the previous run."""
        pipeline = getattr(self, "pipeline", None)
        if pipeline is not None:
            pipeline.process_item(rp)
        else:  # no store attached (a spider built by hand): nothing to write it to
            logger.debug("no store pipeline for reused page %s", rp.url)

    def _after_reuse(self, rp: ReusedPage) -> Iterator[Any]:
        """What parsing the copied page again would queue, as the previous run's requests from it show: its
        attachments, the interpretations it links, the JSON of its runtime box (reused or asked for in turn)."""
        self.unchanged_pages.add(rp.url)
        self.reused_urls.append(rp.url)
        if rp.kind == "guide" and len(self.screenshot_targets) < 6:
            self.screenshot_targets.append(rp.url)
        if rp.kind not in DOCUMENT_KINDS:
            return
        for child in self.prev.children.get(rp.url, ()):
            ckind = self.prev.pages[child].kind
            if not self.host_policy.allows(child):
                continue
            out: Request | PageRecord | ReusedPage | None = None
            if ckind == "attachment" and "attachments" in self.scope:
                out = self.fetch(child, kind="attachment", callback=self.parse_attachment, depth=rp.depth + 1,
                                 referer=rp.url, reuse=True)
            elif ckind in DOCUMENT_KINDS and "documents" in self.scope:
                out = self.fetch(child, kind="document", callback=self.parse_document, depth=rp.depth + 1,
                                 referer=rp.url, reuse=True)
            elif ckind == "other":
                out = self.fetch(child, kind="other", callback=self.parse_box_json, depth=rp.depth + 1,
                                 referer=rp.url, meta={"g_box_of": rp.url}, reuse=True)
            yield from self._emit(out)

    def _reused_link_candidates(self) -> None:
        """Internal links shown by the copied pages (the previous run's rows), probed after the walk as the
        links of fetched pages are; the links a runtime box added are followed, not probed, as on a fetch."""
        if not self.reused_urls or "link_probes" not in self.scope or self.prev.run_id is None:
            return
        from sqlalchemy import select

        from storage import models as m

        with self.store.session() as s:
            for i in range(0, len(self.reused_urls), 500):
                chunk = self.reused_urls[i:i + 500]
                for to_url, from_url in s.execute(
                        select(m.Link.to_url, m.Link.from_url)
                        .where(m.Link.run_id == self.prev.run_id, m.Link.site_id == self.site_id,
                               m.Link.from_url.in_(chunk), m.Link.internal.is_(True), m.Link.rendered.is_(False))
                        .order_by(m.Link.id)):
                    self.link_candidates.setdefault(to_url, from_url)

    def on_headers(self, headers, body_length, request, spider=None, **_kw) -> None:
        # a probe by GET only needs the status line: stop before the body is downloaded
        if request.meta.get("g_probe_get"):
            raise StopDownload(fail=False)

    def on_bytes(self, data, request, spider=None, **_kw) -> None:
        # Scrapy cancels a body that grows past the size limit without a Content-Length announcing it with a
        # bare DownloadCancelledError; counting what arrived lets on_error record it as too_large
        request.meta["g_bytes_in"] = request.meta.get("g_bytes_in", 0) + len(data)

    # -- the record every response starts with --------------------------------------------------------

    def _record(self, response: Response) -> tuple[PageRecord, str, Any]:
        meta = response.meta
        url = meta["g_url"]
        reused = "reused" in response.flags
        decoded: Decoded | None = meta.get("decoded")
        ctype = response.headers.get("Content-Type", b"").decode("latin-1") or None
        status = "ok" if reused else status_for_http(response.status)
        text = decoded.text if decoded else ""
        error = None
        if status == "ok" and decoded is not None and not decoded.ok:
            status, error = "decode_error", f"no encoding decodes the body cleanly (declared: {decoded.declared})"
        if status == "ok" and decoded is not None and looks_like_waf(text, len(response.body)):
            status, error = "blocked", "tiny challenge page instead of content (WAF)"
        latency = meta.get("download_latency")
        rendered = bool(meta.get("g_rendered"))
        rec = PageRecord(
            url=url, kind=meta["g_kind"], fetch_status=status, final_url=response.url,
            http_status=response.status if not reused else (response.status or 200),
            content_type=ctype, encoding=decoded.encoding if decoded else None,
            etag=_hdr(response, "ETag"), last_modified=_hdr(response, "Last-Modified"),
            body=None if reused or response.request.method == "HEAD" else response.body,
            sha256=meta.get("reused_sha256") if reused else None,
            column_key=meta.get("g_column"), rendered=rendered,
            reused_from_run=meta.get("reused_from_run") if reused else None,
            depth=meta["g_depth"], referer=meta.get("g_referer"), error=error,
            elapsed_ms=int(latency * 1000) if latency is not None else None,
            wire_bytes=int(meta.get("wire_bytes", 0)) + int(meta.get("g_extra_bytes", 0)))
        if "download_stopped" in response.flags:
            rec.body = None
        if (rec.body is not None or reused) and self._same_as_before(rec):
            self.unchanged_pages.add(url)  # evidence for the incremental recrawl (list pages, probes' carriers)
        root = parse_html(text) if (decoded and status == "ok" and "html" in (ctype or "html").lower()) else None
        return rec, text, root

    def _guard(self, response: Response, body: Callable[[Response, PageRecord, str, Any], Iterator[Any]]):
        try:
            rec, text, root = self._record(response)
        except Exception as exc:  # our bug: keep a row for the URL, say what happened, go on
            yield from self._crash(response.meta, exc, None, response.status)
            return
        emitted = False
        try:
            for out in body(response, rec, text, root):
                if out is rec:
                    emitted = True
                yield out
        except Exception as exc:  # our bug on one page must not cost the site: keep the page, say so
            yield from self._crash(response.meta, exc, rec, response.status, emit_row=not emitted)

    def _crash(self, meta: dict[str, Any], exc: BaseException, rec: PageRecord | None,
               http_status: int | None = None, emit_row: bool = True) -> Iterator[Any]:
        self.counters["parse_errors"] += 1
        logger.error("parse error on %s", meta.get("g_url"), exc_info=exc)
        if meta.get("g_kind") in ("home", "platform"):
            self.fatal_error = f"{type(exc).__name__}: {exc}\n{''.join(traceback.format_exception(exc, limit=6))}"
        walk = self.walks.get(meta.get("g_walk", ""))
        if walk is not None and not walk.done:
            walk.list_status = walk.list_status or "ok"
            walk.unreadable = walk.unreadable or f"parse error: {type(exc).__name__}"
            yield from self._close_walk(walk)
        if not emit_row or not meta.get("g_url"):
            return
        if rec is None:
            rec = PageRecord(url=meta["g_url"], kind=meta.get("g_kind", "other"), fetch_status="error",
                             http_status=http_status, depth=meta.get("g_depth", 0), referer=meta.get("g_referer"),
                             column_key=meta.get("g_column"), wire_bytes=int(meta.get("wire_bytes", 0)))
        rec.error = f"parse error: {type(exc).__name__}: {exc}"[:1000]
        yield rec

    # -- failures ----------------------------------------------------------------------------------------

    def on_error(self, failure):
        try:
            yield from self._on_error(failure)
        except Exception as exc:  # an error while recording an error: still leave a trace of the URL
            yield from self._crash(failure.request.meta, exc, None)

    def _on_error(self, failure):
        request = failure.request
        meta = request.meta
        status, reason = status_for_failure(failure)
        limit = meta.get("download_maxsize", self.download_maxsize)
        if status == "error" and limit and meta.get("g_bytes_in", 0) > limit:
            status, reason = "too_large", f"body passed the size limit ({limit} bytes) after {meta['g_bytes_in']}"
        if meta.get("g_screenshot"):
            self.counters["screenshot_errors"] += 1
            return
        if meta.get("g_rendered") and meta.get("g_static"):
            # the browser failed: fall back to what the static fetch showed, and say so
            static = meta["g_static"]
            self.counters["render_errors"] = self.counters.get("render_errors", 0) + 1
            yield from self._render_fallback(meta, static, f"render failed: {reason}")
            return
        if meta.get("g_probe_get") is None and meta.get("g_kind") == "link_probe" and request.method == "HEAD" \
                and status in ("connection_lost",):
            retry = self._probe_get(meta)
            if retry is not None:
                yield retry
                return
        rec = PageRecord(url=meta["g_url"], kind=meta["g_kind"], fetch_status=status, error=reason[:1000],
                         depth=meta["g_depth"], referer=meta.get("g_referer"), column_key=meta.get("g_column"),
                         wire_bytes=int(meta.get("wire_bytes", 0)),
                         network=status not in ("robots_disallowed", "redirect_offsite", "redirect_loop"))
        if status == "robots_disallowed":
            rec.network = False
        yield rec
        yield from self._after_failure(meta, status, reason)

    def _after_failure(self, meta: dict[str, Any], status: str, reason: str) -> Iterator[Any]:
        kind = meta["g_kind"]
        if kind in ("home", "platform"):
            if kind == "platform" and meta.get("g_home_text") is not None:
                # the platform link is broken: an assessor would still read the portal's own menu
                self.unreachable = None
                yield from self._platform(meta["g_home_url"], parse_html(meta["g_home_text"]), meta["g_home_text"],
                                          depth=0)
                return
            self.unreachable = (status, reason)
            return
        walk = self.walks.get(meta.get("g_walk", ""))
        if walk is None or walk.done:
            return
        if meta.get("g_json"):
            yield from self._next_endpoint(walk, meta)
            return
        if walk.pages == 0:
            walk.list_status = status
        yield from self._close_walk(walk)

    # -- home and platform -------------------------------------------------------------------------------

    def parse_home(self, response: Response):
        yield from self._guard(response, self._home)

    def _home(self, response, rec: PageRecord, text: str, root) -> Iterator[Any]:
        if rec.fetch_status != "ok" or root is None:
            yield rec
            if rec.fetch_status != "ok":
                self.unreachable = (rec.fetch_status, f"HTTP {rec.http_status}" if rec.http_status else "")
            else:
                self.unreachable = ("error", "home page is not HTML")
            return
        url = rec.url
        self._add_link_candidates(rec, root, url)
        own_tree = column_tree(root, text, response.url)
        from crawler.extract.menu import tree_score

        link = find_platform_link(root, response.url)
        # the 政府信息公开 entry is followed when there is one (a column tree shared by every page of the site,
        # as in a JS variable, does not make the portal's home the platform); without one, the home is it
        if link is None or link[0] in (url, response.url) or (
                tree_score(own_tree) >= _PLATFORM_MIN_SCORE and not self.host_policy.allows(link[0])):
            rec.kind = "platform"
            yield rec
            yield from self._platform(url, root, text, depth=0, tree=own_tree)
            return
        yield rec
        if not self.host_policy.allows(link[0]):
            # the platform lives on another host the sites file did not allow: read the portal's menu
            self.limits_hit["platform_offsite"] = 1
            yield from self._platform(url, root, text, depth=0, tree=own_tree)
            return
        out = self.fetch(link[0], kind="platform", callback=self.parse_platform, depth=1, referer=url,
                         meta={"g_home_url": url, "g_home_text": text})  # text, not a tree: meta stays picklable
        if out is not None:
            yield out

    def parse_platform(self, response: Response):
        yield from self._guard(response, self._platform_page)

    def _platform_page(self, response, rec: PageRecord, text: str, root) -> Iterator[Any]:
        yield rec
        if rec.fetch_status != "ok" or root is None:
            yield from self._after_failure(response.meta, rec.fetch_status, f"HTTP {rec.http_status}")
            return
        self._add_link_candidates(rec, root, rec.url)
        yield from self._platform(rec.url, root, text, depth=response.meta["g_depth"],
                                  rendered=bool(response.meta.get("g_rendered")))

    def _platform(self, url: str, root, text: str, *, depth: int, tree: list[MenuNode] | None = None,
                  rendered: bool = False) -> Iterator[Any]:
        self.platform_url = url
        self.screenshot_targets.append(url)
        tree = tree if tree is not None else column_tree(root, text, url)
        if not tree:
            # a tree served by a JSON endpoint, or one drawn by script: call the endpoint, else render
            endpoints = find_json_endpoints(text, url)
            for ep in endpoints[:3]:
                out = self.fetch(ep, kind="other", callback=self.parse_tree_json, depth=depth, referer=url,
                                 meta={"g_platform_text": text})
                if out is not None:
                    yield out
                    return
            if self._can_render() and not rendered:
                out = self.fetch(url, kind="platform", callback=self.parse_platform, depth=depth, render=True,
                                 reclaim=True)
                if out is not None:
                    yield out
                    return
            tree = column_tree(root, text, url, min_score=0)
        yield from self._columns_from_tree(url, root, tree, depth)

    def parse_tree_json(self, response: Response):
        yield from self._guard(response, self._tree_json)

    def _tree_json(self, response, rec: PageRecord, text: str, root) -> Iterator[Any]:
        yield rec
        meta = response.meta
        data = _json_load(text) if rec.fetch_status == "ok" else None
        tree = tree_from_json(data, rec.url) if data is not None else []
        ptext = meta["g_platform_text"]
        proot = parse_html(ptext)
        base = self.platform_url or rec.url
        if not tree:
            tree = column_tree(proot, ptext, base, min_score=0)
        yield from self._columns_from_tree(base, proot, tree, meta["g_depth"])

    def _columns_from_tree(self, url: str, root, tree: list[MenuNode], depth: int) -> Iterator[Any]:
        specs: list[ColumnSpec] = []
        for node in tree:
            parent = self._new_column(node.name, node.url, None, 1, node.source, specs)
            for child in node.children:
                self._new_column(child.name, child.url, parent, 2, child.source, specs)
        # column boxes with a "more" link that the menu did not list
        known_urls = {c.url for c in self.columns.values() if c.url}
        known_names = {squash(c.name) for c in self.columns.values()}
        if root is not None:
            for title, more_url in more_links(root, url):
                if more_url in known_urls or squash(title) in known_names or more_url == url:
                    continue
                self._new_column(title, more_url, None, 1, "link", specs)
                known_urls.add(more_url)
                known_names.add(squash(title))
        if specs:
            yield ColumnsFound(columns=specs)
        yield from self._start_walks(specs, referer=url, depth=depth + 1)

    def _new_column(self, name: str, url: str | None, parent: str | None, level: int, source: str,
                    specs: list[ColumnSpec]) -> str:
        self._column_seq += 1
        key = f"c{self._column_seq}"
        self.columns[key] = ColumnInfo(key=key, name=name, url=url, parent_key=parent, level=level)
        specs.append(ColumnSpec(key=key, name=name, url=url, parent_key=parent, level=level, source=source,
                                position=self._column_seq))
        return key

    def column_path(self, key: str | None) -> list[str]:
        path: list[str] = []
        while key and key in self.columns:
            path.insert(0, self.columns[key].name)
            key = self.columns[key].parent_key
        return path

    # -- column lists ------------------------------------------------------------------------------------

    def _start_walks(self, specs: list[ColumnSpec], *, referer: str, depth: int) -> Iterator[Any]:
        if "lists" not in self.scope:
            return
        for spec in specs:
            url = spec.url
            if not url or url in (self.platform_url, self.site_url) or not self.host_policy.allows(url):
                continue
            if url in self.walks:  # two columns pointing at one list share its walk
                walk = self.walks[url]
                if walk.done:
                    yield walk.result().__class__(**{**walk.result().__dict__, "keys": [spec.key]})
                else:
                    walk.keys.append(spec.key)
                continue
            walk = Walk(url=url, keys=[spec.key], cap=self.column_cap, unchanged=self.reuse.enabled)
            self.walks[url] = walk
            if attachment_ext(url):
                yield from self._file_column(walk, spec, referer, depth)
                continue
            out = self.fetch(url, kind="column_list", callback=self.parse_list, depth=depth, referer=referer,
                             column_key=spec.key, meta={"g_walk": url, "g_page_no": 1},
                             render=self.render_mode == "always" and self._can_render())
            if isinstance(out, Request):
                yield out
            else:
                # refused (trap, limit) or already fetched as another kind of page: the list is unknown
                walk.list_status = out.fetch_status if out is not None else None
                walk.unreadable = "list page not fetched as a list"
                if out is not None:
                    yield out
                yield from self._close_walk(walk)

    def _file_column(self, walk: Walk, spec: ColumnSpec, referer: str, depth: int) -> Iterator[Any]:
        """A menu entry that opens a file (a guide as PDF): the column shows that one item."""
        from crawler.extract.listing import Entry

        walk.list_status = "ok"
        items = walk.take([Entry(title=spec.name, url=walk.url, date=None)])
        yield ItemsFound(listed=items, attachments=[AttachmentRow(url=walk.url, anchor_text=spec.name,
                                                                  ext=attachment_ext(walk.url))],
                         page_url=referer)
        yield from self._listed_followups(items, referer, depth, spec.key)
        yield from self._close_walk(walk)

    def parse_list(self, response: Response):
        yield from self._guard(response, self._list)

    def _list(self, response, rec: PageRecord, text: str, root) -> Iterator[Any]:
        meta = response.meta
        walk = self.walks[meta["g_walk"]]
        page_no = meta.get("g_page_no", 1)
        col_key = walk.keys[0]
        if rec.fetch_status != "ok":
            yield rec
            yield from self._after_failure(meta, rec.fetch_status, f"HTTP {rec.http_status}")
            return
        if rec.url not in self.unchanged_pages or rec.rendered:
            yield from self._walk_changed(walk)
        walk.visited.add(rec.url)
        walk.visited.add(response.url)
        walk.pages += 1
        walk.list_status = walk.list_status or "ok"
        lp = parse_list_page(root, text, response.url, page_no)
        if walk.total_reported is None:
            walk.total_reported = lp.total_reported
        rec.listed = walk.take(lp.entries)
        rec.title = text_of(root.find(".//title")) if root is not None and root.find(".//title") is not None else None
        self._add_link_candidates(rec, root, rec.url)
        if page_no == 1:
            yield from self._tree_additions(root, text, response.url, col_key, meta["g_depth"])
        if page_no == 1 and not lp.entries:
            # nothing listed in the static HTML: JSON endpoint, browser, a document in place of a list,
            # boxes with "more" links, or a note such as 暂无信息
            needs = lp.needs_render
            if meta.get("g_rendered") or (lp.empty_note and (needs or "").startswith("empty list container")):
                needs = None  # rendered already, or the page itself says the list is empty (暂无信息)
            if lp.json_endpoints and not meta.get("g_rendered"):
                walk.endpoints = list(lp.json_endpoints)
                walk.empty_note = lp.empty_note
                yield rec
                yield from self._next_endpoint(walk, meta, needs_render=needs)
                return
            if not lp.empty_note and any(c.parent_key in walk.keys for c in self.columns.values()):
                # a parent column's page links its sub-columns; it has no list of its own
                walk.unreadable = "parent column: its page lists sub-columns, not documents"
                yield rec
                yield from self._close_walk(walk)
                return
            if needs:
                if self._can_render():
                    yield from self._render_instead(response, rec, meta)
                    return
                # the list is drawn by script and we may not (render: never) or cannot (no browser) run it:
                # its content is unknown, which is not the same as empty
                why = "render: never" if self.render_mode == "never" else "no browser"
                if self.render_mode != "never":
                    self.counters["render_wanted_no_browser"] += 1
                walk.unreadable = f"{needs}; not rendered ({why})"
            if not needs and not lp.empty_note:
                doc = self._single_document(rec, root, col_key)
                if doc is not None:
                    walk.single_document = True
                    rec.listed = walk.take([doc])
                    yield rec
                    yield from self._queue_attachments(rec, rec.url, meta["g_depth"] + 1)
                    yield from self._close_walk(walk)
                    return
            boxes = self._box_columns(root, response.url, col_key)
            if boxes:
                yield ColumnsFound(columns=boxes)
                yield rec
                walk.empty_note = lp.empty_note
                yield from self._close_walk(walk)
                yield from self._start_walks(boxes, referer=rec.url, depth=meta["g_depth"])
                return
            walk.empty_note = lp.empty_note
        rec.attachments = self._listed_files(rec.listed)
        yield rec
        yield from self._walk_followups(walk, rec.listed, rec.url, meta["g_depth"] + 1, col_key)
        yield from self._next_list_page(walk, lp.next_url, rec.url, meta, page_no)

    def _next_list_page(self, walk: Walk, next_url: str | None, current: str, meta: dict[str, Any],
                        page_no: int) -> Iterator[Any]:
        if walk.capped or len(walk.entries) >= walk.cap:
            walk.capped = walk.capped or bool(next_url) or (walk.total_reported or 0) > walk.cap
        elif next_url and next_url not in walk.visited and walk.pages < self.max_list_pages:
            out = self.fetch(next_url, kind="column_list", callback=self.parse_list, depth=meta["g_depth"],
                             referer=current, column_key=walk.keys[0],
                             meta={"g_walk": walk.url, "g_page_no": page_no + 1},
                             render=bool(meta.get("g_rendered")) and self._can_render())
            if isinstance(out, Request):
                yield out
                return
            if out is not None:
                yield out
        elif next_url and walk.pages >= self.max_list_pages:
            self._limit("max_list_pages")
        yield from self._close_walk(walk)

    def _tree_additions(self, root, text: str, url: str, col_key: str, depth: int) -> Iterator[Any]:
        """A left tree on a column page can show second-level columns the platform menu did not."""
        if root is None:
            return
        tree = column_tree(root, text, url)
        by_name = {squash(c.name): c for c in self.columns.values() if c.level == 1}
        specs: list[ColumnSpec] = []
        for node in tree:
            parent = by_name.get(squash(node.name))
            if parent is None:
                continue
            known = {squash(c.name) for c in self.columns.values() if c.parent_key == parent.key}
            known_urls = {c.url for c in self.columns.values() if c.parent_key == parent.key}
            for child in node.children:
                if squash(child.name) in known or (child.url and child.url in known_urls):
                    continue
                self._new_column(child.name, child.url, parent.key, 2, "tree", specs)
                known.add(squash(child.name))
        if specs:
            yield ColumnsFound(columns=specs)
            yield from self._start_walks(specs, referer=url, depth=depth)

    def _box_columns(self, root, url: str, col_key: str) -> list[ColumnSpec]:
        """A first-level column page made of boxes with "more" links: each box is a second-level column."""
        if root is None or self.columns[col_key].level != 1:
            return []
        known_urls = {c.url for c in self.columns.values() if c.url}
        specs: list[ColumnSpec] = []
        for title, more_url in more_links(root, url):
            if more_url in known_urls or more_url == url:
                continue
            self._new_column(title, more_url, col_key, 2, "link", specs)
            known_urls.add(more_url)
        return specs

    def _single_document(self, rec: PageRecord, root, col_key: str):
        """A column whose link opens one document (a guide page, say) rather than a list."""
        from crawler.extract.listing import Entry

        if root is None:
            return None
        info = parse_document(root, rec.url)
        # only a real document: a metadata table, or a substantial text in a content container
        if len(info.fields) < 2 and not (info.body_from_container and len(info.body_text) >= 150):
            return None
        kind = doc_kind(self.column_path(col_key), info.title)
        rec.kind = "guide" if kind == "guide" else "annual_report" if kind == "annual_report" else "document"
        rec.title = info.title
        rec.publish_date = info.publish_date
        rec.document = self._document_row(info, kind, col_key, rec.rendered)
        rec.links = self._link_rows(info.links)
        rec.attachments = [AttachmentRow(url=u, anchor_text=t, ext=e) for u, t, e in info.attachments]
        if kind == "guide":
            self.screenshot_targets.append(rec.url)
        return Entry(title=info.title or self.columns[col_key].name, url=rec.url, date=info.publish_date)

    def _listed_files(self, listed) -> list[AttachmentRow]:
        """List entries that open a file directly are attachments of the list page."""
        out = []
        for it in listed:
            ext = attachment_ext(it.url, it.title) if it.url else None
            if ext:
                out.append(AttachmentRow(url=it.url, anchor_text=it.title, ext=ext))
        return out

    def _walk_followups(self, walk: Walk, listed, referer: str, depth: int, col_key: str) -> Iterator[Any]:
        """The list entries' documents and files: at once, or — while the column looks unchanged — at the
        walk's end, when it is known whether they may be copied from the previous run."""
        if walk.unchanged:
            walk.deferred.append((listed, referer, depth, col_key))
            return
        yield from self._listed_followups(listed, referer, depth, col_key)

    def _walk_changed(self, walk: Walk) -> Iterator[Any]:
        """A list page differs from the previous run's: the column's entries are requested after all."""
        if not walk.unchanged:
            return
        walk.unchanged = False
        deferred, walk.deferred = walk.deferred, []
        for listed, referer, depth, col_key in deferred:
            yield from self._listed_followups(listed, referer, depth, col_key)

    def _close_walk(self, walk: Walk) -> Iterator[Any]:
        """The column's outcome, then its deferred follow-ups: copied from the previous run when every list
        page was unchanged and the column lists the same entries as last time, requested otherwise."""
        was_done = walk.done
        yield walk.result()
        same = False
        if self.reuse.enabled and not was_done and walk.list_status == "ok" and not walk.unreadable:
            same = walk.unchanged and self.prev.same_entries(self.column_path(walk.keys[0]), walk.entry_tuples())
            self.incremental["columns_unchanged" if same else "columns_changed"] += 1
        deferred, walk.deferred = walk.deferred, []
        walk.unchanged = False
        for listed, referer, depth, col_key in deferred:
            yield from self._listed_followups(listed, referer, depth, col_key, reuse=same)

    def _listed_followups(self, listed, referer: str, depth: int, col_key: str, reuse: bool = False) -> Iterator[Any]:
        if "documents" not in self.scope and "attachments" not in self.scope:
            return
        for it in listed:
            if not it.url or not self.host_policy.allows(it.url):
                continue
            if attachment_ext(it.url, it.title):
                if "attachments" in self.scope:
                    yield from self._emit(self.fetch(it.url, kind="attachment", callback=self.parse_attachment,
                                                     depth=depth, referer=referer, column_key=col_key, reuse=reuse))
                continue
            yield from self._emit(self.fetch(it.url, kind="document", callback=self.parse_document, depth=depth,
                                             referer=referer, column_key=col_key, reuse=reuse,
                                             render=self.render_mode == "always" and self._can_render()))

    # -- JSON-fed lists ----------------------------------------------------------------------------------

    def _next_endpoint(self, walk: Walk, meta: dict[str, Any], needs_render: str | None = None) -> Iterator[Any]:
        while walk.endpoints:
            ep = walk.endpoints.pop(0)
            out = self.fetch(ep, kind="column_list", callback=self.parse_json_list, depth=meta["g_depth"],
                             referer=walk.url, column_key=walk.keys[0],
                             meta={"g_walk": walk.url, "g_json": ep, "g_json_page": 1,
                                   "g_needs_render": needs_render or meta.get("g_needs_render")})
            if isinstance(out, Request):
                yield out
                return
            if out is not None:
                yield out
        needs = needs_render or meta.get("g_needs_render")
        if walk.entries:
            yield from self._close_walk(walk)
            return
        if needs and self.render_mode != "never" and self._can_render() and not walk.done:
            out = self.fetch(walk.url, kind="column_list", callback=self.parse_list, depth=meta["g_depth"],
                             column_key=walk.keys[0], meta={"g_walk": walk.url, "g_page_no": 1}, render=True,
                             reclaim=True)
            if isinstance(out, Request):
                walk.pages = max(0, walk.pages - 1)
                yield out
                return
        if needs:
            walk.unreadable = f"{needs}; JSON endpoints gave nothing"
        yield from self._close_walk(walk)

    def parse_json_list(self, response: Response):
        yield from self._guard(response, self._json_list)

    def _json_list(self, response, rec: PageRecord, text: str, root) -> Iterator[Any]:
        meta = response.meta
        walk = self.walks[meta["g_walk"]]
        page = meta["g_json_page"]
        jp = parse_json_list(text, rec.url) if rec.fetch_status == "ok" else None
        if jp is None or (page == 1 and not jp.entries):
            yield rec
            if walk.entries or (jp is not None and page > 1):
                yield from self._close_walk(walk)
                return
            if jp is not None and jp.total_reported == 0:
                walk.list_status = "ok"  # the endpoint answered: the list is empty
                yield from self._close_walk(walk)
                return
            yield from self._next_endpoint(walk, meta)
            return
        if rec.url not in self.unchanged_pages or rec.rendered:
            yield from self._walk_changed(walk)
        walk.pages += 1
        walk.list_status = "ok"
        if walk.total_reported is None:
            walk.total_reported = jp.total_reported
        rec.listed = walk.take(jp.entries)
        rec.links = [LinkRow(to_url=e.url, anchor_text=e.title, internal=self.host_policy.allows(e.url),
                             rendered=True) for e in jp.entries if e.url]
        rec.links_from = walk.url
        rec.attachments = self._listed_files(rec.listed)
        yield rec
        yield from self._walk_followups(walk, rec.listed, walk.url, meta["g_depth"] + 1, walk.keys[0])
        nxt = None
        more = jp.entries and (jp.total_pages is None or page < jp.total_pages) and (
            jp.total_reported is None or len(walk.seen) < jp.total_reported)
        if more:
            nxt = jp.next_url or json_page_url(meta["g_json"], page + 1)
        if nxt and not (walk.capped or len(walk.entries) >= walk.cap) and walk.pages < self.max_list_pages:
            out = self.fetch(nxt, kind="column_list", callback=self.parse_json_list, depth=meta["g_depth"],
                             referer=walk.url, column_key=walk.keys[0],
                             meta={"g_walk": walk.url, "g_json": meta["g_json"], "g_json_page": page + 1})
            if isinstance(out, Request):
                yield out
                return
            if out is not None:
                yield out
        if nxt and len(walk.entries) >= walk.cap:
            walk.capped = True
        yield from self._close_walk(walk)

    # -- rendering ---------------------------------------------------------------------------------------

    def _can_render(self) -> bool:
        return self.browser_ok and self.render_mode != "never"

    def _render_instead(self, response: Response, rec: PageRecord, meta: dict[str, Any]) -> Iterator[Any]:
        """Ask the browser for this page; keep the static record to fall back on if the browser fails."""
        new_meta = {k: v for k, v in meta.items() if k.startswith("g_") and k not in ("g_url", "g_kind",
                                                                                       "g_depth", "g_referer",
                                                                                       "g_column", "g_t0")}
        new_meta["g_static"] = rec
        new_meta["g_extra_bytes"] = rec.wire_bytes
        callback = self.parse_list if meta["g_kind"] == "column_list" else self.parse_document
        if meta["g_kind"] in ("platform",):
            callback = self.parse_platform
        out = self.fetch(rec.url, kind=meta["g_kind"], callback=callback, depth=meta["g_depth"],
                         referer=meta.get("g_referer"), column_key=meta.get("g_column"), meta=new_meta,
                         render=True, reclaim=True)
        if isinstance(out, Request):
            self.counters["rendered"] += 1
            walk = self.walks.get(meta.get("g_walk", ""))
            if walk is not None:
                walk.pages = max(0, walk.pages - 1)
                walk.visited.discard(rec.url)
            yield out
        else:
            yield from self._render_fallback(meta, rec, "render not possible")

    def _render_fallback(self, meta: dict[str, Any], static: PageRecord, note: str) -> Iterator[Any]:
        static.error = note
        yield static
        walk = self.walks.get(meta.get("g_walk", ""))
        if walk is not None and not walk.done:
            walk.unreadable = note
            walk.list_status = walk.list_status or "ok"
            yield from self._close_walk(walk)

    # -- documents and attachments -----------------------------------------------------------------------

    def parse_document(self, response: Response):
        yield from self._guard(response, self._document)

    def _document(self, response, rec: PageRecord, text: str, root) -> Iterator[Any]:
        meta = response.meta
        if rec.fetch_status != "ok" or root is None:
            if rec.fetch_status == "ok" and rec.content_type and attachment_ext(rec.url + ".x") is None:
                rec.kind = "attachment" if not (rec.content_type or "").startswith("text/") else rec.kind
            yield rec
            return
        col_key = meta.get("g_column")
        info = parse_document(root, rec.url)
        kind = doc_kind(self.column_path(col_key) if col_key else [], info.title)
        rec.kind = "guide" if kind == "guide" else "annual_report" if kind == "annual_report" else "document"
        rec.title = info.title
        rec.publish_date = info.publish_date
        rendered = bool(meta.get("g_rendered"))
        box = runtime_box(root) if not rendered else None
        endpoints: list[str] = []
        if box:
            # the script fills the box from an endpoint: call it directly; render only when there is none
            endpoints = find_json_endpoints(text, rec.url)
            if not endpoints and self._can_render():
                rec.document = self._document_row(info, kind, col_key, rendered)
                yield from self._render_instead(response, rec, meta)
                return
            if not endpoints:
                self.counters["render_wanted_no_browser"] += 1
                rec.error = f"{box}; not rendered ({'render: never' if self.render_mode == 'never' else 'no browser'})"
        static_links: set[str] | None = None
        if rendered and meta.get("g_static") is not None:
            static_links = {ln.to_url for ln in meta["g_static"].links}
        rec.document = self._document_row(info, kind, col_key, rendered)
        rec.links = self._link_rows(info.links, static_links)
        rec.attachments = [AttachmentRow(url=u, anchor_text=t, ext=e) for u, t, e in info.attachments]
        yield rec
        if kind == "guide" and len([u for u in self.screenshot_targets]) < 6:
            self.screenshot_targets.append(rec.url)
        depth = meta["g_depth"] + 1
        yield from self._queue_attachments(rec, rec.url, depth)
        yield from self._follow_interpretations(info.links, rec.url, depth)
        self._add_link_candidates(rec, None, rec.url)
        for ep in endpoints[:2]:
            out = self.fetch(ep, kind="other", callback=self.parse_box_json, depth=depth, referer=rec.url,
                             meta={"g_box_of": rec.url})
            if out is not None:
                yield out

    def _document_row(self, info, kind: str, col_key: str | None, rendered: bool) -> DocumentRow:
        f: dict[str, Any] = {k: v for k, v in info.fields.items() if k not in ("written_date", "publish_date")}
        f["written_date"] = info.written_date
        f["publish_date"] = info.publish_date
        return DocumentRow(kind=kind, title=info.title, fields=f, meta=info.meta, body_text=info.body_text,
                           column_key=col_key, rendered=rendered)

    def _link_rows(self, links, static_links: set[str] | None = None) -> list[LinkRow]:
        return [LinkRow(to_url=ln.url, anchor_text=ln.text or None, internal=self.host_policy.allows(ln.url),
                        rendered=static_links is not None and ln.url not in static_links) for ln in links]

    def _queue_attachments(self, rec: PageRecord, page_url: str, depth: int) -> Iterator[Any]:
        if "attachments" not in self.scope:
            return
        for at in rec.attachments:
            if not self.host_policy.allows(at.url):
                continue
            out = self.fetch(at.url, kind="attachment", callback=self.parse_attachment, depth=depth,
                             referer=page_url)
            if out is not None:
                yield out

    def _follow_interpretations(self, links, page_url: str, depth: int) -> Iterator[Any]:
        if "documents" not in self.scope:
            return
        for ln in links:
            if is_interpretation_link(ln.text, ln.context) and self.host_policy.allows(ln.url) \
                    and not attachment_ext(ln.url, ln.text):
                out = self.fetch(ln.url, kind="document", callback=self.parse_document, depth=depth,
                                 referer=page_url)
                if out is not None:
                    yield out

    def parse_box_json(self, response: Response):
        yield from self._guard(response, self._box_json)

    def _box_json(self, response, rec: PageRecord, text: str, root) -> Iterator[Any]:
        """Links a document's script would have written into its interpretation box."""
        doc_url = response.meta["g_box_of"]
        jp = parse_json_list(text, rec.url) if rec.fetch_status == "ok" else None
        if jp is not None:
            rec.links = [LinkRow(to_url=e.url, anchor_text=e.title, internal=self.host_policy.allows(e.url),
                                 rendered=True) for e in jp.entries if e.url]
            rec.links_from = doc_url
        yield rec
        if jp is not None:
            from crawler.extract.document import LinkSeen

            yield from self._follow_interpretations([LinkSeen(url=e.url, text=e.title, context="相关解读")
                                                     for e in jp.entries if e.url], doc_url,
                                                    response.meta["g_depth"])

    def parse_attachment(self, response: Response):
        yield from self._guard(response, self._attachment)

    def _attachment(self, response, rec: PageRecord, text: str, root) -> Iterator[Any]:
        rec.kind = "attachment"
        yield rec

    # -- link probes and screenshots (after the walk) ----------------------------------------------------

    def _add_link_candidates(self, rec: PageRecord, root, page_url: str) -> None:
        if "link_probes" not in self.scope:
            return
        urls: list[str] = [ln.to_url for ln in rec.links if ln.internal]
        if root is not None and not rec.links:
            from crawler.extract.document import links_of

            seen = links_of(root, page_url)
            rec.links = self._link_rows(seen)
            urls = [ln.to_url for ln in rec.links if ln.internal]
        for u in urls:
            self.link_candidates.setdefault(u, page_url)

    def on_idle(self, spider=None) -> None:
        if self.phase != "walk":
            return
        self.phase = "after_walk"
        requests: list[Request] = []
        if "link_probes" in self.scope:
            self._reused_link_candidates()
            for url, referer in self.link_candidates.items():
                if url in self.claimed:
                    continue
                # a link shown by a page that is what the previous run saw: its probe may be copied too
                out = self.fetch(url, kind="link_probe", callback=self.parse_probe, depth=0, referer=referer,
                                 method="HEAD", probe=True, priority=-10, reuse=referer in self.unchanged_pages)
                if isinstance(out, Request):
                    requests.append(out)
                elif isinstance(out, ReusedPage):
                    self._store_reused(out)  # no callback is coming for it
                elif out is not None:
                    self.counters["probes_suppressed"] = self.counters.get("probes_suppressed", 0) + 1
        if self.screenshots and self.browser_ok:
            requests.extend(self._screenshot_requests())
        if requests:
            for r in requests:
                self.crawler.engine.crawl(r)
            raise DontCloseSpider

    def parse_probe(self, response: Response):
        yield from self._guard(response, self._probe)

    def _probe(self, response, rec: PageRecord, text: str, root) -> Iterator[Any]:
        if response.request.method == "HEAD" and response.status in (405, 501, 400, 403):
            retry = self._probe_get(response.meta)
            if retry is not None:
                yield retry
                return
        rec.body = None
        yield rec

    def _probe_get(self, meta: dict[str, Any]) -> Request | None:
        """HEAD refused: ask with GET, reading only the status line and headers."""
        return Request(meta["g_url"], callback=self.parse_probe, errback=self.on_error, dont_filter=True,
                       priority=-10, meta={**{k: v for k, v in meta.items() if k.startswith("g_")},
                                           "g_probe_get": True})

    def _screenshot_requests(self) -> list[Request]:
        from scrapy_playwright.page import PageMethod

        targets: list[str] = []
        for url in self.screenshot_targets:
            if url not in targets:
                targets.append(url)
        words = vocab().screenshot_columns
        for c in self.columns.values():
            if c.url and any(w in squash(c.name) for w in words) and c.url not in targets:
                targets.append(c.url)
        out = []
        for url in targets[:6]:
            out.append(Request(url, callback=self.parse_screenshot, errback=self.on_error, dont_filter=True,
                               priority=-20, meta={
                                   "playwright": True, "g_screenshot": url, "g_url": url, "g_kind": "screenshot",
                                   "g_depth": 0, "playwright_page_methods": [
                                       PageMethod("wait_for_load_state", "networkidle"),
                                       PageMethod("screenshot", full_page=True, type="png")]}))
        return out

    def parse_screenshot(self, response: Response):
        methods = response.meta.get("playwright_page_methods") or []
        png = methods[-1].result if methods else None
        if isinstance(png, bytes | bytearray) and png:
            self.counters["screenshots"] += 1
            yield ScreenshotRecord(url=response.meta["g_screenshot"], png=bytes(png))
        else:
            self.counters["screenshot_errors"] += 1

    # -- the end -----------------------------------------------------------------------------------------

    def on_closed(self, spider=None, reason: str = "") -> None:
        self.close_reason = reason
        if reason == "closespider_timeout":
            self._limit("site_time_limit")
        pipeline = getattr(self, "pipeline", None)
        if pipeline is not None:
            pipeline.finish()

    def unfinished_columns(self):
        # walks the crawl was stopped in (time limit, shutdown): their lists were cut short
        for walk in self.walks.values():
            if not walk.done:
                if walk.list_status in (None, "ok"):
                    walk.list_status = "limit_reached"
                yield walk.result()  # the crawl is closing: nothing more can be fetched

    def outcome(self) -> tuple[str, str | None]:
        if self.fatal_error:
            return "failed", self.fatal_error[:2000]
        if self.close_reason in ("shutdown", "cancelled"):
            return "failed", f"crawl interrupted ({self.close_reason})"
        if self.unreachable:
            status, reason = self.unreachable
            return "unreachable", f"{status}: {reason}".strip(": ")
        return "crawled", None

    def run_stats(self) -> dict[str, Any]:
        limits = dict(self.limits_hit)
        stats: dict[str, Any] = {
            "limits_hit": limits,
            "robots_policy": self.robots_policy,
            "render_mode": self.render_mode,
            "browser": "available" if self.browser_ok else (self.browser_note or "not used"),
            "columns": len(self.columns),
            "column_walks": len(self.walks),
            "platform_url": self.platform_url,
            "previous_run": self.previous_run,
            "incremental": {"previous_run": self.previous_run, "skipping": self.reuse.enabled,
                            "revalidate_days": self.reuse.revalidate_days, **self.incremental},
            "scope": sorted(self.scope),
            "counters": dict(self.counters),
        }
        if self.unreachable:
            stats["unreachable"] = {"status": self.unreachable[0], "reason": self.unreachable[1]}
        return stats


def _hdr(response: Response, name: str) -> str | None:
    v = response.headers.get(name)
    return v.decode("latin-1") if v else None


__all__ = ["PlatformSpider", "expand_scope", "TRANSIENT", "TextResponse"]
