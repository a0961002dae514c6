"""A document page: title, metadata table (索引号, 发布机构, 成文日期, 发布日期, 文号, 公开方式, 有效性),
body text, every link with its anchor text, and attachments."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import parse_qsl, unquote, urlsplit

from lxml import etree

from crawler.extract.dates import parse_date
from crawler.extract.html import block_text, clean, has_hint, text_of
from crawler.urls import normalise_url
from crawler.vocab import squash, vocab

_COLON = "：:"
_STRIP = " \t\r\n\u3000\xa0【】[]「」" + _COLON


@dataclass
class LinkSeen:
    url: str
    text: str
    context: str = ""  # the label of the box holding the link, e.g. 相关解读： / 原文链接：


@dataclass
class DocInfo:
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)  # label as shown (colon stripped) -> value
    fields: dict[str, str] = field(default_factory=dict)  # Document field -> value text
    body_text: str = ""
    body_from_container: bool = False  # body found in a content container, not the whole page
    links: list[LinkSeen] = field(default_factory=list)
    attachments: list[tuple[str, str, str]] = field(default_factory=list)  # url, anchor text, ext

    @property
    def publish_date(self) -> dt.date | None:
        return parse_date(self.fields.get("publish_date"))

    @property
    def written_date(self) -> dt.date | None:
        return parse_date(self.fields.get("written_date"))


def _label_key(text: str) -> str | None:
    key = squash(text).strip(_STRIP)
    return vocab().meta_labels.get(key) and key if key else None


def _add(info: DocInfo, label: str, value: str) -> None:
    value = clean(value).strip(_STRIP.replace("[]", ""))
    label = squash(label).strip(_STRIP)
    if not label or label in info.meta:
        return
    info.meta[label] = value
    fname = vocab().meta_labels.get(label)
    if fname and fname != "other" and value and fname not in info.fields:
        info.fields[fname] = value


def _next_el(el):
    nxt = el.getnext()
    while nxt is not None and not isinstance(nxt.tag, str):
        nxt = nxt.getnext()
    return nxt


# A label cell holds a label of a few characters and perhaps brackets or colons around it: an element with
# more non-blank text than this cannot be one, and its text need not be assembled (for a layout table's
# outer cells that was the whole page, again and again)
_LABEL_TEXT_MAX = 64


def _label_text(el) -> str | None:
    """``text_of(el)``, or None as soon as the element holds too much text to be a label."""
    pieces: list[str] = []
    solid = 0
    for t in el.itertext(tag=etree.Element):
        if t:
            solid += len(squash(t))
            if solid > _LABEL_TEXT_MAX:
                return None
            pieces.append(t)
    return clean("".join(pieces))


@cache
def _inline_labels() -> re.Pattern[str]:
    label_alt = "|".join(sorted((re.escape(k) for k in vocab().meta_labels), key=len, reverse=True))
    return re.compile(rf"(?:^|[\s|｜])((?:{label_alt}))\s*[{_COLON}]\s*(.*?)(?=\s*(?:{label_alt})\s*[{_COLON}]|$)",
                      re.M)


def meta_table(root) -> tuple[dict[str, str], dict[str, str]]:
    info = DocInfo()
    # 1. label cell followed by a value cell (tables, dl, span pairs)
    for el in root.iter("td", "th", "dt", "span", "label", "strong", "b", "em", "div", "li", "p"):
        if len(el) and el.tag in ("div", "li", "p") and el.find(".//*") is not None:
            own = clean(el.text)
            if own and _label_key(own):
                # <li>索引号：<span>xxx</span></li>
                full = text_of(el)
                _add(info, own, full[len(own):] if full.startswith(own) else full)
            continue
        t = _label_text(el)
        key = _label_key(t) if t else None
        if key:
            value_el = _next_el(el)
            value = text_of(value_el) if value_el is not None else clean(el.tail)
            if value and not _label_key(value):
                _add(info, key, value)
            elif el.tail and clean(el.tail):
                _add(info, key, el.tail)
            continue
    # 2. "label：value" written inline, possibly several per line
    rx = _inline_labels()
    head = block_text(root.find("body") if root.find("body") is not None else root)
    for m in rx.finditer(head[:20000]):
        _add(info, m.group(1), m.group(2))
    return info.meta, info.fields


def _title(root) -> str | None:
    v = vocab()
    for hint in v.title_hints:
        for el in root.iter("h1", "h2", "div", "p", "td", "span", "h3"):
            if has_hint(el, [hint]):
                t = text_of(el)
                if t and 2 <= len(t) <= 200 and not _label_key(t.split("：")[0].split(":")[0]):
                    return t
    h1 = root.find(".//h1")
    if h1 is not None and text_of(h1):
        return text_of(h1)
    for meta_name in ("ArticleTitle", "title", "og:title"):
        for el in root.iter("meta"):
            if (el.get("name") or el.get("property") or "") == meta_name and clean(el.get("content")):
                return clean(el.get("content"))
    t = root.find(".//title")
    return text_of(t) or None if t is not None else None


def _body(root) -> tuple[str, bool]:
    """(body text, found in a content container)."""
    v = vocab()
    best = ""
    for hint in v.content_hints:
        for el in root.iter("div", "td", "article", "section", "span"):
            if has_hint(el, [hint]) and not has_hint(el, v.menu_container_hints):
                text = block_text(el)
                if len(text) > len(best):
                    best = text
        if len(best) >= 50:
            return best, True
    body = root.find("body")
    return (best, True) if len(best) >= 50 else (block_text(body if body is not None else root), False)


def attachment_ext(url: str, text: str = "") -> str | None:
    exts = vocab().attachment_exts
    parts = urlsplit(url)
    path = unquote(parts.path).lower()
    m = re.search(r"\.([a-z0-9]{2,5})$", path)
    if m and m.group(1) in exts:
        return m.group(1)
    for _k, val in parse_qsl(parts.query):
        m = re.search(r"\.([a-z0-9]{2,5})$", val.lower())
        if m and m.group(1) in exts:
            return m.group(1)
    m = re.search(r"\.([A-Za-z0-9]{2,5})\s*$", text or "")
    if m and m.group(1).lower() in exts and re.search(r"download|attach|file|fj|down", path):
        return m.group(1).lower()
    return None


def links_of(root, base: str) -> list[LinkSeen]:
    out: list[LinkSeen] = []
    seen: set[tuple[str, str]] = set()
    for el in root.iter("a", "iframe", "embed", "object", "area"):
        raw = el.get("href") if el.tag in ("a", "area") else (el.get("src") or el.get("data"))
        if not raw or raw.strip().lower().startswith(("javascript", "mailto", "tel", "#")):
            continue
        url = normalise_url(raw, base)
        if not url:
            continue
        text = text_of(el) if el.tag == "a" else ""
        if not text:
            text = clean(el.get("title") or "")
            if not text and el.tag == "a":
                img = el.find(".//img")
                text = clean(img.get("alt") or "") if img is not None else ""
        if (url, text) in seen:
            continue
        seen.add((url, text))
        out.append(LinkSeen(url=url, text=text, context=_context(el)))
    return out


def _context(el) -> str:
    """The leading text of the boxes around a link (its label), up to three levels up."""
    parts: list[str] = []
    anc = el.getparent()
    for _ in range(3):
        if anc is None or anc.tag in ("body", "html"):
            break
        if anc.text and clean(anc.text):
            parts.append(clean(anc.text))
        anc = anc.getparent()
    return " ".join(parts)[:60]


def parse_document(root, url: str) -> DocInfo:
    info = DocInfo()
    if root is None:
        return info
    info.title = _title(root)
    info.meta, info.fields = meta_table(root)
    info.body_text, info.body_from_container = _body(root)
    info.links = links_of(root, url)
    for ln in info.links:
        ext = attachment_ext(ln.url, ln.text)
        if ext:
            info.attachments.append((ln.url, ln.text, ext))
    return info


def is_interpretation_link(text: str, context: str = "") -> bool:
    """A link to an interpretation or back to the original: by its wording (政策解读, 原文 ...) or by the box
    it sits in (相关解读： / 原文链接：, whose links carry the documents' titles)."""
    words = vocab().interpretation_link_words
    t = squash(text)
    if t and len(t) <= 30 and any(w in t for w in words):
        return True
    c = squash(context)
    return bool(t) and bool(c) and len(c) <= 20 and any(w in c for w in words)


def runtime_box(root) -> str | None:
    """An interpretation/related box the page fills by script after load (empty in the static HTML)."""
    if root is None:
        return None
    v = vocab()
    for el in root.iter("div", "ul", "span", "section", "p", "td"):
        if has_hint(el, v.runtime_box_hints) and len(el) == 0 and not clean(el.text):
            return f"empty box <{el.tag} {el.get('id') or el.get('class')}> filled at run time"
    return None
