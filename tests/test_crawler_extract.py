"""Unit tests of the crawler's pure parts: decoding, URL safety, traps, menus, lists, pagers, documents."""

from __future__ import annotations

import datetime as dt

from crawler.encoding import decode_body, normalise_label
from crawler.extract.classify import doc_kind
from crawler.extract.dates import parse_date, parse_date_value
from crawler.extract.document import attachment_ext, is_interpretation_link, parse_document, runtime_box
from crawler.extract.html import parse_html
from crawler.extract.jsdata import call_args, js_vars
from crawler.extract.listing import (
    find_json_endpoints,
    json_page_url,
    parse_json_list,
    parse_list_page,
)
from crawler.extract.menu import column_tree, find_platform_link, more_links
from crawler.fetch_status import looks_like_waf, status_for_http
from crawler.urls import HostPolicy, TrapDetector, normalise_url, url_subject
from crawler.walks import Walk
from tests.test_crawler_server import JS_TREE, TREE, doc_page, html

BASE = "http://127.0.0.1:8001/xxgk/index.html"


# -- encodings ---------------------------------------------------------------------------------------------

def test_mislabelled_gbk_page_decodes_as_gb18030():
    text = '<html><head><meta charset="gb2312"></head><body>青山镇政务公开：镕堃喆</body></html>'
    raw = text.encode("gb18030")
    d = decode_body(raw, "text/html; charset=utf-8")  # the header lies
    assert d.ok and d.encoding == "gb18030"
    assert "镕堃喆" in d.text and "青山镇政务公开" in d.text


def test_utf8_page_labelled_gbk_stays_utf8():
    raw = '<html><head><meta charset="gbk"></head><body>政府信息公开指南</body></html>'.encode()
    d = decode_body(raw, "text/html; charset=GBK")
    assert d.encoding == "utf-8" and "政府信息公开指南" in d.text


def test_gb_labels_map_to_the_superset():
    assert normalise_label("GB2312") == "gb18030"
    assert normalise_label("x-gbk") == "gb18030"
    assert normalise_label("utf8") == "utf-8"
    assert normalise_label("no-such-charset") is None


def test_undecodable_bytes_are_a_decode_error():
    raw = b"<html><body>" + bytes(range(0x80, 0x100)) * 20 + b"</body></html>"
    d = decode_body(raw, "text/html; charset=utf-8")
    assert not d.ok


# -- URLs, hosts, traps -----------------------------------------------------------------------------------

def test_normalise_url_drops_fragment_default_port_and_script_links():
    assert normalise_url("HTTP://Example.GOV.cn:80/a/b.html#top") == "http://example.gov.cn/a/b.html"
    assert normalise_url("../c.html", "http://x.gov.cn/a/b/index.html") == "http://x.gov.cn/a/c.html"
    assert normalise_url("javascript:void(0)") is None
    assert normalise_url("mailto:a@b.cn") is None
    assert url_subject("http://127.0.0.1:9/gk/a.html?id=3") == "/gk/a.html?id=3"


def test_host_policy_keeps_to_the_units_hosts_and_port():
    pol = HostPolicy.for_site("http://127.0.0.5:8001/", ["files.qingshan.gov.cn"])
    assert pol.allows("http://127.0.0.5:8001/xxgk/")
    assert not pol.allows("http://127.0.0.5:8002/xxgk/")  # another demo site on the same address
    assert pol.allows("https://files.qingshan.gov.cn/a.pdf")
    assert not pol.allows("http://www.gov.cn/")
    assert pol.site_is_private
    www = HostPolicy.for_site("http://www.qingshan.gov.cn/")
    assert www.allows("https://qingshan.gov.cn/xxgk/")


