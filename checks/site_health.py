"""Site health: does the platform answer, do its links work, was it hijacked, is its domain a government one?

Rubric lines served (/work/shared/rubric-sources/):
- langfang-bazhou-2020-indicator-breakdown.txt, 主动公开 / "政府网站域名规范（2分）": "完成不规范政府网站域名的清理
  整改，每检查中每发现1个不规范域名扣0.2分" → ``site_health.nonstandard_domain`` (one finding per host).
- langfang-bazhou-2020-indicator-breakdown.txt, 政务新媒体: "发布或链接反动、暴力、色情内容…单项否决", and
  changning-2020-assessment-notice.txt, 扣分项目: "政府网站发布内容被投诉、举报或者新闻媒体曝光的…每次扣10分" →
  ``site_health.spam_injected``; datong-2020-assessment-scheme.txt is a real hijacked government page (gambling
  SEO chains replacing the district's name, a flood of empty tags with the id "h4sia" before the content).
- suizhou-2020-assessment-plan.txt, 附件2 三、平台建设 "政府信息公开平台 | 规范性(60%)"; changning 附件2 第24项
  "明确专人负责政府网站信息公开栏目的维护、管理" → ``site_health.unreachable`` and ``site_health.broken_link``
  (a platform that does not answer, links that lead nowhere).

A fetch status is not a finding (../shared/DESIGN.md): WAF blocks, robots.txt and our own time limits are
``unverifiable`` or skipped, never a broken link; if every site failed at once (``stats["network_suspect"]``)
the problem is ours and ``unreachable`` is unverifiable. Tables live in checks/data/site_health.yaml.

Subjects follow docs/conventions.md: unreachable ``""``; broken_link the target URL subject; spam_injected
the carrying page's URL subject; nonstandard_domain the host name. Passes: unreachable and
nonstandard_domain use their own code with status pass; the per-link and per-page scans are summarised by
``site_health.links_checked`` and ``site_health.pages_scanned`` (one pass each, with counts).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urldefrag, urlsplit

from lxml import etree

from checks.base import CheckContext, CheckSpec, Finding, load_data, url_subject
from checks.text import parse_html, squash
from storage.evidence import PageRec, SiteEvidence


@cache
def _data() -> dict[str, Any]:
    return load_data("site_health.yaml")


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


# --- allowed domains ---------------------------------------------------------------------------------------

def is_allowed_host(host: str, extra: Iterable[str] = ()) -> bool:
    """Under gov.cn (or .政务), loopback, or configured: the data file's lists plus ``extra``."""
    d = _data()
    host = host.rstrip(".").lower()
    suffixes = [s.lower().lstrip(".") for s in [*d["allowed_domain_suffixes"], *extra]]
    if host in {h.lower() for h in d["allowed_hosts"]} or any(host == s or host.endswith("." + s)
                                                               for s in suffixes):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n) for n in d["allowed_networks"])


def _extra_allowed(params: dict[str, Any]) -> list[str]:
    extra = params.get("allowed_domains") or []
    return [extra] if isinstance(extra, str) else [str(x) for x in extra]


def check_domains(ev: SiteEvidence, params: dict[str, Any]) -> list[Finding]:
    d = _data()
    hosts: dict[str, str] = {}  # host -> an URL showing it
    site_host = host_of(ev.site.url)
    if site_host:
        hosts[site_host] = ev.site.url
    for p in ev.pages:
        if p.kind in d["platform_page_kinds"] and p.fetch_status in d["ok_statuses"]:
            url = p.final_url or p.url
            h = host_of(url)
            if h:
                hosts.setdefault(h, url)
    if not hosts:
        return [Finding(code="site_health.nonstandard_domain", status="unverifiable", severity="info",
                        message="网站地址无法解析出域名，无法核验域名规范", subject="",
                        details={"reason": "no_host", "site_url": ev.site.url})]
    extra = _extra_allowed(params)
    out: list[Finding] = []
    for host, url in sorted(hosts.items()):
        if is_allowed_host(host, extra):
            out.append(Finding(code="site_health.nonstandard_domain", status="pass", subject=host, url=url,
                               severity="info", message=f"域名 {host} 符合政府网站域名规范",
                               details={"host": host}))
        else:
            out.append(Finding(code="site_health.nonstandard_domain", status="fail", subject=host, url=url,
                               evidence=host, message=f"政府网站使用不规范域名 {host}（非 gov.cn 域名）",
                               details={"host": host, "allowed_suffixes": d["allowed_domain_suffixes"]}))
    return out


