"""Operations end to end over the bundled demo platforms (issue 8's "done when"):

* the nightly command twice over the unchanged platforms: the second night reports no changes and its
  requests are mostly 304s;
* a run killed mid-way — kill -9 of the crawl child, or of the CLI process (its orphaned crawl child
  frozen, then killed) — resumes with `crawl --resume` to the findings and scores of an uninterrupted run;
* two workers (subprocesses) on Redis + PostgreSQL, each unit's crawl on scrapy-redis's scheduler, give the
  single-process findings and scores.

Two of the demo's units keep this fast (one township, one department: different rubrics). Every run here
goes through the real CLI in a subprocess, as cron or systemd would start it. The first nightly run is
the uninterrupted reference; later runs in its store are incremental, so they cost little.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govaudit import EXIT_LOCKED
from govaudit.nightly import fetch_stats
from storage import models as m
from storage import open_store

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
SITES = ("qs-liuxi", "qs-sjj")
# the demo's own speed-ups (loopback needs no politeness delay); kept with each run, so resumes use them
FAST = ["--crawl-setting", "DOWNLOAD_DELAY=0", "--crawl-setting", "RANDOMIZE_DOWNLOAD_DELAY=false",
        "--crawl-setting", "AUTOTHROTTLE_ENABLED=false", "--crawl-setting", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "--crawl-setting", "GOVAUDIT_RETRY_BACKOFF=0.2"]
DATES = ["--as-of", "2026-11-20", "--year", "2026"]


@dataclass
class Env:
    workdir: Path
    sites_file: Path
    db: str
    blobs: Path

    def cli(self, *args: str, db: str | None = None) -> list[str]:
        return [sys.executable, "-m", "govaudit", "--db", db or self.db, "--blobs", str(self.blobs), *args]

    def run(self, *args: str, db: str | None = None, timeout: float = 400) -> subprocess.CompletedProcess:
        return subprocess.run(self.cli(*args, db=db), cwd=self.workdir, capture_output=True, text=True,
                              timeout=timeout)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from govaudit.demo import DemoPlatforms

    workdir = tmp_path_factory.mktemp("ops")
    demo = DemoPlatforms(workdir / "platforms")
    demo.start()
    try:
        text = Path(demo.sites_file).read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([rows[0], *[r for r in rows[1:] if r[0] in SITES]])
        sites_file = workdir / "units.csv"
        sites_file.write_text(out.getvalue(), encoding="utf-8")
        yield Env(workdir=workdir, sites_file=sites_file, db=f"sqlite:///{workdir / 'nightly.db'}",
                  blobs=workdir / "blobs")
    finally:
        demo.stop()


@pytest.fixture(scope="module")
def reference(env):
    """The first, uninterrupted nightly run: run 1 of the nightly store."""
    done = env.run("crawl", "--sites", str(env.sites_file), "--nightly", *DATES, *FAST,
                   "--out", str(env.workdir / "night-out"), "--log-file", str(env.workdir / "night1.log"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "首次运行" in done.stdout
    store = open_store(env.db, env.blobs)
    yield store, done
    store.engine.dispose()


# Row counts compared between runs. Column items are left out: which column first claims a link that
# several lists show depends on response order, so their number varies between two crawls of the same
# content (reported to the crawler's owner); they are checked for duplicates instead.
COMPARED_ROWS = (m.Page, m.Column, m.Document, m.Attachment, m.Link)


def results(store, run_id: int) -> tuple[Counter, Counter, Counter]:
    """What a run concluded, independent of row ids: findings, scores and derived-row counts per site."""
    with store.session() as s:
        findings = Counter(s.execute(select(m.Finding.site_id, m.Finding.check_id, m.Finding.code,
                                            m.Finding.subject, m.Finding.status)
                                     .where(m.Finding.run_id == run_id)).all())
        scores = Counter((r.site_id, r.rubric_id, r.indicator_id, None if r.score is None else round(r.score, 6),
                          r.grade, r.rank) for r in s.scalars(select(m.Score).where(m.Score.run_id == run_id)))
        rows = Counter()
        for model in COMPARED_ROWS:
            for site_id, n in s.execute(select(model.site_id, func.count()).where(model.run_id == run_id)
                                        .group_by(model.site_id)):
                rows[(model.__tablename__, site_id)] = n
    return findings, scores, rows


def duplicated_rows(store, run_id: int) -> list:
    """Rows stored twice in one run — what a resume that did not clear a half-crawled site would leave."""
    with store.session() as s:
        cols = s.execute(select(m.Column.site_id, m.Column.name, m.Column.url, m.Column.level, func.count())
                         .where(m.Column.run_id == run_id)
                         .group_by(m.Column.site_id, m.Column.name, m.Column.url, m.Column.level)
                         .having(func.count() > 1)).all()
        items = s.execute(select(m.ColumnItem.column_id, m.ColumnItem.url, m.ColumnItem.position, func.count())
                          .where(m.ColumnItem.run_id == run_id)
                          .group_by(m.ColumnItem.column_id, m.ColumnItem.url, m.ColumnItem.position)
                          .having(func.count() > 1)).all()
        docs = s.execute(select(m.Document.site_id, m.Document.url, func.count()).where(m.Document.run_id == run_id)
                         .group_by(m.Document.site_id, m.Document.url).having(func.count() > 1)).all()
    return [*cols, *items, *docs]


def assert_same_results(store_a, run_a: int, store_b, run_b: int) -> None:
    fa, sa, ra = results(store_a, run_a)
    fb, sb, rb = results(store_b, run_b)
    assert fa and sa, "the reference run has no findings or scores"
    assert fb == fa, f"findings differ: only in {run_a}: {fa - fb}; only in {run_b}: {fb - fa}"
    assert sb == sa, f"scores differ: only in {run_a}: {sa - sb}; only in {run_b}: {sb - sa}"
    # nothing duplicated: as many pages, columns, documents ... as the uninterrupted run, no row twice
    assert rb == ra, f"stored rows differ: {ra - rb} / {rb - ra}"
    assert duplicated_rows(store_b, run_b) == []


def _latest_run(store) -> int:
    with store.session() as s:
        return s.scalar(select(func.max(m.Run.id)))


def _pages(store, run_id: int) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(m.Page).where(m.Page.run_id == run_id)) or 0


def _crawl_children(parent_pid: int) -> list[int]:
    """The `python -m crawler.runner` children of a CLI process, from /proc. A crawl of several sites runs
    one child per usable CPU (GOVAUDIT_CRAWL_PROCESSES=0), so on a 2-core machine there are two."""
    found: list[int] = []
    for task in Path(f"/proc/{parent_pid}/task").glob("*"):
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in kids:
            try:
                if b"crawler.runner" in Path(f"/proc/{kid}/cmdline").read_bytes():
                    found.append(int(kid))
            except OSError:
                continue
    return sorted(set(found))


def _gone(pid: int) -> bool:
    """Dead, or a zombie nobody has reaped yet (a container's pid 1 may never reap orphans)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


def _wait_until(cond, what: str, limit: float = 300.0):
    end = time.monotonic() + limit
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.1)


