"""Find a unit's 政府信息公开工作年度报告 for a given year in the evidence: as a document page, a list entry,
or a PDF/Word file linked from either; and tell the unit's own report from other units' reports that a
county platform also lists (its departments', its townships')."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache

from checks.base import load_data
from checks.text import YEAR_TOKEN, cn_year, nfkc, squash
from storage.evidence import AttachmentRec, ColumnItemRec, DocumentRec, SiteEvidence

_ATTACHMENT_KINDS = {"pdf", "docx", "doc", "wps", "ofd", "xls", "xlsx", "zip", "rar"}


@cache
def _title_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    t = load_data("annual_report.yaml")["title"]
    return re.compile(t["pattern"]), re.compile(t["exclude"])


def is_report_title(title: str | None) -> bool:
    s = squash(title)
    pattern, exclude = _title_res()
    return bool(pattern.search(s)) and not exclude.search(s)


def title_year(title: str | None) -> tuple[int, int] | None:
    """The report year named in a title and where the year starts: the year just before 政府信息公开…"""
    s = squash(title)
    pattern, _ = _title_res()
    m = pattern.search(s)
    if not m:
        return None
    best = None
    for ym in re.finditer(YEAR_TOKEN + r"年度?", s[:m.start()]):
        year = cn_year(ym.group(0).rstrip("度").rstrip("年"))
        if year:
            best = (year, ym.start())
    return best


@dataclass
class ReportRef:
    year: int
    title: str
    url: str
    owner: str  # own / unnamed / other
    publish_date: dt.date | None = None
    doc: DocumentRec | None = None
    item: ColumnItemRec | None = None
    attachments: list[AttachmentRec] = field(default_factory=list)

    @property
    def rank(self) -> int:
        return {"own": 0, "unnamed": 1, "other": 2}[self.owner]


def _name_variants(name: str) -> set[str]:
    s = squash(name)
    out = {s, s.replace("人民政府", "政府"), s.replace("人民政府", "")}
    # a department may title its report without the place name: 青山县财政局 → 县财政局 / 财政局
    m = re.match(r"^(.+?[省市县区旗州盟])(.+)$", s)
    if m:
        out |= {m.group(2), s[len(m.group(1)) - 1:]}
    return {v for v in out if v}


def owner_of(title: str, year_pos: int, site_name: str) -> str:
    """own: the title names this unit (or a part of its name); unnamed: no unit before the year;
    other: another unit's report."""
    prefix = squash(title)[:year_pos]
    prefix = re.sub(r"^(?:关于|[《〈【\[])+", "", prefix).rstrip("《〈【[")
    if not prefix:
        return "unnamed"
    variants = _name_variants(site_name)
    if any(prefix == v or prefix in v for v in variants):
        return "own"
    return "other"


def find_reports(ev: SiteEvidence, year: int) -> list[ReportRef]:
    """Every report for ``year`` seen in the evidence, merged by URL, the unit's own first."""
    refs: dict[str, ReportRef] = {}
    item_by_url = {i.url: i for i in ev.items if i.url}
    docs_by_id = {d.id: d for d in ev.documents}

    def add(title: str | None, url: str, *, doc=None, item=None, att=None, fallback_text: str | None = None):
        ty = title_year(title)
        if ty is None and fallback_text and (doc is not None and doc.kind == "annual_report"):
            # a page titled only “年度报告”: the year is in the first lines of the body
            head = nfkc(fallback_text)[:300]
            ty = title_year(head)
        if ty is None or ty[0] != year:
            return
        ref = refs.get(url)
        if ref is None:
            ref = refs[url] = ReportRef(year=year, title=(title or "").strip(), url=url,
                                        owner=owner_of(title or "", ty[1], ev.site.name))
        ref.doc = ref.doc or doc
        ref.item = ref.item or item
        if att is not None and att not in ref.attachments:
            ref.attachments.append(att)

    for doc in ev.documents:
        if doc.kind == "annual_report" or is_report_title(doc.title):
            add(doc.title, doc.url, doc=doc, item=item_by_url.get(doc.url), fallback_text=doc.body_text)
    for item in ev.items:
        if item.url and item.url not in refs and is_report_title(item.title):
            add(item.title, item.url, item=item)
    for att in ev.attachments:
        parent = docs_by_id.get(att.document_id) if att.document_id is not None else None
        if parent is not None and parent.url in refs:
            refs[parent.url].attachments.append(att)  # the report's own file (PDF of the HTML page)
            continue
        label = att.anchor_text or att.url.rsplit("/", 1)[-1]
        if is_report_title(label) or (att.url in refs):
            add(label, att.url, att=att, item=item_by_url.get(att.url))
        elif att.url in item_by_url and is_report_title(item_by_url[att.url].title):
            add(item_by_url[att.url].title, att.url, att=att, item=item_by_url[att.url])
    # list entries that point straight at a file: attach the stored file
    for ref in refs.values():
        if not ref.attachments and ref.doc is None:
            ref.attachments = [a for a in ev.attachments if a.url == ref.url]
        ref.publish_date = _publish_date(ev, ref)
    return sorted(refs.values(), key=lambda r: (r.rank, r.publish_date or dt.date.max))


def _publish_date(ev: SiteEvidence, ref: ReportRef) -> dt.date | None:
    if ref.doc is not None and ref.doc.publish_date:
        return ref.doc.publish_date
    if ref.item is not None and ref.item.date:
        return ref.item.date
    page = ev.page_by_url.get(ref.url)
    if page is not None and page.publish_date:
        return page.publish_date
    for att in ref.attachments:
        parent = next((d for d in ev.documents if d.id == att.document_id), None)
        if parent is not None and parent.publish_date:
            return parent.publish_date
    return None


def is_attachment_kind(ext: str | None) -> bool:
    return (ext or "").lower().strip(".") in _ATTACHMENT_KINDS