def test_trap_detector_catches_repeats_growth_and_calendars():
    t = TrapDetector(max_calendar_variants=5)
    assert t.verdict("http://x/a/b/a/b/a/b/c.html")
    assert t.verdict("http://x/list?p=1&p=1&p=1")
    assert t.verdict("http://x/list?a=1&b=2", referer="http://x/list?a=1")
    assert t.verdict("http://x/" + "q" * 10 + "?" + "k=v&" * 200)
    for day in range(1, 6):
        assert t.verdict(f"http://x/cal?date=2025-01-{day:02d}") is None
    assert "calendar" in (t.verdict("http://x/cal?date=2025-01-09") or "")
    assert t.verdict("http://x/xxgk/zcwj/index_3.shtml") is None


def test_fetch_status_vocabulary():
    assert status_for_http(200) == "ok"
    assert status_for_http(404) == "not_found"
    assert status_for_http(403) == "blocked"
    assert status_for_http(503) == "server_error"
    assert looks_like_waf("<script>location.reload()</script>安全验证中", 120)
    assert not looks_like_waf("安全验证" + "正文" * 5000, 30000)


# -- JavaScript data --------------------------------------------------------------------------------------

def test_js_tree_variable_and_call_args():
    v = js_vars("var columnTree = [{name: '政策', url: '/a/', children: [{name: \"解读\", url: '/b/'}]},];",)
    assert v["columnTree"][0]["children"][0]["name"] == "解读"
    src = 'var countPage = 4; createPageHTML(countPage, 0, "index", "shtml"); function createPageHTML(a,b,c,d){}'
    assert call_args(src, "createPageHTML") == [["countPage", "0", "index", "shtml"]]


# -- menus ------------------------------------------------------------------------------------------------

def test_column_tree_from_left_tree_with_span_heading_and_js_variable():
    page = html(TREE, head=JS_TREE)
    tree = column_tree(parse_html(page), page, BASE)
    names = [n.name for n in tree]
    assert names[:4] == ["政府信息公开指南", "政府信息公开制度", "法定主动公开内容", "政府信息公开年报"]
    assert "政策解读" in names and "依申请公开" in names
    fd = tree[names.index("法定主动公开内容")]
    assert fd.url is None
    assert [c.name for c in fd.children] == ["机构职能", "财政信息", "政策文件"]
    assert fd.children[2].url == "http://127.0.0.1:8001/xxgk/zcwj/index.shtml"
    ysq = tree[names.index("依申请公开")]
    assert ysq.url is None and ysq.children[0].name == "申请表下载"


def test_portal_navigation_is_not_taken_for_the_column_tree():
    page = html('<div class="nav"><a href="/">首页</a><a href="/zmhd/">政民互动</a><a href="/bs/">办事服务</a></div>'
                + TREE)
    names = [n.name for n in column_tree(parse_html(page), page, BASE)]
    assert "政民互动" not in names and "首页" not in names and "政府信息公开指南" in names


def test_platform_link_and_more_links():
    root = parse_html(html('<a href="/zwgk/">政务公开</a><a href="/xxgk/index.html">政府信息公开</a>'
                           '<div class="box"><div class="hd"><span>财政预决算</span><a href="/czyjs/">更多>></a></div>'
                           '<ul><li><a href="/czyjs/1.html">2025年预算</a></li></ul></div>'))
    assert find_platform_link(root, "http://x.gov.cn/") == ("http://x.gov.cn/xxgk/index.html", "政府信息公开")
    assert more_links(root, "http://x.gov.cn/") == [("财政预决算", "http://x.gov.cn/czyjs/")]


# -- lists ------------------------------------------------------------------------------------------------

