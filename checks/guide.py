"""The platform's 政府信息公开指南: present, complete (every required element with its value) and updated
within the assessment year.

Rubric lines served (../shared/rubric-sources/):
- changning-2020-assessment-notice.txt 第7项（乡镇、部门）“按要求编制政府信息公开指南，要素齐备……指南要素包括：公开
  范围、公开渠道、公开时限、依申请公开受理答复、信息查询方式、公开机构名称、办公地址、邮政编码、联系电话、传真号码、
  投诉方式等，公开指南要做到每年至少更新1次。| 未按要求编制扣5分，指南要素不齐全扣0.5分，未按年度更新扣1分。”
  → ``guide.missing``, ``guide.element_missing`` (one per element), ``guide.outdated``.
- suizhou-2020-assessment-plan.txt 附件2 “公开指南(5%) | 有无(10%) | 规范性(30%) | 准确性(30%) | 及时更新(20%)”.
- langfang-bazhou-2020-indicator-breakdown.txt “信息公开指南（3分）| 编制公开政府信息公开指南，并实施动态更新。”
The element table, its wordings and value patterns are in ``checks/data/guide_elements.yaml``; 信息处理费 is
required from the 2021 assessments on (国办函〔2020〕109号).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache

from checks.base import CheckContext, CheckSpec, Finding, load_data
from checks.dates import iter_dates, labelled_dates
from checks.doc_content import FETCHED, DocContent, attachment_content, document_content, html_content
from checks.text import clean_lines, nfkc, normalize_lines, squash
from storage.evidence import ColumnRec, DocumentRec, SiteEvidence

CRAWLED = {"crawled", "checked", "scored"}
# An HTML page shorter than this that carries attachments is a wrapper page ("详见附件").
WRAPPER_MAX_CHARS = 300


@dataclass(frozen=True)
class Element:
    name: str
    label: str
    patterns: tuple[re.Pattern[str], ...]
    hint: re.Pattern[str] | None
    since: int | None


@dataclass
class GuideVersion:
    url: str
    title: str
    content: DocContent
    dates: list[dt.date] = field(default_factory=list)
    years: list[int] = field(default_factory=list)  # version years written without a full date

    @property
    def latest_year(self) -> int | None:
        ys = [d.year for d in self.dates] + self.years
        return max(ys) if ys else None

    @property
    def sort_key(self) -> tuple[int, dt.date, int]:
        latest = max(self.dates, default=dt.date.min)
        return (self.latest_year or 0, latest, len(self.content.text))


@cache
def elements() -> list[Element]:
    data = load_data("guide_elements.yaml")
    values = data.get("values", {})

    def expand(p: str) -> str:
        for key, val in values.items():
            p = p.replace("{" + key + "}", f"(?:{val})")
        return p

    return [Element(name=e["name"], label=e.get("label", e["name"]),
                    patterns=tuple(re.compile(expand(p)) for p in e["patterns"]),
                    hint=re.compile(e["hint"]) if e.get("hint") else None, since=e.get("since"))
            for e in data["elements"]]


@cache
def _title_res() -> list[re.Pattern[str]]:
    return [re.compile(p) for p in load_data("guide_elements.yaml")["title_patterns"]]


def is_guide_title(title: str | None) -> bool:
    s = squash(title)
    return bool(s) and any(p.search(s) for p in _title_res())


def _content_of(ev: SiteEvidence, doc: DocumentRec) -> DocContent:
    """The document's own text, or its PDF/Word attachment when the page only wraps the file."""
    content = document_content(ev, doc)
    if content.ok and len(squash(content.text)) >= WRAPPER_MAX_CHARS:
        return content
    failed: DocContent | None = None
    for att in (a for a in ev.attachments if a.document_id == doc.id):
        ac = attachment_content(ev, att)
        if ac.ok:
            return ac
        failed = failed or ac
    # a wrapper page whose file cannot be read: judging the few words of the page would be a guess
    return failed if failed is not None else content


def _version_dates(text: str) -> tuple[list[dt.date], list[int]]:
    data = load_data("guide_elements.yaml")
    dates = [d for d, _, _ in labelled_dates(text, data["version_labels"])]
    # the signature date at the end of the text (落款): the last line that is only a date
    lines = [ln for ln in clean_lines(text).split("\n") if ln]
    for ln in lines[-3:]:
        found = list(iter_dates(ln))
        if found and len(ln) <= 16:
            dates.append(found[-1][0])
    years = []
    s = nfkc(text)
    for pat in data.get("version_year_patterns", []):
        years += [int(m.group(1)) for m in re.finditer(pat, s)]
    return dates, years


def _guide_columns(ev: SiteEvidence) -> list[ColumnRec]:
    return [c for c in ev.columns if is_guide_title(c.name)]


