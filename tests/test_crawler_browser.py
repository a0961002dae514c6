"""Rendering with Debian's Chromium (scrapy-playwright) where the static HTML cannot show a list, and
screenshots of key pages. Skipped when no browser is installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.runner import crawl_run
from storage import models as m
from tests.test_crawler_server import FAST, FixtureServer, html, make_run, new_store, u8

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no Chromium at /usr/bin/chromium")]

DOCS = [{"t": f"青山县关于第{i}批惠民政策的通知", "u": f"/gk/zc/{i}.html", "d": f"2026-0{i + 1}-01"} for i in range(3)]

# the list is drawn from data inside the page: there is no endpoint to call, only a browser can see it
LIST_PAGE = html(
    '<ul class="list" id="list"></ul><script>var docs = ' + json.dumps(DOCS, ensure_ascii=False) + ';'
    'document.getElementById("list").innerHTML = docs.map(function (d) {'
    ' return "<li><a href=\\"" + d.u + "\\">" + d.t + "</a><span>" + d.d + "</span></li>"; }).join("");</script>',
    "政策文件")
# an interpretation box filled at run time from inline data
DOC_PAGE = html(
    '<h1 class="title">青山县关于第0批惠民政策的通知</h1><div class="content" id="zoom"><p>' + "正文。" * 60 + "</p></div>"
    '<div class="xgjd">相关解读：<ul id="related"></ul></div><script>document.getElementById("related").innerHTML ='
    ' "<li><a href=\\"/gk/jd/0.html\\">《青山县关于第0批惠民政策的通知》解读</a></li>";</script>', "通知")


def test_auto_render_reads_script_drawn_lists_and_boxes_and_takes_screenshots(tmp_path):
    store = new_store(tmp_path)
    pages = {
        "/": u8(html('<div class="xxgk-menu"><ul><li><a href="/gk/zc/index.html">政策文件</a></li>'
                     '<li><a href="/gk/zn.html">政府信息公开指南</a></li></ul></div>', "青山县政府信息公开")),
        "/gk/zc/index.html": u8(LIST_PAGE),
        "/gk/zc/0.html": u8(DOC_PAGE),
        "/gk/zc/1.html": u8(html("<h1>第1批</h1>")), "/gk/zc/2.html": u8(html("<h1>第2批</h1>")),
        "/gk/jd/0.html": u8(html('<h1 class="title">《青山县关于第0批惠民政策的通知》解读</h1>'
                                 '<div class="content">' + "解读。" * 60 + "</div>", "解读")),
        "/gk/zn.html": u8(html('<h1 class="title">青山县政府信息公开指南</h1><div class="content">'
                               + "指南正文。" * 60 + "</div>", "指南")),
    }
    with FixtureServer(pages) as srv:
        run_id = make_run(store, [("js", srv.base + "/", {"render": "auto"})])
        result = crawl_run(store, run_id, overrides={**FAST, "GOVAUDIT_RENDER": "auto", "GOVAUDIT_SCREENSHOTS": True},
                           log_file=tmp_path / "scrapy.log")
    assert result == {"js": "crawled"}
    with store.session() as s:
        col = s.scalars(select(m.Column).where(m.Column.run_id == run_id, m.Column.name == "政策文件")).one()
        items = s.scalars(select(m.ColumnItem).where(m.ColumnItem.column_id == col.id)).all()
        pages_by_url = {p.url: p for p in s.scalars(select(m.Page).where(m.Page.run_id == run_id))}
        doc = s.scalars(select(m.Document).where(m.Document.run_id == run_id,
                                                 m.Document.url == srv.base + "/gk/zc/0.html")).one()
        links = s.scalars(select(m.Link).where(m.Link.run_id == run_id, m.Link.from_url == doc.url)).all()
        stats = s.get(m.RunSite, (run_id, "js")).stats
    assert col.item_count == 3 and [i.title for i in items] == [d["t"] for d in DOCS]
    listed = pages_by_url[srv.base + "/gk/zc/index.html"]
    assert listed.rendered and b"<li>" in store.blobs.get(listed.sha256)
    assert doc.rendered and any(ln.rendered and ln.to_url.endswith("/gk/jd/0.html") for ln in links)
    assert srv.base + "/gk/jd/0.html" in pages_by_url  # the interpretation was followed
    platform = pages_by_url[srv.base + "/"]
    assert platform.screenshot_sha256 and store.blobs.get(platform.screenshot_sha256).startswith(b"\x89PNG")
    assert pages_by_url[srv.base + "/gk/zn.html"].screenshot_sha256  # the guide
    assert stats["browser"] == "available" and stats["counters"]["screenshots"] >= 2


def test_render_never_marks_the_list_unknown_instead_of_empty(tmp_path):
    store = new_store(tmp_path)
    pages = {"/": u8(html('<div class="xxgk-menu"><ul><li><a href="/gk/zc/index.html">政策文件</a></li></ul></div>')),
             "/gk/zc/index.html": u8(LIST_PAGE)}
    with FixtureServer(pages) as srv:
        run_id = make_run(store, [("js", srv.base + "/", {"render": "never"})])
        crawl_run(store, run_id, overrides=FAST)
    with store.session() as s:
        col = s.scalars(select(m.Column).where(m.Column.run_id == run_id, m.Column.name == "政策文件")).one()
    assert col.item_count is None and col.list_status == "ok"


def test_shared_browser_answers_on_cdp_and_leaves_nothing_behind():
    """The crawl process's one Chromium (crawler/shared_browser.py): a DevTools address playwright can
    connect to, and after stop() no process of its group and no profile directory."""
    import os
    import time
    import urllib.request

    from crawler.settings import PLAYWRIGHT_LAUNCH_OPTIONS
    from crawler.shared_browser import SharedBrowser

    shared = SharedBrowser("/usr/bin/chromium", list(PLAYWRIGHT_LAUNCH_OPTIONS["args"]))
    shared.start()
    address = shared.address()
    assert address and address.startswith("ws://127.0.0.1:")
    port = address.split(":")[2].split("/")[0]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=10) as resp:
        assert "Browser" in json.loads(resp.read())
    pgid, profile = shared.proc.pid, shared.profile
    shared.stop()
    assert not profile.exists()
    for _ in range(200):  # its renderers, killed, wait to be reaped by init
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"processes of the shared browser's group {pgid} are still there")


def test_a_browser_that_cannot_start_lets_the_sites_launch_their_own(tmp_path):
    from crawler.shared_browser import SharedBrowser

    shared = SharedBrowser(str(tmp_path / "no-such-chromium"), [])
    shared.start()
    assert shared.address() is None and shared.proc is None