def test_list_with_create_page_html_and_total():
    rows = "".join(f'<li><a href="{i}.shtml" title="关于第{i}项工作的通知">关于第{i}项工作...</a><span>2025-03-{i + 1:02d}</span></li>'
                   for i in range(5))
    src = html(f'<ul class="list">{rows}</ul><script>createPageHTML(3, 0, "index", "shtml");</script>'
               '<div class="total">共 55 条</div>')
    lp = parse_list_page(parse_html(src), src, "http://x.gov.cn/zcwj/index.shtml")
    assert [e.title for e in lp.entries][:2] == ["关于第0项工作的通知", "关于第1项工作的通知"]
    assert lp.entries[0].date == dt.date(2025, 3, 1)
    assert lp.next_url == "http://x.gov.cn/zcwj/index_1.shtml"
    assert lp.total_reported == 55 and lp.total_pages == 3


def test_list_next_page_link_and_table_rows():
    src = html('<table class="list"><tr><th>标题</th><th>日期</th></tr>'
               '<tr><td><a href="/a.html">2024年度报告</a></td><td>2025年1月20日</td></tr>'
               '<tr><td><a href="/b.html">2023年度报告</a></td><td>2024年1月20日</td></tr></table>'
               '<div class="pager"><a href="list_2.html">2</a><a href="list_2.html">下一页</a></div>')
    lp = parse_list_page(parse_html(src), src, "http://x.gov.cn/nb/index.html")
    assert [(e.title, e.date) for e in lp.entries] == [("2024年度报告", dt.date(2025, 1, 20)),
                                                       ("2023年度报告", dt.date(2024, 1, 20))]
    assert lp.next_url == "http://x.gov.cn/nb/list_2.html"


def test_empty_list_note_and_render_signals():
    src = html('<ul class="list"></ul><p>本栏目暂无信息</p>')
    lp = parse_list_page(parse_html(src), src, "http://x/")
    assert lp.entries == [] and lp.empty_note == "本栏目暂无信息"
    assert lp.needs_render  # an empty list container
    src = html('<div id="app"><ul class="list"><li v-for="d in docs">{{ d.title }}</li></ul></div>')
    assert parse_list_page(parse_html(src), src, "http://x/").needs_render


def test_json_endpoint_found_and_paged():
    src = "<script>$.getJSON('/api/docs?col=12&pageNo=' + page + '&size=10', f)</script>"
    eps = find_json_endpoints(src, "http://x.gov.cn/czxx/")
    assert eps == ["http://x.gov.cn/api/docs?col=12&pageNo=1&size=10"]
    assert json_page_url(eps[0], 3) == "http://x.gov.cn/api/docs?col=12&pageNo=3&size=10"
    assert json_page_url("http://x/data/list_1.json", 2) == "http://x/data/list_2.json"
    jp = parse_json_list('{"code":0,"data":{"total":23,"list":[{"title":"预算公开","url":"/czxx/1.html",'
                         '"publishTime":1735689600000}]}}', "http://x.gov.cn/api/docs")
    assert jp.total_reported == 23
    assert jp.entries[0].url == "http://x.gov.cn/czxx/1.html" and jp.entries[0].date == dt.date(2025, 1, 1)
    assert parse_json_list("not json", "http://x/") is None


def test_walk_caps_newest_n_and_dedupes():
    from crawler.extract.listing import Entry

    w = Walk(url="http://x/", keys=["c1"], cap=3)
    got = w.take([Entry("a", "http://x/1", None), Entry("a", "http://x/1", None), Entry("b", "http://x/2", None)])
    assert len(got) == 2
    w.take([Entry("c", "http://x/3", dt.date(2025, 1, 1)), Entry("d", "http://x/4", None)])
    done = w.result()
    assert done.item_count == 3 and done.capped_at == 3 and done.newest_date == dt.date(2025, 1, 1)


def test_unreadable_list_is_unknown_not_empty():
    w = Walk(url="http://x/", keys=["c1"], cap=10, unreadable="needs a browser", list_status="ok")
    assert w.result().item_count is None
    w = Walk(url="http://x/", keys=["c1"], cap=10, list_status="server_error")
    assert w.result().item_count is None


# -- documents --------------------------------------------------------------------------------------------