def _start_and_freeze_mid_crawl(env: Env, store, *args: str) -> tuple[subprocess.Popen, int, list[int]]:
    """Start a crawl CLI, let it store some pages, then freeze every crawl child (SIGSTOP) so the kill that
    follows lands mid-way whatever the machine's speed. Returns (cli process, run id, child pids)."""
    before = _latest_run(store) or 0
    proc = subprocess.Popen(env.cli("crawl", "--sites", str(env.sites_file), *DATES, *FAST, *args),
                            cwd=env.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = _wait_until(lambda: (_latest_run(store) or 0) > before and _latest_run(store), "the run to exist")
    _wait_until(lambda: _crawl_children(proc.pid), "the crawl child to start")
    _wait_until(lambda: _pages(store, run_id) >= 15 or proc.poll() is not None, "pages to be stored")
    children = _crawl_children(proc.pid)  # all of them: one left running would finish its site meanwhile
    for child in children:
        os.kill(child, signal.SIGSTOP)
    with store.session() as s:
        crawling = s.scalars(select(m.RunSite.site_id).where(m.RunSite.run_id == run_id,
                                                             m.RunSite.status == "crawling")).all()
    assert proc.poll() is None and crawling and children, "the crawl finished before it could be interrupted"
    return proc, run_id, children


def test_nightly_twice_over_unchanged_platforms_reports_no_changes_and_mostly_304s(env, reference) -> None:
    store, first = reference
    done = env.run("crawl", "--sites", str(env.sites_file), "--nightly", *DATES, *FAST,
                   "--out", str(env.workdir / "night-out"), "--log-file", str(env.workdir / "night2.log"))
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = _latest_run(store)
    assert "与上一次运行相比没有变化" in done.stdout and "新增问题 0" in done.stdout
    one, two = fetch_stats(store, 1), fetch_stats(store, run_id)
    assert two.requests and two.reused_share > 0.5, two  # mostly 304s among the requests sent
    assert two.requests + two.skipped >= one.requests  # the rest was copied without asking
    assert two.bytes < one.bytes / 3, (one, two)
    assert f"{two.reused} unchanged (304" in done.stdout
    # the reused evidence gives the same conclusions, and each night has its own report directory
    assert_same_results(store, 1, store, run_id)
    changes = env.workdir / "night-out" / str(run_id) / "changes.txt"
    assert "没有变化" in changes.read_text(encoding="utf-8")
    assert (env.workdir / "night-out" / "1" / "findings.csv").exists()


def test_kill9_of_the_crawl_child_then_resume_gives_the_uninterrupted_result(env, reference) -> None:
    store, _ = reference
    proc, run_id, children = _start_and_freeze_mid_crawl(env, store)  # a plain crawl: resume is the same for both
    for child in children:
        os.kill(child, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    # the run completed what it could and says sites failed (4 when every site did: "our network?")
    assert proc.returncode in (3, 4), out + err
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(m.RunSite).where(
            m.RunSite.run_id == run_id, m.RunSite.status == "failed")) >= 1
    done = env.run("crawl", "--resume", str(run_id))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "re-crawled" in done.stderr
    assert_same_results(store, 1, store, run_id)
    with store.session() as s:
        assert s.get(m.Run, run_id).status == "finished"


def test_kill9_of_the_cli_then_resume_waits_for_the_orphan_and_gives_the_same_result(env, reference) -> None:
    store, _ = reference
    proc, run_id, children = _start_and_freeze_mid_crawl(env, store, "--nightly", "--out",
                                                         str(env.workdir / "night-out"))
    proc.send_signal(signal.SIGKILL)  # the CLI dies at once: no cleanup, the lock goes with it
    proc.communicate(timeout=60)
    try:
        # its crawl children are orphaned; frozen, they are still alive: a resume must not crawl beside them
        refused = env.run("crawl", "--resume", str(run_id))
        assert refused.returncode == EXIT_LOCKED, refused.stdout + refused.stderr
        assert any(f"pid {child}" in refused.stderr for child in children), refused.stderr
    finally:
        for child in children:
            os.kill(child, signal.SIGKILL)  # the machine "crashed" for the children too
        _wait_until(lambda: all(_gone(c) for c in children), "the crawl children to die")
    with store.session() as s:
        assert s.get(m.Run, run_id).status == "running"  # killed without a word: still marked running
        assert "crawling" in set(s.scalars(select(m.RunSite.status).where(m.RunSite.run_id == run_id)))
    done = env.run("crawl", "--resume", str(run_id))
    assert done.returncode == 0, done.stdout + done.stderr
    assert_same_results(store, 1, store, run_id)
    # a resumed nightly run keeps its report directory and still prints its changes
    assert (env.workdir / "night-out" / str(run_id) / "changes.txt").exists()
    assert "没有变化" in done.stdout


class _KeyWatcher:
    """Samples the queue's scrapy-redis keys while the workers crawl: the frontier seen living in Redis."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        import redis

        self.r = redis.Redis.from_url(redis_url, decode_responses=True)
        self.match = f"{prefix}:scrapy:*"
        self.seen: set[str] = set()
        self.queued: dict[str, int] = {}  # requests key -> most requests seen waiting in it at once
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            for key in self.r.scan_iter(match=self.match, count=500):
                self.seen.add(key)
                if key.endswith(":requests"):
                    self.queued[key] = max(self.queued.get(key, 0), self.r.zcard(key))

    def __enter__(self) -> _KeyWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _scrapy_stat(log_file: Path, name: str) -> int | None:
    """A counter from the 'Dumping Scrapy stats' block of a crawl's log."""
    found = re.findall(rf"'{re.escape(name)}': (\d+)", log_file.read_text(encoding="utf-8", errors="replace"))
    return int(found[-1]) if found else None


@pytest.mark.services
def test_two_workers_on_redis_and_postgresql_give_the_single_process_results(env, reference, pg_url,
                                                                              redis_url) -> None:
    """... with every unit's crawl on scrapy-redis's scheduler (its requests went through Redis), and
    after a first worker died mid-unit with its frontier in Redis: the unit starts fresh elsewhere."""
    import redis

    from govaudit.ops.scrapy_redis_units import SCHEDULER_PATH

    store, _ = reference
    prefix = f"govaudit-test-{uuid.uuid4().hex[:10]}"
    queue_args = ["--redis", redis_url, "--redis-prefix", prefix]
    logs = env.workdir / "worker-logs"
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    shared = open_store(pg_url, env.blobs)  # one shared PostgreSQL; the blob directory is shared too
    workers: list[subprocess.Popen] = []
    doomed: subprocess.Popen | None = None
    try:
        done = env.run("enqueue", "--sites", str(env.sites_file), *DATES, *FAST, *queue_args, "--out",
                       str(env.workdir / "dist-out"), db=pg_url)
        assert done.returncode == 0, done.stderr
        run_id = _latest_run(shared)

        def start_worker(*extra: str) -> subprocess.Popen:
            return subprocess.Popen(env.cli("worker", *queue_args, "--idle-exit", "2", "--heartbeat-ttl", "5",
                                            "--log-dir", str(logs), *extra, db=pg_url),
                                    cwd=env.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        with _KeyWatcher(redis_url, prefix) as watcher:
            # a first worker dies with its machine mid-unit: crawl child frozen while requests wait in Redis
            doomed = start_worker("--heartbeat-ttl", "2")
            dead_wid = _wait_until(lambda: next(iter(r.smembers(f"{prefix}:workers")), None), "a worker")
            frontier = _freeze_with_a_frontier(r, f"{prefix}:scrapy:{run_id}:", dead_wid, doomed)
            doomed.kill()
            doomed.communicate(timeout=60)
            _kill_frozen(frontier.child)
            assert r.zcard(frontier.key) >= 1  # the dead crawl's frontier is left in Redis
            _wait_until(lambda: not r.exists(f"{prefix}:alive:{dead_wid}"), "the dead worker's heartbeat to expire")

            workers.append(start_worker())  # reaps at once: the dead unit is back at the head of the queue
            # the next worker starts once the first is inside its unit, so each takes one of the two units
            _wait_until(lambda: not r.exists(frontier.key) or workers[0].poll() is not None,
                        "the dead worker's frontier to be deleted")
            workers.append(start_worker())
            outputs = [w.communicate(timeout=400) for w in workers]
        for w, (out, err) in zip(workers, outputs, strict=True):
            assert w.returncode == 0, out + err
        assert [("1 unit(s) done" in err) for _, err in outputs] == [True, True], outputs
        assert "1 given back from dead workers" in outputs[0][1], outputs[0][1]
        with shared.session() as s:
            assert s.get(m.Run, run_id).status == "finished"
            units = {rs.site_id: rs for rs in s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id))}
        assert {rs.status for rs in units.values()} == {"scored"}
        assert_same_results(store, 1, shared, run_id)  # the re-done unit started fresh: nothing twice
        assert (env.workdir / "dist-out" / str(run_id) / "findings.csv").exists()

        # every unit's requests went through its own queue in Redis, and the crawl's own Scrapy stats agree
        for site_id, rs in units.items():
            log_file = logs / f"run-{run_id}-{site_id}.log"
            assert SCHEDULER_PATH in log_file.read_text(encoding="utf-8", errors="replace")
            tally = rs.stats["scheduler"]
            assert tally["backend"] == "redis" and "lost" not in tally and tally["in_memory"] == 0, tally
            assert tally["enqueued"] == tally["dequeued"] == _scrapy_stat(log_file, "scheduler/enqueued/redis")
            assert _scrapy_stat(log_file, "scheduler/dequeued/redis") == tally["dequeued"]
            # every page fetched over the network was a request out of Redis (+ screenshots, redirects ...)
            assert tally["enqueued"] >= rs.pages_fetched > 0, (tally, rs.pages_fetched)
            assert tally["peak_queued"] > 1, tally  # the frontier waited in Redis, not one request at a time
        # ... each under keys of this run, that site and the worker that crawled it: the dead worker's unit
        # twice (its frontier, then the survivor's fresh one), the other once
        wids = [re.search(r"worker (\S+): 1 unit\(s\) done", err).group(1) for _, err in outputs]
        owners = {site_id: {wid for wid in (dead_wid, *wids)
                            if watcher.queued.get(f"{prefix}:scrapy:{run_id}:{site_id}:{wid}:requests", 0) >= 1}
                  for site_id in units}
        assert owners == {frontier.site_id: {dead_wid, wids[0]},
                          next(sid for sid in units if sid != frontier.site_id): {wids[1]}}, \
            (owners, sorted(watcher.seen))
        assert {k.rsplit(":", 1)[-1] for k in watcher.seen} <= {"requests", "dupefilter", "tally"}
        # nothing of the night stays in Redis: no frontier, no fingerprints
        assert list(r.scan_iter(match=f"{prefix}:scrapy:*")) == []
    finally:
        for w in [*workers, *([doomed] if doomed else [])]:
            if w.poll() is None:
                w.kill()
                w.wait()
        from govaudit.ops.workqueue import WorkQueue

        WorkQueue.from_url(redis_url, prefix=prefix).clear()
        shared.engine.dispose()


