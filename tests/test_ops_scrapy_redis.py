"""scrapy-redis in worker mode, against the local Redis (each test under its own key prefix):

* the unit scheduler (`govaudit.ops.scrapy_redis_units.UnitScheduler`) keys a crawl's queue and dupefilter
  per run, site and worker, starts clean, deletes them when it closes and leaves a tally;
* what scrapy-redis 0.9.1 alone gets wrong is patched: requests that pickle alike are both kept, one that
  cannot be pickled is kept in memory instead of dropped, a frontier that vanished from Redis or a Redis
  that cannot be reached fails the site instead of ending its crawl as complete;
* a real Scrapy 2.19 crawl (``async def start()``, no ``start_requests``) runs on it over loopback;
* the worker deletes a dead worker's keys of the unit (not a live one's), collects the tally onto the
  unit's stats and deletes its own keys, and the run's end deletes whatever is left.
The two-worker crawl of the demo platforms on it is in tests/test_ops_integration.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def redis_client(redis_url):
    import redis

    r = redis.Redis.from_url(redis_url)
    prefix = f"govaudit-test-{uuid.uuid4().hex[:10]}"
    yield r, prefix
    keys = list(r.scan_iter(match=f"{prefix}:*"))
    if keys:
        r.delete(*keys)


class _UnitSpider:
    """What the scheduler needs of the crawler's spider: a unit (run_id, site_id), a name, settings and
    the `fatal_error` the crawler's spider turns into a failed site."""

    name = "platform"

    def __init__(self, run_id: int, site_id: str, settings) -> None:
        self.run_id, self.site_id, self.settings = run_id, site_id, settings
        self.fatal_error: str | None = None

    def parse(self, response):  # a spider method: requests to it serialise by name
        return None

    def log(self, message: str) -> None:
        pass


def _open(redis_url: str, prefix: str, run_id: int, site_id: str, owner: str = "w1"):
    from scrapy.utils.test import get_crawler

    from govaudit.ops.scrapy_redis_units import UnitScheduler, scrapy_redis_settings

    crawler = get_crawler(settings_dict=scrapy_redis_settings(redis_url, prefix, owner))
    spider = _UnitSpider(run_id, site_id, crawler.settings)
    sched = UnitScheduler.from_crawler(crawler)
    sched.open(spider)
    return sched, spider, crawler


def _request(spider, url: str, **kw):
    from scrapy import Request

    return Request(url, callback=spider.parse, **kw)


def _drain(sched) -> list:
    out = []
    while (req := sched.next_request()) is not None:
        out.append(req)
    return out


def test_keys_are_per_run_site_and_worker_start_clean_and_go_when_the_crawl_closes(redis_client,
                                                                                    redis_url) -> None:
    from govaudit.ops.scrapy_redis_units import read_tally, unit_key_base

    r, prefix = redis_client
    sched, spider, crawler = _open(redis_url, prefix, 1, "qs-sjj")
    base = unit_key_base(prefix, 1, "qs-sjj", "w1")
    assert sched.enqueue_request(_request(spider, "http://127.0.0.16/xxgk/index.html"))
    assert not sched.enqueue_request(_request(spider, "http://127.0.0.16/xxgk/index.html"))  # seen in this unit
    assert r.zcard(base + ":requests") == 1 and r.scard(base + ":dupefilter") == 1
    # the worker dies here: queue and fingerprints stay behind in Redis

    again, spider2, _ = _open(redis_url, prefix, 1, "qs-sjj")  # the unit, given back, starts clean
    assert len(again) == 0 and not again.has_pending_requests()
    assert again.enqueue_request(_request(spider2, "http://127.0.0.16/xxgk/index.html"))

    tomorrow, spider3, _ = _open(redis_url, prefix, 2, "qs-sjj")  # next night: its own keys
    assert tomorrow.enqueue_request(_request(spider3, "http://127.0.0.16/xxgk/index.html"))
    other, spider4, _ = _open(redis_url, prefix, 1, "qs-sjj", owner="w2")  # another worker: its own keys
    assert other.enqueue_request(_request(spider4, "http://127.0.0.16/xxgk/index.html"))
    assert r.zcard(base + ":requests") == 1  # neither touched the first crawl's frontier

    assert [q.url for q in _drain(again)] == ["http://127.0.0.16/xxgk/index.html"]  # the dead crawl's went
    again.close("finished")
    assert not r.exists(base + ":requests") and not r.exists(base + ":dupefilter")
    tally = read_tally(r, prefix, 1, "qs-sjj", "w1")
    assert tally is not None and (tally.enqueued, tally.dequeued, tally.lost) == (1, 1, "")
    assert crawler.stats.get_value("scheduler/enqueued/redis") == 1  # the repeat was not queued


