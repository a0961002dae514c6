"""The platform's column tree as an assessor reads it: top menus, left trees, trees kept in JavaScript
variables, and "more" links of column boxes. Names are kept exactly as shown; levels 1 and 2."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from crawler.extract.html import clean, has_hint, text_of
from crawler.extract.jsdata import js_vars
from crawler.urls import normalise_url
from crawler.vocab import squash, vocab

_TREE_VAR = re.compile(r"tree|column|menu|nav|lanmu|chnl|channel|catalog|mulu", re.I)
_NAME_KEYS = ("name", "title", "text", "label", "columnName", "chnlName", "channelName", "cname", "lmmc", "n")
_URL_KEYS = ("url", "href", "link", "path", "linkUrl", "chnlUrl", "u")
_CHILD_KEYS = ("children", "child", "childs", "nodes", "sub", "subs", "items", "subColumns", "list", "son")


@dataclass
class MenuNode:
    name: str
    url: str | None
    source: str  # menu / tree / js_var / link
    children: list[MenuNode] = field(default_factory=list)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


def _label(a) -> str:
    text = text_of(a)
    title = clean(a.get("title"))
    if title and (not text or text.endswith(("...", "…")) and title.startswith(text.rstrip(".…"))):
        return title
    return text


def _usable_name(name: str) -> bool:
    n = squash(name).strip("》>»<«")
    return bool(n) and len(n) <= 40 and n not in vocab().nav_skip_words and squash(name) not in vocab().nav_skip_words


def _href(el, base: str) -> str | None:
    href = el.get("href") if el is not None and el.tag == "a" else None
    return normalise_url(href, base) if href else None


def _sub_lists(li) -> list:
    """Nested lists that belong to this <li> (not to a deeper <li>)."""
    out = []
    for sub in li.iter("ul", "ol", "dl"):
        if sub is li:
            continue
        anc = sub.getparent()
        while anc is not None and anc is not li and anc.tag != "li":
            anc = anc.getparent()
        if anc is li:
            out.append(sub)
    return out


def _inside(el, containers) -> bool:
    anc = el.getparent()
    while anc is not None:
        if any(anc is c for c in containers):
            return True
        anc = anc.getparent()
    return False


def _walk_list(lst, base: str, source: str, depth: int = 1) -> list[MenuNode]:
    nodes: list[MenuNode] = []
    if lst.tag == "dl":
        current: MenuNode | None = None
        for child in lst:
            if child.tag == "dt":
                a = child.find(".//a")
                name = _label(a) if a is not None else text_of(child)
                current = MenuNode(name, _href(a, base), source)
                nodes.append(current)
            elif child.tag == "dd":
                for a in child.iter("a"):
                    node = MenuNode(_label(a), _href(a, base), source)
                    if current is not None and depth == 1:
                        current.children.append(node)
                    else:
                        nodes.append(node)
        return nodes
    for li in lst:
        if li.tag != "li":
            continue
        subs = _sub_lists(li)
        label_el = None
        for el in li.iter("a", "span", "strong", "b", "h2", "h3", "h4", "div", "p", "em"):
            if el is li or _inside(el, subs) or any(el is s for s in subs):
                continue
            if el.tag == "a" or (text_of(el) and el.find(".//a") is None):
                label_el = el
                break
        if label_el is None:
            continue
        name = _label(label_el) if label_el.tag == "a" else text_of(label_el)
        node = MenuNode(name, _href(label_el, base), source)
        for sub in subs:
            node.children.extend(_walk_list(sub, base, source, depth + 1))
        nodes.append(node)
    return nodes


def html_menus(root, base: str) -> list[list[MenuNode]]:
    """Candidate trees from elements whose id/class says menu/nav/tree (outermost such element)."""
    hints = vocab().menu_container_hints
    containers = [el for el in root.iter("div", "ul", "nav", "dl", "aside", "section", "td", "table")
                  if has_hint(el, hints)]
    outer = [c for c in containers if not _inside(c, containers)]
    trees: list[list[MenuNode]] = []
    for c in outer:
        top_lists = [lst for lst in c.iter("ul", "ol", "dl")
                     if not _inside_tag(lst, c, "li") and not _inside_tag(lst, c, "dl", exclude_self=True)]
        nodes: list[MenuNode] = []
        for lst in top_lists:
            nodes.extend(_walk_list(lst, base, "tree" if "tree" in (c.get("class") or c.get("id") or "").lower()
                                    else "menu"))
        # links directly in the container (a flat top menu of <a> elements)
        listed = {id(a) for lst in top_lists for a in lst.iter("a")}
        for a in c.iter("a"):
            if id(a) not in listed:
                nodes.append(MenuNode(_label(a), _href(a, base), "menu"))
        if nodes:
            trees.append(nodes)
    return trees


def _inside_tag(el, stop, tag: str, exclude_self: bool = False) -> bool:
    anc = el.getparent()
    while anc is not None and anc is not stop:
        if anc.tag == tag:
            return True
        anc = anc.getparent()
    return False


def _node_from_obj(obj: Any, base: str) -> MenuNode | None:
    if not isinstance(obj, dict):
        return None
    lower = {str(k).lower(): v for k, v in obj.items()}
    name = next((lower[k.lower()] for k in _NAME_KEYS if isinstance(lower.get(k.lower()), str)), None)
    if not name:
        return None
    raw_url = next((lower[k.lower()] for k in _URL_KEYS if isinstance(lower.get(k.lower()), str)), None)
    node = MenuNode(clean(name), normalise_url(raw_url, base) if raw_url else None, "js_var")
    for k in _CHILD_KEYS:
        kids = lower.get(k.lower())
        if isinstance(kids, list):
            for kid in kids:
                child = _node_from_obj(kid, base)
                if child:
                    node.children.append(child)
            break
    return node


def js_menus(source: str, base: str) -> list[list[MenuNode]]:
    trees: list[list[MenuNode]] = []
    for _name, val in js_vars(source, _TREE_VAR).items():
        items = val if isinstance(val, list) else next(
            (v for k, v in val.items() if k.lower() in {c.lower() for c in _CHILD_KEYS} and isinstance(v, list)),
            [val]) if isinstance(val, dict) else []
        nodes = [n for n in (_node_from_obj(x, base) for x in items) if n]
        # a single root named like the platform holds the real first level
        if len(nodes) == 1 and len(nodes[0].children) >= 2 and "公开" in nodes[0].name:
            nodes = nodes[0].children
        if nodes:
            trees.append(nodes)
    return trees


def tree_score(nodes: list[MenuNode]) -> int:
    hints = vocab().column_tree_hints
    return sum(1 for top in nodes for n in top.walk() if any(h in squash(n.name) for h in hints))


def _prune(nodes: list[MenuNode], level: int = 1) -> list[MenuNode]:
    out: list[MenuNode] = []
    for n in nodes:
        if not _usable_name(n.name):
            continue
        kids = _prune(n.children, level + 1) if level < 2 else []
        out.append(MenuNode(n.name, n.url, n.source, kids))
    return out


def column_tree(root, source: str, base: str, *, min_score: int = 1) -> list[MenuNode]:
    """The page's column tree (levels 1-2): every candidate menu that looks like a disclosure catalogue,
    merged in page order: what the reader sees first, then trees held in JavaScript variables."""
    candidates = (html_menus(root, base) if root is not None else []) + js_menus(source, base)
    pruned = [_prune(t) for t in candidates]
    chosen = [t for t in pruned if tree_score(t) >= min_score]
    merged: list[MenuNode] = []
    index: dict[str, MenuNode] = {}
    for tree in chosen:
        for n in tree:
            key = squash(n.name)
            if key in index:
                have = index[key]
                have.url = have.url or n.url
                known = {squash(c.name) for c in have.children}
                have.children.extend(c for c in n.children if squash(c.name) not in known)
                continue
            # a first-level node already listed as someone's child (a left tree repeating the menu)
            if any(key == squash(c.name) for m in merged for c in m.children):
                continue
            index[key] = n
            merged.append(n)
    return merged


_PLATFORM_SUFFIXES = frozenset({"平台", "专栏", "目录", "网", "网站", "专题", ">", ">>", "》"})


def find_platform_link(root, base: str) -> tuple[str, str] | None:
    """(url, anchor text) of the link to the disclosure platform, best wording first."""
    words = vocab().platform_link_words
    best: tuple[int, str, str] | None = None
    for a in root.iter("a"):
        text = squash(_label(a))
        url = _href(a, base)
        if not url or not text or len(text) > 12:
            continue
        for rank, w in enumerate(words):
            # "政府信息公开" or "政府信息公开专栏", never a column such as "政府信息公开指南"
            if text == w or (text.startswith(w) and text[len(w):] in _PLATFORM_SUFFIXES):
                if best is None or rank < best[0]:
                    best = (rank, url, _label(a))
                break
    return (best[1], best[2]) if best else None


def more_links(root, base: str) -> list[tuple[str, str]]:
    """(box title, url) for every "more" link of a column box."""
    words = vocab().more_link_words
    out: list[tuple[str, str]] = []
    for a in root.iter("a"):
        text = squash(_label(a))
        if text not in words and not (text.startswith("更多") and len(text) <= 5):
            continue
        url = _href(a, base)
        if not url:
            continue
        title = _box_title(a)
        if title:
            out.append((title, url))
    return out


def _box_title(a) -> str | None:
    box = a.getparent()
    for _ in range(4):
        if box is None:
            return None
        for el in box.iter("h1", "h2", "h3", "h4", "h5", "span", "strong", "b", "a", "div", "p", "em"):
            if el is a or el.find(".//a") is not None and el.tag != "a":
                continue
            t = text_of(el)
            if t and _usable_name(t) and squash(t) not in vocab().more_link_words and len(squash(t)) <= 20:
                return t
        box = box.getparent()
    return None


def tree_from_json(data: Any, base: str) -> list[MenuNode]:
    """A column tree served as JSON (``[{"name":…, "url":…, "children":[…]}]`` or wrapped in an object)."""
    items: list[Any] = []
    if isinstance(data, list):
        items = data
    elif isinstance(data, dict):
        for v in data.values():
            if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                items = v
                break
    nodes = [n for n in (_node_from_obj(x, base) for x in items) if n]
    if len(nodes) == 1 and len(nodes[0].children) >= 2 and "公开" in nodes[0].name:
        nodes = nodes[0].children
    return _prune(nodes)