# --- unreachable ---------------------------------------------------------------------------------------------

def _home_pages(ev: SiteEvidence) -> list[PageRec]:
    homes = [p for p in ev.pages if p.kind == "home"]
    if homes:
        return homes
    want = ev.site.url.rstrip("/")
    return [p for p in ev.pages if p.url.rstrip("/") == want]


def check_unreachable(ev: SiteEvidence) -> Finding:
    d = _data()
    homes = _home_pages(ev)
    ok_homes = [p for p in homes if p.fetch_status in d["ok_statuses"]]
    if ok_homes and ev.run_status != "unreachable":
        return Finding(code="site_health.unreachable", status="pass", subject="", url=ok_homes[0].url,
                       severity="info", message="平台首页可正常访问",
                       details={"fetch_status": ok_homes[0].fetch_status, "http_status": ok_homes[0].http_status})
    failed = [p for p in homes if p.fetch_status in d["unreachable_statuses"]]
    detail: dict[str, Any] = {"run_status": ev.run_status,
                              "home": [{"url": p.url, "fetch_status": p.fetch_status, "http_status": p.http_status,
                                        "error": p.error} for p in homes]}
    down = ev.run_status == "unreachable" or (bool(homes) and len(failed) == len(homes))
    if not down:
        if not homes:
            reason, msg = "home_not_fetched", "本次运行未抓取平台首页，无法判断可访问性"
        else:
            status = homes[0].fetch_status
            reason, msg = f"home_{status}", f"平台首页抓取结果为 {status}（非网络故障），无法据此判断不可访问"
        return Finding(code="site_health.unreachable", status="unverifiable", subject="", url=ev.site.url,
                       severity="info", message=msg, details={**detail, "reason": reason})
    if ev.stats.get("network_suspect"):
        return Finding(code="site_health.unreachable", status="unverifiable", subject="", url=ev.site.url,
                       severity="info",
                       message="本次运行所有网站同时无法访问，疑为检测方网络故障，不作扣分",
                       details={**detail, "reason": "network_suspect"})
    ok_pages = sum(1 for p in ev.pages if p.fetch_status in d["ok_statuses"])
    if ok_pages and ev.run_status != "unreachable":
        # the home failed but the same run read other pages of the platform: an intermittent failure
        return Finding(code="site_health.unreachable", status="unverifiable", subject="", url=ev.site.url,
                       severity="info", message="平台首页抓取失败，但同一次运行中其他页面可访问，疑为间歇性故障",
                       details={**detail, "reason": "intermittent", "pages_ok": ok_pages})
    first = failed[0] if failed else (homes[0] if homes else None)
    why = f"（{first.fetch_status}{'：' + first.error if first and first.error else ''}）" if first else ""
    return Finding(code="site_health.unreachable", status="fail", subject="", url=ev.site.url, severity="high",
                   evidence=first.error if first else None,
                   message=f"政府信息公开平台无法访问（多次重试后仍失败）{why}", details=detail)


# --- broken links --------------------------------------------------------------------------------------------

@dataclass
class _Target:
    url: str
    status: str
    http_status: int | None
    error: str | None
    carriers: list[dict[str, str | None]] = field(default_factory=list)


def _link_sources(ev: SiteEvidence) -> Iterable[tuple[str, str, str | None, bool]]:
    """(from_url, to_url, anchor, internal) for every link the run saw: page links, column list items and
    document attachments (a dead attachment link is a broken link on the page that carries it)."""
    site_hosts = {h for h in (host_of(ev.site.url), *(host_of(p.final_url or p.url) for p in _home_pages(ev)))
                  if h}
    site_hosts |= {str(h).lower() for h in ev.site.options.get("extra_hosts", []) or []}
    for link in ev.links:
        yield link.from_url, link.to_url, link.anchor_text, link.internal
    for item in ev.items:
        col = ev.column_by_id.get(item.column_id)
        if item.url and col is not None and col.url:
            yield col.url, item.url, item.title, host_of(item.url) in site_hosts
    for att in ev.attachments:
        yield att.page_url, att.url, att.anchor_text, host_of(att.url) in site_hosts


