"""Small lxml helpers shared by the extractors."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

_WS = re.compile(r"[\s\u3000\xa0]+")
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def parse_html(text: str) -> lxml.html.HtmlElement | None:
    """Parse HTML leniently; None for an empty or unparseable body (never raises)."""
    text = _DECL.sub("", text or "", count=1)
    if not text.strip():
        return None
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None
    # comments and scripts are not what a reader sees; drop_tree keeps the text that followed them
    for bad in root.xpath("//script|//style|//noscript|//comment()"):
        if bad.getparent() is not None:
            bad.drop_tree()
    return root


def clean(text: str | None) -> str:
    """Whitespace collapsed and trimmed: the text as a reader sees it on one line."""
    return _WS.sub(" ", text or "").strip()


def text_of(el) -> str:
    if el is None:
        return ""
    return clean("".join(t for t in el.itertext(tag=etree.Element) if t))


def block_text(el) -> str:
    """Text with line breaks between block elements (body text for the store)."""
    if el is None:
        return ""
    lines: list[str] = []
    buf: list[str] = []
    blocks = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dd", "dt",
              "section", "article", "pre", "blockquote"}

    def flush() -> None:
        line = clean("".join(buf))
        if line:
            lines.append(line)
        buf.clear()

    def walk(node) -> None:
        if not isinstance(node.tag, str) or node.tag == "template":
            if node.tail:
                buf.append(node.tail)
            return
        is_block = node.tag in blocks
        if is_block:
            flush()
        if node.text:
            buf.append(node.text)
        for child in node:
            walk(child)
            if child.tag in ("td", "th"):
                buf.append(" ")
        if is_block:
            flush()
        if node.tail:
            buf.append(node.tail)

    walk(el)
    flush()
    return "\n".join(lines)


def hint_of(el) -> str:
    return f"{el.get('id') or ''} {el.get('class') or ''}".lower()


def has_hint(el, hints) -> bool:
    h = hint_of(el)
    if not h.strip():
        return False
    tokens = re.split(r"[\s_-]+", h)
    for hint in hints:
        hint = hint.lower()
        if len(hint) <= 3:
            # short hints (lm, dh, jd, con) must be a whole token or a token prefix, not any substring
            if any(t == hint or (t.startswith(hint) and len(t) <= len(hint) + 4) for t in tokens):
                return True
        elif hint in h:
            return True
    return False
