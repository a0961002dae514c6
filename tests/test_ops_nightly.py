"""Nightly/resume building blocks on a hand-made store: which earlier run a night is compared with, and
what is cleared before a half-crawled site is crawled again (derived rows go, pages stay)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from govaudit.nightly import changes_since_previous, previous_finished_run
from govaudit.ops.recrawl import clear_partial_site, live_local_crawlers, prepare_recrawl
from govaudit.pipeline import create_run
from govaudit.sites import SiteSpec
from storage import models as m

AS_OF = dt.date(2026, 11, 20)


def _sites(*ids: str) -> list[SiteSpec]:
    return [SiteSpec(site_id=i, name=i, unit_type="county", url=f"http://127.0.0.1:9/{i}", rubric="r") for i in ids]


def _run(store, ids: tuple[str, ...], status: str) -> int:
    run_id = create_run(store, _sites(*ids), as_of=AS_OF)
    with store.session() as s:
        s.get(m.Run, run_id).status = status
    return run_id


def test_previous_finished_run_of_the_same_sites(store) -> None:
    both = _run(store, ("a", "b"), "finished")
    _run(store, ("a", "b"), "interrupted")  # never compared with: it did not finish
    _run(store, ("c",), "finished")  # other sites
    only_a = _run(store, ("a",), "finished")  # shares a site, but not all of them
    tonight = _run(store, ("a", "b"), "running")
    assert previous_finished_run(store, tonight) == both
    # without a run holding every site, the newest finished run sharing one is the best there is
    assert previous_finished_run(store, _run(store, ("a", "z"), "running")) == only_a
    assert previous_finished_run(store, _run(store, ("y",), "running")) is None


def test_first_night_says_there_is_nothing_to_compare(store) -> None:
    run_id = _run(store, ("a",), "finished")
    prev, text, changed = changes_since_previous(store, run_id)
    assert prev is None and not changed and "首次运行" in text


def _half_crawl(store, run_id: int, site: str) -> None:
    with store.session() as s:
        s.get(m.RunSite, (run_id, site)).status = "crawling"
        page = m.Page(run_id=run_id, site_id=site, url=f"http://x/{site}", fetch_status="ok",
                      sha256=store.blobs.put(f"page of {site}".encode()))
        s.add(page)
        s.flush()
        top = m.Column(run_id=run_id, site_id=site, name="法定主动公开内容")
        s.add(top)
        s.flush()
        col = m.Column(run_id=run_id, site_id=site, name="财政信息", parent_id=top.id, level=2)
        s.add(col)
        s.flush()
        s.add(m.ColumnItem(run_id=run_id, site_id=site, column_id=col.id, title="预算"))
        doc = m.Document(run_id=run_id, site_id=site, page_id=page.id, url=f"http://x/{site}/doc")
        s.add(doc)
        s.flush()
        s.add(m.Attachment(run_id=run_id, site_id=site, document_id=doc.id, page_url=doc.url, url="http://x/a.pdf"))
        s.add(m.Link(run_id=run_id, site_id=site, from_url=doc.url, to_url="http://x/a.pdf"))


def _count(store, model, run_id: int, site: str) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.run_id == run_id,
                                                                      model.site_id == site))


def test_resume_clears_derived_rows_of_unfinished_sites_and_keeps_pages(store) -> None:
    run_id = create_run(store, _sites("a", "b"), as_of=AS_OF)
    _half_crawl(store, run_id, "a")
    _half_crawl(store, run_id, "b")
    with store.session() as s:
        s.get(m.RunSite, (run_id, "b")).status = "crawled"  # b finished its crawl before the kill
    assert prepare_recrawl(store, run_id) == ["a"]
    for model in (m.Column, m.ColumnItem, m.Document, m.Attachment, m.Link):
        assert _count(store, model, run_id, "a") == 0, model.__tablename__
        assert _count(store, model, run_id, "b") > 0, model.__tablename__  # a finished site is untouched
    assert _count(store, m.Page, run_id, "a") == 1  # what was fetched stays, with its blob
    with store.session() as s:
        page = s.scalar(select(m.Page).where(m.Page.run_id == run_id, m.Page.site_id == "a"))
    assert store.blobs.get(page.sha256) == b"page of a"
    assert clear_partial_site(store, run_id, []) == {}


def test_a_dead_crawl_process_does_not_block_a_resume(store) -> None:
    run_id = create_run(store, _sites("a"), as_of=AS_OF)
    import socket

    with store.session() as s:
        rs = s.get(m.RunSite, (run_id, "a"))
        rs.status, rs.worker = "crawling", f"{socket.gethostname()}:{2 ** 22 + 12345}"  # no such pid
    assert live_local_crawlers(store, run_id) == {}
    with store.session() as s:  # this very process is alive but is not a crawl process
        import os

        s.get(m.RunSite, (run_id, "a")).worker = f"{socket.gethostname()}:{os.getpid()}"
    assert live_local_crawlers(store, run_id) == {}