def _target_status(ev: SiteEvidence, url: str, attachments: dict[str, str]
                   ) -> tuple[str, int | None, str | None] | None:
    page = ev.page_by_url.get(url)
    if page is not None:
        return page.fetch_status, page.http_status, page.error
    if url in attachments:
        return attachments[url], None, None
    return None


def _classify(status: str, http: int | None) -> str:
    d = _data()
    if status in d["ok_statuses"]:
        return "ok"
    if status in d["broken_statuses"] and http not in d["ambiguous_http"]:
        return "broken"
    if status == "error" and http is not None and http >= d["broken_http_min"] and http not in d["ambiguous_http"]:
        return "broken"
    if status in d["skipped_statuses"]:
        return "skipped"
    return "unverifiable"  # blocked, robots, timeout, ambiguous HTTP codes, statuses we don't know


def check_links(ev: SiteEvidence) -> list[Finding]:
    d = _data()
    targets: dict[str, _Target] = {}
    seen_pairs: set[tuple[str, str]] = set()
    counts = {"ok": 0, "broken": 0, "unverifiable": 0, "skipped": 0, "not_probed": 0}
    attachments = {a.url: a.fetch_status for a in ev.attachments if a.fetch_status}
    for from_url, to_url, anchor, internal in _link_sources(ev):
        url, _frag = urldefrag(to_url or "")
        if not internal or urlsplit(url).scheme not in ("http", "https"):
            continue
        if (from_url, url) in seen_pairs:
            continue
        seen_pairs.add((from_url, url))
        if url not in targets:
            st = _target_status(ev, url, attachments)
            if st is None:
                counts["not_probed"] += 1
                targets[url] = _Target(url, "not_probed", None, None)
            else:
                targets[url] = _Target(url, st[0], st[1], st[2])
                counts[_classify(st[0], st[1])] += 1
        targets[url].carriers.append({"page": from_url, "anchor": (anchor or "").strip() or None})

    out: list[Finding] = []
    for url, t in sorted(targets.items()):
        if t.status == "not_probed":
            continue
        kind = _classify(t.status, t.http_status)
        if kind in ("ok", "skipped"):
            continue
        shown = t.carriers[: d["max_carriers"]]
        details: dict[str, Any] = {"fetch_status": t.status, "http_status": t.http_status, "error": t.error,
                                   "carriers": shown, "carrier_count": len(t.carriers)}
        first = shown[0]
        where = f"“{first['anchor'] or '（无锚文本）'}”（所在页面 {first['page']}）"
        if kind == "broken":
            code_txt = f"HTTP {t.http_status}" if t.http_status else t.status
            out.append(Finding(code="site_health.broken_link", status="fail", subject=url_subject(url), url=url,
                               evidence=f"{first['anchor'] or ''} → {url}",
                               message=f"站内链接无法打开（{code_txt}）：{where}"
                                       + (f" 等 {len(t.carriers)} 处" if len(t.carriers) > 1 else ""),
                               details=details))
        else:
            out.append(Finding(code="site_health.broken_link", status="unverifiable", subject=url_subject(url),
                               url=url, severity="info",
                               message=f"链接目标抓取结果为 {t.status}，不能据此判定为错链：{where}",
                               details={**details, "reason": f"target_{t.status}"}))
    out.append(Finding(code="site_health.links_checked", status="pass", severity="info",
                       message=(f"检查站内链接目标 {len(targets) - counts['not_probed']} 个：可访问 {counts['ok']}，"
                                f"错链 {counts['broken']}，无法核验 {counts['unverifiable']}，"
                                f"跳过 {counts['skipped']}，未探测 {counts['not_probed']}"),
                       details=counts))
    return out


# --- injected spam -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SpamSignal:
    kind: str  # keyword_chain / keyword_in_title / keyword_repeated / hidden_links / empty_tag_flood
    evidence: str
    details: dict[str, Any]


