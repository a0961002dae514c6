"""Text normalisation shared by the checks: full-width digits and spaces, sentences, counts in table cells.

Real pages mix full-width and half-width characters (``１２``, ``：``), non-breaking spaces left by Word
exports (``&nbsp;``) and ideographic spaces inside words, so every comparison goes through ``squash``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

# Characters that are "space" on real pages but not all of them are in str.isspace()'s idea of space.
_SPACES = re.compile(r"[\s\u00a0\u3000\u200b\u200c\u200d\u2060\ufeff]+")
_SENTENCE_END = re.compile(r"(?<=[。！？；;!?])|\n")

_CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "0": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}


def nfkc(text: str | None) -> str:
    """Full-width digits, letters and punctuation to their ASCII forms (``１２`` → ``12``, ``：`` → ``:``)."""
    return unicodedata.normalize("NFKC", text or "")


def squash(text: str | None) -> str:
    """NFKC and no whitespace at all: the form used to compare labels and headings."""
    return _SPACES.sub("", nfkc(text))


def clean_lines(text: str | None) -> str:
    """NFKC, whitespace removed inside each line, empty lines dropped (for pattern matching in prose)."""
    out = []
    for line in nfkc(text).splitlines():
        s = _SPACES.sub("", line)
        if s:
            out.append(s)
    return "\n".join(out)


@dataclass(frozen=True)
class Normalized:
    """``clean_lines`` of a text, with the position in the original of every normalised character, so a
    match found on the normalised form is quoted from the original (evidence must be what the page says)."""

    original: str
    text: str
    index: tuple[int, ...]

    def snippet(self, start: int, end: int, limit: int = 160, min_len: int = 10) -> str:
        """The original sentence around a normalised match; a bare heading (shorter than ``min_len``)
        is quoted with the line that follows it, which is what proves the heading has content."""
        if not self.index:
            return ""
        o_start = self.index[min(start, len(self.index) - 1)]
        o_end = self.index[min(max(end - 1, start), len(self.index) - 1)] + 1
        out = _SPACES.sub(" ", sentence_at(self.original, o_start, o_end, limit)).strip()
        if len(squash(out)) < min_len:
            nxt = self.text.find("\n", end)
            if nxt != -1 and nxt + 1 < len(self.text):
                follow = self.snippet(nxt + 1, nxt + 2, limit - len(out), min_len=0)
                out = f"{out} {follow}".strip()
        return out


def normalize_lines(text: str | None) -> Normalized:
    original = text or ""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(original):
        if ch in "\r\n":
            if out and out[-1] != "\n":
                out.append("\n")
                index.append(i)
            continue
        for c in unicodedata.normalize("NFKC", ch):
            if not _SPACES.match(c):
                out.append(c)
                index.append(i)
    while out and out[-1] == "\n":
        out.pop()
        index.pop()
    return Normalized(original=original, text="".join(out), index=tuple(index))


def unwrap_lines(text: str, *, full: float = 0.85) -> str:
    """Join the lines a PDF wrapped at the right margin (a line nearly as long as the longest one that
    does not end a sentence or a label), so words cut at the margin are whole again."""
    lines = text.splitlines()
    width = max((len(squash(ln)) for ln in lines), default=0)
    out: list[str] = []
    joining = False
    for ln in lines:
        if joining and out:
            out[-1] += ln.strip()
        else:
            out.append(ln.rstrip())
        s = squash(ln)
        joining = bool(s) and width >= 20 and len(s) >= full * width and s[-1] not in "。！？；;:："
    return "\n".join(out)


def sentences(text: str | None) -> list[str]:
    """Split prose into sentences on Chinese sentence ends and line breaks."""
    return [s.strip() for s in _SENTENCE_END.split(text or "") if s and s.strip()]


def sentence_at(text: str, start: int, end: int, limit: int = 160) -> str:
    """The sentence (or line) of ``text`` containing ``text[start:end]``, cut to ``limit`` characters."""
    left = max(text.rfind(c, 0, start) for c in "。！？；\n")
    right_candidates = [i for i in (text.find(c, end) for c in "。！？；\n") if i != -1]
    right = min(right_candidates) + 1 if right_candidates else len(text)
    snippet = text[left + 1:right].strip()
    if len(snippet) > limit:
        # keep the match itself visible: centre the window on it
        mid = (start + end) // 2 - (left + 1)
        lo = max(0, min(mid - limit // 2, len(snippet) - limit))
        snippet = ("…" if lo else "") + snippet[lo:lo + limit] + ("…" if lo + limit < len(snippet) else "")
    return snippet


# --- years written in Chinese numerals (二〇二五年) -----------------------------------------------------

def cn_year(token: str) -> int | None:
    """``二〇二五`` → 2025; ``2025`` → 2025; anything else → None."""
    token = nfkc(token)
    if re.fullmatch(r"(19|20)\d{2}", token):
        return int(token)
    if len(token) == 4 and all(c in _CN_DIGIT for c in token):
        value = int("".join(str(_CN_DIGIT[c]) for c in token))
        return value if 1900 <= value <= 2099 else None
    return None


YEAR_TOKEN = r"(?:(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4})"


# --- HTML to text ---------------------------------------------------------------------------------------

_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section",
               "article", "dd", "dt", "title", "ul", "ol", "blockquote", "pre"}
_CELL_TAGS = {"td", "th"}
# Page furniture whose text (footer phone numbers, addresses) must not count as content.
_FURNITURE = re.compile(r"(^|[-_\s])(footer|foot|header|head|nav|menu|banner|breadcrumb|crumb|sidebar|"
                        r"copyright|bottom|top)s?([-_\s\d]|$)", re.I)


def parse_html(markup: str | bytes) -> etree._Element | None:
    if isinstance(markup, bytes):
        markup = markup.decode("utf-8", errors="replace")
    if not markup or not markup.strip():
        return None
    try:
        return lxml_html.fromstring(markup)
    except (etree.ParserError, ValueError):
        return None


def html_to_text(markup: str | bytes | None, *, main_only: bool = False) -> str:
    """Visible text of an HTML page, one block per line. ``main_only`` drops header/footer/nav furniture
    (a site footer's phone number and address must not count as a guide's contact details)."""
    root = parse_html(markup or "")
    if root is None:
        return ""
    for bad in root.xpath("//script|//style|//noscript|//template|//head"):
        _drop(bad)
    if main_only:
        for el in list(root.iter()):
            if not isinstance(el.tag, str):
                continue
            if el.tag in {"header", "footer", "nav"} or _FURNITURE.search(
                    f"{el.get('class') or ''} {el.get('id') or ''}"):
                _drop(el)
    parts: list[str] = []
    _walk(root, parts)
    text = "".join(parts)
    lines = [ln.strip() for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


def _drop(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    parent.remove(el)
    if tail:  # keep the text that followed the dropped element
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def _walk(el: etree._Element, out: list[str]) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _BLOCK_TAGS:
        out.append("\n")
    if el.text and tag:
        out.append(el.text)
    for child in el:
        _walk(child, out)
    if tag in _CELL_TAGS:
        out.append(" ")
    if tag in _BLOCK_TAGS:
        out.append("\n")
    if el.tail:
        out.append(el.tail)


# --- counts in report table cells ----------------------------------------------------------------------

_BLANK = {"", "-", "--", "—", "——", "－", "/", "／", "\\", "、", "无", "空"}
_UNIT_SUFFIX = re.compile(r"(件|个|项|次|人|条|起|宗)$")


@dataclass(frozen=True)
class Count:
    """A table cell read as a count: ``value`` None when blank; ``ok`` False when it is not a number."""

    raw: str
    value: int | None
    blank: bool
    ok: bool

    @property
    def as_int(self) -> int:
        return self.value or 0

    def shown(self) -> str:
        return "空白" if self.blank else str(self.value)


def parse_count(cell: str | None) -> Count:
    """Read a cell of an annual-report table: ``１２`` / ``12件`` / ``1,234`` → number; ``&nbsp;``, ``-``,
    ``/`` → blank; anything else (words, decimals, negatives) → not ok."""
    raw = cell or ""
    s = squash(raw)
    if s in _BLANK:
        return Count(raw=raw, value=None, blank=True, ok=True)
    s = _UNIT_SUFFIX.sub("", s).replace(",", "")
    if re.fullmatch(r"\d{1,9}", s):
        return Count(raw=raw, value=int(s), blank=False, ok=True)
    return Count(raw=raw, value=None, blank=False, ok=False)