def test_requests_that_pickle_alike_are_both_kept_highest_priority_first_then_newest(redis_client,
                                                                                      redis_url) -> None:
    r, prefix = redis_client
    sched, spider, _ = _open(redis_url, prefix, 3, "a")
    for url, prio in [("http://h/1", 0), ("http://h/2", 0), ("http://h/attachment", -10), ("http://h/home", 5)]:
        sched.enqueue_request(_request(spider, url, priority=prio, dont_filter=True))
    # the same URL asked twice with the same meta (scrapy-redis's sorted set made these one member)
    sched.enqueue_request(_request(spider, "http://h/2", dont_filter=True))
    assert len(sched) == 5
    assert [q.url for q in _drain(sched)] == ["http://h/home", "http://h/2", "http://h/2", "http://h/1",
                                              "http://h/attachment"]
    assert sched.tally.peak_queued == 5 and not sched.has_pending_requests()


def test_a_request_that_cannot_be_pickled_is_kept_in_memory_not_dropped(redis_client, redis_url) -> None:
    from lxml import html

    r, prefix = redis_client
    sched, spider, crawler = _open(redis_url, prefix, 4, "a")
    tree = html.fromstring("<p>x</p>")  # what the crawler's meta once held: "cannot pickle 'HtmlElement'"
    assert sched.enqueue_request(_request(spider, "http://h/tree", meta={"tree": tree}, dont_filter=True))
    assert sched.enqueue_request(_request(spider, "http://h/plain", dont_filter=True))
    assert sched.has_pending_requests() and len(sched) == 2
    got = _drain(sched)
    assert [q.url for q in got] == ["http://h/tree", "http://h/plain"]
    assert got[0].meta["tree"] is tree
    assert (sched.tally.in_memory, sched.tally.enqueued) == (1, 1)
    assert crawler.stats.get_value("scheduler/enqueued/memory") == 1
    assert spider.fatal_error is None  # nothing was lost


def test_a_frontier_that_vanished_from_redis_fails_the_site(redis_client, redis_url) -> None:
    r, prefix = redis_client
    sched, spider, _ = _open(redis_url, prefix, 5, "a")
    for i in range(3):
        sched.enqueue_request(_request(spider, f"http://h/{i}", dont_filter=True))
    assert sched.next_request() is not None
    r.delete(sched.queue.key)  # Redis restarted without its data
    assert not sched.has_pending_requests()  # the engine will close the crawl ...
    assert "2 queued request(s) vanished" in spider.fatal_error  # ... but the site is reported failed
    sched.close("finished")
    assert "vanished" in sched.tally.lost


def test_a_redis_that_stops_answering_keeps_new_requests_and_fails_a_site_it_never_returns_for(
        redis_client, redis_url) -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    r, prefix = redis_client
    sched, spider, _ = _open(redis_url, prefix, 6, "a")
    sched.enqueue_request(_request(spider, "http://h/in-redis", dont_filter=True))
    # nothing listens on port 1; no retries, so the test does not sit through redis-py's backoff
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    sched.server = sched.queue.server = sched.df.server = dead
    assert sched.enqueue_request(_request(spider, "http://h/kept", dont_filter=True))
    assert sched.tally.in_memory == 1
    assert sched.next_request().url == "http://h/kept"
    assert sched.next_request() is None
    assert sched.has_pending_requests()  # unknown: the crawl must not close on a frontier it cannot see
    sched.close("closespider_timeout")
    assert "Redis unreachable" in spider.fatal_error and "1 request(s)" in spider.fatal_error