@cache
def _terms() -> tuple[dict[str, str], re.Pattern[str]]:
    d = _data()
    term_kind = {squash(t).lower(): kind for kind, terms in d["spam_terms"].items() for t in terms}
    pattern = re.compile("|".join(re.escape(t) for t in sorted(term_kind, key=len, reverse=True)))
    return term_kind, pattern


@cache
def _hidden_style() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in _data()["hidden_style_patterns"]), re.I)


def _keyword_signals(title: str, text: str) -> list[SpamSignal]:
    d = _data()
    term_kind, pattern = _terms()
    raw = squash(text).lower()
    hits = [(m.start(), m.end(), m.group(0)) for m in pattern.finditer(raw)]
    out: list[SpamSignal] = []
    seps = set(d["chain_separators"])
    for (s1, e1, t1), (s2, _e2, t2) in zip(hits, hits[1:], strict=False):
        gap = raw[e1:s2]
        if len(gap) <= d["chain_max_gap"] and seps & set(gap):
            out.append(SpamSignal("keyword_chain", raw[max(0, s1 - 10): s2 + len(t2) + 10],
                                  {"terms": [t1, t2]}))
            break
    title_hits = sorted({m.group(0) for m in pattern.finditer(squash(title).lower())})
    if title_hits:
        out.append(SpamSignal("keyword_in_title", title.strip()[:200], {"terms": title_hits}))
    if len(hits) >= d["min_term_repeats"]:
        s, e, _t = hits[0]
        out.append(SpamSignal("keyword_repeated", raw[max(0, s - 20): e + 20],
                              {"occurrences": len(hits), "terms": sorted({h[2] for h in hits}),
                               "kinds": sorted({term_kind[h[2]] for h in hits})}))
    return out


def _css_hidden_classes(root: etree._Element) -> tuple[set[str], set[str]]:
    """Class and id selectors that a <style> block hides (``.xyz{display:none}``)."""
    classes: set[str] = set()
    ids: set[str] = set()
    hidden = _hidden_style()
    for style in root.iter("style"):
        for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", style.text or ""):
            if not hidden.search(body):
                continue
            for sel in selectors.split(","):
                sel = sel.strip()
                if re.fullmatch(r"\.[\w-]+", sel):
                    classes.add(sel[1:])
                elif re.fullmatch(r"#[\w-]+", sel):
                    ids.add(sel[1:])
    return classes, ids


def _hidden_link_signals(root: etree._Element, site_hosts: set[str], extra: list[str]) -> list[SpamSignal]:
    d = _data()
    hidden = _hidden_style()
    classes, ids = _css_hidden_classes(root)
    _term_kind, term_pattern = _terms()
    out: list[SpamSignal] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        is_hidden = bool(hidden.search(el.get("style") or "")) or el.get("id") in ids or bool(
            classes & set((el.get("class") or "").split()))
        if not is_hidden:
            continue
        foreign = []
        for a in el.iter("a"):
            h = host_of(a.get("href"))
            if h and h not in site_hosts and not is_allowed_host(h, extra):
                foreign.append(a)
        text = squash(el.text_content()).lower()
        terms = sorted(set(term_pattern.findall(text)))
        if len(foreign) >= d["hidden_min_foreign_links"] or (terms and el.find(".//a") is not None):
            snippet = etree.tostring(el, encoding="unicode", with_tail=False)[:400]
            out.append(SpamSignal("hidden_links", snippet,
                                  {"tag": el.tag, "style": el.get("style"), "foreign_links": len(foreign),
                                   "hosts": sorted({host_of(a.get("href")) or "" for a in foreign})[:10],
                                   "terms": terms}))
            break  # one hidden block is proof enough; its parent would match again
    return out


def _empty_tag_signals(root: etree._Element) -> list[SpamSignal]:
    d = _data()
    ignore = set(d["empty_tag_ignore"])
    empties: list[etree._Element] = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag.lower() in ignore or not el.get("id"):
            continue
        if (el.text_content() or "").strip():
            continue
        empties.append(el)
    if len(empties) < d["empty_tag_min_elements"]:
        return []
    id_counts: dict[str, int] = {}
    for el in empties:
        id_counts[el.get("id")] = id_counts.get(el.get("id"), 0) + 1
    top_id, top_n = max(id_counts.items(), key=lambda kv: kv[1])
    kinds = sorted({el.tag.lower() for el in empties})
    if top_n < d["empty_tag_min_same_id"] and len(kinds) < d["empty_tag_min_tag_kinds"]:
        return []
    sample = "".join(etree.tostring(el, encoding="unicode", with_tail=False) for el in empties[:6])
    return [SpamSignal("empty_tag_flood", sample[:400],
                       {"elements": len(empties), "most_repeated_id": top_id, "repeats": top_n,
                        "tags": kinds[:20]})]