def collect_versions(ev: SiteEvidence) -> tuple[list[GuideVersion], list[str]]:
    """Readable guide versions, and the reasons for the ones that could not be read."""
    versions: list[GuideVersion] = []
    unreadable: list[str] = []
    seen_urls: set[str] = set()
    guide_col_ids = {c.id for c in _guide_columns(ev)}
    for doc in ev.documents:
        named = doc.kind == "guide" or is_guide_title(doc.title)
        if not (named or doc.column_id in guide_col_ids):
            continue
        content = _content_of(ev, doc)
        if not named and not (content.ok and looks_like_guide(content.text)):
            continue  # e.g. the application form listed next to the guide
        seen_urls.add(doc.url)
        if not content.ok:
            unreadable.append(f"{doc.url}: {content.reason}")
            continue
        dates, years = _version_dates(content.text)
        dates += [d for d in (doc.publish_date,) if d]
        years += [y for y in _title_years(doc.title)]
        versions.append(GuideVersion(url=doc.url, title=(doc.title or "").strip(), content=content,
                                     dates=dates, years=years))
    # A guide column that opens the guide itself (no list of items): its own page is the guide.
    for col in _guide_columns(ev):
        if not col.url or col.url in seen_urls or col.item_count:
            continue
        page = ev.page_by_url.get(col.url)
        if page is None:
            continue
        content = html_content(ev, col.url, page)
        if not content.ok:
            unreadable.append(f"{col.url}: {content.reason}")
            continue
        if not looks_like_guide(content.text):
            continue  # a page without guide wording is not a guide (it may be an empty list page)
        dates, years = _version_dates(content.text)
        dates += [d for d in (page.publish_date,) if d]
        versions.append(GuideVersion(url=col.url, title=(page.title or col.name).strip(), content=content,
                                     dates=dates, years=years))
    return versions, unreadable


def looks_like_guide(text: str) -> bool:
    """At least two of the guide's core elements (scope, channels, time limits, application procedure)
    are worded in the text."""
    s = clean_lines(text)
    core = [e for e in elements() if e.name in {"公开范围", "公开方式", "公开时限", "依申请公开程序"}]
    return sum(1 for e in core if any(p.search(s) for p in e.patterns)) >= 2


def _title_years(title: str | None) -> list[int]:
    s = nfkc(title)
    return [int(m.group(1)) for m in re.finditer(r"((?:19|20)\d{2})\s*年?\s*(?:版|修订|更新|修改)", s)]


def _evidence_file(content: DocContent) -> str | None:
    return content.blob


def _unverifiable_all(reason: str, message: str, url: str | None = None) -> list[Finding]:
    return [Finding(code="guide.missing", status="unverifiable", subject="", message=message, url=url,
                    severity="info", details={"reason": reason})]


def run(ctx: CheckContext) -> list[Finding]:
    ev = ctx.evidence
    if ev.run_status not in CRAWLED:
        return _unverifiable_all(f"site run status {ev.run_status}", "网站未能抓取，无法核验政府信息公开指南")
    versions, unreadable = collect_versions(ev)
    guide_cols = _guide_columns(ev)
    guide_items = [i for i in ev.items if is_guide_title(i.title)]
    if not versions:
        return _no_readable_guide(ev, guide_cols, guide_items, unreadable)
    latest = max(versions, key=lambda v: v.sort_key)
    out = [Finding(code="guide.present", status="pass", subject="", severity="info",
                   message="已公开政府信息公开指南", url=latest.url, evidence=latest.title[:100],
                   evidence_file=_evidence_file(latest.content),
                   details={"versions": [v.url for v in versions]})]
    out += _judge_elements(ctx, latest)
    out += _judge_outdated(ctx, latest, versions)
    return out


