"""URL hygiene and the safety rules about where the crawler may go.

Host allow-list (the unit's own host(s) plus ``options["hosts"]``), private-address guard for redirects
and spider-trap heuristics. Pure functions and small classes so they are unit-testable without Scrapy.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str, base: str | None = None) -> str | None:
    """Absolute, fragment-free, percent-safe URL with a lower-case host and no default port; None if not
    an http(s) URL (javascript:, mailto:, tel: ...)."""
    url = (url or "").strip().replace("\\", "/")
    if not url or url.startswith("#"):
        return None
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[parts.scheme.lower()]) else f"{host}:{port}"
    path = parts.path or "/"
    return safe_url_string(urlunsplit((parts.scheme.lower(), netloc, path, parts.query, "")))


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 80)


def url_subject(url: str) -> str:
    """Path plus ?query, as the conventions name URL subjects."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _host_variants(host: str) -> set[str]:
    out = {host}
    if host.startswith("www."):
        out.add(host[4:])
    elif not _is_ip(host):
        out.add("www." + host)
    return out


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass
class HostPolicy:
    """Which hosts belong to the unit. An entry ``host`` allows any port; ``host:port`` only that port.
    The unit's own URL allows its host with its own port (loopback demo sites share an address)."""

    allowed: set[tuple[str, int | None]] = field(default_factory=set)
    site_is_private: bool = False

    @classmethod
    def for_site(cls, url: str, extra_hosts: list[str] | None = None) -> HostPolicy:
        host, port = host_port(url)
        allowed: set[tuple[str, int | None]] = set()
        for h in _host_variants(host):
            allowed.add((h, port))
            if port in (80, 443):  # a platform on the default port may switch http <-> https
                allowed.add((h, 80))
                allowed.add((h, 443))
        for entry in extra_hosts or []:
            entry = entry.strip().lower()
            if not entry:
                continue
            if "://" in entry:
                h, p = host_port(entry)
                allowed.add((h, p))
                continue
            h, _, p = entry.rpartition(":") if re.search(r":\d+$", entry) else (entry, "", "")
            allowed.add((h, int(p) if p else None))
        return cls(allowed=allowed, site_is_private=is_private_host(host))

    def allows(self, url: str) -> bool:
        host, port = host_port(url)
        return (host, port) in self.allowed or (host, None) in self.allowed


_PRIVATE_NETS = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10",
    "0.0.0.0/8", "::1/128", "fc00::/7", "fe80::/10")]


@lru_cache(maxsize=512)
def is_private_host(host: str) -> bool:
    """True when the host is (or resolves to) a private, loopback or link-local address."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    addrs: list[str] = []
    if _is_ip(host):
        addrs = [host]
    else:
        try:
            addrs = [ai[4][0] for ai in socket.getaddrinfo(host, None)]
        except (OSError, UnicodeError):
            return False  # unresolvable: the fetch itself will report dns_error
    for a in addrs:
        ip = ipaddress.ip_address(a.split("%")[0])
        if any(ip in net for net in _PRIVATE_NETS):
            return True
    return False


_DATE_VALUE = re.compile(r"^(19|20)\d{2}([-/]?\d{1,2}([-/]?\d{1,2})?)?$")
_DATE_KEYS = {"date", "day", "month", "year", "ym", "ymd", "time", "d", "m", "y", "riqi", "rq"}


@dataclass
class TrapDetector:
    """Heuristics for URL spaces that never end (calendars, ever-growing query strings, repeating path
    segments). ``verdict`` returns a reason string when a URL should be suppressed."""

    max_query_len: int = 300
    max_params: int = 12
    max_segment_repeat: int = 3
    max_path_segments: int = 15
    max_calendar_variants: int = 24
    max_query_variants_per_path: int = 400
    _calendar_seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _queries_seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def verdict(self, url: str, referer: str | None = None) -> str | None:
        parts = urlsplit(url)
        segs = [s for s in parts.path.split("/") if s]
        if len(segs) > self.max_path_segments:
            return f"path has {len(segs)} segments"
        counts: dict[str, int] = defaultdict(int)
        for s in segs:
            counts[s] += 1
        rep = [s for s, n in counts.items() if n >= self.max_segment_repeat]
        if rep:
            return f"path segment {rep[0]!r} repeats"
        if len(parts.query) > self.max_query_len:
            return f"query string of {len(parts.query)} characters"
        params = parse_qsl(parts.query, keep_blank_values=True)
        if len(params) > self.max_params:
            return f"{len(params)} query parameters"
        keys = [k for k, _ in params]
        if any(keys.count(k) >= 3 for k in set(keys)):
            return "query parameter repeated"
        if referer and parts.query:
            rparts = urlsplit(referer)
            if (rparts.path == parts.path and rparts.query and parts.query.startswith(rparts.query)
                    and len(parts.query) > len(rparts.query) + 1):
                return "query string grows on each link"
        path_key = f"{parts.netloc}{parts.path}"
        cal = [(k, v) for k, v in params if k.lower() in _DATE_KEYS and _DATE_VALUE.match(v)]
        if cal:
            seen = self._calendar_seen[path_key]
            sig = "&".join(f"{k}={v}" for k, v in cal)
            if sig not in seen and len(seen) >= self.max_calendar_variants:
                return "calendar-like date parameter with too many values"
            seen.add(sig)
        if parts.query:
            qs = self._queries_seen[path_key]
            if parts.query not in qs and len(qs) >= self.max_query_variants_per_path:
                return "too many query variants of one path"
            qs.add(parts.query)
        return None
