"""site_health: unreachable platforms, broken links, injected spam (the real hijacked datong page) and domains."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.base import Finding
from checks.runner import run_check_on_evidence
from checks.site_health import is_allowed_host, scan_page
from tests.evidence_factory import EvidenceBuilder

DATONG = Path("/work/shared/rubric-sources/datong-2020-assessment-scheme.txt")
MENU = '<div class="nav"><a href="/">首页</a><a href="/zwgk/">政务公开</a><a href="/zc/">政策</a></div>'


def html(body: str, title: str = "青山县人民政府") -> str:
    return f"<html><head><title>{title}</title></head><body>{MENU}{body}</body></html>"


def run(b: EvidenceBuilder, **params) -> list[Finding]:
    return run_check_on_evidence("site_health", b.build(), params)


def codes(findings: list[Finding], code: str) -> dict[str, Finding]:
    return {f.subject: f for f in findings if f.code == code}


def healthy(base: str = "http://127.0.0.11:8000") -> EvidenceBuilder:
    b = EvidenceBuilder(base=base)
    b.page("/", kind="home", body=html("<p>欢迎访问</p>"))
    return b


# --- unreachable -------------------------------------------------------------------------------------------

def test_reachable_home_is_a_pass() -> None:
    assert codes(run(healthy()), "site_health.unreachable")[""].status == "pass"


def test_unreachable_platform_is_a_fail() -> None:
    b = EvidenceBuilder(run_status="unreachable")
    b.page("/", kind="home", fetch_status="connection_refused", http_status=None, error="[Errno 111] refused")
    f = codes(run(b), "site_health.unreachable")[""]
    assert (f.status, f.severity) == ("fail", "high")
    assert "connection_refused" in f.message


def test_every_site_down_at_once_is_our_network_not_theirs() -> None:
    b = EvidenceBuilder(run_status="unreachable")
    b.page("/", kind="home", fetch_status="timeout", http_status=None)
    ev = b.build()
    ev.stats["network_suspect"] = True
    f = codes(run_check_on_evidence("site_health", ev), "site_health.unreachable")[""]
    assert (f.status, f.details["reason"]) == ("unverifiable", "network_suspect")


@pytest.mark.parametrize("status", ["blocked", "robots_disallowed", "server_error"])
def test_home_answering_with_a_non_network_status_is_unverifiable(status: str) -> None:
    b = EvidenceBuilder()
    b.page("/", kind="home", fetch_status=status, http_status=403 if status == "blocked" else None)
    f = codes(run(b), "site_health.unreachable")[""]
    assert f.status == "unverifiable" and f.details["reason"] == f"home_{status}"


def test_home_timeout_while_other_pages_load_is_intermittent() -> None:
    b = EvidenceBuilder()
    b.page("/", kind="home", fetch_status="timeout", http_status=None)
    b.page("/zwgk/", kind="platform", body=html("<p>政务公开</p>"))
    f = codes(run(b), "site_health.unreachable")[""]
    assert (f.status, f.details["reason"]) == ("unverifiable", "intermittent")


# --- broken links -------------------------------------------------------------------------------------------

def linked_site() -> EvidenceBuilder:
    b = healthy()
    b.page("/zwgk/a.html", kind="document", body=html("<p>正文</p>"))
    b.page("/zwgk/b.html", kind="document", body=html("<p>正文</p>"))
    b.page("/gone.html", kind="link_probe", fetch_status="not_found", http_status=404, body="<h1>404</h1>")
    b.page("/err.html", kind="link_probe", fetch_status="server_error", http_status=502)
    b.page("/waf.html", kind="link_probe", fetch_status="blocked", http_status=403)
    b.page("/robots.html", kind="link_probe", fetch_status="robots_disallowed", http_status=None)
    b.page("/slow.html", kind="link_probe", fetch_status="timeout", http_status=None)
    b.page("/cal?d=1", kind="link_probe", fetch_status="trap_suppressed", http_status=None)
    b.page("/odd.html", kind="link_probe", fetch_status="error", http_status=410)
    b.page("/login.html", kind="link_probe", fetch_status="error", http_status=401)
    b.page("http://www.example.com/x", kind="link_probe", fetch_status="not_found", http_status=404)
    for src in ("/zwgk/a.html", "/zwgk/b.html"):
        b.link(src, "/gone.html#top", "办事指南")
    for to, anchor in [("/err.html", "在线访谈"), ("/waf.html", "互动交流"), ("/robots.html", "检索"),
                       ("/slow.html", "数据开放"), ("/cal?d=1", "日历"), ("/odd.html", "旧版网站"),
                       ("/login.html", "内网登录"), ("/zwgk/b.html", "正常链接")]:
        b.link("/zwgk/a.html", to, anchor)
    b.link("/zwgk/a.html", "http://www.example.com/x", "外部网站", internal=False)
    doc = b.document("/zwgk/c.html", kind="policy", title="关于印发某办法的通知", html=html("<p>附件</p>"))
    b.attachment(doc, "/files/c.pdf", None, fetch_status="not_found", anchor_text="某办法.pdf")
    return b


def test_broken_links_are_reported_with_carrying_page_and_anchor() -> None:
    findings = run(linked_site())
    broken = {s: f for s, f in codes(findings, "site_health.broken_link").items() if f.status == "fail"}
    assert set(broken) == {"/gone.html", "/err.html", "/odd.html", "/files/c.pdf"}
    gone = broken["/gone.html"]
    assert gone.details["carrier_count"] == 2  # one finding per target, every carrying page listed
    assert {c["page"] for c in gone.details["carriers"]} == {"http://127.0.0.11:8000/zwgk/a.html",
                                                             "http://127.0.0.11:8000/zwgk/b.html"}
    assert gone.details["carriers"][0]["anchor"] == "办事指南" and "办事指南" in gone.message
    assert broken["/files/c.pdf"].details["carriers"][0]["page"].endswith("/zwgk/c.html")


def test_waf_robots_timeouts_and_auth_walls_are_never_broken_links() -> None:
    findings = codes(run(linked_site()), "site_health.broken_link")
    for subject in ("/waf.html", "/robots.html", "/slow.html", "/login.html"):
        assert findings[subject].status == "unverifiable", subject
        assert findings[subject].details["reason"].startswith("target_")
    assert "/cal?d=1" not in findings  # suppressed by our own trap detection: skipped
    assert "/x" not in findings  # external: not ours to judge


def test_link_summary_counts() -> None:
    summary = codes(run(linked_site()), "site_health.links_checked")[""]
    assert summary.status == "pass"
    assert summary.details["broken"] == 4 and summary.details["skipped"] == 1


# --- spam -------------------------------------------------------------------------------------------------

def spam_kinds(markup: str) -> set[str]:
    return {s.kind for s in scan_page(markup, {"127.0.0.11"})}


def test_real_hijacked_page_from_datong_is_detected() -> None:
    kinds = spam_kinds(DATONG.read_text(encoding="utf-8"))
    assert {"empty_tag_flood", "keyword_chain", "keyword_repeated"} <= kinds


def test_hijacked_page_yields_a_finding_with_evidence() -> None:
    b = healthy()
    b.page("/zwgk/zfwj/55.html", kind="document", body=DATONG.read_text(encoding="utf-8"))
    b.page("/zwgk/zfwj/56.html", kind="document", body=html("<p>关于做好春耕生产的通知</p>"))
    findings = run(b)
    spam = codes(findings, "site_health.spam_injected")
    assert set(spam) == {"/zwgk/zfwj/55.html"}
    f = spam["/zwgk/zfwj/55.html"]
    assert f.status == "fail" and f.evidence and f.evidence_file
    assert codes(findings, "site_health.pages_scanned")[""].details == {"scanned": 3, "flagged": 1, "unreadable": 0}


def test_a_notice_about_fighting_gambling_is_not_spam() -> None:
    notice = html("""<h1>关于开展打击赌博违法犯罪专项行动的通告</h1>
        <p>为严厉打击赌博违法犯罪活动，依法查处开设赌场、网络赌博、跨境赌博等违法犯罪行为，
        对利用百家乐、老虎机、六合彩等形式组织赌博的，依法从严惩处。举报电话：110。</p>
        <p>严禁传播淫秽色情信息，严厉打击网络色情。</p>""", title="关于开展打击赌博违法犯罪专项行动的通告")
    assert spam_kinds(notice) == set()


def test_hidden_menus_and_gov_friend_links_are_not_spam() -> None:
    menu = "".join(f'<li><a href="/zwgk/{i}/">栏目{i}</a></li>' for i in range(30))
    friends = "".join(f'<a href="http://www.{n}.gov.cn/">{n}人民政府</a>' for n in
                      ("beijing", "hebei", "langfang", "bazhou", "sanhe", "dachang"))
    js = "".join(f'<div id="slot{i}"></div><span id="s{i}"></span>' for i in range(20))
    page = html(f'<ul class="sub" style="display:none">{menu}</ul>'
                f'<div class="yqlj" style="display: none">{friends}</div>{js}')
    assert spam_kinds(page) == set()


@pytest.mark.parametrize("wrapper", [
    '<div style="display:none">{}</div>',
    '<div style="position:absolute;top:-3000px;left:-3000px">{}</div>',
    '<div style="font-size:0px;line-height:0">{}</div>',
    '<style>.k9x{{display:none}}</style><div class="k9x">{}</div>',
])
def test_hidden_blocks_of_foreign_links_are_spam(wrapper: str) -> None:
    links = "".join(f'<a href="http://www.site{i}.com/">链接{i}</a>' for i in range(8))
    assert "hidden_links" in spam_kinds(html(wrapper.format(links)))


def test_a_single_hidden_gambling_link_is_spam() -> None:
    page = html('<div style="display:none"><a href="http://x.example/">365bet体育在线</a></div>')
    assert "hidden_links" in spam_kinds(page)


def test_gambling_brand_in_the_title_is_spam() -> None:
    assert "keyword_in_title" in spam_kinds(html("<p>正文</p>", title="青山县人民政府_bet365体育投注"))


def test_one_mention_in_visible_text_is_not_enough() -> None:
    page = html("<p>警惕冒充“bet365”网站实施的电信网络诈骗。</p>")
    assert spam_kinds(page) == set()


# --- domains ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("host,allowed", [
    ("www.qingshan.gov.cn", True), ("gov.cn", True), ("127.0.0.11", True), ("127.255.0.1", True),
    ("localhost", True), ("青山县.政务", True), ("www.qingshan.com", False), ("qingshangov.cn", False),
    ("www.qingshan.gov.cn.evil.com", False), ("10.1.2.3", False), ("128.0.0.1", False),
])
def test_allowed_hosts(host: str, allowed: bool) -> None:
    assert is_allowed_host(host) is allowed


def test_demo_on_loopback_is_not_flagged() -> None:
    f = codes(run(healthy()), "site_health.nonstandard_domain")["127.0.0.11"]
    assert f.status == "pass"


def test_nonstandard_domains_of_the_platform_are_flagged_per_host() -> None:
    b = healthy("http://www.qingshan.com")
    b.page("http://xxgk.qingshan.net/zc/", kind="column_list", body=html("<p>政策</p>"))
    b.page("http://cdn.example.net/a.pdf", kind="attachment")  # attachments' hosts are not the platform
    findings = codes(run(b), "site_health.nonstandard_domain")
    assert {s: f.status for s, f in findings.items()} == {"www.qingshan.com": "fail", "xxgk.qingshan.net": "fail"}
    allowed = codes(run(b, allowed_domains=["qingshan.com"]), "site_health.nonstandard_domain")
    assert allowed["www.qingshan.com"].status == "pass" and allowed["xxgk.qingshan.net"].status == "fail"