def test_document_metadata_body_links_attachments():
    page = doc_page("关于印发青山县某办法的通知", dt.date(2025, 4, 3), "正文第一段。" * 10,
                    '<p><a href="/files/a.pdf">附件1.pdf</a> <a href="/down?file=b.docx">附件2</a>'
                    '<a href="/jd/1.html">图文解读</a></p>', doc_no="青政办发〔2025〕3号")
    info = parse_document(parse_html(page), "http://x.gov.cn/zcwj/1.html")
    assert info.title == "关于印发青山县某办法的通知"
    assert info.fields["doc_number"] == "青政办发〔2025〕3号"
    assert info.fields["publisher"] == "青山县人民政府办公室"
    assert info.fields["validity"] == "有效"
    assert info.written_date == dt.date(2025, 4, 3) and info.publish_date == dt.date(2025, 4, 3)
    assert info.meta["索引号"] == "QS-20250403-01"
    assert "正文第一段" in info.body_text
    assert [(u, e) for u, _t, e in info.attachments] == [("http://x.gov.cn/files/a.pdf", "pdf"),
                                                          ("http://x.gov.cn/down?file=b.docx", "docx")]
    assert any(ln.text == "图文解读" for ln in info.links)


def test_inline_metadata_and_runtime_box():
    page = html('<div class="info"><span>发布时间：2025-05-06</span> <span>来源：青山县财政局</span></div>'
                '<h1>标题</h1><div class="content">' + "内容" * 40 + '</div><div id="xgjd"></div>')
    root = parse_html(page)
    info = parse_document(root, "http://x/")
    assert info.publish_date == dt.date(2025, 5, 6) and info.fields["publisher"] == "青山县财政局"
    assert runtime_box(root)


def test_attachment_ext_and_interpretation_words():
    assert attachment_ext("http://x/a/b.PDF") == "pdf"
    assert attachment_ext("http://x/a/b.ofd") == "ofd"
    assert attachment_ext("http://x/a/b.html") is None
    assert is_interpretation_link("政策解读") and is_interpretation_link("视频解读")
    assert not is_interpretation_link("首页")


def test_doc_kind_from_column_and_title():
    assert doc_kind(["法定主动公开内容", "政策文件"], "关于某事的通知") == "policy"
    assert doc_kind(["法定主动公开内容", "政策文件"], "《关于某事的通知》政策解读") == "interpretation"
    assert doc_kind(["政府信息公开年报"], "青山县2025年政府信息公开工作年度报告") == "annual_report"
    assert doc_kind([], "青山县政府信息公开指南") == "guide"
    assert doc_kind(["其他"], "会议纪要") == "other"
    # a notice is not a policy document, even when its title is 关于…的通知
    assert doc_kind(["通知公告"], "关于开展安全生产检查的通知") == "other"
    assert doc_kind(["法定主动公开内容", "规划计划"], "发展规划编制工作方案") == "other"


def test_dates():
    assert parse_date("发布日期：2025年3月5日") == dt.date(2025, 3, 5)
    assert parse_date("[2025/03/05]") == dt.date(2025, 3, 5)
    assert parse_date("20250305") == dt.date(2025, 3, 5)
    assert parse_date("2025-13-40") is None
    assert parse_date_value(1735689600) == dt.date(2025, 1, 1)


# -- a bug in our parsing costs one page, not the site -----------------------------------------------------

def _spider():
    from types import SimpleNamespace

    from crawler.spiders.platform import PlatformSpider

    return PlatformSpider(site={"site_id": "s", "url": "http://127.0.0.1:9/", "options": {}}, run_id=1,
                          store=SimpleNamespace(blobs=None))


def _response(kind: str):
    from scrapy import Request
    from scrapy.http import HtmlResponse

    from crawler.encoding import decode_body

    body = html("<p>正文</p>").encode()
    req = Request("http://127.0.0.1:9/a.html", meta={"g_url": "http://127.0.0.1:9/a.html", "g_kind": kind,
                                                     "g_depth": 1, "decoded": decode_body(body, "text/html")})
    return HtmlResponse(req.url, body=body, headers={"Content-Type": "text/html"}, request=req)