def _no_readable_guide(ev: SiteEvidence, cols: list[ColumnRec], items: list, unreadable: list[str]) -> list[Finding]:
    if unreadable or items:
        # the guide exists (a document or a list entry says so) but its text is not in the evidence
        reason = "; ".join(unreadable) if unreadable else "guide listed but its page was not fetched"
        url = items[0].url if items else None
        out = [Finding(code="guide.present", status="pass", subject="", severity="info",
                       message="平台列有政府信息公开指南（内容未能读取）", url=url,
                       evidence=items[0].title if items else None, details={"unreadable": unreadable})]
        for el in elements():
            out.append(Finding(code="guide.element_missing", status="unverifiable", subject=el.name,
                               severity="info", message=f"指南内容未能读取，无法核验要素：{el.label}",
                               url=url, details={"reason": reason}))
        out.append(Finding(code="guide.outdated", status="unverifiable", subject="", severity="info",
                           message="指南内容未能读取，无法核验更新情况", url=url, details={"reason": reason}))
        return out
    if not ev.columns:
        return _unverifiable_all("column menu could not be read", "未能读取平台栏目，无法核验政府信息公开指南",
                                 ev.site.url)
    for col in cols:
        readable = col.item_count is not None and (col.list_status is None or col.list_status in FETCHED)
        page = ev.page_by_url.get(col.url) if col.url else None
        if not readable or (page is not None and page.fetch_status not in FETCHED):
            return _unverifiable_all(f"guide column list unreadable (list_status={col.list_status})",
                                     f"指南栏目“{col.name}”未能读取，无法核验政府信息公开指南", col.url)
        if col.item_count:
            return _unverifiable_all("guide column has entries but none was fetched",
                                     f"指南栏目“{col.name}”有信息但未能读取，无法核验", col.url)
    if cols:
        col = cols[0]
        return [Finding(code="guide.missing", status="fail", subject="", url=col.url,
                        message="未公开政府信息公开指南（指南栏目无内容）",
                        evidence=f"栏目“{col.name.strip()}”无任何信息", details={"column": col.name})]
    return [Finding(code="guide.missing", status="fail", subject="", url=ev.site.url,
                    message="未公开政府信息公开指南",
                    evidence="平台栏目及已抓取文件中均未见政府信息公开指南",
                    details={"columns": [c.name for c in ev.columns if c.parent_id is None][:30]})]


def _judge_elements(ctx: CheckContext, guide: GuideVersion) -> list[Finding]:
    norm = normalize_lines(guide.content.text)
    text = norm.text
    out: list[Finding] = []
    for el in elements():
        if el.since and ctx.assessment_year < el.since:
            out.append(Finding(code="guide.element_missing", status="not_applicable", subject=el.name,
                               severity="info", message=f"{ctx.assessment_year}年考核不要求指南要素：{el.label}",
                               details={"reason": f"required from {el.since}"}))
            continue
        match = next((m for p in el.patterns for m in [p.search(text)] if m), None)
        if match:
            snippet = norm.snippet(match.start(), match.end())
            out.append(Finding(code="guide.element_present", status="pass", subject=el.name, severity="info",
                               message=f"指南含要素：{el.label}", url=guide.url, evidence=snippet,
                               evidence_file=_evidence_file(guide.content),
                               evidence_page=guide.content.page_of_text(snippet[:30]),
                               details={"matched": match.group(0)[:120]}))
            continue
        hint = el.hint.search(text) if el.hint else None
        evidence = (f"有“{hint.group(0)}”字样但无有效内容：" + norm.snippet(hint.start(), hint.end())
                    if hint else f"指南全文未见“{el.label}”")
        out.append(Finding(code="guide.element_missing", status="fail", subject=el.name, url=guide.url,
                           message=f"政府信息公开指南缺少要素：{el.label}", evidence=evidence,
                           evidence_file=_evidence_file(guide.content),
                           evidence_page=guide.content.page_of_text(hint.group(0)) if hint else None,
                           details={"element": el.name, "guide_title": guide.title}))
    return out


def _judge_outdated(ctx: CheckContext, latest: GuideVersion, versions: list[GuideVersion]) -> list[Finding]:
    year = max((v.latest_year for v in versions if v.latest_year), default=None)
    if year is None:
        return [Finding(code="guide.outdated", status="unverifiable", subject="", url=latest.url, severity="info",
                        message="指南未标注发布或更新日期，无法核验是否按年度更新",
                        details={"reason": "no publish/update date on any guide version"})]
    dates = sorted({d for v in versions for d in v.dates}, reverse=True)
    shown = dates[0].isoformat() if dates and dates[0].year == year else f"{year}年"
    details = {"latest_version_year": year, "assessment_year": ctx.assessment_year,
               "latest_date": dates[0].isoformat() if dates else None}
    if year < ctx.assessment_year:
        return [Finding(code="guide.outdated", status="fail", subject="", url=latest.url,
                        message=f"政府信息公开指南未在{ctx.assessment_year}年更新（最新版本：{shown}）",
                        evidence=f"{latest.title[:60]}，最新版本日期 {shown}",
                        evidence_file=_evidence_file(latest.content), details=details)]
    return [Finding(code="guide.current", status="pass", subject="", url=latest.url, severity="info",
                    message=f"政府信息公开指南已于{shown}更新", evidence=f"{latest.title[:60]}，{shown}",
                    details=details)]


CHECK = CheckSpec(
    id="guide",
    version="1.0",
    title="政府信息公开指南",
    codes=("guide.missing", "guide.present", "guide.element_missing", "guide.element_present",
           "guide.outdated", "guide.current"),
    run=run,
    needs=frozenset({"menu", "lists", "documents", "attachments"}),
    rubric_refs=("changning-2020-township:第7项", "changning-2020-department:第7项",
                 "suizhou-2020-thirdparty-county:公开指南", "suizhou-2020-thirdparty-department:公开指南",
                 "langfang-2020-county:信息公开指南"),
)
