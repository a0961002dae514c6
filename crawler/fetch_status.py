"""One vocabulary for the outcome of every fetch (kept apart from findings; see DESIGN.md).

ok, not_found, server_error, timeout, dns_error, connection_refused, connection_lost, blocked,
robots_disallowed, too_large, redirect_offsite, redirect_loop, trap_suppressed, decode_error, limit_reached,
error. A fetch status says nothing about the unit's compliance; checks answer ``unverifiable`` on them.
"""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet import error as terr
from twisted.python.failure import Failure

from crawler.vocab import squash, vocab

# statuses worth a retry elsewhere in the code: the site may answer next time
TRANSIENT = frozenset({"timeout", "server_error", "connection_lost", "connection_refused"})


class Refused(IgnoreRequest):
    """A request our own safety rules stopped, carrying the fetch status to record."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


def status_for_http(code: int) -> str:
    if 200 <= code < 300 or code == 304:
        return "ok"
    if code in (404, 410):
        return "not_found"
    if code in (401, 403, 429, 451):
        return "blocked"
    if code >= 500:
        return "server_error"
    if 300 <= code < 400:
        return "redirect_loop"  # a redirect that reached us unfollowed: no target or too many hops
    return "error"


def looks_like_waf(body_text: str, size: int) -> bool:
    """A WAF challenge is a tiny page that asks for JavaScript / verification instead of content."""
    if size > 4096:
        return False
    t = squash(body_text)
    return any(squash(m) in t for m in vocab().waf_markers)


def status_for_failure(failure: Failure | BaseException) -> tuple[str, str]:
    exc = failure.value if isinstance(failure, Failure) else failure
    msg = f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, Refused):
        return exc.status, exc.reason
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        if "robots.txt" in text:
            return "robots_disallowed", text
        if "max redirections" in text:
            return "redirect_loop", text
        if "DOWNLOAD_MAXSIZE" in text or "download max size" in text:
            return "too_large", text
        return "error", text
    if "larger than download max size" in str(exc):
        return "too_large", msg
    if isinstance(exc, DownloadCancelledError):
        return "error", msg
    if isinstance(exc, DownloadTimeoutError | terr.TimeoutError | terr.TCPTimedOutError):
        return "timeout", msg
    if isinstance(exc, CannotResolveHostError | terr.DNSLookupError):
        return "dns_error", msg
    if isinstance(exc, DownloadConnectionRefusedError | terr.ConnectionRefusedError):
        return "connection_refused", msg
    if isinstance(exc, ResponseDataLossError | terr.ConnectionLost | terr.ConnectionDone | terr.ConnectError):
        return "connection_lost", msg
    name = type(exc).__name__
    if name in ("ResponseNeverReceived", "ResponseFailed", "PotentialDataLoss"):
        return "connection_lost", msg
    if "Timeout" in name:
        return "timeout", msg
    return "error", msg