def scan_page(markup: str, site_hosts: set[str], extra_allowed: Iterable[str] = ()) -> list[SpamSignal]:
    """Injected-content signals of one HTML page (empty list: clean)."""
    root = parse_html(markup)
    if root is None:
        return []
    signals = _empty_tag_signals(root) + _hidden_link_signals(root, site_hosts, list(extra_allowed))
    title = " ".join((t.text_content() or "") for t in root.iter("title"))
    for meta in root.iter("meta"):
        if (meta.get("name") or "").lower() in ("keywords", "description"):
            title += " " + (meta.get("content") or "")
    for bad in root.xpath("//script|//style"):
        parent = bad.getparent()
        if parent is not None:
            bad.drop_tree()  # keeps the tail text, which belongs to the page
    signals += _keyword_signals(title, root.text_content() or "")
    return signals


def check_spam(ev: SiteEvidence, params: dict[str, Any]) -> list[Finding]:
    site_hosts = {h for h in (host_of(ev.site.url), *(host_of(p.final_url or p.url) for p in _home_pages(ev)))
                  if h}
    extra = _extra_allowed(params)
    ok = set(_data()["ok_statuses"])
    out: list[Finding] = []
    scanned = unreadable = 0
    for page in ev.pages:
        if page.fetch_status not in ok or not page.sha256 or page.kind == "attachment":
            continue
        if page.content_type and "html" not in page.content_type.lower():
            continue
        try:
            markup = ev.text_of(page)
        except (LookupError, KeyError, OSError):
            unreadable += 1
            continue
        if not markup:
            continue
        scanned += 1
        signals = scan_page(markup, site_hosts, extra)
        if not signals:
            continue
        kinds = [s.kind for s in signals]
        out.append(Finding(code="site_health.spam_injected", status="fail", severity="high",
                           subject=url_subject(page.url), url=page.url, evidence=signals[0].evidence,
                           evidence_file=page.sha256,
                           message=f"页面疑被植入非法内容（{'、'.join(_SIGNAL_NAMES[k] for k in kinds)}）：{page.url}",
                           details={"signals": [{"kind": s.kind, "evidence": s.evidence, **s.details}
                                                for s in signals]}))
    out.append(Finding(code="site_health.pages_scanned", status="pass", severity="info",
                       message=f"扫描页面 {scanned} 个，疑被植入内容 {len(out)} 个",
                       details={"scanned": scanned, "flagged": len(out), "unreadable": unreadable}))
    return out


_SIGNAL_NAMES = {"keyword_chain": "赌博/色情关键词串", "keyword_in_title": "标题或元数据含赌博/色情词",
                 "keyword_repeated": "赌博/色情词多次出现", "hidden_links": "隐藏的外链块",
                 "empty_tag_flood": "大量带随机id的空标签"}


def run(ctx: CheckContext) -> list[Finding]:
    ev = ctx.evidence
    out = [check_unreachable(ev)]
    out += check_domains(ev, ctx.params)
    if any(p.fetch_status in _data()["ok_statuses"] for p in ev.pages):
        out += check_links(ev)
        out += check_spam(ev, ctx.params)
    return out


CHECK = CheckSpec(
    id="site_health",
    version="1.0",
    title="网站可访问性、错链、被植入内容与域名规范",
    codes=("site_health.unreachable", "site_health.broken_link", "site_health.spam_injected",
           "site_health.nonstandard_domain", "site_health.links_checked", "site_health.pages_scanned"),
    run=run,
    needs=frozenset({"menu", "lists", "documents", "link_probes"}),
    rubric_refs=("langfang-2020-county:政府网站域名规范", "changning-2020-township:扣分项目",
                 "changning-2020-department:扣分项目"),
)
