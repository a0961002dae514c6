"""The unit's 政府信息公开工作年度报告 for the year before the assessment year: published, on time, complete,
its statistics adding up, and not a copy of last year's.

Rubric lines served (../shared/rubric-sources/):
- changning-2020-assessment-notice.txt 第5项: 按时上报……年度报告，并在政府网站上公开 | 工作要点落实情况和年度报告每少一项
  扣2分 → ``annual_report.missing``.
- langfang-bazhou-2020-indicator-breakdown.txt “信息公开年度报告（2分）| 按时在本级政府门户网站和政府信息公开平台公开政府
  信息公开年度报告，做到内容完整、格式规范、发布及时。” → ``missing``, ``late``, ``section_missing``.
- suizhou-2020-assessment-plan.txt 附件2 “公开年报(5%) | 有无(10%) | 发布时间(10%) | 结构完整(40%) | 新穎性(30%/40%)”
  → ``missing``, ``late``, ``section_missing``, ``copied``.
- baohe-2021-demonstration-acceptance.txt 第27项: 依据……国办公开办函〔2019〕60号……全面摸底梳理历年公开年报，确保数据
  公开符合逻辑，内容公开杜绝雷同 → ``table_inconsistent``, ``copied``.
Deadlines: 《中华人民共和国政府信息公开条例》第四十九条 (departments 1月31日前; a government's own report
3月31日前). Sections and table layouts: 国办公开办函〔2019〕60号 and 〔2021〕30号 (``checks/data/annual_report.yaml``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from checks.annual_report_copy import compare as compare_copy
from checks.annual_report_copy import settings as copy_settings
from checks.annual_report_locate import ReportRef, find_reports
from checks.annual_report_tables import (
    ApplicationsTable,
    Identity,
    ReviewTable,
    application_equations,
    carryover_equations,
    parse_applications,
    parse_review,
    review_equations,
    solve,
)
from checks.base import CheckContext, CheckSpec, Finding, load_data
from checks.doc_content import FETCHED, DocContent, attachment_content, document_content, html_content
from checks.table_grid import pdf_cell_texts
from checks.text import parse_count, squash
from storage.evidence import SiteEvidence

CRAWLED = {"crawled", "checked", "scored"}
REPORT = "政府信息公开工作年度报告"
# Any report on the 2019/2021 template runs to well over a thousand characters; a page with less text
# only links or pictures the report.
MIN_REPORT_CHARS = 300


@dataclass(frozen=True)
class Section:
    name: str
    pattern: re.Pattern[str]


@cache
def sections() -> tuple[Section, ...]:
    return tuple(Section(s["name"], re.compile(s["pattern"])) for s in load_data("annual_report.yaml")["sections"])


def deadline_for(ev: SiteEvidence, assessment_year: int) -> tuple[dt.date, str]:
    d = load_data("annual_report.yaml")["deadlines"]
    if ev.site.is_department:
        rule = d["department"]
        why = "部门应在1月31日前公布（条例第四十九条）"
    else:
        rule = d["default"]
        why = "本级政府年度报告应在3月31日前公布（条例第四十九条）"
    return dt.date(assessment_year, int(rule["month"]), int(rule["day"])), why


@dataclass
class LoadedReport:
    ev: SiteEvidence
    year: int
    refs: list[ReportRef]
    contents: list[DocContent]  # readable ones first

    @property
    def readable(self) -> list[DocContent]:
        return [c for c in self.contents if c.ok]

    @property
    def url(self) -> str:
        return self.refs[0].url

    @property
    def publish_date(self) -> dt.date | None:
        dates = [r.publish_date for r in self.refs if r.publish_date]
        return min(dates) if dates else None

    def unreadable_reason(self) -> str:
        reasons = [f"{c.url}: {c.reason}" for c in self.contents if not c.ok]
        return "; ".join(reasons) or "report listed but neither its page nor its file is in the evidence"


def load_report(ev: SiteEvidence, year: int) -> tuple[LoadedReport | None, list[ReportRef]]:
    """The unit's own report for ``year`` (all copies of it: page, PDF, Word), and every report found."""
    refs = find_reports(ev, year)
    mine = [r for r in refs if r.owner != "other"]
    if not mine:
        return None, refs
    best = min(r.rank for r in mine)
    chosen = [r for r in mine if r.rank == best]
    contents: list[DocContent] = []
    for ref in chosen:
        page_content = None
        if ref.doc is not None:
            page_content = document_content(ev, ref.doc)
        elif ref.url in ev.page_by_url and not ref.attachments:
            page_content = html_content(ev, ref.url, ev.page_by_url[ref.url])
        if page_content is not None:
            contents.append(_not_a_wrapper(page_content))
        for att in ref.attachments:
            contents.append(attachment_content(ev, att))
    contents.sort(key=lambda c: (not c.ok, {"html": 0, "docx": 1, "pdf": 2}.get(c.kind, 3)))
    return LoadedReport(ev=ev, year=year, refs=chosen, contents=contents), refs


