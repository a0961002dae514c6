"""Hostile inputs (issue 9): a misbehaving platform and a clean one crawled, checked and scored in one run.

The hostile unit (tests/hostile_server.py) serves malformed and truncated HTML, lying or missing charsets,
undecodable bytes, a 1 GB gzip bomb, 200 MB PDFs (with and without Content-Length), PDFs with a cyclic page
tree and cyclic object references, a 10,000-page PDF, an encrypted PDF, an HTML page served as PDF, an
endless redirect chain, redirects to another host and to a private 10.x address, a slow drip, connection
resets mid-body, an endless calendar and titles/link texts holding HTML and script. For each we assert the
recorded fetch status (or the pdf_label ``unverifiable`` reason), that the run finishes, that the crawl
child stays under a stated memory ceiling, that the clean unit in the same run is complete, and that what an
earlier run stored is untouched. A bad sites file is refused with every bad line named.

Limits are the crawler's own, set small so the file runs in well under a minute: DOWNLOAD_TIMEOUT 3 s, the
attachment size limit 8 MB (the 200 MB files must be stopped by it), one retry.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from tests.hostile_server import (
    SCRIPT_TITLE,
    HostileServer,
    clean_platform,
    hostile_platform,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
# A safety bound, not a timing: the crawl child holds at most one capped body at a time (8 MB attachments,
# 20 MB pages, 20 MB after decompression), so even with Scrapy and lxml loaded it should stay far below.
RSS_CEILING_MB = 1536
OVERRIDES = {
    "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1, "GOVAUDIT_RETRY_BACKOFF": 0.05,
    "DOWNLOAD_TIMEOUT": 3, "GOVAUDIT_SCREENSHOTS": False, "GOVAUDIT_RENDER": "never",
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "GOVAUDIT_ATTACHMENT_MAXSIZE": 8 * 1024 * 1024,
    "DOWNLOAD_MAXSIZE": 20 * 1024 * 1024,
}
PDF_PARAMS = {"pdf_label": {"timeout_s": 5}}  # the reference-cycle PDF hangs pdfminer until the worker is killed
RUBRIC = "changning-2020-township"  # scores pdf_label (附件2 第17项), so the hostile PDFs reach the engine


def _loopback_server(routes, host: str) -> HostileServer:
    try:
        return HostileServer(routes, host=host).start()
    except OSError:  # a system without the whole 127/8 on loopback: another port on 127.0.0.1
        return HostileServer(routes, host="127.0.0.1").start()


def _seed_previous_run(store) -> dict:
    """An earlier, finished run with stored pages, a blob and a finding for both units."""
    from govaudit.pipeline import create_run, finish_run
    from govaudit.sites import SiteSpec
    from storage import models as m

    sites = [SiteSpec("hostile", "险恶镇", "township", "http://127.0.0.1:9/", RUBRIC),
             SiteSpec("clean", "安宁镇", "township", "http://127.0.0.2:9/", RUBRIC)]
    run_id = create_run(store, sites, as_of=dt.date(2025, 11, 20), assessment_year=2025)
    body = "<html><body>上一次运行保存的页面</body></html>".encode()
    sha = store.blobs.put(body)
    with store.session() as s:
        for site in sites:
            s.add(m.Page(run_id=run_id, site_id=site.site_id, url=site.url, kind="platform", fetch_status="ok",
                         http_status=200, sha256=sha, size=len(body)))
            s.add(m.Finding(run_id=run_id, site_id=site.site_id, check_id="columns", check_version="1",
                            code="columns.present", status="pass", subject="政策", fingerprint="f" * 40,
                            message="上一次运行的结论"))
        s.execute(update(m.RunSite).where(m.RunSite.run_id == run_id).values(status="scored"))
    finish_run(store, run_id)
    return {"run_id": run_id, "sha": sha, "body": body, "snapshot": _snapshot(store, run_id)}


def _snapshot(store, run_id: int) -> list:
    from storage import models as m

    with store.session() as s:
        pages = s.execute(select(m.Page.site_id, m.Page.url, m.Page.fetch_status, m.Page.sha256)
                          .where(m.Page.run_id == run_id).order_by(m.Page.id)).all()
        findings = s.execute(select(m.Finding.site_id, m.Finding.code, m.Finding.status, m.Finding.message)
                             .where(m.Finding.run_id == run_id).order_by(m.Finding.id)).all()
        run = s.get(m.Run, run_id)
        return [list(map(tuple, pages)), list(map(tuple, findings)), run.status]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    from checks.runner import run_checks
    from govaudit.pipeline import create_run, execute_run
    from govaudit.sites import SiteSpec
    from storage import models as m
    from storage import open_store

    work = tmp_path_factory.mktemp("hostile")
    clean = clean_platform()
    clean_srv = _loopback_server(clean.routes, "127.0.0.2")
    hostile = hostile_platform(clean_srv.base)
    hostile_srv = HostileServer(hostile.routes).start()
    try:
        store = open_store(f"sqlite:///{work / 'store.db'}", work / "blobs")
        previous = _seed_previous_run(store)
        sites = [SiteSpec("hostile", "险恶镇", "township", hostile_srv.base + "/", RUBRIC),
                 SiteSpec("clean", "安宁镇", "township", clean_srv.base + "/", RUBRIC)]
        run_id = create_run(store, sites, as_of=dt.date(2026, 11, 20), assessment_year=2026)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        proc = subprocess.run([sys.executable, "-m", "tests.hostile_server", store.url, str(store.blobs.root),
                               str(run_id), json.dumps(OVERRIDES)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr[-3000:]
        crawl = json.loads(proc.stdout.strip().splitlines()[-1])
        # checks with a shorter PDF worker timeout, then the ordinary pipeline scores and finishes the run
        for site_id, status in crawl["statuses"].items():
            if status in ("crawled", "unreachable"):
                run_checks(store, run_id, site_id, params=PDF_PARAMS)
                with store.session() as s:
                    s.execute(update(m.RunSite).where(m.RunSite.run_id == run_id, m.RunSite.site_id == site_id)
                              .values(status="checked"))
        result = execute_run(store, run_id)
        yield {"store": store, "run_id": run_id, "crawl": crawl, "result": result, "previous": previous,
               "hostile": hostile, "clean": clean, "hostile_srv": hostile_srv, "clean_srv": clean_srv,
               "work": work}
    finally:
        hostile_srv.stop()
        clean_srv.stop()


def _pages(store, run_id: int, site_id: str) -> dict[str, list]:
    from storage import models as m

    out: dict[str, list] = defaultdict(list)
    with store.session() as s:
        for p in s.scalars(select(m.Page).where(m.Page.run_id == run_id, m.Page.site_id == site_id)
                           .order_by(m.Page.id)):
            s.expunge(p)
            out[urlsplit(p.url).path].append(p)
    return out


def test_run_finishes_with_every_unit_crawled_checked_and_scored(hostile_run) -> None:
    from storage import models as m

    store, run_id = hostile_run["store"], hostile_run["run_id"]
    assert hostile_run["crawl"]["statuses"] == {"clean": "crawled", "hostile": "crawled"}
    with store.session() as s:
        run = s.get(m.Run, run_id)
        statuses = dict(s.execute(select(m.RunSite.site_id, m.RunSite.status)
                                  .where(m.RunSite.run_id == run_id)).all())
        totals = s.scalar(select(func.count()).select_from(m.Score).where(
            m.Score.run_id == run_id, m.Score.indicator_id == "__total__"))
        crashed = s.execute(select(m.Finding.site_id, m.Finding.code, m.Finding.message).where(
            m.Finding.run_id == run_id, m.Finding.code.like("%.error"))).all()
    assert run.status == "finished"
    assert statuses == {"clean": "scored", "hostile": "scored"}
    assert totals == 2
    assert crashed == [], f"a check crashed on hostile evidence: {crashed}"


def test_crawl_child_memory_stays_under_the_ceiling(hostile_run) -> None:
    peak = hostile_run["crawl"]["child_peak_rss_mb"]
    print(f"crawl child peak RSS {peak} MB (ceiling {RSS_CEILING_MB} MB), "
          f"crawl took {hostile_run['crawl']['seconds']} s")
    assert 0 < peak < RSS_CEILING_MB


def test_every_hostile_input_has_its_recorded_status(hostile_run) -> None:
    pages = _pages(hostile_run["store"], hostile_run["run_id"], "hostile")
    wrong = []
    for exp in hostile_run["hostile"].expect:
        seen = {p.fetch_status for p in pages.get(exp.path, [])}
        if not seen & exp.statuses:
            wrong.append(f"{exp.path} ({exp.why}): recorded {sorted(seen) or 'nothing'}, "
                         f"expected one of {sorted(exp.statuses)}")
    assert not wrong, "\n".join(wrong)


def test_refused_redirects_never_reach_the_target(hostile_run) -> None:
    pages = _pages(hostile_run["store"], hostile_run["run_id"], "hostile")
    for path, target in (("/gk/away.html", "/offsite-target.html"), ("/gk/inner.html", "10.23.45.67")):
        (page,) = pages[path]
        # refused before any request: no HTTP status, the reason names the target
        assert page.fetch_status == "redirect_offsite" and page.http_status is None
        assert target in (page.error or "")
    # the other host is one of ours and listening: it must not have been asked for the redirect's target
    assert "/offsite-target.html" not in hostile_run["clean_srv"].paths_requested()


def test_loops_and_traps_are_bounded(hostile_run) -> None:
    srv = hostile_run["hostile_srv"]
    with srv.lock:
        requested = [urlsplit(p) for _m, p in srv.requests]
    hops = sum(1 for u in requested if u.path.startswith("/gk/redir/"))
    days = {u.query for u in requested if u.path == "/gk/rili/list.html"}
    pages = _pages(hostile_run["store"], hostile_run["run_id"], "hostile")
    suppressed = [p for p in pages["/gk/rili/list.html"] if p.fetch_status == "trap_suppressed"]
    assert hops <= 2 * (10 + 1)  # REDIRECT_MAX_TIMES hops, at most one retry
    assert 2 <= len(days) <= 30
    assert suppressed and "calendar" in suppressed[0].error


def test_size_limits_stop_the_big_bodies(hostile_run) -> None:
    pages = _pages(hostile_run["store"], hostile_run["run_id"], "hostile")
    for path in ("/files/big.pdf", "/files/big-stream.pdf", "/gk/bomb.html"):
        (page,) = pages[path]
        assert page.fetch_status == "too_large" and page.sha256 is None, (path, page.error)
    # two 200 MB files and a bomb inflating to 1 GB: only a small part of the 200 MB ever left the server
    assert hostile_run["hostile_srv"].bytes_sent < 120 * 1024 * 1024


def test_charsets_and_markup_become_clean_text(hostile_run) -> None:
    from storage import models as m

    store, run_id = hostile_run["store"], hostile_run["run_id"]
    pages = _pages(store, run_id, "hostile")
    assert pages["/gk/gs/1.html"][0].title == "关于镕堃喆同志任职的公示"
    assert pages["/gk/gs/1.html"][0].encoding == "gb18030"
    assert pages["/gk/tz/1.html"][0].title == "关于停水的通知"
    assert pages["/gk/garbage.html"][0].fetch_status == "decode_error"
    assert pages["/gk/zn.html"][0].fetch_status == "ok" and pages["/gk/zn.html"][0].sha256
    with store.session() as s:
        items = dict(s.execute(select(m.ColumnItem.url, m.ColumnItem.title).where(
            m.ColumnItem.run_id == run_id, m.ColumnItem.site_id == "hostile")).all())
        titles = dict(s.execute(select(m.Document.url, m.Document.title).where(
            m.Document.run_id == run_id, m.Document.site_id == "hostile")).all())
    by_path = {urlsplit(u).path: t for u, t in items.items() if u}
    # GBK list entries under a lying header and under no label at all read correctly
    assert by_path["/gk/gs/1.html"] == "关于镕堃喆同志任职的公示"
    assert by_path["/gk/tz/1.html"] == "关于停水的通知"
    # link text made of tags: the words are kept, no element leaks in as markup
    script_item = by_path["/gk/zd/1.html"]
    assert "开展检查的通知" in script_item and "<img" not in script_item
    # a title that holds escaped markup is stored as the literal text it shows
    doc_titles = {urlsplit(u).path: t for u, t in titles.items()}
    assert SCRIPT_TITLE in {t for t in doc_titles.values() if t}


def test_hostile_pdfs_are_unverifiable_with_their_reason(hostile_run) -> None:
    from storage import models as m

    store, run_id = hostile_run["store"], hostile_run["run_id"]
    with store.session() as s:
        rows = s.execute(select(m.Finding.subject, m.Finding.status, m.Finding.details, m.Finding.message).where(
            m.Finding.run_id == run_id, m.Finding.site_id == "hostile", m.Finding.check_id == "pdf_label")).all()
    by_subject = {r.subject: r for r in rows}
    assert not [r for r in rows if r.status == "fail"], "a hostile PDF cost the unit points"
    wrong = []
    for exp in hostile_run["hostile"].expect:
        if not exp.pdf_reasons:
            continue
        row = by_subject.get(exp.path)
        if row is None or row.status != "unverifiable" or row.details.get("reason") not in exp.pdf_reasons:
            got = None if row is None else (row.status, row.details.get("reason"))
            wrong.append(f"{exp.path} ({exp.why}): {got}, expected unverifiable with {sorted(exp.pdf_reasons)}")
    assert not wrong, "\n".join(wrong)
    assert any(SCRIPT_TITLE in r.message for r in rows)  # the markup title reached a finding (see reports)


def test_markup_in_titles_is_escaped_in_the_html_report(hostile_run) -> None:
    from reports import write_reports

    out = hostile_run["work"] / "reports"
    written = write_reports(hostile_run["store"], hostile_run["run_id"], out, {"html"})
    html_files = list(out.rglob("*.html"))
    assert written and html_files
    raw = "<script>alert('标题')</script>"
    leaks = [str(f.relative_to(out)) for f in html_files if raw in f.read_text(encoding="utf-8", errors="replace")]
    assert not leaks, f"unescaped script from a crawled title in {leaks}"


def test_the_clean_unit_in_the_same_run_is_complete(hostile_run) -> None:
    from storage import models as m

    store, run_id, clean = hostile_run["store"], hostile_run["run_id"], hostile_run["clean"]
    pages = _pages(store, run_id, "clean")
    missing = sorted(p for p in clean.pages if not any(r.fetch_status == "ok" for r in pages.get(p, [])))
    assert not missing, f"clean unit pages not stored: {missing}"
    with store.session() as s:
        items = s.scalar(select(func.count()).select_from(m.ColumnItem).where(
            m.ColumnItem.run_id == run_id, m.ColumnItem.site_id == "clean"))
        present = s.scalar(select(func.count()).select_from(m.Finding).where(
            m.Finding.run_id == run_id, m.Finding.site_id == "clean", m.Finding.code == "pdf_label.present"))
    assert items == 3 * 4
    assert present == 10  # the rubric's sample of the 10 newest formal documents, each labelled


def test_nothing_stored_earlier_is_lost(hostile_run) -> None:
    prev = hostile_run["previous"]
    store = hostile_run["store"]
    assert _snapshot(store, prev["run_id"]) == prev["snapshot"]
    assert store.blobs.get(prev["sha"]) == prev["body"]


BAD_SITES = (
    "site_id,name,unit_type,url,rubric\n"
    "good-1,青山县,county,http://127.0.0.1:9/,changning-2020-township\n"
    "bad id!,名称,county,http://127.0.0.1:9/,changning-2020-township\n"  # 3: bad id
    "good-2,,county,http://127.0.0.1:9/,changning-2020-township\n"  # 4: empty name
    "good-3,青山县,planet,http://127.0.0.1:9/,changning-2020-township\n"  # 5: unknown unit type
    "good-4,青山县,county,javascript:alert(1),changning-2020-township\n"  # 6: not http(s)
    "good-5,青山县,county,file:///etc/passwd,changning-2020-township\n"  # 7: not http(s)
    "good-1,重复,county,http://127.0.0.1:9/,changning-2020-township\n"  # 8: repeated id
    "good-6,青山县,county,http://127.0.0.1:9/\n"  # 9: too few fields
    "good-7,青山县,county,http://127.0.0.1:9/,changning-2020-township,extra\n"  # 10: too many fields
    "good-8,\x00\x00,county,http://[::1,changning-2020-township\n"  # 11: NUL name is text; broken URL
    "=cmd|' /C calc'!A0,青山县,county,http://127.0.0.1:9/,x\n"  # 12: formula as id
)


def test_a_sites_file_with_bad_rows_is_refused_line_by_line(tmp_path) -> None:
    from govaudit.sites import SitesFileError, load_sites

    path = tmp_path / "sites.csv"
    path.write_text(BAD_SITES, encoding="utf-8")
    with pytest.raises(SitesFileError) as err:
        load_sites(path)
    named = {int(p.split(":")[0].split()[1]) for p in err.value.problems}
    assert named == set(range(3, 13)), err.value.problems
    # bytes that are text in no encoding we read: refused with the line, not a traceback
    path.write_bytes(BAD_SITES.encode("utf-8") + b"good-9,\xff\xfe\xfd,county,http://127.0.0.1:9/,r\n")
    with pytest.raises(SitesFileError) as err:
        load_sites(path)
    assert err.value.problems == [err.value.problems[0]] and err.value.problems[0].startswith("line 13:")


def test_the_cli_refuses_a_bad_sites_file_without_starting_a_run(tmp_path, capsys) -> None:
    from govaudit import EXIT_BAD_INPUT
    from govaudit.cli import main
    from storage import models as m
    from storage import open_store

    path = tmp_path / "sites.csv"
    path.write_text(BAD_SITES, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'g.db'}"
    code = main(["--db", db, "--blobs", str(tmp_path / "blobs"), "crawl", "--sites", str(path)])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert "line 3" in err and "line 12" in err
    store = open_store(db, tmp_path / "blobs")
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Run)) == 0
