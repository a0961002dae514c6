"""The crawler end to end over loopback fixture platforms (tests/test_crawler_server.py).

Each test runs ``crawl_run`` (Scrapy in a child process) against a server started here and checks what
was stored: columns, items, documents, attachments, fetch statuses, reuse on recrawl, resume and crashes.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler.runner import crawl_run
from storage import models as m
from tests.test_crawler_server import (
    FAST,
    FixtureServer,
    Resp,
    gbk_site,
    hostile_pages,
    html,
    make_run,
    new_store,
    qingshan_site,
    u8,
)


@pytest.fixture
def store(tmp_path):
    return new_store(tmp_path)


def _columns(store, run_id, site_id):
    with store.session() as s:
        return {c.name: c for c in s.scalars(select(m.Column).where(m.Column.run_id == run_id,
                                                                     m.Column.site_id == site_id))}


def _pages(store, run_id, site_id):
    with store.session() as s:
        return {p.url: p for p in s.scalars(select(m.Page).where(m.Page.run_id == run_id,
                                                                 m.Page.site_id == site_id))}


def _run_site(store, run_id, site_id):
    with store.session() as s:
        return s.get(m.RunSite, (run_id, site_id))


def test_walk_finds_every_column_item_and_attachment(store, tmp_path):
    pages, truth = qingshan_site()
    progress: list[dict] = []
    with FixtureServer(pages) as srv:
        run_id = make_run(store, [("qs", srv.base + "/", {"render": "never"})])
        result = crawl_run(store, run_id, overrides={**FAST, "GOVAUDIT_USER_AGENT": "govaudit-test (ops@example.org)"},
                           log_file=tmp_path / "scrapy.log", on_progress=progress.append)
    assert result == {"qs": "crawled"}
    cols = _columns(store, run_id, "qs")
    for name, count in truth["columns"].items():
        assert cols[name].item_count == count, name
    # names exactly as shown, levels as shown, headings without a link kept as columns
    assert cols["法定主动公开内容"].level == 1 and cols["法定主动公开内容"].url is None
    assert cols["政策文件"].level == 2 and cols["政策文件"].parent_id == cols["法定主动公开内容"].id
    assert cols["政策文件"].total_reported == 45 and cols["政策文件"].list_pages == 3
    assert cols["政策文件"].newest_date == dt.date(2026, 1, 1)
    assert cols["财政信息"].total_reported == 25  # fed by a JSON endpoint
    assert cols["机构职能"].empty_note == "本栏目暂无信息" and cols["机构职能"].item_count == 0
    assert cols["政策解读"].source == "js_var"
    assert cols["政府信息公开年报"].oldest_date == dt.date(2015, 1, 20)  # walked through 下一页

    with store.session() as s:
        atts = s.scalars(select(m.Attachment).where(m.Attachment.run_id == run_id)).all()
        docs = {d.url.split(srv.base)[1]: d for d in s.scalars(select(m.Document).where(m.Document.run_id == run_id))}
        links = s.scalars(select(m.Link).where(m.Link.run_id == run_id)).all()
    got = {a.url.split(srv.base)[1] for a in atts}
    assert truth["attachments"] <= got
    assert all(a.fetch_status == "ok" and a.sha256 and store.blobs.exists(a.sha256) for a in atts)
    pdf = next(a for a in atts if a.url.endswith("zcwj-3.pdf"))
    assert store.blobs.get(pdf.sha256).startswith(b"%PDF") and pdf.document_id is not None

    policy = docs["/xxgk/zcwj/0.shtml"]
    assert policy.kind == "policy" and policy.doc_number == "青政发〔2025〕0号"
    assert policy.publish_date == dt.date(2026, 1, 1) and policy.validity == "有效"
    assert docs["/xxgk/zcjd/0.html"].kind == "interpretation"
    assert docs["/xxgk/zn/index.html"].kind == "guide"
    assert docs["/xxgk/nb/2025.html"].kind == "annual_report"
    assert any(ln.anchor_text == "政策解读" and ln.to_url.endswith("/xxgk/zcjd/0.html") for ln in links)

    pg = _pages(store, run_id, "qs")
    assert pg[srv.base + "/xxgk/missing.html"].kind == "link_probe"
    assert pg[srv.base + "/xxgk/missing.html"].fetch_status == "not_found"
    assert pg[srv.base + "/xxgk/gone.html"].fetch_status == "not_found"
    assert pg[srv.base + "/private/secret.html"].fetch_status == "robots_disallowed"
    assert pg[srv.base + "/xxgk/index.html"].kind == "platform"
    home = pg[srv.base + "/"]
    assert home.sha256 and store.blobs.get(home.sha256).startswith(b"<!DOCTYPE html>")
    assert home.encoding == "utf-8"
    # every request appears exactly once, and HEAD was used for probes
    assert ("HEAD", "/xxgk/missing.html") in srv.requests
    assert len(srv.user_agents) == 1 and next(iter(srv.user_agents)) == "govaudit-test (ops@example.org)"  # identifies itself
    rs = _run_site(store, run_id, "qs")
    assert rs.pages_fetched == sum(1 for p in pg.values() if p.fetch_status != "robots_disallowed")
    assert rs.bytes_downloaded > 50_000 and rs.stats["fetch_status"]["ok"] > 100
    assert rs.stats["robots_policy"] == "obey"
    assert progress and progress[-1]["sites_done"] == 1 and progress[-1]["pages"] == len(pg)
    assert (tmp_path / "scrapy.log").stat().st_size > 0


def test_recrawl_reuses_unchanged_pages_and_refetches_changed_ones(store):
    """Every page asked for again, conditionally (GOVAUDIT_REVALIDATE_DAYS=0: no page is copied unasked)."""
    pages, truth = qingshan_site(n_policies=25, n_finance=12, n_reports=6)
    with FixtureServer(pages) as srv:
        first = make_run(store, [("qs", srv.base + "/", {"render": "never"})])
        crawl_run(store, first, overrides=FAST)
        sent_first = srv.bytes_sent
        pages["/xxgk/zcwj/3.shtml"] = u8(html("<h1>已修改</h1>" + "新正文。" * 40
                                              + '<a href="/files/zcwj-3.pdf">附件3.pdf</a>'))
        second = make_run(store, [("qs", srv.base + "/", {"render": "never"})])
        assert crawl_run(store, second, overrides={**FAST, "GOVAUDIT_REVALIDATE_DAYS": 0}) == {"qs": "crawled"}
        sent_second = srv.bytes_sent - sent_first
    a, b = _run_site(store, first, "qs"), _run_site(store, second, "qs")
    assert b.pages_reused > 50 and b.bytes_downloaded < 0.10 * a.bytes_downloaded
    assert sent_second < 0.10 * sent_first
    p1, p2 = _pages(store, first, "qs"), _pages(store, second, "qs")
    reused = [p for p in p2.values() if p.reused_from_run is not None]
    assert all(p.reused_from_run == first and p.fetch_status == "ok" for p in reused)
    assert all(p.sha256 == p1[p.url].sha256 for p in reused)
    changed = p2[srv.base + "/xxgk/zcwj/3.shtml"]
    assert changed.reused_from_run is None and changed.sha256 != p1[changed.url].sha256
    # the second run's evidence is complete, derived again from the stored bodies
    c1, c2 = _columns(store, first, "qs"), _columns(store, second, "qs")
    assert {n: c.item_count for n, c in c1.items()} == {n: c.item_count for n, c in c2.items()}
    with store.session() as s:
        def count(model, run):
            return s.scalar(select(func.count()).select_from(model).where(model.run_id == run))
        for model in (m.ColumnItem, m.Document, m.Attachment, m.Link):
            assert count(model, first) == count(model, second), model.__name__
        atts = s.scalars(select(m.Attachment).where(m.Attachment.run_id == second)).all()
    assert all(x.fetch_status == "ok" and x.sha256 for x in atts)


def test_gbk_platform_mislabelled_as_utf8_decodes(store):
    pages, truth = gbk_site()
    with FixtureServer(pages) as srv:
        run_id = make_run(store, [("gbk", srv.base + "/", {})])
        assert crawl_run(store, run_id, overrides=FAST) == {"gbk": "crawled"}
    cols = _columns(store, run_id, "gbk")
    assert {n: c.item_count for n, c in cols.items()} == truth["columns"]
    pg = _pages(store, run_id, "gbk")
    assert pg[srv.base + "/"].encoding == "gb18030"
    with store.session() as s:
        docs = s.scalars(select(m.Document).where(m.Document.run_id == run_id)).all()
        items = s.scalars(select(m.ColumnItem).where(m.ColumnItem.run_id == run_id)).all()
    assert "镕堃喆" in next(d.body_text for d in docs if d.kind == "guide")
    assert any(i.title == "关于镇村道路养护的通知（第3号）" for i in items)


def test_hostile_pages_cost_a_status_not_the_run(store):
    with FixtureServer({}) as other, FixtureServer(hostile_pages(other.base)) as srv:
        # an endless "next page" chain that grows its query string
        def endless(handler):
            from urllib.parse import parse_qs, urlsplit

            n = int(parse_qs(urlsplit(handler.path).query).get("n", ["0"])[0])
            return u8(html(f'<ul class="list"><li><a href="/gk/doc{n}.html">文件{n}</a><span>2025-01-01</span></li></ul>'
                           f'<a href="/gk/a/a/a/a/index.html?n={n + 1}&pad={"x" * (n * 40)}">下一页</a>'))
        srv.pages["/gk/a/a/a/a/index.html"] = endless
        run_id = make_run(store, [("bad", srv.base + "/", {})])
        result = crawl_run(store, run_id, overrides={**FAST, "DOWNLOAD_MAXSIZE": 5 * 1024 * 1024})
    assert result == {"bad": "crawled"}
    pg = _pages(store, run_id, "bad")
    status = {u.split(srv.base)[1]: p.fetch_status for u, p in pg.items()}
    assert status["/gk/loop/index.html"] == "redirect_loop"
    assert status["/gk/bomb/index.html"] == "too_large"
    assert status["/gk/away/index.html"] == "redirect_offsite"
    assert status["/gk/waf/index.html"] == "blocked"
    assert status["/gk/a/a/a/a/index.html"] == "trap_suppressed"  # repeated path segments
    cols = _columns(store, run_id, "bad")
    assert cols["政策文件"].list_status == "redirect_loop" and cols["政策文件"].item_count is None
    assert cols["政府信息公开年报"].list_status == "too_large"
    rs = _run_site(store, run_id, "bad")
    assert rs.stats["limits_hit"].get("trap_suppressed")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_sites_are_marked_with_the_fetch_status(store):
    run_id = make_run(store, [("a", f"http://127.0.0.1:{_closed_port()}/", {}),
                              ("b", f"http://127.0.0.1:{_closed_port()}/", {})])
    result = crawl_run(store, run_id, overrides=FAST)
    assert result == {"a": "unreachable", "b": "unreachable"}
    rs = _run_site(store, run_id, "a")
    assert rs.stats["unreachable"]["status"] == "connection_refused" and "connection_refused" in rs.error
    assert next(iter(_pages(store, run_id, "a").values())).fetch_status == "connection_refused"


def test_resume_skips_crawled_sites_and_a_crash_marks_failed_keeping_pages(store):
    pages, _truth = qingshan_site(n_policies=60, n_finance=5, n_reports=3)
    with FixtureServer(pages) as srv, FixtureServer(gbk_site()[0]) as srv2:
        run_id = make_run(store, [("qs", srv.base + "/", {"render": "never"}), ("gbk", srv2.base + "/", {})])
        assert crawl_run(store, run_id, ["gbk"], overrides=FAST) == {"gbk": "crawled"}
        killed: list[int] = []

        def kill_child(p: dict) -> None:
            # kill the crawler process we started, once it has stored some pages of the site
            if killed or p.get("site_id") != "qs" or p.get("site_pages", 0) < 5:
                return
            for child in _children(os.getpid()):
                os.kill(child, signal.SIGKILL)
                killed.append(child)
        slow = {**FAST, "DOWNLOAD_DELAY": 0.2, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
        result = crawl_run(store, run_id, overrides=slow, on_progress=kill_child)
        assert killed and result["qs"] == "failed" and result["gbk"] == "crawled"
        rs = _run_site(store, run_id, "qs")
        assert "exited with code" in rs.error
        kept = len(_pages(store, run_id, "qs"))
        assert kept >= 5  # nothing already stored was lost
        # a new attempt crawls only the failed site, from a clean slate
        gbk_pages = len(_pages(store, run_id, "gbk"))
        assert crawl_run(store, run_id, overrides=FAST) == {"qs": "crawled", "gbk": "crawled"}
        assert len(_pages(store, run_id, "gbk")) == gbk_pages
        assert _columns(store, run_id, "qs")["政策文件"].item_count == 60


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.extend(int(x) for x in text)
    return out


def test_scope_without_attachments_records_them_without_downloading(store):
    pages, truth = qingshan_site(n_policies=5, n_finance=3, n_reports=2)
    with FixtureServer(pages) as srv:
        run_id = make_run(store, [("qs", srv.base + "/", {"render": "never"})])
        crawl_run(store, run_id, scope=frozenset({"documents"}), overrides=FAST)
        fetched = {path for _method, path in srv.requests}
    with store.session() as s:
        atts = s.scalars(select(m.Attachment).where(m.Attachment.run_id == run_id)).all()
    assert len(atts) >= 5 and all(a.sha256 is None and a.fetch_status is None for a in atts)
    assert not any(p.startswith("/files/") for p in fetched)
    assert not any(k == "link_probe" for k in (p.kind for p in _pages(store, run_id, "qs").values()))


def test_unknown_site_id_is_refused(store):
    run_id = make_run(store, [("a", "http://127.0.0.1:9/", {})])
    with pytest.raises(LookupError):
        crawl_run(store, run_id, ["nope"])


def test_server_errors_are_retried_then_recorded(store):
    hits = {"n": 0}

    def flaky(handler):
        hits["n"] += 1
        return Resp(b"busy", status=503, conditional=False)
    pages = {"/": u8(html('<div class="nav"><ul><li><a href="/gk/zn.html">政府信息公开指南</a></li>'
                          '<li><a href="/gk/nb.html">政府信息公开年报</a></li></ul></div>')),
             "/gk/zn.html": flaky}
    with FixtureServer(pages) as srv:
        run_id = make_run(store, [("f", srv.base + "/", {})])
        crawl_run(store, run_id, overrides={**FAST, "RETRY_TIMES": 2})
    assert hits["n"] == 3  # the first try and two retries
    cols = _columns(store, run_id, "f")
    assert cols["政府信息公开指南"].list_status == "server_error" and cols["政府信息公开指南"].item_count is None
    assert cols["政府信息公开年报"].list_status == "not_found"


def test_page_and_time_limits_are_recorded_and_robots_can_be_ignored(store):
    pages, _truth = qingshan_site(n_policies=45, n_finance=3, n_reports=2)
    with FixtureServer(pages) as srv:
        run_id = make_run(store, [("a", srv.base + "/", {"render": "never"})])
        crawl_run(store, run_id, overrides={**FAST, "GOVAUDIT_MAX_PAGES": 12, "GOVAUDIT_ROBOTS_POLICY": "ignore"})
        rs = _run_site(store, run_id, "a")
        assert rs.status == "crawled" and rs.stats["limits_hit"]["max_pages"] > 0
        assert rs.stats["robots_policy"] == "ignore"
        pg = _pages(store, run_id, "a")
        assert sum(1 for p in pg.values() if p.fetch_status == "limit_reached") > 0
        assert pg[srv.base + "/private/secret.html"].fetch_status == "not_found"  # probed, robots not read

        # the second page of 政策文件 answers only after the site's time is up: the crawl stops and says so
        def slow(handler, page=pages["/xxgk/zcwj/index_1.shtml"]):
            time.sleep(8)
            return page
        pages["/xxgk/zcwj/index_1.shtml"] = slow
        run2 = make_run(store, [("a", srv.base + "/", {"render": "never"})])
        crawl_run(store, run2, overrides={**FAST, "GOVAUDIT_SITE_TIME_LIMIT": 4, "GOVAUDIT_CONDITIONAL": False})
    rs = _run_site(store, run2, "a")
    assert rs.status == "crawled" and rs.stats["limits_hit"].get("site_time_limit") == 1
    policies = _columns(store, run2, "a")["政策文件"]
    assert policies.list_status == "limit_reached" and 20 <= policies.item_count < 45


def test_broken_platform_link_falls_back_to_the_portal_menu(store):
    pages = {"/": u8(html('<div class="nav"><a href="/xxgk/index.html">政府信息公开</a></div>'
                          '<div class="xxgk-menu"><ul><li><a href="/gk/zn.html">政府信息公开指南</a></li>'
                          '<li><a href="/gk/nb.html">政府信息公开年报</a></li></ul></div>')),
             "/gk/zn.html": u8(html('<ul class="list"><li><a href="/gk/zn1.html">指南</a><span>2026-01-02</span></li></ul>'))}
    with FixtureServer(pages) as srv:
        run_id = make_run(store, [("p", srv.base + "/", {})])
        assert crawl_run(store, run_id, overrides=FAST) == {"p": "crawled"}
    pg = _pages(store, run_id, "p")
    assert pg[srv.base + "/xxgk/index.html"].kind == "platform"
    assert pg[srv.base + "/xxgk/index.html"].fetch_status == "not_found"
    cols = _columns(store, run_id, "p")
    assert cols["政府信息公开指南"].item_count == 1 and cols["政府信息公开年报"].list_status == "not_found"


def test_a_column_that_opens_a_document_has_its_attachments_downloaded(store):
    """The guide column links the guide itself; the file attached to it is evidence like any other."""
    pages, _truth = qingshan_site(n_policies=3, n_finance=2, n_reports=1)
    guide = pages["/xxgk/zn/index.html"].body.decode()
    pages["/xxgk/zn/index.html"] = u8(guide.replace("传真号码：0000-1234567。",
                                                    '传真号码：0000-1234567。<a href="/files/guide.pdf">指南.pdf</a>'))
    pages["/files/guide.pdf"] = Resp(b"%PDF-1.4\n% guide\n%%EOF\n", ctype="application/pdf")
    with FixtureServer(pages) as srv:
        run_id = make_run(store, [("qs", srv.base + "/", {"render": "never"})])
        assert crawl_run(store, run_id, overrides=FAST) == {"qs": "crawled"}
        assert ("GET", "/files/guide.pdf") in srv.requests
    with store.session() as s:
        att = s.scalars(select(m.Attachment).where(m.Attachment.run_id == run_id,
                                                   m.Attachment.url == srv.base + "/files/guide.pdf")).one()
    assert att.fetch_status == "ok" and att.sha256 and store.blobs.get(att.sha256).startswith(b"%PDF")