def _not_a_wrapper(content: DocContent) -> DocContent:
    """A report page with almost no text only links the report (a file, or images of its pages): its few
    words must not be judged as the report."""
    if content.ok and len(squash(content.text)) < MIN_REPORT_CHARS and not content.tables:
        return DocContent(url=content.url, kind=content.kind, status="too_short", blob=content.blob,
                          reason=f"report page has only {len(squash(content.text))} characters of text "
                                 "(the report is a linked file or an image)")
    return content


def run(ctx: CheckContext) -> list[Finding]:
    ev = ctx.evidence
    year = ctx.assessment_year - 1
    y = str(year)
    if ev.run_status not in CRAWLED:
        return [Finding(code="annual_report.missing", status="unverifiable", subject=y, severity="info",
                        message=f"网站未能抓取，无法核验{year}年{REPORT}",
                        details={"reason": f"site run status {ev.run_status}"})]
    deadline, rule = deadline_for(ev, ctx.assessment_year)
    report, refs = load_report(ev, year)
    if report is None:
        return [_missing(ev, ctx, year, refs, deadline, rule)]
    out = [Finding(code="annual_report.present", status="pass", subject=y, severity="info",
                   message=f"已公开{year}年{REPORT}", url=report.url, evidence=report.refs[0].title[:120],
                   details={"copies": [r.url for r in report.refs]})]
    out.append(_late(report, deadline, rule))
    out += _sections(report)
    last, _ = load_report(ev, year - 1)  # for the carry-over identity and the copy comparison
    out += _table_findings(report, _tables(report), last)
    out.append(_copied(report, last))
    return out


# --- missing / late ---------------------------------------------------------------------------------------

def _missing(ev: SiteEvidence, ctx: CheckContext, year: int, refs: list[ReportRef], deadline: dt.date,
             rule: str) -> Finding:
    y = str(year)
    if refs:
        return Finding(code="annual_report.missing", status="unverifiable", subject=y, severity="info",
                       message=f"只找到其他单位的{year}年年度报告，未能确认本单位报告",
                       url=refs[0].url, evidence="；".join(r.title for r in refs[:3]),
                       details={"reason": "only reports titled with other units' names were found",
                                "found": [r.title for r in refs[:10]]})
    if ctx.as_of <= deadline:
        return Finding(code="annual_report.missing", status="not_applicable", subject=y, severity="info",
                       message=f"{year}年{REPORT}尚未到公布期限（{deadline.isoformat()}）",
                       details={"reason": "not due yet", "deadline": deadline.isoformat()})
    if not ev.columns:
        return Finding(code="annual_report.missing", status="unverifiable", subject=y, severity="info",
                       message=f"未能读取平台栏目，无法核验{year}年{REPORT}",
                       details={"reason": "column menu could not be read"})
    report_cols = [c for c in ev.columns if re.search(r"年报|年度报告", squash(c.name))
                   and "报表" not in c.name]
    unreadable = [c for c in report_cols
                  if c.item_count is None or (c.list_status is not None and c.list_status not in FETCHED)]
    if unreadable:
        return Finding(code="annual_report.missing", status="unverifiable", subject=y, severity="info",
                       message=f"年报栏目“{unreadable[0].name}”未能读取，无法核验{year}年{REPORT}",
                       url=unreadable[0].url,
                       details={"reason": f"annual report column list unreadable "
                                          f"(list_status={unreadable[0].list_status})"})
    listed = []
    for c in report_cols:
        listed += [i.title for i in ev.items_of(c.id)][:5]
    return Finding(code="annual_report.missing", status="fail", subject=y,
                   message=f"未公开{year}年{REPORT}",
                   url=report_cols[0].url if report_cols else ev.site.url,
                   evidence=("年报栏目所列：" + "；".join(listed)) if listed else
                   ("年报栏目无任何信息" if report_cols else "平台未设年报栏目，已抓取页面中也未见该报告"),
                   details={"deadline": deadline.isoformat(), "rule": rule,
                            "report_columns": [c.name for c in report_cols]})