def test_clearing_keys_by_unit_owner_and_run(redis_client) -> None:
    from govaudit.ops.scrapy_redis_units import clear_run_keys, clear_unit_keys, unit_key_base, unit_keys

    r, prefix = redis_client
    for run_id, site, owner in [(1, "a", "host:1:aa"), (1, "a", "host:2:bb"), (1, "a*", "host:3:cc"),
                                (1, "b", "host:1:aa"), (12, "a", "host:1:aa")]:
        base = unit_key_base(prefix, run_id, site, owner)
        r.set(base + ":requests", 1)
        r.set(base + ":dupefilter", 1)
    assert set(unit_keys(r, prefix, 1, "a")) == {"host:1:aa", "host:2:bb"}  # "a*" is another site
    assert clear_unit_keys(r, prefix, 1, "a", keep_owners=frozenset({"host:2:bb"})) == 2
    assert set(unit_keys(r, prefix, 1, "a")) == {"host:2:bb"}
    assert clear_unit_keys(r, prefix, 1, "a", owner="host:2:bb") == 2
    assert clear_run_keys(r, prefix, 1) == 4  # a* and b; run 12 is not run 1
    assert r.exists(unit_key_base(prefix, 12, "a", "host:1:aa") + ":requests")


# ----------------------------------------------------------------------------------- a real Scrapy crawl

CRAWL = textwrap.dedent("""
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from govaudit.ops.scrapy_redis_units import scrapy_redis_settings

    base_url, redis_url, prefix = sys.argv[1:4]
    seen_keys = set()

    class Unit(scrapy.Spider):
        name = "platform"
        run_id, site_id, fatal_error = 9, "loop", None
        fetched = []

        async def start(self):  # Scrapy 2.13+: start() replaces start_requests()
            yield scrapy.Request(base_url + "index.html")

        def parse(self, response):
            self.fetched.append(response.url)
            queue = self.crawler.engine._slot.scheduler.queue
            seen_keys.update(k.decode() for k in queue.server.scan_iter(match=prefix + ":*"))
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href)  # not dont_filter: the Redis dupefilter drops repeats

    settings = {**scrapy_redis_settings(redis_url, prefix, "w-test"), "ROBOTSTXT_OBEY": False,
                "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False, "CONCURRENT_REQUESTS": 1}
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(Unit)
    process.crawl(crawler)
    process.start()
    print(json.dumps({"fetched": sorted(Unit.fetched), "keys": sorted(seen_keys),
                      "stats": {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("scheduler/")},
                      "fatal": Unit.fatal_error}))
""")


@pytest.fixture
def tiny_site(tmp_path):
    pages = {"index.html": '<a href="a.html">a</a><a href="b.html">b</a><a href="index.html">home</a>',
             "a.html": '<a href="c.html">c</a><a href="b.html">b</a>', "b.html": '<a href="a.html">a</a>',
             "c.html": "<p>leaf</p>"}
    for name, body in pages.items():
        (tmp_path / name).write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", sorted(pages)
    server.shutdown()
    server.server_close()


