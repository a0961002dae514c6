"""Incremental recrawl: pages under unchanged columns are copied from the previous run without a request,
anything past GOVAUDIT_REVALIDATE_DAYS or failed last time is asked for again, and a changed list sends its
column's pages back to the network (crawler/incremental.py). Each test crawls a loopback fixture platform
(tests/test_crawler_server.py) two or three times and looks at what the server was asked and what was stored.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from crawler.runner import crawl_run
from storage import models as m
from tests.test_crawler_server import (
    FAST,
    FixtureServer,
    Resp,
    doc_page,
    make_run,
    new_store,
    qingshan_site,
    u8,
)

DAY = dt.date(2026, 11, 20)
SITE = ("qs", {"render": "never"})


@pytest.fixture
def store(tmp_path):
    return new_store(tmp_path)


def _crawl(store, srv, as_of: dt.date, **overrides) -> int:
    run_id = make_run(store, [(SITE[0], srv.base + "/", SITE[1])], as_of=as_of)
    assert crawl_run(store, run_id, overrides={**FAST, **overrides}) == {"qs": "crawled"}
    return run_id


def _pages(store, run_id):
    with store.session() as s:
        return {p.url: p for p in s.scalars(select(m.Page).where(m.Page.run_id == run_id))}


def _evidence(store, run_id, base: str):
    """Everything a check can see of the run, without ids and run numbers (to compare two runs)."""
    def rel(u):
        return u.replace(base, "") if isinstance(u, str) else u

    with store.session() as s:
        cols = {c.id: c for c in s.scalars(select(m.Column).where(m.Column.run_id == run_id))}

        def path(cid):
            names = []
            while cid in cols:
                names.insert(0, cols[cid].name)
                cid = cols[cid].parent_id
            return "/".join(names)
        pages = {(rel(p.url), p.kind, p.fetch_status, p.http_status, p.sha256, p.title, p.publish_date,
                  path(p.column_id) if p.column_id else None)
                 for p in s.scalars(select(m.Page).where(m.Page.run_id == run_id))}
        columns = {(path(c.id), c.item_count, c.total_reported, c.newest_date, c.oldest_date, c.empty_note,
                    c.list_status) for c in cols.values()}
        items = sorted((path(i.column_id), i.title, rel(i.url), i.date, i.position)
                       for i in s.scalars(select(m.ColumnItem).where(m.ColumnItem.run_id == run_id)))
        docs = sorted((rel(d.url), d.kind, d.title, d.doc_number, d.index_no, d.publisher, d.written_date,
                       d.publish_date, d.validity, d.body_text, tuple(sorted(d.meta.items())),
                       path(d.column_id) if d.column_id else None)
                      for d in s.scalars(select(m.Document).where(m.Document.run_id == run_id)))
        links = sorted((rel(ln.from_url), rel(ln.to_url), ln.anchor_text or "", ln.internal, ln.rendered)
                       for ln in s.scalars(select(m.Link).where(m.Link.run_id == run_id)))
        doc_url = {d.id: rel(d.url) for d in s.scalars(select(m.Document).where(m.Document.run_id == run_id))}
        atts = sorted((rel(a.page_url), rel(a.url), a.anchor_text or "", a.ext, a.fetch_status, a.sha256,
                       a.size, doc_url.get(a.document_id))
                      for a in s.scalars(select(m.Attachment).where(m.Attachment.run_id == run_id)))
    return {"pages": pages, "columns": columns, "items": items, "documents": docs, "links": links,
            "attachments": atts}


def _asked(srv, since: int) -> set[str]:
    return {path for _method, path in srv.requests[since:]}


def test_unchanged_platform_is_copied_not_asked_with_the_same_evidence(store):
    pages, _truth = qingshan_site(n_policies=25, n_finance=12, n_reports=6)
    with FixtureServer(pages) as srv:
        first = _crawl(store, srv, DAY)
        asked_before = len(srv.requests)
        second = _crawl(store, srv, DAY + dt.timedelta(days=1))
        asked = _asked(srv, asked_before)
    # list pages (and the home, the platform, the JSON feed) are asked, conditionally; documents, attachments
    # and the probes of working links are not; links that were broken are probed again
    assert {"/", "/xxgk/index.html", "/xxgk/zcwj/index.shtml", "/xxgk/zcwj/index_1.shtml", "/xxgk/nb/list_2.html",
            "/xxgk/czxx/index.html"} <= asked
    assert any(p.startswith("/api/list") for p in asked)
    assert not {"/xxgk/zcwj/0.shtml", "/xxgk/zcwj/24.shtml", "/files/zcwj-3.pdf", "/xxgk/zcjd/0.html",
                "/xxgk/nb/2020.html", "/files/apply.doc", "/xxgk/czxx/3.html", "/xxgk/zd/2.html"} & asked
    assert {"/xxgk/missing.html", "/xxgk/gone.html"} <= asked  # failed last time: always asked again
    assert len(asked) < 0.25 * asked_before

    p1, p2 = _pages(store, first), _pages(store, second)
    assert set(p1) == set(p2)
    copied = [p for p in p2.values() if p.reused_from_run == first and p.elapsed_ms is None]
    assert len(copied) > 50
    for p in copied:
        assert p.fetch_status == p1[p.url].fetch_status == "ok" and p.sha256 == p1[p.url].sha256
        assert p.validated_as_of == DAY  # confirmed by the first run's request, not by this one
    assert p2[srv.base + "/xxgk/index.html"].validated_as_of == DAY + dt.timedelta(days=1)  # asked: a 304
    assert _evidence(store, first, srv.base) == _evidence(store, second, srv.base)

    with store.session() as s:
        rs = s.get(m.RunSite, (second, "qs"))
    inc = rs.stats["incremental"]
    assert inc["skipping"] is True and inc["previous_run"] == first and inc["revalidate_days"] == 7
    assert inc["skipped"] == len(copied) and inc["revalidated"] > 5 and inc["fetched"] >= 2
    assert inc["retried_failed"] >= 1 and inc["columns_unchanged"] >= 6 and inc["columns_changed"] == 0
    assert rs.pages_reused == inc["skipped"] + inc["revalidated"] and rs.pages_fetched == inc["fetched"]


def test_a_silent_edit_is_caught_once_the_copy_is_older_than_the_max_age(store):
    pages, _truth = qingshan_site(n_policies=25, n_finance=12, n_reports=6)
    doc = "/xxgk/zcwj/3.shtml"
    with FixtureServer(pages) as srv:
        first = _crawl(store, srv, DAY)
        # edited in place: same list entry, same title and date, another body
        pages[doc] = u8(doc_page("青山县关于第3项工作的通知", DAY - dt.timedelta(days=300), "改过的正文。" * 30,
                                 '<p>附件：<a href="/files/zcwj-3.pdf">附件3.pdf</a></p>'))
        n = len(srv.requests)
        second = _crawl(store, srv, DAY + dt.timedelta(days=6))
        assert doc not in _asked(srv, n)  # six days: the copy is still fresh enough
        n = len(srv.requests)
        third = _crawl(store, srv, DAY + dt.timedelta(days=7))
        asked = _asked(srv, n)
    assert doc in asked and "/xxgk/zcwj/4.shtml" in asked and "/files/zcwj-3.pdf" in asked
    p1, p2, p3 = _pages(store, first), _pages(store, second), _pages(store, third)
    url = srv.base + doc
    assert p2[url].sha256 == p1[url].sha256 and p2[url].reused_from_run == first
    assert p3[url].reused_from_run is None and p3[url].sha256 != p1[url].sha256
    assert p3[url].validated_as_of == DAY + dt.timedelta(days=7)
    other = p3[srv.base + "/xxgk/zcwj/4.shtml"]  # unchanged: revalidated by a 304 of the copy's validators
    assert other.reused_from_run == second and other.elapsed_ms is not None
    assert other.validated_as_of == DAY + dt.timedelta(days=7)
    with store.session() as s:
        body = s.scalar(select(m.Document.body_text).where(m.Document.run_id == third, m.Document.url == url))
        inc = s.get(m.RunSite, (third, "qs")).stats["incremental"]
    assert "改过的正文" in body
    assert inc["revalidated_stale"] > 20 and inc["skipped"] == 0


def test_failed_pages_are_retried_and_a_changed_list_sends_its_column_back(store):
    pages, _truth = qingshan_site(n_policies=25, n_finance=12, n_reports=6)
    good = pages["/xxgk/zcwj/5.shtml"]
    pages["/xxgk/zcwj/5.shtml"] = Resp(b"busy", status=503, conditional=False)
    with FixtureServer(pages) as srv:
        first = _crawl(store, srv, DAY)
        pages["/xxgk/zcwj/5.shtml"] = good
        # a new entry at the top of 政府信息公开制度
        old_list = pages["/xxgk/zd/index.html"].body.decode()
        pages["/xxgk/zd/index.html"] = u8(old_list.replace(
            '<ul class="list">', '<ul class="list"><li><a href="/xxgk/zd/9.html">青山县政府信息公开制度9</a>'
                                 '<span>2026-11-01</span></li>'))
        pages["/xxgk/zd/9.html"] = u8(doc_page("青山县政府信息公开制度9", dt.date(2026, 11, 1), "新制度。" * 30))
        n = len(srv.requests)
        second = _crawl(store, srv, DAY + dt.timedelta(days=1))
        asked = _asked(srv, n)
    assert "/xxgk/zcwj/5.shtml" in asked  # failed last time, its column unchanged: asked anyway
    assert {"/xxgk/zd/9.html", "/xxgk/zd/1.html", "/xxgk/zd/2.html", "/xxgk/zd/3.html"} <= asked  # changed column
    assert "/xxgk/zcwj/6.shtml" not in asked and "/xxgk/nb/2024.html" not in asked  # unchanged columns
    p1, p2 = _pages(store, first), _pages(store, second)
    assert p1[srv.base + "/xxgk/zcwj/5.shtml"].fetch_status == "server_error"
    assert p2[srv.base + "/xxgk/zcwj/5.shtml"].fetch_status == "ok"
    assert p2[srv.base + "/xxgk/zd/1.html"].reused_from_run == first  # a 304: asked, body reused
    assert p2[srv.base + "/xxgk/zd/1.html"].elapsed_ms is not None
    assert p2[srv.base + "/xxgk/zd/9.html"].reused_from_run is None
    with store.session() as s:
        inc = s.get(m.RunSite, (second, "qs")).stats["incremental"]
        titles = set(s.scalars(select(m.Document.title).where(m.Document.run_id == second)))
    assert inc["columns_changed"] == 1 and inc["retried_failed"] >= 1
    assert "青山县政府信息公开制度9" in titles and "青山县关于第5项工作的通知" in titles


def test_revalidate_days_zero_or_no_conditional_requests_turn_skipping_off(store):
    pages, _truth = qingshan_site(n_policies=5, n_finance=3, n_reports=2)
    with FixtureServer(pages) as srv:
        _crawl(store, srv, DAY)
        for overrides in ({"GOVAUDIT_REVALIDATE_DAYS": 0}, {"GOVAUDIT_CONDITIONAL": False}):
            n = len(srv.requests)
            run_id = _crawl(store, srv, DAY + dt.timedelta(days=1), **overrides)
            assert "/xxgk/zcwj/2.shtml" in _asked(srv, n), overrides
            with store.session() as s:
                inc = s.get(m.RunSite, (run_id, "qs")).stats["incremental"]
            assert inc["skipping"] is False and inc["skipped"] == 0, overrides


def test_a_partial_crawl_neither_skips_nor_stands_in_for_the_site(store):
    """A crawl of part of the site (`govaudit check --refetch` asks for what one check needs) copies nothing,
    and its rows, lacking the pages it did not walk, are not used to leave pages unasked next time."""
    pages, _truth = qingshan_site(n_policies=5, n_finance=3, n_reports=2)
    with FixtureServer(pages) as srv:
        _crawl(store, srv, DAY)
        partial = make_run(store, [(SITE[0], srv.base + "/", SITE[1])], as_of=DAY + dt.timedelta(days=1))
        assert crawl_run(store, partial, scope=frozenset({"menu", "lists", "documents"}),
                         overrides=FAST) == {"qs": "crawled"}
        n = len(srv.requests)
        after = _crawl(store, srv, DAY + dt.timedelta(days=2))
        assert "/xxgk/zcwj/2.shtml" in _asked(srv, n)
    with store.session() as s:
        for run_id in (partial, after):
            inc = s.get(m.RunSite, (run_id, "qs")).stats["incremental"]
            assert inc["skipping"] is False and inc["skipped"] == 0, run_id