def _late(report: LoadedReport, deadline: dt.date, rule: str) -> Finding:
    y = str(report.year)
    published = report.publish_date
    if published is None:
        return Finding(code="annual_report.late", status="unverifiable", subject=y, url=report.url, severity="info",
                       message=f"{report.year}年{REPORT}未标注发布日期，无法核验是否按时公布",
                       details={"reason": "no publish date on the report page or its list entry",
                                "deadline": deadline.isoformat()})
    details = {"published": published.isoformat(), "deadline": deadline.isoformat(), "rule": rule}
    if published > deadline:
        return Finding(code="annual_report.late", status="fail", subject=y, url=report.url,
                       message=f"{report.year}年{REPORT}未按时公布（{published.isoformat()}发布，"
                               f"应于{deadline.isoformat()}前）",
                       evidence=f"{report.refs[0].title[:80]} 发布日期：{published.isoformat()}；{rule}",
                       details=details)
    return Finding(code="annual_report.on_time", status="pass", subject=y, url=report.url, severity="info",
                   message=f"{report.year}年{REPORT}按时公布（{published.isoformat()}）",
                   evidence=f"发布日期：{published.isoformat()}", details=details)


# --- sections ---------------------------------------------------------------------------------------------

def _sections(report: LoadedReport) -> list[Finding]:
    y = str(report.year)
    readable = report.readable
    if not readable:
        reason = report.unreadable_reason()
        return [Finding(code="annual_report.section_missing", status="unverifiable", subject=f"{y}/{s.name}",
                        url=report.url, severity="info", message=f"年度报告内容未能读取，无法核验部分：{s.name}",
                        details={"reason": reason}) for s in sections()]

    def found_in(c: DocContent) -> dict[str, re.Match[str]]:
        text = squash(c.text)
        return {s.name: m for s in sections() for m in [s.pattern.search(text)] if m}

    scored = [(c, found_in(c)) for c in readable]
    content, found = max(scored, key=lambda p: len(p[1]))
    out = []
    for s in sections():
        if s.name in found:
            out.append(Finding(code="annual_report.section_present", status="pass", subject=f"{y}/{s.name}",
                               url=content.url, severity="info", message=f"年度报告含部分：{s.name}",
                               evidence=found[s.name].group(0), evidence_file=content.blob,
                               evidence_page=content.page_of_text(found[s.name].group(0))))
        else:
            out.append(Finding(code="annual_report.section_missing", status="fail", subject=f"{y}/{s.name}",
                               url=content.url, evidence_file=content.blob,
                               message=f"{report.year}年{REPORT}缺少部分：{s.name}",
                               evidence=f"报告全文（{len(squash(content.text))}字）未见“{s.name}”",
                               details={"sections_found": sorted(found)}))
    return out


# --- tables -----------------------------------------------------------------------------------------------

@dataclass
class ReportTables:
    content: DocContent | None
    applications: ApplicationsTable | None
    review: ReviewTable | str | None
    why_none: str | None  # when no applications table could be read
    free_text: bool = False


def _tables(report: LoadedReport) -> ReportTables:
    readable = report.readable
    if not readable:
        return ReportTables(None, None, None, report.unreadable_reason())
    reasons = []
    for c in readable:
        if c.table_error:
            reasons.append(f"{c.url}: {c.table_error}")
            continue
        app = parse_applications(c.tables, report.year)
        if app is not None:
            return ReportTables(c, app, parse_review(c.tables), None)
    markers = ("本年新收", "上年结转", "结转下年度", "收到和处理政府信息公开申请")
    has_markers = any(m in squash(c.text) for c in readable for m in markers)
    if reasons:
        return ReportTables(None, None, None, "; ".join(reasons))
    if not has_markers:
        return ReportTables(None, None, None, "report has no template statistics (free text)", free_text=True)
    return ReportTables(None, None, None,
                        "the applications table could not be read (an image, or a layout not on the template)")


