"""The crawler's tables of words (``crawler/data/vocab.yaml``), loaded once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

_SPACE = re.compile(r"[\s\u3000\xa0]+")


def squash(text: str | None) -> str:
    """Text with every kind of whitespace removed (Chinese pages pad labels: 索 引 号)."""
    return _SPACE.sub("", text or "")


@dataclass(frozen=True)
class DocKindRule:
    kind: str
    column: tuple[str, ...]
    title: tuple[str, ...]


@dataclass(frozen=True)
class Vocab:
    platform_link_words: tuple[str, ...]
    nav_skip_words: frozenset[str]
    empty_notes: tuple[str, ...]
    next_page_words: frozenset[str]
    more_link_words: frozenset[str]
    meta_labels: dict[str, str]  # squashed label -> Document field (or "other")
    interpretation_link_words: tuple[str, ...]
    attachment_exts: frozenset[str]
    doc_kinds: tuple[DocKindRule, ...]
    screenshot_columns: tuple[str, ...]
    waf_markers: tuple[str, ...]
    client_template_markers: tuple[str, ...]
    runtime_box_markers: tuple[str, ...]
    column_tree_hints: tuple[str, ...]
    menu_container_hints: tuple[str, ...]
    list_container_hints: tuple[str, ...]
    pager_hints: tuple[str, ...]
    content_hints: tuple[str, ...]
    title_hints: tuple[str, ...]
    runtime_box_hints: tuple[str, ...]


def _strs(raw: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in (raw or []))


@cache
def vocab() -> Vocab:
    raw = yaml.safe_load(resources.files("crawler").joinpath("data", "vocab.yaml").read_text(encoding="utf-8"))
    labels: dict[str, str] = {}
    for field_name, words in (raw.get("meta_labels") or {}).items():
        for w in words:
            labels.setdefault(squash(str(w)), field_name)
    return Vocab(
        platform_link_words=_strs(raw.get("platform_link_words")),
        nav_skip_words=frozenset(squash(w) for w in _strs(raw.get("nav_skip_words"))),
        empty_notes=_strs(raw.get("empty_notes")),
        next_page_words=frozenset(squash(w) for w in _strs(raw.get("next_page_words"))),
        more_link_words=frozenset(squash(w) for w in _strs(raw.get("more_link_words"))),
        meta_labels=labels,
        interpretation_link_words=_strs(raw.get("interpretation_link_words")),
        attachment_exts=frozenset(w.lower() for w in _strs(raw.get("attachment_exts"))),
        doc_kinds=tuple(DocKindRule(kind=r["kind"], column=_strs(r.get("column")), title=_strs(r.get("title")))
                        for r in raw.get("doc_kinds") or []),
        screenshot_columns=_strs(raw.get("screenshot_columns")),
        waf_markers=_strs(raw.get("waf_markers")),
        client_template_markers=_strs(raw.get("client_template_markers")),
        runtime_box_markers=_strs(raw.get("runtime_box_markers")),
        column_tree_hints=_strs(raw.get("column_tree_hints")),
        menu_container_hints=_strs(raw.get("menu_container_hints")),
        list_container_hints=_strs(raw.get("list_container_hints")),
        pager_hints=_strs(raw.get("pager_hints")),
        content_hints=_strs(raw.get("content_hints")),
        title_hints=_strs(raw.get("title_hints")),
        runtime_box_hints=_strs(raw.get("runtime_box_hints")),
    )
