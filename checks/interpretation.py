"""政策解读: is each policy of the assessment period interpreted, are policy and interpretation linked both
ways, was the interpretation published on time, and in which form?

Rubric lines served (/work/shared/rubric-sources/):
- langfang-bazhou-2020-indicator-breakdown.txt, 政策解读（12分）:
  - 解读情况: "对本级政府出台的政策性文件…在5个工作日内进行宣传解读（3分）" → ``interpretation.late``
    (N working days, China's official calendar: ``checks.workdays``; N from ``ctx.params["late_working_days"]``,
    default in checks/data/interpretation.yaml).
  - 解读比例: "随机抽查网站已发布的3个以上…政策文件，被解读文件数量每少一个扣1分" → ``interpretation.missing``
    per policy and the site-level share ``interpretation.share``.
  - 解读关联: "随机抽查网站已发布的3个解读稿，未与被解读的政策文件相关联的，每发现一处扣0.5分，该政策文件未与被
    抽查解读稿相关联的，每发现一次扣0.5分" → ``interpretation.not_linked_to_policy`` and
    ``interpretation.policy_not_linked_back``.
- suizhou-2020-assessment-plan.txt, 附件2/附件3 政策解读: "解讀形式(40%)"; baohe-2021-demonstration-acceptance.txt
  "采用图片、图表、视频、动画等群众喜闻乐见的形式开展解读" → the form (文字/图解/视频/动画/音频) in details.
- changning-2020-assessment-notice.txt 附件2 第16项 / 附件3 第14项: "未公开政策解读材料的扣 5/6 分".

Pairing: an interpretation (documents of kind ``interpretation``, entries of 解读 columns, 解读 links on policy
pages — also those only present after JS rendering) is paired with its policy by a link either way, by the
policy title quoted in 《》, or by the 文号. Which policies needed no interpretation cannot be known from the web:
where a rubric samples, the sample is the assessor's call, and the messages say so.

Statuses: each code is emitted with ``pass`` for what was verified and ``fail`` for what was not met, under the
subjects of docs/conventions.md (policy URL subject for missing / policy_not_linked_back, interpretation URL
subject for not_linked_to_policy / late); ``unverifiable`` carries its reason (page not fetched, dates
unknown, interpretation lists unreadable, calendar not covered).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urldefrag, urlsplit

from checks.base import CheckContext, CheckSpec, Finding, load_data, url_subject
from checks.text import squash
from checks.workdays import CalendarNotCovered, workdays_after
from storage.evidence import DocumentRec, PageRec, SiteEvidence

_OK = {"ok", "not_modified_reused"}
_QUOTED = re.compile(r"[《<〈]([^《》<>〈〉]{4,})[》>〉]")
_DOCNO_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "［": "〔", "］": "〕", "【": "〔", "】": "〕", "(": "〔",
                                 ")": "〕", "（": "〔", "）": "〕", "{": "〔", "}": "〕"})
_PUNCT = re.compile(r"[《》<>〈〉“”\"'‘’「」『』()（）\[\]【】、,，。.:：;；!！?？·•\-—_|]")


@cache
def _data() -> dict[str, Any]:
    return load_data("interpretation.yaml")


def _key(text: str | None) -> str:
    """Comparable form of a title: NFKC, no whitespace, no punctuation or book-title marks."""
    return _PUNCT.sub("", squash(text))


def _docno_key(text: str | None) -> str:
    return squash(text).translate(_DOCNO_BRACKETS)


def _has_any(text: str | None, words: list[str]) -> bool:
    s = squash(text).lower()
    return any(squash(w).lower() in s for w in words)


@dataclass
class Policy:
    url: str
    title: str
    date: dt.date | None
    doc_number: str | None = None
    column: str | None = None
    document: DocumentRec | None = None
    interpretations: list[Interp] = field(default_factory=list)


@dataclass
class Interp:
    url: str
    title: str
    date: dt.date | None
    sources: set[str] = field(default_factory=set)  # document / column / policy_link
    document: DocumentRec | None = None
    anchors: list[str] = field(default_factory=list)
    policies: dict[str, str] = field(default_factory=dict)  # policy url -> how they were paired


class _Site:
    """The evidence arranged for pairing: canonical URLs, links by page, policies and interpretations."""

    def __init__(self, ev: SiteEvidence) -> None:
        self.ev = ev
        self.d = _data()
        self.links_from: dict[str, list[tuple[str, str]]] = {}  # page -> [(target, anchor)]
        self.links_to: dict[str, list[tuple[str, str]]] = {}  # target -> [(page, anchor)]
        for link in ev.links:
            src, to, anchor = self.canon(link.from_url), self.canon(link.to_url), (link.anchor_text or "").strip()
            self.links_from.setdefault(src, []).append((to, anchor))
            self.links_to.setdefault(to, []).append((src, anchor))
        # list pages are never a policy or an interpretation, even when a list or a breadcrumb links them
        self.column_urls = {self.canon(c.url) for c in ev.columns if c.url}
        self.column_urls |= {p.url for p in ev.pages if p.kind in ("column_list", "platform", "home")}

    def canon(self, url: str) -> str:
        url = urldefrag(url)[0]
        page = self.ev.page_by_url.get(url)
        return page.url if page is not None else url

    def page(self, url: str) -> PageRec | None:
        return self.ev.page_by_url.get(url)

    def fetched(self, url: str) -> bool:
        p = self.page(url)
        return p is not None and p.fetch_status in _OK

    def column_path(self, column_id: int | None) -> str | None:
        names = []
        col = self.ev.column_by_id.get(column_id) if column_id is not None else None
        while col is not None:
            names.append(col.name)
            col = self.ev.column_by_id.get(col.parent_id) if col.parent_id is not None else None
        return "/".join(reversed(names)) or None

    def navigation(self, anchor: str) -> bool:
        a = squash(anchor)
        return any(a.startswith(squash(w)) for w in self.d["navigation_anchors"])


def _policy_columns(ev: SiteEvidence, d: dict[str, Any]) -> set[int]:
    """The policy columns and their sub-columns (政策文件 > 本部门文件), never an interpretation column."""
    names = {squash(n) for n in d["policy_columns"]}
    words = [*d["interpretation_words"], *d["interpretation_column_words"]]

    def is_policy(col: Any) -> bool:
        seen: set[int] = set()
        while col is not None and col.id not in seen:
            if _has_any(col.name, words):
                return False
            if squash(col.name) in names:
                return True
            seen.add(col.id)
            col = ev.column_by_id.get(col.parent_id) if col.parent_id is not None else None
        return False

    return {c.id for c in ev.columns if is_policy(c)}


def _interp_columns(ev: SiteEvidence, d: dict[str, Any]) -> list[Any]:
    return [c for c in ev.columns if _has_any(c.name, d["interpretation_column_words"])]


def collect(site: _Site) -> tuple[dict[str, Policy], dict[str, Interp]]:
    ev, d = site.ev, site.d
    words = d["interpretation_words"]
    pcols = _policy_columns(ev, d)
    icols = {c.id for c in _interp_columns(ev, d)}
    docs = {site.canon(doc.url): doc for doc in ev.documents}
    policies: dict[str, Policy] = {}
    interps: dict[str, Interp] = {}

    def add_interp(url: str, title: str, date: dt.date | None, source: str) -> Interp:
        it = interps.get(url)
        if it is None:
            doc = docs.get(url)
            it = interps[url] = Interp(url=url, title=(doc.title if doc and doc.title else title) or "",
                                       date=(doc.publish_date if doc else None) or date, document=doc)
        it.sources.add(source)
        if not it.date and date:
            it.date = date
        return it

    for item in ev.items:
        if not item.url:
            continue
        url = site.canon(item.url)
        if url in site.column_urls:
            continue
        if item.column_id in icols or (item.column_id in pcols and _has_any(item.title, words)):
            add_interp(url, item.title, item.date, "column")
        elif item.column_id in pcols and url not in policies:
            doc = docs.get(url)
            policies[url] = Policy(url=url, title=(doc.title if doc and doc.title else item.title),
                                   date=(doc.publish_date if doc else None) or item.date,
                                   doc_number=doc.doc_number if doc else None,
                                   column=site.column_path(item.column_id), document=doc)
    for url, doc in docs.items():
        if url in site.column_urls:
            continue
        if doc.kind == "interpretation" or (doc.column_id in icols):
            policies.pop(url, None)
            add_interp(url, doc.title or "", doc.publish_date, "document")
        elif doc.column_id in pcols and url not in policies and not _has_any(doc.title, words):
            policies[url] = Policy(url=url, title=doc.title or "", date=doc.publish_date or doc.written_date,
                                   doc_number=doc.doc_number, column=site.column_path(doc.column_id), document=doc)

    # 解读 links on policy pages (JS-rendered ones included), minus menu entries present on many pages
    pages_per_target: dict[str, set[str]] = {}
    for src, targets in site.links_from.items():
        for to, anchor in targets:
            if _has_any(anchor, words):
                pages_per_target.setdefault(to, set()).add(src)
    for purl in list(policies):
        for to, anchor in site.links_from.get(purl, []):
            if (not _has_any(anchor, words) or site.navigation(anchor) or to in site.column_urls
                    or to in policies or len(pages_per_target.get(to, ())) >= d["menu_link_min_pages"]
                    or urlsplit(to).scheme not in ("http", "https")):
                continue
            it = add_interp(to, anchor, None, "policy_link")
            it.anchors.append(anchor)
            it.policies.setdefault(purl, "policy_link")
    return policies, interps


def _strip_affixes(title: str, d: dict[str, Any]) -> str:
    t = squash(title)
    for p in sorted((squash(x) for x in d["title_prefixes"]), key=len, reverse=True):
        if t.startswith(p):
            t = t[len(p):]
            break
    for s in sorted((squash(x) for x in d["title_suffixes"]), key=len, reverse=True):
        if t.endswith(s):
            t = t[: -len(s)]
            break
    return _key(t)


def _title_match(candidate: str, policy: Policy, min_len: int) -> int:
    """0 no match; 3 equal titles; 2 equal to the title quoted inside the policy title; 1 contained."""
    if not candidate:
        return 0
    ptitle = _key(policy.title)
    if candidate == ptitle:
        return 3
    if any(candidate == _key(q) for q in _QUOTED.findall(squash(policy.title))):
        return 2
    if len(candidate) >= min_len and (candidate in ptitle or (len(ptitle) >= min_len and ptitle in candidate)):
        return 1
    return 0


def pair(site: _Site, policies: dict[str, Policy], interps: dict[str, Interp]) -> None:
    d = site.d
    words = d["interpretation_words"]
    for it in interps.values():
        # links from the interpretation page to a policy page
        for to, anchor in site.links_from.get(it.url, []):
            if to in policies and not site.navigation(anchor):
                it.policies.setdefault(to, "interpretation_link")
        # links from policy pages to the interpretation (any anchor: "相关解读" lists use the title)
        for src, anchor in site.links_to.get(it.url, []):
            if src in policies and not site.navigation(anchor):
                it.policies.setdefault(src, "policy_link")
        if it.policies:
            continue
        # the policy title quoted in 《》, or the stripped title itself
        texts = [it.title, *it.anchors]
        best: dict[str, int] = {}
        for text in texts:
            cands = [_key(q) for q in _QUOTED.findall(squash(text))] + [_strip_affixes(text, d)]
            for purl, pol in policies.items():
                if _has_any(pol.title, words):
                    continue
                score = max((_title_match(c, pol, d["min_contained_title"]) for c in cands), default=0)
                if score:
                    best[purl] = max(best.get(purl, 0), score)
        if best:
            top = max(best.values())
            winners = [u for u, s in best.items() if s == top]
            if len(winners) == 1 or top >= 2:  # containment must be unambiguous
                for u in winners:
                    it.policies.setdefault(u, "title")
                continue
        # the 文号 in the title, else exactly one known 文号 in the body
        title_key = _docno_key(" ".join(texts))
        body_key = _docno_key(it.document.body_text if it.document else "")
        numbered = [(u, _docno_key(p.doc_number)) for u, p in policies.items()
                    if p.doc_number and len(_docno_key(p.doc_number)) >= 5]
        in_title = [u for u, k in numbered if k in title_key]
        in_body = [u for u, k in numbered if k in body_key]
        for u in in_title or (in_body if len(in_body) == 1 else []):
            it.policies.setdefault(u, "doc_number")
    for it in interps.values():
        for purl in it.policies:
            if purl in policies and it not in policies[purl].interpretations:
                policies[purl].interpretations.append(it)


def interpretation_form(site: _Site, it: Interp) -> str:
    d = site.d
    path = urlsplit(it.url).path.lower()
    for form, suffixes in d["form_url_suffixes"].items():
        if any(path.endswith(s) for s in suffixes):
            return form
    label = " ".join([it.title, *it.anchors])
    for form, words in d["forms"].items():
        if _has_any(label, words):
            return form
    page = site.page(it.url)
    if page is not None and page.fetch_status in _OK and page.sha256:
        try:
            markup = (site.ev.text_of(page) or "").lower()
        except (LookupError, KeyError, OSError):
            markup = ""
        for form, markers in d["form_page_markers"].items():
            if any(m.lower() in markup for m in markers):
                return form
    return "文字"


def _in_period(day: dt.date | None, ctx: CheckContext) -> bool:
    return day is not None and dt.date(ctx.assessment_year, 1, 1) <= day <= ctx.as_of


def _incomplete_lists(ev: SiteEvidence, d: dict[str, Any]) -> tuple[bool, dt.date | None]:
    """Whether an interpretation column could not be read, and the oldest date still covered when one was
    capped (older interpretations may exist unseen)."""
    unreadable = False
    horizon: dt.date | None = None
    for col in _interp_columns(ev, d):
        if col.list_status not in (None, *_OK) or col.item_count is None:
            unreadable = True
        if col.capped_at is not None and col.oldest_date is not None:
            horizon = max(horizon, col.oldest_date) if horizon else col.oldest_date
    return unreadable, horizon


def run(ctx: CheckContext) -> list[Finding]:
    ev = ctx.evidence
    site = _Site(ev)
    d = site.d
    n_days = int(ctx.params.get("late_working_days", d["late_working_days"]))
    policies, interps = collect(site)
    pair(site, policies, interps)
    forms = {url: interpretation_form(site, it) for url, it in interps.items()}
    out: list[Finding] = []
    out += _missing(ctx, site, policies, forms)
    out += _links(site, policies, interps, forms)
    out += _lateness(ctx, policies, interps, forms, n_days)
    return out


def _missing(ctx: CheckContext, site: _Site, policies: dict[str, Policy], forms: dict[str, str]) -> list[Finding]:
    unreadable, horizon = _incomplete_lists(site.ev, site.d)
    out: list[Finding] = []
    counted = interpreted = unverifiable = undated = 0
    form_counts: dict[str, int] = {}
    for url, pol in sorted(policies.items()):
        if pol.date is None:
            undated += 1
            continue
        if not _in_period(pol.date, ctx):
            continue
        base = {"title": pol.title, "doc_number": pol.doc_number, "date": pol.date.isoformat(), "column": pol.column}
        if pol.interpretations:
            counted += 1
            interpreted += 1
            pforms = sorted({forms[i.url] for i in pol.interpretations})
            for f in pforms:
                form_counts[f] = form_counts.get(f, 0) + 1
            out.append(Finding(code="interpretation.missing", status="pass", subject=url_subject(url), url=url,
                               severity="info", message=f"政策已有解读（{'、'.join(pforms)}）：{pol.title}",
                               details={**base, "forms": pforms,
                                        "interpretations": [{"url": i.url, "title": i.title,
                                                             "paired_by": i.policies.get(url)}
                                                            for i in pol.interpretations]}))
            continue
        reason = None
        if unreadable:
            reason = "interpretation_list_unreadable"
        elif horizon is not None and pol.date < horizon:
            reason = "interpretation_list_capped"
        if reason:
            unverifiable += 1
            out.append(Finding(code="interpretation.missing", status="unverifiable", subject=url_subject(url),
                               url=url, severity="info",
                               message=f"解读栏目未能完整读取，无法确认该政策是否已解读：{pol.title}",
                               details={**base, "reason": reason}))
            continue
        counted += 1
        out.append(Finding(code="interpretation.missing", status="fail", subject=url_subject(url), url=url,
                           evidence=pol.title,
                           message=(f"未发现该政策文件的解读材料：{pol.title}（是否属于需解读的政策由评估人员判断；"
                                    f"按抽查计分的指标以人工抽样为准）"),
                           details={**base, "paired_by_tried": ["link", "title", "doc_number"]}))
    share = round(interpreted / counted, 4) if counted else None
    # how many interpretation materials the platform shows at all (昌宁: 未公开政策解读材料的扣分); None when a
    # 解读 list could not be read completely, so a rubric never deducts on a count we could not establish
    materials = None if unreadable else len(forms)
    details = {"policies": counted, "interpreted": interpreted, "share": share, "unverifiable": unverifiable,
               "interpretations": materials,
               "undated": undated, "forms": form_counts, "period": [f"{ctx.assessment_year}-01-01",
                                                                     ctx.as_of.isoformat()]}
    if counted:
        out.append(Finding(code="interpretation.share", status="pass", severity="info",
                           message=f"评估期内政策文件 {counted} 件，已解读 {interpreted} 件，解读比例 {share:.0%}",
                           details=details))
    else:
        out.append(Finding(code="interpretation.share", status="not_applicable", severity="info",
                           message="评估期内未发现可判断的政策文件", details=details))
    return out


def _links(site: _Site, policies: dict[str, Policy], interps: dict[str, Interp],
           forms: dict[str, str]) -> list[Finding]:
    d = site.d
    out: list[Finding] = []
    for url, it in sorted(interps.items()):
        base = {"title": it.title, "form": forms[url], "policies": sorted(it.policies),
                "paired_by": sorted(set(it.policies.values()))}
        if not site.fetched(url):
            p = site.page(url)
            out.append(Finding(code="interpretation.not_linked_to_policy", status="unverifiable",
                               subject=url_subject(url), url=url, severity="info",
                               message=f"解读页面未能抓取，无法核验是否链接被解读文件：{it.title}",
                               details={**base, "reason": "interpretation_page_not_fetched",
                                        "fetch_status": p.fetch_status if p else None}))
            continue
        if not site.links_from.get(url):
            out.append(_no_links(code="interpretation.not_linked_to_policy", url=url, title=it.title, base=base))
            continue
        links = [(to, a) for to, a in site.links_from.get(url, []) if not site.navigation(a)]
        to_policy = [to for to, _a in links if to in it.policies or to in policies]
        by_anchor = [to for to, a in links if _has_any(a, d["policy_link_anchors"])
                     or any(_key(a) and _key(a) == _key(policies[p].title) for p in it.policies if p in policies)]
        if to_policy or by_anchor:
            out.append(Finding(code="interpretation.not_linked_to_policy", status="pass", subject=url_subject(url),
                               url=url, severity="info", message=f"解读已链接被解读的政策文件：{it.title}",
                               details={**base, "links": sorted(set(to_policy + by_anchor))}))
        else:
            out.append(Finding(code="interpretation.not_linked_to_policy", status="fail", subject=url_subject(url),
                               url=url, evidence=it.title,
                               message=f"解读页面未链接被解读的政策文件：{it.title}",
                               details=base))
    for purl, pol in sorted(policies.items()):
        if not pol.interpretations:
            continue
        iurls = {i.url for i in pol.interpretations}
        base = {"title": pol.title, "interpretations": sorted(iurls)}
        if not site.fetched(purl):
            out.append(Finding(code="interpretation.policy_not_linked_back", status="unverifiable",
                               subject=url_subject(purl), url=purl, severity="info",
                               message=f"政策文件页面未能抓取，无法核验是否链接解读：{pol.title}",
                               details={**base, "reason": "policy_page_not_fetched"}))
            continue
        if not site.links_from.get(purl):
            out.append(_no_links(code="interpretation.policy_not_linked_back", url=purl, title=pol.title, base=base))
            continue
        back = sorted({to for to, a in site.links_from.get(purl, []) if to in iurls and not site.navigation(a)})
        if back:
            out.append(Finding(code="interpretation.policy_not_linked_back", status="pass", subject=url_subject(purl),
                               url=purl, severity="info", message=f"政策文件页面已链接其解读：{pol.title}",
                               details={**base, "links": back}))
        else:
            out.append(Finding(code="interpretation.policy_not_linked_back", status="fail",
                               subject=url_subject(purl), url=purl, evidence=pol.title,
                               message=f"政策文件页面未链接其解读材料：{pol.title}", details=base))
    return out


def _no_links(*, code: str, url: str, title: str, base: dict[str, Any]) -> Finding:
    # Every real page links somewhere (at least its menu); none recorded means the links were not captured
    # (a JS page not rendered, a parse failure), not that the page lacks the link.
    return Finding(code=code, status="unverifiable", subject=url_subject(url), url=url, severity="info",
                   message=f"页面未记录任何链接（可能需要渲染或解析失败），无法核验关联：{title}",
                   details={**base, "reason": "no_links_recorded"})


def _lateness(ctx: CheckContext, policies: dict[str, Policy], interps: dict[str, Interp],
              forms: dict[str, str], n_days: int) -> list[Finding]:
    out: list[Finding] = []
    for url, it in sorted(interps.items()):
        paired = [policies[p] for p in it.policies if p in policies]
        if not paired:
            continue
        if not (_in_period(it.date, ctx) or (it.date is None and any(_in_period(p.date, ctx) for p in paired))):
            continue
        dated = [p for p in paired if p.date is not None]
        base: dict[str, Any] = {"title": it.title, "form": forms[url], "limit_working_days": n_days,
                                "interpretation_date": it.date.isoformat() if it.date else None}
        if it.date is None or not dated:
            out.append(Finding(code="interpretation.late", status="unverifiable", subject=url_subject(url), url=url,
                               severity="info", message=f"解读或政策文件的发布日期未知，无法核验解读时效：{it.title}",
                               details={**base, "reason": "date_unknown"}))
            continue
        # with several policies, judge against the latest one: the most lenient reading
        pol = max(dated, key=lambda p: p.date)  # type: ignore[arg-type,return-value]
        assert pol.date is not None
        base.update({"policy_url": pol.url, "policy_title": pol.title, "policy_date": pol.date.isoformat()})
        try:
            delay = workdays_after(pol.date, it.date)
        except CalendarNotCovered as exc:
            out.append(Finding(code="interpretation.late", status="unverifiable", subject=url_subject(url), url=url,
                               severity="info", message=f"工作日历未覆盖该年度，无法核验解读时效：{it.title}",
                               details={**base, "reason": "calendar_not_covered", "error": str(exc)}))
            continue
        base["working_days"] = delay
        if delay > n_days:
            out.append(Finding(code="interpretation.late", status="fail", subject=url_subject(url), url=url,
                               evidence=f"政策 {pol.date.isoformat()} 发布，解读 {it.date.isoformat()} 发布",
                               message=f"解读晚于政策文件 {delay} 个工作日发布（要求 {n_days} 个工作日内）：{it.title}",
                               details=base))
        else:
            out.append(Finding(code="interpretation.late", status="pass", subject=url_subject(url), url=url,
                               severity="info",
                               message=f"解读在政策发布后 {max(delay, 0)} 个工作日内发布：{it.title}", details=base))
    return out


CHECK = CheckSpec(
    id="interpretation",
    version="1.0",
    title="政策解读",
    codes=("interpretation.missing", "interpretation.share", "interpretation.not_linked_to_policy",
           "interpretation.policy_not_linked_back", "interpretation.late"),
    run=run,
    needs=frozenset({"menu", "lists", "documents"}),
    rubric_refs=("langfang-2020-county:政策解读/解读情况", "langfang-2020-county:政策解读/解读比例",
                 "langfang-2020-county:政策解读/解读关联", "suizhou-2020-thirdparty-county:政策解读/解读形式",
                 "changning-2020-township:附件2 第16项", "changning-2020-department:附件3 第14项"),
)