def _table_findings(report: LoadedReport, t: ReportTables, last: LoadedReport | None) -> list[Finding]:
    y = str(report.year)
    first_template = int(load_data("annual_report.yaml").get("first_template_year", 2019))
    code = "annual_report.table_inconsistent"
    if report.year < first_template or t.free_text:
        why = (f"{report.year}年报告早于2019年模板（国办公开办函〔2019〕60号），为自由文本" if report.year < first_template
               else "报告未采用模板统计表格（自由文本）")
        return [Finding(code=code, status="not_applicable", subject=y, url=report.url, severity="info",
                        message=f"{why}，不核验表格勾稽关系", details={"reason": why})]
    if t.applications is None or t.content is None:
        return [Finding(code=code, status="unverifiable", subject=y, url=report.url, severity="info",
                        message=f"{report.year}年{REPORT}的统计表格无法读取，未核验勾稽关系",
                        details={"reason": t.why_none})]
    equations = application_equations(t.applications)
    unread: list[str] = list(t.applications.problems)
    if isinstance(t.review, ReviewTable):
        equations += review_equations(t.review)
    else:
        unread.append(t.review or "未找到行政复议、行政诉讼情况表格")
    last_tables = _tables(last) if last is not None else None
    zeros: set[int] = set()
    if last_tables is not None and last_tables.applications is not None:
        # blanks of last year's table that its own identities pin to 0 count as 0 in the comparison
        _, zeros = solve(application_equations(last_tables.applications))
        equations += carryover_equations(t.applications, last_tables.applications, report.year - 1)
    else:
        unread.append(f"{report.year - 1}年报告不在抓取范围内或表格无法读取，未核对上年结转")
    identities, _ = solve(equations, zeros)
    identities = _cross_check(report.ev, t.content, identities)
    out: list[Finding] = []
    passed = [i for i in identities if i.status == "pass"]
    unverifiable = [i for i in identities if i.status == "unverifiable"]
    for ident in (i for i in identities if i.status == "fail"):
        out.append(Finding(code=code, status="fail", subject=f"{y}/{ident.id}", url=t.content.url,
                           message=f"{report.year}年{REPORT}表格数据不符：{_identity_title(ident.id)}",
                           evidence=ident.evidence, evidence_file=t.content.blob, evidence_page=ident.page,
                           details={"identity": ident.id, "template": t.applications.template,
                                    "pages": sorted({c.page for c in ident.cells if c.page})}))
    if unverifiable or unread:
        out.append(Finding(code=code, status="unverifiable", subject=y, url=t.content.url, severity="info",
                           message=f"{report.year}年{REPORT}部分表格关系无法核验",
                           details={"reason": "; ".join(unread + sorted({i.reason or i.evidence for i in unverifiable})),
                                    "identities": {i.id: i.evidence for i in unverifiable}}))
    if passed and not any(f.status == "fail" for f in out):
        out.append(Finding(code="annual_report.tables_consistent", status="pass", subject=y, url=t.content.url,
                           severity="info", message=f"{report.year}年{REPORT}表格勾稽关系一致（{len(passed)}项）",
                           evidence_file=t.content.blob, details={"identities": [i.id for i in passed],
                                                                  "template": t.applications.template}))
    return out


def _identity_title(ident: str) -> str:
    kind, _, arg = ident.partition(":")
    return {"balance": f"本年新收+上年结转≠办理结果总计+结转下年度（{arg}）",
            "results": f"各项办理结果之和≠总计（{arg}）",
            "applicants": f"各类申请人之和≠总计（{arg}）",
            "review": f"{arg}各项之和≠总计",
            "carryover": f"上年结转≠上年度报告结转下年度（{arg}）"}.get(kind, ident)


