"""A column's list page: its entries (title, link, date), the pager (plain links, 下一页,
``createPageHTML``, totals announced), JSON endpoints that feed the list, and the note shown
instead of items (暂无信息)."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from crawler.extract.dates import DATE_RE, parse_date, parse_date_value
from crawler.extract.html import clean, has_hint, text_of
from crawler.extract.jsdata import call_args, scalar_vars
from crawler.urls import normalise_url
from crawler.vocab import squash, vocab


@dataclass
class Entry:
    title: str
    url: str | None
    date: dt.date | None


@dataclass
class ListPage:
    entries: list[Entry] = field(default_factory=list)
    next_url: str | None = None
    page_urls: dict[int, str] = field(default_factory=dict)  # page number (1-based) -> url, from the pager
    total_reported: int | None = None
    total_pages: int | None = None
    empty_note: str | None = None
    json_endpoints: list[str] = field(default_factory=list)
    needs_render: str | None = None  # why the static HTML cannot show the list


_TOTAL_RES = [re.compile(p) for p in (
    r"共\s*(\d+)\s*条", r"共\s*有?\s*(\d+)\s*(?:篇|项|个|份)(?:信息|记录|文件)?", r"总共\s*(\d+)\s*条",
    r"(?:记录|信息)总?数\s*[:：]?\s*(\d+)", r"总条数\s*[:：]?\s*(\d+)", r"共\s*(\d+)\s*条记录")]
_TOTAL_VARS = re.compile(r"\b(?:recordCount|totalCount|totalRecord|totalRecords|total_count|m_nRecordCount|"
                         r"totalNum|allCount)\s*[=:]\s*['\"]?(\d+)")
_PAGES_TEXT = re.compile(r"共\s*(\d+)\s*页")


def _entry_link(el, base: str):
    """The one content link of a list row: the longest-titled <a> that is not a pager/more link."""
    best = None
    best_len = -1
    for a in el.iter("a"):
        t = squash(a.get("title") or text_of(a))
        if not t or t in vocab().more_link_words or t in vocab().next_page_words or t.isdigit():
            continue
        if len(t) > best_len:
            best, best_len = a, len(t)
    return best


def _row_date(el, link) -> dt.date | None:
    # the date printed next to the title, not a date that is part of the title itself
    own = text_of(el)
    title = text_of(link) if link is not None else ""
    rest = own.replace(title, " ", 1) if title else own
    d = parse_date(rest)
    if d is None and link is not None:
        d = parse_date(link.get("data-date") or el.get("data-date"))
    return d


def _rows_of(container) -> list:
    return [c for c in container if isinstance(c.tag, str) and c.tag in ("li", "tr", "dd", "div", "p", "dl")]


def _is_row(r) -> bool:
    """A list row: a link or two and a date, not a whole block of the page."""
    links = r.findall(".//a")
    if not links or len(links) > 3:
        return False
    text = text_of(r) or ""
    return len(text) <= 300 and DATE_RE.search(text) is not None


def find_entries(root, base: str) -> list[Entry]:
    """Rows that carry a link and a date, grouped by their parent; the list is the group with the most
    such rows, then the one where they make up the largest share of the linked rows (so a page wrapper
    whose one block holds the list does not win over the list itself)."""
    best: tuple[tuple[int, float], Any] | None = None
    for el in root.iter("ul", "ol", "table", "tbody", "div", "dl", "section"):
        rows = _rows_of(el)
        if not rows:
            continue
        dated = sum(1 for r in rows if _is_row(r))
        if not dated:
            continue
        linked = sum(1 for r in rows if r.find(".//a") is not None)
        key = (dated, dated / max(1, linked))
        if best is None or key > best[0]:
            best = (key, el)
    if best is not None:
        return _entries_from(best[1], base)
    # no dated rows anywhere: a list container named like one, holding links that are not furniture
    hints = vocab().list_container_hints
    for el in root.iter("ul", "ol", "table", "tbody", "div"):
        if has_hint(el, hints) and not has_hint(el, vocab().menu_container_hints) \
                and not has_hint(el, vocab().pager_hints):
            entries = _entries_from(el, base)
            if entries:
                return entries
    return []


def _entries_from(container, base: str) -> list[Entry]:
    out: list[Entry] = []
    rows = _rows_of(container)
    if container.tag == "table" and container.find("tbody") is not None:
        rows = _rows_of(container.find("tbody"))
    for r in rows:
        a = _entry_link(r, base)
        if a is None:
            continue
        title = clean(a.get("title")) or text_of(a)
        if text_of(a) and not text_of(a).endswith(("...", "…")):
            title = text_of(a)
        href = a.get("href") or ""
        url = normalise_url(href, base) if href and not href.lower().startswith("javascript") else None
        if url is None:
            url = _onclick_url(a, base)
        if squash(title) in vocab().nav_skip_words:
            continue
        out.append(Entry(title=title, url=url, date=_row_date(r, a)))
    return out


def _onclick_url(a, base: str) -> str | None:
    m = re.search(r"""(?:window\.open|location\.href\s*=|openUrl|goUrl)\s*\(?\s*['"]([^'"]+)['"]""",
                  a.get("onclick") or a.get("href") or "")
    return normalise_url(m.group(1), base) if m else None


def find_pager(root, source: str, url: str, page_no: int) -> tuple[str | None, dict[int, str], int | None]:
    """(next page url, {page number: url}, total pages) from links, 下一页 and createPageHTML()."""
    page_urls: dict[int, str] = {}
    next_url: str | None = None
    total_pages: int | None = None
    # TRS-style script pager: createPageHTML(countPage, currentPage(0-based), "index", "shtml")
    variables = scalar_vars(source)
    for args in call_args(source, "createPageHTML"):
        vals = [variables.get(a, a) for a in args]
        ints = [int(v) for v in vals if re.fullmatch(r"\d+", v or "")]
        strs = [v for v in vals if v and not re.fullmatch(r"\d+", v)]
        if len(ints) < 2 or len(strs) < 2:
            continue
        count, current = ints[0], ints[1]
        prefix, suffix = strs[-2], strs[-1]
        if not re.fullmatch(r"[\w.-]+", prefix) or not re.fullmatch(r"[A-Za-z0-9]{2,6}", suffix):
            continue
        total_pages = count
        for n in range(count):
            name = f"{prefix}.{suffix}" if n == 0 else f"{prefix}_{n}.{suffix}"
            page_urls[n + 1] = urljoin(url, name)
        if current + 1 < count:
            next_url = page_urls[current + 2]
    if root is not None:
        for a in root.iter("a"):
            href = a.get("href") or ""
            if not href or href.lower().startswith("javascript") or href == "#":
                continue
            t = squash(text_of(a) or a.get("title"))
            target = normalise_url(href, url)
            if not target or target == url:
                continue
            if t in vocab().next_page_words and next_url is None:
                next_url = target
            elif t.isdigit() and len(t) <= 4 and _in_pager(a):
                page_urls.setdefault(int(t), target)
    if next_url is None and page_no + 1 in page_urls:
        next_url = page_urls[page_no + 1]
    text = text_of(root) if root is not None else ""
    m = _PAGES_TEXT.search(text)
    if m and total_pages is None:
        total_pages = int(m.group(1))
    return next_url, page_urls, total_pages


def _in_pager(a) -> bool:
    anc = a.getparent()
    for _ in range(4):
        if anc is None:
            return False
        if has_hint(anc, vocab().pager_hints):
            return True
        anc = anc.getparent()
    return False


def find_total(root, source: str) -> int | None:
    text = text_of(root) if root is not None else ""
    for rx in _TOTAL_RES:
        m = rx.search(text)
        if m:
            return int(m.group(1))
    m = _TOTAL_VARS.search(source)
    return int(m.group(1)) if m else None


def find_empty_note(root) -> str | None:
    if root is None:
        return None
    body = root.find("body")
    scope = body if body is not None else root
    for el in scope.iter():
        if not isinstance(el.tag, str) or has_hint(el, vocab().menu_container_hints):
            continue
        own = clean(el.text)
        for note in vocab().empty_notes:
            if own and note in squash(own) and len(squash(own)) <= len(note) + 12:
                return own
    return None


# -- lists fed by a JSON endpoint -------------------------------------------------------------------------

_ENDPOINT_RES = [re.compile(p) for p in (
    r"""(?:fetch|\$\.getJSON|\$\.get|\$\.post|axios\.get|axios\.post|axios)\s*\(\s*[`'"]([^`'"]+)[`'"]""",
    r"""\burl\s*:\s*[`'"]([^`'"]+)[`'"]""",
    r"""[`'"]((?:https?://|/|\.{0,2}/?)[\w./-]+\.json(?:\?[^`'"]*)?)[`'"]""",
    r"""\bdata-(?:url|api|source|src|list-url)\s*=\s*['"]([^'"]+)['"]""",
    r"""\.open\(\s*['"](?:GET|POST)['"]\s*,\s*[`'"]([^`'"]+)[`'"]""",
)]
_PAGE_KEYS = ("page", "pageNo", "pageNum", "pageIndex", "curPage", "currentPage", "p", "pn", "pageno", "page_no")
_PLACEHOLDER = re.compile(r"\$\{\s*(\w+)\s*\}|\{\s*(\w+)\s*\}|['\"]\s*\+\s*(\w+)\s*\+\s*['\"]|['\"]\s*\+\s*(\w+)\s*$")


_CONCAT = re.compile(r"""\s*\+\s*([\w.$\[\]'"]+?)\s*(?:\+\s*([`'"])([^`'"]*)\2)?(?=\s*[+,);]|\s*$)""")


def _is_page_var(name: str) -> bool:
    n = name.lower()
    return n in {k.lower() for k in _PAGE_KEYS} or "page" in n or n in ("pn", "p", "pageindex", "curr", "current")


def find_json_endpoints(source: str, url: str) -> list[str]:
    """URLs of JSON list endpoints named in the page's scripts or data attributes, with the page number
    (``${page}``, ``{page}``, ``"..." + page + "..."``) set to 1 and other known variables filled in."""
    variables = scalar_vars(source)

    def value_of(name: str) -> str:
        name = name.strip("'\"")
        if _is_page_var(name):
            return "1"
        return variables.get(name, "")

    out: list[str] = []
    for rx in _ENDPOINT_RES:
        for m in rx.finditer(source):
            raw = m.group(1).strip()
            # string concatenation after the literal: '/api?col=' + colId + '&page=' + page
            pos = m.end()
            while True:
                cm = _CONCAT.match(source, pos)
                if not cm:
                    break
                raw += value_of(cm.group(1)) + (cm.group(3) or "")
                pos = cm.end()
            static_file = raw.endswith((".js", ".css", ".png", ".jpg", ".gif", ".html", ".shtml", ".htm"))
            if not raw or raw.startswith(("#", "javascript")) or (static_file and not re.search(r"\.html?\?", raw)):
                continue
            filled = _PLACEHOLDER.sub(lambda pm: value_of(next(g for g in pm.groups() if g)), raw)
            target = normalise_url(filled, url)
            if target and target not in out and target != url:
                out.append(target)
    return out


_TITLE_KEYS = ("title", "name", "doctitle", "docTitle", "t", "subject", "fileName", "biaoti", "bt", "wjmc")
_LINK_KEYS = ("url", "link", "href", "docUrl", "docpuburl", "path", "u", "linkUrl", "detailUrl")
_DATE_KEYS = ("date", "pubDate", "publishDate", "pubdate", "releaseDate", "publish_date", "pub_date", "time",
              "createTime", "docRelTime", "fbrq", "publishTime", "publish_time", "published", "cwrq", "fwrq", "rq")
_TOTAL_KEYS = ("total", "totalCount", "count", "records", "recordCount", "totalRecords", "totalNum", "total_count",
               "totalElements", "totalRecord")
_PAGES_KEYS = ("pages", "totalPages", "pageCount", "totalPage", "page_count", "pageTotal", "total_pages")
_NEXT_KEYS = ("next", "nextPage", "next_url", "nextUrl")


def _get(d: dict, keys) -> Any:
    low = {str(k).lower(): v for k, v in d.items()}
    for k in keys:
        if k.lower() in low and low[k.lower()] not in (None, ""):
            return low[k.lower()]
    return None


def _lists_in(obj: Any, depth: int = 0):
    if depth > 6:
        return
    if isinstance(obj, list):
        if obj and all(isinstance(x, dict) for x in obj):
            yield obj
        for x in obj:
            yield from _lists_in(x, depth + 1)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _lists_in(v, depth + 1)


def _numbers_in(obj: Any, keys, depth: int = 0) -> int | None:
    if isinstance(obj, dict) and depth <= 3:
        v = _get(obj, keys)
        if isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
            return int(v)
        for val in obj.values():
            if isinstance(val, dict):
                n = _numbers_in(val, keys, depth + 1)
                if n is not None:
                    return n
    return None


@dataclass
class JsonPage:
    entries: list[Entry]
    total_reported: int | None
    total_pages: int | None
    next_url: str | None


def parse_json_list(text: str, url: str) -> JsonPage | None:
    """Entries of a JSON list response; None when the body is not a JSON list of documents."""
    body = text.strip()
    m = re.match(r"^[\w$.]+\s*\((.*)\)\s*;?\s*$", body, re.S)  # JSONP
    if m:
        body = m.group(1)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, ValueError):
        return None
    best: list[dict] | None = None
    for lst in _lists_in(data):
        titled = sum(1 for x in lst if isinstance(_get(x, _TITLE_KEYS), str))
        if titled >= max(1, len(lst) // 2) and (best is None or len(lst) > len(best)):
            best = lst
    entries: list[Entry] = []
    for x in best or []:
        title = _get(x, _TITLE_KEYS)
        if not isinstance(title, str):
            continue
        link = _get(x, _LINK_KEYS)
        entries.append(Entry(title=clean(re.sub(r"<[^>]+>", "", title)),
                             url=normalise_url(link, url) if isinstance(link, str) else None,
                             date=parse_date_value(_get(x, _DATE_KEYS))))
    if best is None and not isinstance(data, dict | list):
        return None
    nxt = _get(data, _NEXT_KEYS) if isinstance(data, dict) else None
    return JsonPage(entries=entries, total_reported=_numbers_in(data, _TOTAL_KEYS),
                    total_pages=_numbers_in(data, _PAGES_KEYS),
                    next_url=normalise_url(nxt, url) if isinstance(nxt, str) else None)


def json_page_url(endpoint: str, page: int) -> str | None:
    """The endpoint URL for page ``page`` (1-based) when its query names the page; None otherwise."""
    parts = urlsplit(endpoint)
    params = parse_qsl(parts.query, keep_blank_values=True)
    keys = {k.lower() for k in _PAGE_KEYS}
    if not any(k.lower() in keys for k, _ in params):
        m = re.search(r"([_/-])(\d+)\.json$", parts.path)  # list_1.json, page/1.json
        if m:
            path = parts.path[:m.start(2)] + str(page) + ".json"
            return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        return None
    zero_based = any(k.lower() in keys and v == "0" for k, v in params)
    new = [(k, str(page - 1 if zero_based else page)) if k.lower() in keys else (k, v) for k, v in params]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(new), ""))