@dataclass
class _Frontier:
    key: str
    site_id: str
    child: int


def _freeze_with_a_frontier(r, head: str, wid: str, worker: subprocess.Popen) -> _Frontier:
    """Freeze the worker's crawl child (SIGSTOP) at a moment when requests wait in its Redis queue
    (`<head><site>:<wid>:requests`); look again when the queue was drained between looking and freezing."""
    tail = f":{wid}:requests"

    def waiting() -> str | None:
        if worker.poll() is not None:
            pytest.fail("the worker ended before it could be killed mid-unit")
        return next((k for k in r.scan_iter(match=f"{head}*{tail}") if r.zcard(k) >= 1), None)

    while True:
        key = _wait_until(waiting, "requests waiting in the worker's Redis queue")
        child = next(iter(_crawl_children(worker.pid)), None)  # a worker crawls one unit: one child
        if child is None:
            continue
        os.kill(child, signal.SIGSTOP)
        if r.zcard(key) >= 1:
            return _Frontier(key=key, site_id=key[len(head):-len(tail)], child=child)
        os.kill(child, signal.SIGCONT)


def _kill_frozen(child: int) -> None:
    """The frozen crawl child of a killed worker: its parent's death asked it to stop (SIGTERM), but frozen
    it cannot; kill it as the machine's crash would have."""
    try:
        os.kill(child, signal.SIGKILL)
    except ProcessLookupError:
        return
    _wait_until(lambda: _gone(child), "the crawl child to die")