def _cross_check(ev: SiteEvidence, content: DocContent, identities: list[Identity]) -> list[Identity]:
    """Before a PDF table is said not to add up, read every cell of the broken identity again with
    pypdfium2: if the two extractors disagree on any number, the reading is not trusted."""
    if content.kind != "pdf" or not content.blob:
        return identities
    failing = [i for i in identities if i.status == "fail"]
    if not failing:
        return identities
    try:
        data = ev.blob(content.blob)
    except LookupError:
        return [_distrust(i, "PDF file missing for the cross-check") if i.status == "fail" else i for i in identities]
    out = []
    for ident in identities:
        if ident.status != "fail":
            out.append(ident)
            continue
        cells = [c for c in ident.cells if c.bbox is not None and c.page is not None]
        if len(cells) != len(ident.cells):
            out.append(_distrust(ident, "cell positions unknown for the PDF cross-check"))
            continue
        texts = pdf_cell_texts(data, [(c.page, c.bbox) for c in cells])  # type: ignore[misc]
        agree = all(t is not None and parse_count(t).ok and parse_count(t).value == c.count.value
                    and parse_count(t).blank == c.count.blank for t, c in zip(texts, cells, strict=True))
        out.append(ident if agree else _distrust(ident, "pdfplumber and pypdfium2 read different numbers"))
    return out


def _distrust(ident: Identity, reason: str) -> Identity:
    return Identity(ident.id, "unverifiable", ident.evidence, ident.cells, reason=reason)


# --- copied -----------------------------------------------------------------------------------------------

def _copied(report: LoadedReport, last: LoadedReport | None) -> Finding:
    y = str(report.year)
    code = "annual_report.copied"
    this = report.readable
    if not this:
        return Finding(code=code, status="unverifiable", subject=y, url=report.url, severity="info",
                       message="年度报告内容未能读取，无法比对是否与上年雷同",
                       details={"reason": report.unreadable_reason()})
    if last is None or not last.readable:
        return Finding(code=code, status="unverifiable", subject=y, url=report.url, severity="info",
                       message=f"未取得{report.year - 1}年年度报告全文，无法比对是否雷同",
                       details={"reason": f"{report.year - 1} report not in the evidence" if last is None
                                else last.unreadable_reason()})
    a = max(this, key=lambda c: len(c.text))
    b = max(last.readable, key=lambda c: len(c.text))
    res = compare_copy(a.text, a.tables, b.text, b.tables)
    cfg = copy_settings()
    details = {"ratio": round(res.ratio, 3), "threshold": cfg.threshold, "compared_chars": res.compared_chars,
               "previous_url": b.url, "repeated_sentences": len(res.repeated)}
    if res.compared_chars < cfg.min_compared_chars:
        return Finding(code=code, status="unverifiable", subject=y, url=a.url, severity="info",
                       message="年度报告可比对的文字过少，无法判断是否雷同",
                       details={**details, "reason": "too little prose to compare"})
    quoted = " / ".join(s[:80] for s in res.repeated[:cfg.max_quoted])
    if res.copied:
        return Finding(code=code, status="fail", subject=y, url=a.url, evidence_file=a.blob,
                       message=f"{report.year}年{REPORT}与{report.year - 1}年报告内容雷同"
                               f"（重复比例{res.ratio:.0%}）",
                       evidence=f"与上年相同的语句：{quoted}", details=details)
    return Finding(code="annual_report.original", status="pass", subject=y, url=a.url, severity="info",
                   message=f"{report.year}年{REPORT}与上年报告不雷同（重复比例{res.ratio:.0%}）", details=details)


CHECK = CheckSpec(
    id="annual_report",
    version="1.0",
    title="政府信息公开工作年度报告",
    codes=("annual_report.missing", "annual_report.present", "annual_report.late", "annual_report.on_time",
           "annual_report.section_missing", "annual_report.section_present", "annual_report.table_inconsistent",
           "annual_report.tables_consistent", "annual_report.copied", "annual_report.original"),
    run=run,
    needs=frozenset({"menu", "lists", "documents", "attachments"}),
    rubric_refs=("changning-2020-township:第5项", "changning-2020-department:第5项",
                 "langfang-2020-county:信息公开年度报告", "suizhou-2020-thirdparty-county:公开年报",
                 "suizhou-2020-thirdparty-department:公开年报", "baohe-2021-street:第27项"),
)
