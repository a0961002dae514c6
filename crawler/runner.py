"""Crawl the sites of a run: ``crawl_run(store, run_id, ...)``.

Scrapy runs in a child process (``python -m crawler.runner SPEC``) because Twisted's reactor cannot be
restarted, and the CLI and the tests call ``crawl_run`` many times in one process. The child writes every
record to the store as it arrives; the parent polls ``run_sites`` / ``pages`` about once a second for
progress, and when the child dies it marks the sites it left unfinished ``failed`` with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from storage import Store
from storage import models as m

DONE_STATUSES = frozenset({"crawled", "checked", "scored"})  # resume skips these
FINAL_STATUSES = DONE_STATUSES | {"unreachable", "failed"}
POLL_SECONDS = 1.0


def crawl_run(store: Store, run_id: int, site_ids: list[str] | None = None, *,
              scope: frozenset[str] | None = None,
              overrides: dict | None = None,
              log_file: Path | None = None,
              on_progress: Callable[[dict], None] | None = None) -> dict[str, str]:
    """Crawl the run's sites (all, or ``site_ids``) that are not yet crawled; return site_id -> status."""
    with store.session() as s:
        q = select(m.RunSite).where(m.RunSite.run_id == run_id)
        if site_ids is not None:
            q = q.where(m.RunSite.site_id.in_(list(site_ids)))
        rows = s.scalars(q.order_by(m.RunSite.site_id)).all()
        result = {r.site_id: r.status for r in rows}
        todo = [{"site_id": r.site_id, "url": r.url, "name": r.name, "options": dict(r.options or {})}
                for r in rows if r.status not in DONE_STATUSES]
    if site_ids is not None:
        missing = [sid for sid in site_ids if sid not in result]
        if missing:
            raise LookupError(f"run {run_id} has no site(s) {', '.join(missing)}")
    if not todo:
        return result

    workdir = Path(tempfile.mkdtemp(prefix="govaudit-crawl-"))
    overrides = dict(overrides or {})
    n_procs, sites_each = _split(overrides, len(todo))
    spec = {"db": store.url, "blobs": str(store.blobs.root), "run_id": run_id, "sites": todo,
            "scope": sorted(scope) if scope is not None else None,
            "overrides": {**overrides, "GOVAUDIT_CONCURRENT_SITES": sites_each},
            "log_file": str(log_file) if log_file else None, "parent_pid": os.getpid(),
            # several children take the sites from one list, each claiming the next one when it has room
            "claims_dir": str(workdir / "claims") if n_procs > 1 else None}
    spec_path = workdir / "spec.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False, default=str), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH", "")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    todo_ids = [t["site_id"] for t in todo]
    procs: list[tuple[subprocess.Popen, Path]] = []
    try:
        for k in range(n_procs):
            stderr_path = workdir / f"child-{k}-stderr.log"
            with open(stderr_path, "wb") as err:
                procs.append((subprocess.Popen([sys.executable, "-m", "crawler.runner", str(spec_path)],
                                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                               env=env, cwd=str(workdir)), stderr_path))
        _watch(store, run_id, todo_ids, [p for p, _ in procs], on_progress)
    except BaseException:
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        _mark_unfinished(store, run_id, todo_ids, "crawl interrupted by the caller")
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    ends = []
    for proc, stderr_path in procs:
        tail = stderr_path.read_text(encoding="utf-8", errors="replace")[-1500:]
        ends.append((proc.returncode, tail))
    shutil.rmtree(workdir, ignore_errors=True)  # the reason is kept on the rows below
    code, tail = next(((c, t) for c, t in ends if c != 0), ends[0])
    if code != 0:
        _mark_unfinished(store, run_id, todo_ids, f"crawler process exited with code {code}: {tail}")
    else:
        _mark_unfinished(store, run_id, todo_ids, f"crawler process ended without finishing this site: {tail}")
    with store.session() as s:
        for r in s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id,
                                                   m.RunSite.site_id.in_(list(result)))):
            result[r.site_id] = r.status
    # "every site unreachable at once = our network" is judged over the whole run by the caller
    # (govaudit.pipeline.mark_network_suspect), which also clears it when a resumed run gets through
    if on_progress:
        on_progress({"site_id": None, "sites_done": len(todo_ids), "sites_total": len(todo_ids),
                     "pages": _page_counts(store, run_id, todo_ids)[1]})
    return result


