"""Downloader middlewares: safety (hosts, private ranges, loops), retries with backoff, conditional
requests against the previous run's evidence, decoding of Chinese encodings, and byte accounting."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response, TextResponse
from scrapy.responsetypes import responsetypes

from crawler.encoding import decode_body
from crawler.fetch_status import Refused
from crawler.urls import host_port, is_private_host

logger = logging.getLogger(__name__)

def _is_textual(ctype: str) -> bool:
    """Pages we decode: HTML, XML, JSON, scripts, plain text. Not office formats whose MIME names contain
    "xml" (application/vnd.openxmlformats-...)."""
    mime = ctype.split(";")[0].strip()
    if mime.startswith("text/") or mime in ("application/json", "application/xml", "application/javascript",
                                            "application/x-javascript", "application/ecmascript",
                                            "application/xhtml+xml", "application/ld+json"):
        return True
    return mime.endswith(("+json", "+xml")) and "openxmlformats" not in mime


class SafetyMiddleware:
    """Refuses requests outside the unit's hosts (also after redirects), into private or link-local
    address ranges (unless the site itself lives there), and redirect loops."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request):
        spider = self.crawler.spider
        policy = getattr(spider, "host_policy", None)
        if policy is None:
            return None
        redirected_from = request.meta.get("redirect_urls") or []
        if redirected_from and request.url in redirected_from:
            raise Refused("redirect_loop", f"redirect chain returns to {request.url}")
        if not policy.allows(request.url):
            raise Refused("redirect_offsite", f"{request.url} is outside the unit's hosts")
        host, _port = host_port(request.url)
        if not policy.site_is_private and is_private_host(host):
            raise Refused("redirect_offsite", f"{host} is a private/link-local address")
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry (transient errors and 5xx/429/408 only) plus exponential backoff before each retry,
    so a struggling government server gets time to recover instead of three quick hits."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("GOVAUDIT_RETRY_BACKOFF", 2.0)
        self.cap = settings.getfloat("GOVAUDIT_RETRY_BACKOFF_MAX", 30.0)

    async def _pause(self, retry: Request) -> Request:
        n = int(retry.meta.get("retry_times", 1))
        delay = min(self.cap, self.base * (2 ** max(0, n - 1)))
        if delay > 0:
            await asyncio.sleep(delay)
        return retry

    async def process_response(self, request: Request, response: Response):  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            return await self._pause(result)
        return result

    async def process_exception(self, request: Request, exception: Exception):  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            return await self._pause(result)
        return result


class ConditionalRequestMiddleware:
    """Incremental recrawl from the store: send If-None-Match / If-Modified-Since taken from the previous
    run's page, and turn a 304 into a response carrying the stored body (flag ``reused``)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("GOVAUDIT_CONDITIONAL", True)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request):
        prev: dict[str, Any] | None = request.meta.get("prev_page")
        if not self.enabled or not prev or request.method != "GET" or request.meta.get("playwright"):
            return None
        if prev.get("etag"):
            request.headers["If-None-Match"] = prev["etag"]
        if prev.get("last_modified"):
            request.headers["If-Modified-Since"] = prev["last_modified"]
        return None

    def process_response(self, request: Request, response: Response):
        prev: dict[str, Any] | None = request.meta.get("prev_page")
        if response.status != 304 or not prev:
            return response
        blobs = getattr(self.crawler.spider, "blobs", None)
        if blobs is None or not prev.get("sha256") or not blobs.exists(prev["sha256"]):
            # the stored body was pruned: fetch it again, unconditionally
            meta = {k: v for k, v in request.meta.items() if k != "prev_page"}
            retry = request.replace(meta=meta, dont_filter=True)
            for h in (b"If-None-Match", b"If-Modified-Since"):
                retry.headers.pop(h, None)
            return retry
        body = blobs.get(prev["sha256"])
        headers = {"Content-Type": prev.get("content_type") or "application/octet-stream"}
        if prev.get("etag"):
            headers["ETag"] = prev["etag"]
        if prev.get("last_modified"):
            headers["Last-Modified"] = prev["last_modified"]
        request.meta["reused_from_run"] = prev["run_id"]
        request.meta["reused_sha256"] = prev["sha256"]
        cls = responsetypes.from_args(headers=headers, url=prev.get("final_url") or request.url, body=body)
        return cls(url=prev.get("final_url") or request.url, status=prev.get("http_status") or 200,
                   headers=headers, body=body, flags=["reused"], request=request)


class EncodingMiddleware:
    """Decode textual bodies once, correctly for GBK/GB2312/GB18030 (mislabelled ones too), and hand the
    spider a TextResponse in that encoding; the choice is kept in ``meta['decoded']``."""

    def process_response(self, request: Request, response: Response):
        if request.method == "HEAD" or not response.body or request.meta.get("g_kind") == "attachment":
            return response
        ctype = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        looks_text = _is_textual(ctype) or (not ctype and response.body.lstrip()[:1] in (b"<", b"{", b"["))
        if not looks_text:
            return response
        decoded = decode_body(response.body, ctype)
        request.meta["decoded"] = decoded
        if isinstance(response, TextResponse):
            return response.replace(encoding=decoded.encoding)
        return TextResponse(url=response.url, status=response.status, headers=response.headers,
                            body=response.body, flags=response.flags, request=request,
                            encoding=decoded.encoding)


class WireBytesMiddleware:
    """Bytes that crossed the network for a request (body as received plus headers), recorded before
    decompression and before a 304 is replaced by the stored body."""

    def process_response(self, request: Request, response: Response):
        header_bytes = sum(len(k) + len(v) + 4 for k, vs in response.headers.items() for v in vs) + 17
        request.meta["wire_bytes"] = request.meta.get("wire_bytes", 0) + len(response.body) + header_bytes
        return response
