"""Decoding page bytes the way a browser on a Chinese desktop would, but stricter about lies.

Government platforms often declare one charset in the HTTP header and another in ``<meta>``, and the bytes
are usually GBK. Labels gb2312 / gbk / x-gbk are decoded as GB18030, their superset, so rare characters
(names of people and places) survive. A candidate wins only if it decodes the bytes without error.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)

_GB_FAMILY = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "gb_2312", "csgb2312", "cp936", "ms936", "windows-936",
              "euc-cn", "euccn", "x-euc-cn", "gb18030", "chinese", "iso-ir-58", "csiso58gb231280"}


def normalise_label(label: str | None) -> str | None:
    """Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    lab = label.strip().strip("\"'").lower()
    if lab in _GB_FAMILY:
        return "gb18030"
    if lab in ("utf8", "utf-8", "unicode-1-1-utf-8"):
        return "utf-8"
    try:
        name = codecs.lookup(lab).name
    except LookupError:
        return None
    return "gb18030" if name in ("gbk", "gb2312") else name


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return m.group(1) if m else None


def meta_charset(raw: bytes) -> str | None:
    head = raw[:4096]
    m = _XML_DECL.search(head) or _META_CHARSET.search(head)
    return m.group(1).decode("ascii", "ignore") if m else None


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the codec that produced `text`
    ok: bool  # False: no candidate decoded cleanly; text was decoded with replacement characters
    declared: tuple[str, ...]  # labels seen (header, meta), for the record


def decode_body(raw: bytes, content_type: str | None = None) -> Decoded:
    declared = tuple(x for x in (header_charset(content_type), meta_charset(raw)) if x)
    if raw.startswith(codecs.BOM_UTF8):
        return Decoded(raw[3:].decode("utf-8", "replace"), "utf-8-sig", True, declared)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoded(raw.decode("utf-16", "replace"), "utf-16", True, declared)
    if raw.isascii():
        enc = normalise_label(declared[0]) if declared else None
        return Decoded(raw.decode("ascii"), enc or "utf-8", True, declared)
    # Valid UTF-8 with non-ASCII bytes is almost never GBK text by accident, whatever the labels say;
    # the reverse is not true (GB18030 decodes most UTF-8 byte strings into nonsense), so try UTF-8 first.
    candidates: list[str] = ["utf-8"]
    for label in declared:
        enc = normalise_label(label)
        if enc and enc not in candidates:
            candidates.append(enc)
    if "gb18030" not in candidates:
        candidates.append("gb18030")
    for enc in candidates:
        try:
            return Decoded(raw.decode(enc), enc, True, declared)
        except (UnicodeDecodeError, LookupError):
            continue
    # Nothing decodes cleanly: keep the candidate with the fewest broken characters. A page with a stray
    # truncated character is still readable; one where a sizeable share breaks is a decode error.
    best_text, best_enc, best_bad = "", candidates[0], None
    for enc in candidates:
        text = raw.decode(enc, "replace")
        bad = text.count("\ufffd")
        if best_bad is None or bad < best_bad:
            best_text, best_enc, best_bad = text, enc, bad
    ok = (best_bad or 0) <= max(2, len(best_text) // 200)
    return Decoded(best_text, best_enc, ok, declared)