def _split(overrides: dict[str, Any], n_sites: int) -> tuple[int, int]:
    """How many crawl children, and how many sites each crawls at once. Scrapy runs on one core; a crawl of
    several sites uses up to GOVAUDIT_CRAWL_PROCESSES children (0: one per usable CPU), sharing the same total
    of GOVAUDIT_CONCURRENT_SITES sites at a time, so politeness and requests in flight stay what they were."""
    import crawler.settings as defaults

    total = max(1, int(overrides.get("GOVAUDIT_CONCURRENT_SITES", defaults.GOVAUDIT_CONCURRENT_SITES)))
    wanted = int(overrides.get("GOVAUDIT_CRAWL_PROCESSES", defaults.GOVAUDIT_CRAWL_PROCESSES))
    if wanted <= 0:
        wanted = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n = max(1, min(wanted, total, n_sites))
    return n, max(1, total // n)


def _page_counts(store: Store, run_id: int, site_ids: list[str]) -> tuple[dict[str, int], int]:
    with store.session() as s:
        rows = s.execute(select(m.Page.site_id, func.count()).where(m.Page.run_id == run_id,
                                                                     m.Page.site_id.in_(site_ids))
                         .group_by(m.Page.site_id)).all()
    counts = {sid: n for sid, n in rows}
    return counts, sum(counts.values())


def _watch(store: Store, run_id: int, site_ids: list[str], procs: list[subprocess.Popen],
           on_progress: Callable[[dict], None] | None) -> None:
    last: dict[str, tuple[str, int]] = {}
    while True:
        running = [p for p in procs if p.poll() is None]
        finished = not running
        if on_progress:
            try:
                with store.session() as s:
                    statuses = dict(s.execute(select(m.RunSite.site_id, m.RunSite.status).where(
                        m.RunSite.run_id == run_id, m.RunSite.site_id.in_(site_ids))).all())
                counts, total = _page_counts(store, run_id, site_ids)
            except Exception:  # a busy database must not stop the crawl; try again next second
                statuses, counts, total = {}, {}, 0
            done = sum(1 for sid in site_ids if statuses.get(sid) in FINAL_STATUSES)
            for sid in site_ids:
                state = (statuses.get(sid, "pending"), counts.get(sid, 0))
                if last.get(sid) != state and state[0] != "pending":
                    last[sid] = state
                    on_progress({"site_id": sid, "sites_done": done, "sites_total": len(site_ids),
                                 "pages": total, "site_pages": state[1], "status": state[0]})
        if finished:
            return
        # wake as soon as a child ends: a plain sleep here added up to a second to every crawl
        with contextlib.suppress(subprocess.TimeoutExpired):
            running[0].wait(timeout=POLL_SECONDS)


def _mark_unfinished(store: Store, run_id: int, site_ids: list[str], reason: str) -> None:
    with store.session() as s:
        s.execute(update(m.RunSite).where(m.RunSite.run_id == run_id, m.RunSite.site_id.in_(site_ids),
                                          m.RunSite.status.not_in(list(FINAL_STATUSES)))
                  .values(status="failed", error=reason[:4000], finished_at=m.utcnow()))


# -- the child process ------------------------------------------------------------------------------------

def _settings(overrides: dict[str, Any], log_file: str | None):
    from scrapy.settings import Settings

    import crawler.settings as defaults

    st = Settings()
    st.setmodule(defaults, priority="project")
    st.setdict(overrides, priority="cmdline")
    st.set("USER_AGENT", st.get("GOVAUDIT_USER_AGENT"), priority="cmdline")
    policy = str(st.get("GOVAUDIT_ROBOTS_POLICY", "obey")).lower()
    st.set("ROBOTSTXT_OBEY", policy == "obey", priority="cmdline")
    st.set("CLOSESPIDER_TIMEOUT", st.getint("GOVAUDIT_SITE_TIME_LIMIT", 3600), priority="cmdline")
    if log_file:
        st.set("LOG_FILE", log_file, priority="cmdline")
        st.set("LOG_FILE_APPEND", True, priority="cmdline")
    else:
        st.set("LOG_ENABLED", False, priority="cmdline")
    return st


def _browser(st) -> tuple[bool, str | None]:
    exe = st.get("GOVAUDIT_CHROMIUM") or "/usr/bin/chromium"
    if not Path(exe).exists():
        return False, f"no browser at {exe}: pages needing JavaScript are marked, screenshots skipped"
    try:
        import scrapy_playwright  # noqa: F401
    except ImportError:
        return False, "scrapy-playwright is not installed"
    return True, None


def die_with_parent(parent_pid: int | None) -> None:
    """A crawl child whose parent was killed (kill -9 of the CLI or a worker) must not go on writing into a
    store that a resumed run or another worker is now using: ask Linux to SIGTERM us when the parent dies."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent-pid check below still catches the common case
        pass
    if parent_pid and os.getppid() != parent_pid:  # the parent died before prctl took effect
        sys.exit(3)


def child_main(spec_path: str) -> int:
    die_with_parent(json.loads(Path(spec_path).read_text(encoding="utf-8")).get("parent_pid"))
    from scrapy.utils.reactor import install_reactor

    # the asyncio reactor (scrapy-playwright needs it) is installed once, before anything imports a reactor
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from scrapy.crawler import Crawler, CrawlerProcess
    from twisted.internet import defer

    from crawler.incremental import load_previous
    from crawler.spiders.platform import PlatformSpider, expand_scope
    from storage import open_store

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    store = open_store(spec["db"], spec["blobs"], upgrade=False)
    with store.session() as s:
        as_of, kind = s.execute(select(m.Run.as_of, m.Run.kind).where(m.Run.id == spec["run_id"])).one()
    base = _settings(spec["overrides"], spec["log_file"])
    if kind == "refetch":  # `govaudit check --refetch` asks for a fresh fetch: nothing is copied unasked
        base.set("GOVAUDIT_REVALIDATE_DAYS", 0, priority="cmdline")
    browser_ok, browser_note = _browser(base)
    scope = expand_scope(spec["scope"])
    process = CrawlerProcess(base, install_root_handler=bool(spec["log_file"]))
    sem = defer.DeferredSemaphore(max(1, base.getint("GOVAUDIT_CONCURRENT_SITES", 4)))

    claims = Path(spec["claims_dir"]) if spec.get("claims_dir") else None
    if claims is not None:
        claims.mkdir(parents=True, exist_ok=True)

    def claim(site: dict[str, Any]) -> bool:
        """With sibling children: the first to have room for a site takes it (an exclusive file create)."""
        if claims is None:
            return True
        try:
            os.close(os.open(claims / str(spec["sites"].index(site)), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def wants_browser(site: dict[str, Any]) -> bool:
        render = str(site["options"].get("render") or base.get("GOVAUDIT_RENDER", "auto")).lower()
        return browser_ok and (render != "never" or (base.getbool("GOVAUDIT_SCREENSHOTS") and "screenshots" in scope))

    shared = None
    if base.getbool("GOVAUDIT_SHARED_BROWSER", True) and any(wants_browser(s) for s in spec["sites"]):
        from crawler.shared_browser import SharedBrowser

        launch = base.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")
        shared = SharedBrowser(base.get("GOVAUDIT_CHROMIUM") or launch.get("executable_path") or "/usr/bin/chromium",
                               [str(a) for a in launch.get("args") or []], workdir=Path.cwd())
        shared.start()

    def crawl_one(site: dict[str, Any]):
        if not claim(site):
            return None
        st = base  # Crawler() copies its settings (a deep copy, ~15 ms): copy here only to change them
        browser = wants_browser(site)
        if browser:
            st = base.copy()
            st.set("DOWNLOAD_HANDLERS", {
                "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
                "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"}, priority="cmdline")
            opts = dict(st.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
            opts["executable_path"] = st.get("GOVAUDIT_CHROMIUM") or opts.get("executable_path")
            st.set("PLAYWRIGHT_LAUNCH_OPTIONS", opts, priority="cmdline")
            cdp = shared.address() if shared is not None else None
            if cdp:  # the process's one browser, a context of its own for this site
                st.set("PLAYWRIGHT_CDP_URL", cdp, priority="cmdline")
        previous = load_previous(store, spec["run_id"], site["site_id"])  # once per site, not per request
        crawler = Crawler(PlatformSpider, st)
        return process.crawl(crawler, site=site, run_id=spec["run_id"], store=store,
                             scope=sorted(scope), browser_ok=browser,
                             browser_note=browser_note if not browser_ok else None, previous=previous,
                             as_of=as_of)

    def failed(failure, site_id: str):
        # a crawler that could not even start: say so on its row and carry on with the others
        with store.session() as s:
            s.execute(update(m.RunSite).where(m.RunSite.run_id == spec["run_id"], m.RunSite.site_id == site_id,
                                              m.RunSite.status.not_in(list(FINAL_STATUSES)))
                      .values(status="failed", error=f"crawler error: {failure.getErrorMessage()}"[:4000],
                              finished_at=m.utcnow()))
        return None

    jobs = []
    for site in spec["sites"]:
        d = sem.run(crawl_one, site)
        d.addErrback(failed, site["site_id"])
        jobs.append(d)
    all_done = defer.DeferredList(jobs)

    from twisted.internet import reactor

    all_done.addBoth(lambda _: reactor.callLater(0, reactor.stop))  # type: ignore[attr-defined]
    try:
        process.start(stop_after_crawl=False, install_signal_handlers=True)
    finally:
        if shared is not None:
            shared.stop()
    store.engine.dispose()
    return 0


def _exit_now(code: int) -> None:
    """Leave without the interpreter's teardown of Scrapy, Twisted and SQLAlchemy objects (about half a second
    per crawl, felt by every nightly recrawl): every row is committed by now; logs are flushed here. Under a
    profiler (bench/profile_crawl.py) exit normally so the profile gets written."""
    if sys.getprofile() is not None:
        sys.exit(code)
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(child_main(sys.argv[1]))