def empty_list_container(root) -> str | None:
    """Why a static page probably needs a browser: a list box with nothing in it, or a template."""
    if root is None:
        return None
    v = vocab()
    for el in root.iter("ul", "ol", "div", "tbody", "table", "section"):
        if not has_hint(el, v.list_container_hints) or has_hint(el, v.menu_container_hints):
            continue
        if has_hint(el, v.pager_hints):
            continue
        if len(el) == 0 and not clean(el.text):
            return f"empty list container <{el.tag} {('id=' + el.get('id')) if el.get('id') else 'class=' + (el.get('class') or '')}>"
    return None


def template_marker(source: str) -> str | None:
    for mark in vocab().client_template_markers:
        if mark in source:
            return f"client-side template ({mark})"
    return None


def parse_list_page(root, source: str, url: str, page_no: int = 1) -> ListPage:
    lp = ListPage()
    if root is not None:
        lp.entries = find_entries(root, url)
    lp.next_url, lp.page_urls, lp.total_pages = find_pager(root, source, url, page_no)
    lp.total_reported = find_total(root, source)
    if not lp.entries:
        lp.empty_note = find_empty_note(root)
        lp.json_endpoints = find_json_endpoints(source, url)
        lp.needs_render = empty_list_container(root) or template_marker(source)
    return lp
