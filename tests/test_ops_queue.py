"""The Redis work queue against the local Redis (127.0.0.1:6379), each test under its own key prefix:
units move atomically into a worker's processing list, a dead worker's unit is given back, a live one's
is not, and a worker killed mid-unit (kill -9) costs nothing: its unit is re-done from a clean slate."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from govaudit.ops.workqueue import WorkItem, WorkQueue
from govaudit.sites import SiteSpec
from storage import models as m
from storage import open_store

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.services


@pytest.fixture
def queue(redis_url):
    q = WorkQueue.from_url(redis_url, prefix=f"govaudit-test-{uuid.uuid4().hex[:10]}", heartbeat_ttl=1)
    yield q
    q.clear()


def _wait_until(cond, what: str, limit: float = 20.0) -> None:
    """Poll for a state change (a key expiring, a child reaching a point); fail with `what` if never."""
    end = time.monotonic() + limit
    while not cond():
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.05)


def test_units_move_atomically_and_are_acknowledged(queue) -> None:
    queue.push([WorkItem(1, "a"), WorkItem(1, "b")])
    queue.register("w1")
    t = queue.take("w1", timeout=0.1)
    assert t.item == WorkItem(1, "a") and t.attempt == 1
    assert queue.r.lrange(queue.processing_key("w1"), 0, -1) == [t.raw]
    assert queue.r.lrange(queue.units_key, 0, -1) == [WorkItem(1, "b").encode()]
    assert queue.queued_sites(1) == {"a", "b"}
    assert queue.done("w1", t) is True
    assert queue.r.llen(queue.processing_key("w1")) == 0 and queue.queued_sites(1) == {"b"}
    queue.unregister("w1")


def test_a_dead_workers_unit_is_given_back_a_live_ones_is_not(queue) -> None:
    queue.push([WorkItem(7, "a"), WorkItem(7, "b"), WorkItem(7, "c")])
    queue.register("dead")
    queue.register("alive")
    lost = queue.take("dead", timeout=0.1)
    kept = queue.take("alive", timeout=0.1)
    assert queue.reap() == []  # both heartbeats are fresh
    # "dead" stops beating; "alive" keeps beating while we wait for the other's key to expire
    _wait_until(lambda: (queue.heartbeat("alive") or True) and not queue.r.exists(queue.alive_key("dead")),
                "the dead worker's heartbeat to expire")
    assert queue.reap() == [lost.raw]
    assert queue.r.lrange(queue.units_key, 0, 0) == [lost.raw]  # back at the head of the queue
    assert queue.r.lrange(queue.processing_key("alive"), 0, -1) == [kept.raw]
    assert "dead" not in queue.r.smembers(queue.workers_key)
    again = queue.take("alive", timeout=0.1)
    assert again.item == lost.item and again.attempt == 2  # the lost try counts as an attempt


def test_give_back_is_not_an_attempt_and_garbage_is_not_a_unit(queue) -> None:
    queue.push([WorkItem(3, "a")])
    queue.register("w")
    t = queue.take("w", timeout=0.1)
    queue.give_back("w", t)
    assert queue.take("w", timeout=0.1).attempt == 1
    queue.r.rpush(queue.units_key, "not json", '{"run_id": "x", "site_id": 1}', '["a"]')
    for _ in range(3):
        junk = queue.take("w", timeout=0.1)
        assert junk.item is None
        queue.drop("w", junk)
    assert queue.take("w", timeout=0.1) is None
    assert WorkItem.decode('{"run_id": 4, "site_id": "x", "extra": 1}') == WorkItem(4, "x")
    assert WorkItem.decode('{"run_id": true, "site_id": "x"}') is None


# --------------------------------------------------------------------------------------------- worker
# The crawler is replaced by a stand-in that stores what a crawl stores (a page, a column) so the test
# isolates the queue semantics; tests/test_ops_integration.py runs the real crawler.

FAKE = textwrap.dedent("""
    import sys, time
    from sqlalchemy import select
    from govaudit.ops.worker import Worker, WorkerConfig
    from govaudit.ops.workqueue import WorkQueue
    from storage import models as m, open_store

    class StandInWorker(Worker):
        hang_on = sys.argv[5] if len(sys.argv) > 5 else ""

        def _crawl(self, run_id, site_id):
            with self.store.session() as s:
                rs = s.get(m.RunSite, (run_id, site_id))
                rs.status = "crawling"
                url = "http://x/" + site_id
                if not s.scalar(select(m.Page.id).where(m.Page.run_id == run_id, m.Page.url == url)):
                    s.add(m.Page(run_id=run_id, site_id=site_id, url=url, fetch_status="ok"))  # upsert
                s.add(m.Column(run_id=run_id, site_id=site_id, name="政策"))
            if site_id == self.hang_on:
                print("crawling " + site_id, flush=True)
                time.sleep(600)  # killed here, mid-unit
            with self.store.session() as s:
                s.get(m.RunSite, (run_id, site_id)).status = "crawled"

    def fake_check(store, run_id, site_ids, progress=None):
        for sid in site_ids:
            with store.session() as s:
                s.get(m.RunSite, (run_id, sid)).status = "checked"

    def fake_score(store, run_id, site_ids, manual_file=None):
        for sid in site_ids:
            with store.session() as s:
                s.get(m.RunSite, (run_id, sid)).status = "scored"

    import govaudit.pipeline as p
    p.check_sites, p.score_sites = fake_check, fake_score
    store = open_store(sys.argv[1], sys.argv[2])
    queue = WorkQueue.from_url(sys.argv[3], prefix=sys.argv[4], heartbeat_ttl=1)
    cfg = WorkerConfig(redis_url=sys.argv[3], prefix=sys.argv[4], heartbeat_ttl=1, idle_exit=3, poll=0.2)
    stats = StandInWorker(store, queue, cfg).run()
    print("done", stats.units_done, "reaped", stats.reaped, "finalized", stats.runs_finalized, flush=True)
