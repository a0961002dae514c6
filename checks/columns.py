"""Columns (栏目) of the disclosure platform: the six required first-level columns, empty columns and
columns not updated within the period for their kind.

Rubric lines served (../shared/rubric-sources/):
- suizhou-2020-assessment-plan.txt, 附件3 政务公开工作测评指标（部门）“工作落实 (20分)”: 本单位政府信息公开平台
  “政策、政府信息公开指南、政府信息公开制度、法定主动公开内容、政府信息公开年度报告、政府网站工作年度报表”等6个
  一级栏目规范设置情况；未建网站的部门，不需设置“政府网站工作年度报表”栏目。每少一个栏目扣5分 → ``columns.required_missing``.
- suizhou-2020-assessment-plan.txt, 附件2 三、平台建设 “政府信息公开平台 | 规范性(60%)” → required columns.
- changning-2020-assessment-notice.txt, 第13项（乡镇）/第12项（部门）: 及时发布、更新信息公开目录下的公开栏目内容……
  存在空白栏目的扣1分……发布内容不及时……每处扣0.5分 → ``columns.empty``, ``columns.empty_with_note``, ``columns.stale``.
- baohe-2021-demonstration-acceptance.txt, 第13项: 保障政府信息公开专栏的目录体系框架、栏目体系符合统一要求;
  第15项: 信息公开专栏及时更新 → required columns, ``columns.stale``.
Staleness periods follow the national website check indicators (动态、要闻类2周; 通知公告、政策文件类6个月;
人事、规划计划类1年), kept in ``checks/data/columns.yaml``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from checks.base import CheckContext, CheckSpec, Finding, load_data
from checks.dates import add_period
from checks.text import html_to_text, squash
from storage.evidence import ColumnRec, SiteEvidence

CRAWLED = {"crawled", "checked", "scored"}
LIST_OK = {"ok", "not_modified_reused"}
_NOT_LISTS = {"首页", "网站首页", "返回首页", "主页"}


@dataclass(frozen=True)
class RequiredColumn:
    name: str
    synonyms: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]
    exclude: re.Pattern[str] | None
    exempt_without_website: bool

    def matches(self, column_name: str) -> bool:
        s = squash(column_name)
        s = re.sub(r"^[\d一二三四五六七八九十]+[、.．]", "", s)  # "一、政策" numbering in some menus
        if self.exclude is not None and self.exclude.search(s):
            return False
        return s in self.synonyms or any(p.search(s) for p in self.patterns)


@dataclass(frozen=True)
class StaleKind:
    kind: str
    period: dict[str, int]
    patterns: tuple[re.Pattern[str], ...]
    exclude: re.Pattern[str] | None

    def matches(self, column_name: str) -> bool:
        s = squash(column_name)
        if self.exclude is not None and self.exclude.search(s):
            return False
        return any(p.search(s) for p in self.patterns)

    def describe(self) -> str:
        p = self.period
        if p.get("years"):
            return f"{p['years']}年"
        if p.get("months"):
            return f"{p['months']}个月"
        days = p.get("days", 0)
        return f"{days // 7}周" if days % 7 == 0 else f"{days}天"


def _compile(p: str | None) -> re.Pattern[str] | None:
    return re.compile(p) if p else None


def required_columns() -> list[RequiredColumn]:
    data = load_data("columns.yaml")
    return [RequiredColumn(name=r["name"], synonyms=frozenset(squash(s) for s in r.get("synonyms", [])),
                           patterns=tuple(re.compile(p) for p in r.get("patterns", [])),
                           exclude=_compile(r.get("exclude")),
                           exempt_without_website=bool(r.get("exempt_without_website")))
            for r in data["required"]]


def stale_kinds() -> list[StaleKind]:
    data = load_data("columns.yaml")
    return [StaleKind(kind=k["kind"], period=dict(k["period"]),
                      patterns=tuple(re.compile(p) for p in k["patterns"]), exclude=_compile(k.get("exclude")))
            for k in data["staleness"]]


def column_path(ev: SiteEvidence, col: ColumnRec) -> str:
    """Levels joined with ``/`` as shown (the finding subject of empty/stale columns)."""
    names = [col.name.strip()]
    seen = {col.id}
    parent = ev.column_by_id.get(col.parent_id) if col.parent_id is not None else None
    while parent is not None and parent.id not in seen:
        seen.add(parent.id)
        names.append(parent.name.strip())
        parent = ev.column_by_id.get(parent.parent_id) if parent.parent_id is not None else None
    return "/".join(reversed(names))


def platform_top_columns(ev: SiteEvidence) -> list[ColumnRec]:
    """The platform's first-level columns: level-1 columns, or the children of a platform root such as
    “政府信息公开” when the crawl recorded the whole site menu above the platform."""
    roots = {squash(n) for n in load_data("columns.yaml").get("platform_roots", [])}
    top = [c for c in ev.columns if c.parent_id is None or c.parent_id not in ev.column_by_id]
    out: list[ColumnRec] = []
    queue = list(top)
    seen: set[int] = set()
    while queue:
        c = queue.pop(0)
        if c.id in seen:
            continue
        seen.add(c.id)
        children = ev.children_of(c.id)
        if squash(c.name) in roots and children:
            queue.extend(children)
        else:
            out.append(c)
    return out


def _has_website(ev: SiteEvidence) -> bool:
    value = ev.site.options.get("has_website", True)
    if isinstance(value, str):
        return value.strip().lower() not in {"否", "no", "false", "0", "n", "无"}
    return bool(value)


def _column_page_shot(ev: SiteEvidence, col: ColumnRec) -> str | None:
    page = ev.page_by_url.get(col.url) if col.url else None
    return page.screenshot_sha256 if page else None


def check_required(ev: SiteEvidence) -> list[Finding]:
    out: list[Finding] = []
    specs = required_columns()
    if ev.run_status not in CRAWLED:
        for spec in specs:
            out.append(Finding(code="columns.required_missing", status="unverifiable", subject=spec.name,
                               message=f"网站未能抓取，无法核验栏目：{spec.name}", severity="info",
                               details={"reason": f"site run status {ev.run_status}"}))
        return out
    if not ev.columns:
        for spec in specs:
            out.append(Finding(code="columns.required_missing", status="unverifiable", subject=spec.name,
                               message=f"未能读取平台栏目列表，无法核验栏目：{spec.name}", severity="info",
                               url=ev.site.url, details={"reason": "column menu could not be read (no columns)"}))
        return out
    top = platform_top_columns(ev)
    for spec in specs:
        hits = [c for c in top if spec.matches(c.name)]
        if hits:
            c = hits[0]
            out.append(Finding(code="columns.present", status="pass", subject=spec.name, severity="info",
                               message=f"已设置一级栏目：{spec.name}", url=c.url,
                               evidence=f"栏目名称：{c.name.strip()}",
                               evidence_file=_column_page_shot(ev, c),
                               details={"column": c.name, "column_id": c.id}))
            continue
        if spec.exempt_without_website and not _has_website(ev):
            out.append(Finding(code="columns.required_missing", status="not_applicable", subject=spec.name,
                               severity="info",
                               message=f"未建网站的部门，不需设置“{spec.name}”栏目",
                               details={"reason": "site option has_website is false"}))
            continue
        deeper = [c for c in ev.columns if spec.matches(c.name) and c not in top]
        shown = "、".join(c.name.strip() for c in top[:12])
        if deeper:
            where = column_path(ev, deeper[0])
            out.append(Finding(code="columns.required_missing", status="fail", subject=spec.name,
                               message=f"未设置一级栏目：{spec.name}（仅有下级栏目“{where}”）",
                               url=ev.site.url, evidence=f"一级栏目：{shown}",
                               details={"top_level": [c.name for c in top], "found_below": where}))
        else:
            out.append(Finding(code="columns.required_missing", status="fail", subject=spec.name,
                               message=f"缺少一级栏目：{spec.name}", url=ev.site.url,
                               evidence=f"一级栏目：{shown}",
                               details={"top_level": [c.name for c in top]}))
    return out


def check_lists(ev: SiteEvidence, as_of: dt.date) -> list[Finding]:
    out: list[Finding] = []
    if ev.run_status not in CRAWLED:
        return out  # required-column findings already say the site could not be crawled
    kinds = stale_kinds()
    furniture: PageFurniture | None = None
    for col in ev.columns:
        if squash(col.name) in _NOT_LISTS:
            continue
        children = ev.children_of(col.id)
        path = column_path(ev, col)
        readable = col.item_count is not None and (col.list_status is None or col.list_status in LIST_OK)
        listed = ev.items_of(col.id)
        count = col.item_count
        if count and listed and all(_same_url(i.url, col.url) for i in listed):
            count = 0  # the only "item" is the column's own page: an article or an empty list, not a list
        if children and not (readable and count):
            continue  # a container column is judged through its sub-columns
        if not readable:
            out.append(Finding(code="columns.empty", status="unverifiable", subject=path, url=col.url,
                               severity="info", message=f"栏目列表未能读取，无法核验是否为空：{path}",
                               details={"reason": f"list unreadable (list_status={col.list_status}, "
                                                  f"item_count={col.item_count})"}))
            continue
        if count == 0:
            furniture = furniture or PageFurniture.of(ev)
            out.extend(_judge_empty(ev, col, path, furniture))
            continue
        out.extend(_judge_stale(ev, col, path, as_of, kinds))
    return out


def _same_url(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.split("#")[0].rstrip("/") == b.split("#")[0].rstrip("/")


def _cjk(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


@dataclass
class PageFurniture:
    """What repeats on the site's pages (menus, footers, breadcrumbs): not a column's own content."""

    common_lines: set[str]
    column_names: list[str]
    patterns: list[re.Pattern[str]]

    @classmethod
    def of(cls, ev: SiteEvidence) -> PageFurniture:
        counts: dict[str, int] = {}
        docs = [d for d in ev.documents if d.body_text]
        for d in docs:
            for line in {squash(ln) for ln in (d.body_text or "").splitlines()}:
                if line:
                    counts[line] = counts.get(line, 0) + 1
        floor = max(3, int(0.3 * len(docs)))
        names = sorted({squash(c.name) for c in ev.columns if squash(c.name)}, key=len, reverse=True)
        data = load_data("columns.yaml")
        return cls(common_lines={ln for ln, n in counts.items() if n >= floor}, column_names=names,
                   patterns=[re.compile(p) for p in data.get("page_furniture", [])])

    def own_lines(self, text: str, column_name: str) -> list[str]:
        out = []
        own = squash(column_name)
        for raw in text.splitlines():
            line = squash(raw)
            if not line or line in self.common_lines or line == own:
                continue
            if any(p.search(line) for p in self.patterns):
                continue
            rest = line
            for name in self.column_names:  # a menu or a tree printed on one line
                rest = rest.replace(name, "")
            if _cjk(rest) < 2:
                continue
            out.append(raw.strip())
        return out


def _content_page_text(ev: SiteEvidence, col: ColumnRec) -> str | None:
    """Text of the page the column opens when it is an article rather than a list (None: no such page)."""
    # the page itself first: its header, menus and footer can be told apart by their markup, which the
    # document's extracted text no longer shows
    page = ev.page_by_url.get(col.url) if col.url else None
    if page is not None and page.fetch_status in LIST_OK and page.sha256:
        try:
            return html_to_text(ev.text_of(page), main_only=True)
        except LookupError:
            pass
    doc = next((d for d in ev.documents if _same_url(d.url, col.url)), None)
    return doc.body_text if doc is not None and doc.body_text else None


def _judge_empty(ev: SiteEvidence, col: ColumnRec, path: str, furniture: PageFurniture) -> list[Finding]:
    if col.total_reported:
        return [Finding(code="columns.empty", status="unverifiable", subject=path, url=col.url, severity="info",
                        message=f"栏目分页显示有{col.total_reported}条信息，但列表未能读取：{path}",
                        details={"reason": "pager reports items the list parser did not find"})]
    data = load_data("columns.yaml")
    notes = [re.compile(p) for p in data.get("empty_notes", [])]
    page_text = _content_page_text(ev, col)
    own = furniture.own_lines(page_text, col.name) if page_text else []
    note = (col.empty_note or "").strip()
    if not note:
        note = next((ln for ln in own if any(p.search(squash(ln)) for p in notes)), "")
    shot = _column_page_shot(ev, col)
    if note:
        return [Finding(code="columns.empty_with_note", status="fail", subject=path, url=col.url,
                        severity="low", message=f"栏目无内容（页面说明：{note[:40]}）：{path}",
                        evidence=note[:200], evidence_file=shot, details={"note": note})]
    if sum(_cjk(ln) for ln in own) >= int(data.get("min_content_chars", 10)):
        return [Finding(code="columns.populated", status="pass", subject=path, url=col.url, severity="info",
                        message=f"栏目为单页内容：{path}", evidence="".join(own)[:120],
                        details={"content_page": True})]
    return [Finding(code="columns.empty", status="fail", subject=path, url=col.url,
                    message=f"空白栏目：{path}", evidence=f"栏目“{path}”列表无任何信息",
                    evidence_file=shot, details={"item_count": 0})]


def _judge_stale(ev: SiteEvidence, col: ColumnRec, path: str, as_of: dt.date,
                 kinds: list[StaleKind]) -> list[Finding]:
    out = [Finding(code="columns.populated", status="pass", subject=path, url=col.url, severity="info",
                   message=f"栏目有内容：{path}（{col.item_count}条）", details={"item_count": col.item_count})]
    kind = next((k for k in kinds if k.matches(col.name)), None)
    if kind is None:
        return out
    items = ev.items_of(col.id)
    dated = [i for i in items if i.date is not None]
    newest = max([d for d in [col.newest_date, *(i.date for i in dated)] if d is not None], default=None)
    if newest is None:
        out.append(Finding(code="columns.stale", status="unverifiable", subject=path, url=col.url,
                           severity="info", message=f"栏目列表无发布日期，无法核验更新情况：{path}",
                           details={"reason": "no dates on the column's list", "kind": kind.kind}))
        return out
    deadline = add_period(newest, **kind.period)
    newest_item = next((i for i in sorted(dated, key=lambda i: i.date, reverse=True)), None)
    shown = f"最新信息：{newest.isoformat()}"
    if newest_item is not None and newest_item.date == newest:
        shown = f"最新信息：{newest_item.title.strip()[:60]}（{newest.isoformat()}）"
    details = {"kind": kind.kind, "period": kind.period, "newest": newest.isoformat(),
               "as_of": as_of.isoformat(), "due_by": deadline.isoformat()}
    if as_of > deadline:
        out.append(Finding(code="columns.stale", status="fail", subject=path, url=col.url,
                           message=f"栏目超过{kind.describe()}未更新：{path}", evidence=shown,
                           evidence_file=_column_page_shot(ev, col), details=details))
    else:
        out.append(Finding(code="columns.fresh", status="pass", subject=path, url=col.url, severity="info",
                           message=f"栏目按期更新：{path}", evidence=shown, details=details))
    return out


def run(ctx: CheckContext) -> list[Finding]:
    ev = ctx.evidence
    return check_required(ev) + check_lists(ev, ctx.as_of)


CHECK = CheckSpec(
    id="columns",
    version="1.0",
    title="政府信息公开平台栏目设置与更新",
    codes=("columns.required_missing", "columns.present", "columns.empty", "columns.empty_with_note",
           "columns.populated", "columns.stale", "columns.fresh"),
    run=run,
    needs=frozenset({"menu", "lists"}),
    rubric_refs=("suizhou-2020-work-department:工作落实", "suizhou-2020-thirdparty-county:三、平台建设/规范性",
                 "changning-2020-township:第13项", "changning-2020-department:第12项",
                 "baohe-2021-street:第13项", "baohe-2021-street:第15项"),
)