def test_parse_bug_keeps_the_page_and_fails_only_on_the_platform():
    from crawler.items import PageRecord

    def buggy(response, rec, text, root):
        raise ValueError("boom")
        yield  # pragma: no cover

    sp = _spider()
    out = list(sp._guard(_response("document"), buggy))
    assert len(out) == 1 and isinstance(out[0], PageRecord)
    assert out[0].fetch_status == "ok" and "parse error: ValueError: boom" in out[0].error
    assert sp.outcome() == ("crawled", None) and sp.counters["parse_errors"] == 1

    def half(response, rec, text, root):
        yield rec
        raise KeyError("late")

    sp = _spider()
    out = list(sp._guard(_response("platform"), half))
    assert len(out) == 1  # the page was already stored: no second row
    assert sp.outcome()[0] == "failed" and "KeyError" in sp.outcome()[1]


# -- safety middleware, failure statuses, browser detection --------------------------------------------

def test_safety_refuses_private_addresses_for_a_public_site_and_offsite_redirects():
    from types import SimpleNamespace

    import pytest
    from scrapy import Request

    from crawler.fetch_status import Refused
    from crawler.middlewares import SafetyMiddleware

    public = HostPolicy(allowed={("www.qingshan.gov.cn", 80), ("127.0.0.1", None)}, site_is_private=False)
    mw = SafetyMiddleware(SimpleNamespace(spider=SimpleNamespace(host_policy=public)))
    assert mw.process_request(Request("http://www.qingshan.gov.cn/xxgk/")) is None
    with pytest.raises(Refused) as exc:
        mw.process_request(Request("http://127.0.0.1/admin", meta={"redirect_urls": ["http://www.qingshan.gov.cn/"]}))
    assert exc.value.status == "redirect_offsite"
    with pytest.raises(Refused) as exc:
        mw.process_request(Request("http://evil.example.com/", meta={"redirect_urls": ["http://www.qingshan.gov.cn/"]}))
    assert exc.value.status == "redirect_offsite"
    with pytest.raises(Refused) as exc:
        mw.process_request(Request("http://www.qingshan.gov.cn/a", meta={"redirect_urls": ["http://www.qingshan.gov.cn/a"]}))
    assert exc.value.status == "redirect_loop"
    # a site that lives on loopback may be crawled there
    local = HostPolicy.for_site("http://127.0.0.1:8001/")
    mw = SafetyMiddleware(SimpleNamespace(spider=SimpleNamespace(host_policy=local)))
    assert mw.process_request(Request("http://127.0.0.1:8001/xxgk/")) is None


def test_failure_statuses():
    from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError, IgnoreRequest
    from twisted.internet.error import ConnectionRefusedError as Refused

    from crawler.fetch_status import status_for_failure

    assert status_for_failure(CannotResolveHostError("x"))[0] == "dns_error"
    assert status_for_failure(DownloadTimeoutError("x"))[0] == "timeout"
    assert status_for_failure(Refused())[0] == "connection_refused"
    assert status_for_failure(IgnoreRequest("Forbidden by robots.txt"))[0] == "robots_disallowed"
    assert status_for_failure(IgnoreRequest("max redirections reached"))[0] == "redirect_loop"
    msg = "Received 99 bytes which is larger than download max size (10) in request <GET http://x/>."
    assert status_for_failure(Exception(msg))[0] == "too_large"


def test_missing_browser_is_noted_not_fatal():
    from scrapy.settings import Settings

    from crawler.runner import _browser

    ok, note = _browser(Settings({"GOVAUDIT_CHROMIUM": "/nonexistent/chromium"}))
    assert not ok and "no browser" in note
