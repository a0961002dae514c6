"""Small HTML building blocks for the static report: escaping, safe links, the page shell, an SVG chart.

Everything shown that came from a crawled page or the sites file goes through ``h`` (``html.escape`` with
quotes). Links are only made for http(s) URLs, so a crawled ``javascript:`` URL shows as text. The page
shell sets a Content-Security-Policy that allows only the report's own script file and stylesheet (no
inline script, no event handlers, nothing from the network): even an escaping slip cannot run crawled
script.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import urlsplit

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "base-uri 'none'; form-action 'none'; frame-src 'none'; object-src 'none'")

ASSETS_DIR = "assets"


def h(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def safe_href(url: str | None) -> str | None:
    """An escaped href for an http(s) URL, or None for anything else (javascript:, data:, garbage)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return h(url.strip()) if scheme in ("http", "https") else None


def link(url: str | None, text: str | None = None) -> str:
    """An external link that opens in a new tab without handing it our window; plain text if unsafe."""
    href = safe_href(url)
    shown = h(text if text is not None else url or "")
    if href is None:
        return f'<span class="url">{shown}</span>'
    return f'<a class="url" href="{href}" target="_blank" rel="noopener noreferrer">{shown}</a>'


def page(title: str, body: str, root: str) -> str:
    """A whole document; ``root`` is the relative path from this page to the report directory."""
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{h(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{h(title)}</title>\n"
        f'<link rel="stylesheet" href="{root}{ASSETS_DIR}/report.css">\n'
        f'<script src="{root}{ASSETS_DIR}/report.js" defer></script>\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """A table whose cells are already-escaped HTML fragments."""
    head = "".join(f"<th>{h(x)}</th>" for x in headers)
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{h(cls)}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>'


def bar_chart(items: Sequence[tuple[str, int]], title: str) -> str:
    """A horizontal bar chart as inline SVG (no script, no external asset): one bar per label."""
    if not items:
        return '<p class="muted">无数据</p>'
    bar_h, gap, label_w, chart_w = 24, 8, 110, 420
    top = max(n for _, n in items) or 1
    height = len(items) * (bar_h + gap) + gap
    parts = [f'<svg class="chart" role="img" aria-label="{h(title)}" xmlns="http://www.w3.org/2000/svg" '
             f'width="{label_w + chart_w + 60}" height="{height}" '
             f'viewBox="0 0 {label_w + chart_w + 60} {height}"><title>{h(title)}</title>']
    for i, (name, n) in enumerate(items):
        y = gap + i * (bar_h + gap)
        w = round(chart_w * n / top) if n else 0
        parts.append(
            f'<g class="bar" data-label="{h(name)}" data-count="{n}">'
            f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">{h(name)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#3b6ea8"></rect>'
            f'<text x="{label_w + w + 6}" y="{y + bar_h * 0.7:.1f}">{n}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