""")


def test_worker_killed_mid_unit_gives_it_back_and_another_finishes_the_run(queue, redis_url, tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    store = open_store(db, tmp_path / "blobs")
    from govaudit.ops.enqueue import enqueue_run

    sites = [SiteSpec(site_id=s, name=s, unit_type="county", url=f"http://127.0.0.1:9/{s}", rubric="r")
             for s in ("a", "b", "c")]
    run_id = enqueue_run(store, queue, sites, as_of=dt.date(2026, 11, 20)).run_id
    args = [sys.executable, "-c", FAKE, db, str(tmp_path / "blobs"), redis_url, queue.prefix]
    doomed = subprocess.Popen([*args, "a"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert doomed.stdout.readline().strip() == "crawling a"
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()
    with store.session() as s:
        assert s.get(m.RunSite, (run_id, "a")).status == "crawling"
    survivor = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert survivor.returncode == 0, survivor.stderr
    assert survivor.stdout.split()[:4] == ["done", "3", "reaped", "1"], survivor.stdout
    assert f"[{run_id}]" in survivor.stdout
    with store.session() as s:
        assert s.get(m.Run, run_id).status == "finished"
        statuses = dict(s.execute(select(m.RunSite.site_id, m.RunSite.status)
                                  .where(m.RunSite.run_id == run_id)).all())
        assert statuses == {"a": "scored", "b": "scored", "c": "scored"}
        # the half-crawled unit was re-done from a clean slate: one column per site, its page kept once
        cols = list(s.scalars(select(m.Column.site_id).where(m.Column.run_id == run_id)))
        pages = list(s.scalars(select(m.Page.site_id).where(m.Page.run_id == run_id)))
        assert sorted(cols) == ["a", "b", "c"] and sorted(pages) == ["a", "b", "c"]
    assert queue.r.llen(queue.units_key) == 0 and queue.active_runs() == []
    store.engine.dispose()


def test_sigterm_gives_the_unit_back_at_once(queue, redis_url, tmp_path) -> None:
    """`systemctl stop`: the worker returns its unit to the queue before leaving, no TTL to wait for."""
    db = f"sqlite:///{tmp_path / 'g.db'}"
    store = open_store(db, tmp_path / "blobs")
    from govaudit.ops.enqueue import enqueue_run

    sites = [SiteSpec(site_id="a", name="a", unit_type="county", url="http://127.0.0.1:9/", rubric="r")]
    run_id = enqueue_run(store, queue, sites, as_of=dt.date(2026, 11, 20)).run_id
    worker = subprocess.Popen([sys.executable, "-c", FAKE, db, str(tmp_path / "blobs"), redis_url, queue.prefix,
                               "a"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "crawling a"
    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0 and out.startswith("done 0"), out
    assert queue.r.lrange(queue.units_key, 0, -1) == [WorkItem(run_id, "a").encode()]
    assert queue.r.smembers(queue.workers_key) == set()
    store.engine.dispose()


def test_a_unit_that_keeps_killing_its_worker_is_marked_failed_not_retried_forever(queue, store) -> None:
    from govaudit.ops.enqueue import enqueue_run
    from govaudit.ops.worker import Worker, WorkerConfig

    sites = [SiteSpec(site_id="a", name="a", unit_type="county", url="http://127.0.0.1:9/", rubric="r")]
    run_id = enqueue_run(store, queue, sites, as_of=dt.date(2026, 11, 20)).run_id
    queue.r.hset(queue.attempts_key, f"{run_id}:a", 3)  # three workers already died on it
    worker = Worker(store, queue, WorkerConfig(prefix=queue.prefix, max_attempts=3))
    queue.register(worker.wid)
    taken = queue.take(worker.wid, timeout=0.1)
    assert taken.attempt == 4
    assert worker.process(taken) is True
    with store.session() as s:
        rs = s.get(m.RunSite, (run_id, "a"))
        assert rs.status == "failed" and "3 次中断" in rs.error
        assert s.get(m.Run, run_id).status == "finished"  # its only unit is settled: the run is closed
    assert queue.r.llen(queue.processing_key(worker.wid)) == 0


def test_enqueue_run_again_queues_only_unfinished_units_not_already_queued(queue, store) -> None:
    from govaudit.ops.enqueue import enqueue_run, requeue_run

    sites = [SiteSpec(site_id=s, name=s, unit_type="county", url=f"http://127.0.0.1:9/{s}", rubric="r")
             for s in ("a", "b", "c")]
    run_id = enqueue_run(store, queue, sites, as_of=dt.date(2026, 11, 20)).run_id
    queue.r.delete(queue.units_key, queue.runs_key)  # Redis restarted without its data
    queue.push([WorkItem(run_id, "c")])  # c is queued again already
    with store.session() as s:
        s.get(m.RunSite, (run_id, "a")).status = "checked"  # a was done before the loss
    assert requeue_run(store, queue, run_id).units == 1
    assert queue.queued_sites(run_id) == {"b", "c"} and queue.active_runs() == [run_id]
    with pytest.raises(LookupError):
        requeue_run(store, queue, run_id + 100)