def test_a_real_scrapy_crawl_runs_on_the_unit_scheduler(redis_client, redis_url, tiny_site) -> None:
    from govaudit.ops.scrapy_redis_units import read_tally, unit_key_base

    r, prefix = redis_client
    base_url, pages = tiny_site
    done = subprocess.run([sys.executable, "-c", CRAWL, base_url, redis_url, prefix], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["fetched"] == [base_url + p for p in pages]  # every page once: the dupefilter held
    assert out["stats"]["scheduler/enqueued/redis"] == out["stats"]["scheduler/dequeued/redis"] == 4
    base = unit_key_base(prefix, 9, "loop", "w-test")
    assert base + ":dupefilter" in out["keys"]  # the fingerprints lived in Redis during the crawl
    assert out["fatal"] is None
    assert not r.exists(base + ":requests", base + ":dupefilter")  # deleted when the crawl closed
    tally = read_tally(r, prefix, 9, "loop", "w-test")
    assert (tally.enqueued, tally.dequeued, tally.in_memory) == (4, 4, 0)


# ----------------------------------------------------------------------------------- the worker's side

def test_worker_clears_a_dead_workers_frontier_keeps_a_live_ones_and_collects_its_tally(
        redis_client, redis_url, store, monkeypatch) -> None:
    import crawler.runner
    from govaudit.ops.enqueue import enqueue_run
    from govaudit.ops.scrapy_redis_units import SCHEDULER_PATH, unit_key_base, unit_keys
    from govaudit.ops.worker import Worker, WorkerConfig
    from govaudit.ops.workqueue import WorkQueue
    from govaudit.sites import SiteSpec
    from storage import models as m

    r, prefix = redis_client
    queue = WorkQueue.from_url(redis_url, prefix=prefix)
    sites = [SiteSpec(site_id="a", name="a", unit_type="county", url="http://127.0.0.1:9/", rubric="r")]
    run_id = enqueue_run(store, queue, sites, as_of=dt.date(2026, 11, 20)).run_id
    worker = Worker(store, queue, WorkerConfig(redis_url=redis_url, prefix=prefix))
    for owner in ("dead:1:aa", "live:2:bb"):
        r.set(unit_key_base(prefix, run_id, "a", owner) + ":requests", "left behind")
    queue.heartbeat("live:2:bb")  # still beating: a worker whose unit was given back while it crawled on
    seen: dict = {}

    def stand_in_crawl(store_, run, site_ids, *, overrides=None, log_file=None, **_):
        # what the crawl child's scheduler does: it writes its tally when the crawl closes
        seen.update(overrides=overrides, owners=set(unit_keys(r, prefix, run, site_ids[0])))
        base = unit_key_base(prefix, run, site_ids[0], overrides["GOVAUDIT_REDIS_OWNER"])
        r.hset(base + ":tally", mapping={"enqueued": 40, "dequeued": 40, "peak_queued": 12, "in_memory": 0,
                                         "lost": ""})
        with store_.session() as s:
            rs = s.get(m.RunSite, (run, site_ids[0]))
            rs.status, rs.stats = "crawled", {"pages_fetched": 39}
        return {site_ids[0]: "crawled"}

    monkeypatch.setattr(crawler.runner, "crawl_run", stand_in_crawl)
    worker._crawl(run_id, "a")
    assert seen["overrides"]["SCHEDULER"] == SCHEDULER_PATH
    assert seen["overrides"]["GOVAUDIT_REDIS_OWNER"] == worker.wid
    assert seen["owners"] == {"live:2:bb"}  # the dead worker's keys went before the crawl
    assert set(unit_keys(r, prefix, run_id, "a")) == {"live:2:bb"}  # ours went after it
    with store.session() as s:
        stats = s.get(m.RunSite, (run_id, "a")).stats
    assert stats == {"pages_fetched": 39, "scheduler": {"backend": "redis", "enqueued": 40, "dequeued": 40,
                                                        "peak_queued": 12, "in_memory": 0}}
    worker._forget_run(run_id)  # the run is over: nothing of it stays in Redis
    assert unit_keys(r, prefix, run_id, "a") == {}


def test_the_crawlers_spider_fails_its_site_on_the_fatal_error_the_scheduler_sets(store) -> None:
    """The contract `UnitScheduler._lose` relies on: the crawler's spider starts with `fatal_error` None and
    reports its site failed, with that reason, once it is set."""
    from crawler.spiders.platform import PlatformSpider

    spider = PlatformSpider(site={"site_id": "a", "url": "http://127.0.0.1:9/"}, run_id=1, store=store)
    assert spider.fatal_error is None and spider.outcome()[0] == "crawled"
    spider.fatal_error = "crawl frontier lost in Redis: 3 queued request(s) vanished"
    assert spider.outcome() == ("failed", "crawl frontier lost in Redis: 3 queued request(s) vanished")
