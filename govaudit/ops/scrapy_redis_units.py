"""scrapy-redis in worker mode: the Scrapy scheduler queue and dupefilter of one site of one run live in
Redis, under keys named for that run, that site and the worker crawling it.

Why per unit, per run and per worker:
* the unit (a site) is the unit of work, so its frontier belongs to it and to nobody else: one worker
  crawls it and the site's politeness settings (delay, concurrency per domain) hold;
* scrapy-redis's dupefilter outlives a crawl unless cleared, and a fingerprint set that survived the night
  would make the next night skip every URL it saw. The keys carry the run id, are flushed when the unit's
  crawl opens and deleted when it closes, and the worker deletes them again after the crawl and at the
  end of the run (`clear_unit_keys`, `clear_run_keys`), so nothing survives into another night;
* the worker id in the key keeps two crawls of one unit apart (a worker whose heartbeat lapsed while it
  was still crawling, and the worker the unit was given to): sharing one frontier, each would pop the
  other's requests, whose callbacks need spider state the popping spider does not have.

A unit given back after its worker died starts fresh, not from the dead worker's frontier: the spider's
own state (the URLs it claimed, the column walks its callbacks look up, its page counters and limits) is
in the dead process's memory, and the crawler clears the site's derived rows when its crawl opens, so
resuming a frontier would replay requests into a spider that cannot interpret them. The dead worker's
keys are deleted by whoever takes the unit next.

Units are not fed through a RedisSpider: its start-URL list is popped without acknowledgement (a killed
worker loses its unit), and scrapy-redis 0.9 turns any JSON key outside `meta` of a queued start request
into form data. The reliable unit queue is ``govaudit.ops.workqueue``; the crawler's spider keeps its own
``async def start()`` (Scrapy 2.13+ no longer calls ``start_requests()``), which scrapy-redis's scheduler
does not need to know about: start requests reach it through ``enqueue_request`` like any other.

Checked against scrapy-redis 0.9.1 on Scrapy 2.19: ``from_crawler``, ``open``/``close``,
``enqueue_request``/``next_request``/``has_pending_requests`` match what the engine calls. `UnitScheduler`
subclasses scrapy-redis's Scheduler for what its keys and error handling do not fit:
* queue: scrapy-redis's PriorityQueue is a sorted set whose members are the pickled requests, so two
  requests that pickle alike (the same URL asked again with the same meta) collapse into one and the
  second is lost. `LifoPriorityQueue` prefixes each member with a sequence number: every request stays,
  and requests of equal priority come out last-in first-out, the order of Scrapy's own default scheduler
  (a distributed crawl walks a site in the order a single-process crawl does);
* keys: scrapy-redis %-formats its keys with the spider name (the queue key twice), so they cannot be per
  site; ours are set per spider (``run_id``, ``site_id``) after the queue is built;
* a request that cannot be serialised (pickle, or a callback that is not a spider method) raises out of
  scrapy-redis's ``enqueue_request`` and Scrapy drops it with a log line: a silently truncated crawl.
  Such a request is kept in memory instead, and counted;
* a frontier that vanished from Redis (Redis restarted without its data, keys deleted under a running
  crawl) would end the crawl as "finished" with pages never fetched. The scheduler counts what it left in
  Redis; when Redis holds less, or cannot be reached at the end, it sets the spider's ``fatal_error``
  (the crawler's spider reports its site ``failed`` with that reason) rather than let an incomplete crawl
  pass as complete.
What it did is written to ``<base>:tally`` when the crawl closes; the worker moves it into
``run_sites.stats["scheduler"]`` and deletes the keys.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from scrapy.utils.misc import load_object
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

log = logging.getLogger(__name__)

SCHEDULER_PATH = f"{__name__}.UnitScheduler"
QUEUE_PATH = f"{__name__}.LifoPriorityQueue"
DUPEFILTER_PATH = "scrapy_redis.dupefilter.RFPDupeFilter"
KEY_SUFFIXES = ("requests", "dupefilter", "tally")
TALLY_TTL = 7 * 24 * 3600  # a tally nobody collected (worker killed after the crawl) expires on its own


def unit_key_base(prefix: str, run_id: int, site_id: str, owner: str) -> str:
    return f"{prefix}:scrapy:{run_id}:{site_id}:{owner}"


def scrapy_redis_settings(redis_url: str, prefix: str, owner: str) -> dict[str, Any]:
    """Scrapy settings overrides (for ``crawl_run(overrides=...)``) that put each crawled unit's scheduler
    queue and dupefilter in Redis under ``<prefix>:scrapy:<run>:<site>:<owner>:requests|dupefilter``."""
    return {
        "SCHEDULER": SCHEDULER_PATH,
        "DUPEFILTER_CLASS": DUPEFILTER_PATH,
        "SCHEDULER_QUEUE_CLASS": QUEUE_PATH,
        "SCHEDULER_PERSIST": False,  # the crawl deletes its keys when it closes
        "SCHEDULER_FLUSH_ON_START": True,  # ... and clears anything left under them when it opens
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # never block the reactor waiting on Redis
        "REDIS_URL": redis_url,
        # a Redis that stops answering must not freeze the crawl's reactor for scrapy-redis's default 30 s
        "REDIS_PARAMS": {"socket_timeout": 10, "socket_connect_timeout": 5, "retry_on_timeout": True},
        "GOVAUDIT_REDIS_PREFIX": prefix,
        "GOVAUDIT_REDIS_OWNER": owner,
    }


@dataclass
class SchedulerTally:
    """What one unit's crawl put through Redis. `peak_queued`: most requests waiting in Redis at once."""

    enqueued: int = 0
    dequeued: int = 0
    peak_queued: int = 0
    in_memory: int = 0  # requests that could not be serialised and stayed in the crawl's memory
    lost: str = ""  # why the frontier could not be trusted (empty when it could)

    def as_stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {"backend": "redis", **asdict(self)}
        if not self.lost:
            del out["lost"]
        return out


class LifoPriorityQueue(PriorityQueue):
    """scrapy-redis's PriorityQueue with unique members, last-in first-out within one priority."""

    _SEQ_BYTES = 8
    _SEQ_TOP = 2 ** 63

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seq = 0

    def push(self, request) -> None:
        # members of equal score sort by their bytes: a falling prefix puts the newest first
        self._seq += 1
        member = (self._SEQ_TOP - self._seq).to_bytes(self._SEQ_BYTES, "big") + self._encode_request(request)
        self.server.execute_command("ZADD", self.key, -request.priority, member)

    def _decode_request(self, encoded_request):
        return super()._decode_request(encoded_request[self._SEQ_BYTES:])


class UnitScheduler(Scheduler):
    """scrapy-redis's Scheduler with per-unit keys, no silently dropped request and no silently lost
    frontier (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_prefix = "govaudit"
        self.owner = "local"
        self.base = ""
        self.tally = SchedulerTally()
        self._memory: deque[Any] = deque()
        self._in_redis = 0  # requests this crawl pushed and has not popped: what Redis should still hold
        self._redis_down_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler):
        inst = super().from_crawler(crawler)
        inst.key_prefix = crawler.settings.get("GOVAUDIT_REDIS_PREFIX") or inst.key_prefix
        inst.owner = crawler.settings.get("GOVAUDIT_REDIS_OWNER") or inst.owner
        return inst

    def open(self, spider) -> None:
        run_id, site_id = getattr(spider, "run_id", None), getattr(spider, "site_id", None)
        if run_id is None or not site_id:
            raise ValueError("UnitScheduler crawls one unit: the spider needs run_id and site_id")
        self.spider = spider
        self.base = unit_key_base(self.key_prefix, run_id, site_id, self.owner)
        self.queue = load_object(self.queue_cls)(server=self.server, spider=spider, key="",
                                                 serializer=self.serializer)
        self.queue.key = f"{self.base}:requests"  # set after: scrapy-redis would %-format it
        if self.df is None:
            self.df = load_object(self.dupefilter_cls)(self.server, key=f"{self.base}:dupefilter",
                                                       debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        self.server.delete(f"{self.base}:tally")
        if self.flush_on_start:
            self.flush()
        elif len(self.queue):
            spider.log(f"Resuming crawl ({len(self.queue)} requests scheduled)")

    def close(self, reason: str) -> None:
        if self._redis_down_since is not None and self._in_redis:
            since = time.strftime("%H:%M:%S", time.localtime(self._redis_down_since))
            self._lose(f"Redis unreachable since {since} with {self._in_redis} request(s) of the crawl in it")
        try:
            self.server.hset(f"{self.base}:tally", mapping={k: str(v) for k, v in asdict(self.tally).items()})
            self.server.expire(f"{self.base}:tally", TALLY_TTL)
            if not self.persist:
                self.flush()
        except _redis_error() as exc:  # the worker deletes the keys again once Redis is back
            log.error("scheduler %s: could not record its tally or delete its keys: %s", self.base, exc)

    # -- requests ------------------------------------------------------------------------------------------
    def enqueue_request(self, request) -> bool:
        if not request.dont_filter:
            seen = self._ok(self.df.request_seen, request)
            if seen:
                self.df.log(request, self.spider)
                return False
        try:
            self.queue.push(request)
        except _redis_error() as exc:
            self._down(exc)
            self._keep(request, f"Redis: {exc}")
            return True
        except Exception as exc:  # pickle or to_dict refused it: keep it rather than let Scrapy drop it
            self._keep(request, f"{type(exc).__name__}: {exc}")
            return True
        self._redis_down_since = None
        self.tally.enqueued += 1
        self._in_redis += 1
        self.tally.peak_queued = max(self.tally.peak_queued, self._in_redis)
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        if self._memory:
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/memory")
            return self._memory.popleft()
        try:
            request = self.queue.pop(self.idle_before_close)
        except _redis_error() as exc:
            self._down(exc)
            return None
        except Exception as exc:  # a stored request that no longer decodes: the crawl would miss it
            self._lose(f"a queued request could not be read back: {type(exc).__name__}: {exc}")
            return None
        self._redis_down_since = None
        if request is None:
            return None
        self.tally.dequeued += 1
        self._in_redis = max(0, self._in_redis - 1)
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self._memory:
            return True
        try:
            queued = len(self.queue)
        except _redis_error() as exc:
            # unknown: do not let the crawl close on a frontier it cannot see; the engine asks again
            # every few seconds, and `close` fails the site if Redis never comes back
            self._down(exc)
            return True
        self._redis_down_since = None
        if queued < self._in_redis:
            self._lose(f"{self._in_redis - queued} queued request(s) vanished from Redis "
                       f"(Redis restarted without its data, or the keys were deleted)")
            self._in_redis = queued
        return queued > 0

    def __len__(self) -> int:
        return len(self._memory) + len(self.queue)

    # -- trouble -------------------------------------------------------------------------------------------
    def _keep(self, request, why: str) -> None:
        if not self.tally.in_memory:
            log.error("scheduler %s: request %s kept in memory, not in Redis (%s)", self.base, request.url, why)
        self.tally.in_memory += 1
        self._memory.append(request)
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/memory")

    def _down(self, exc: BaseException) -> None:
        if self._redis_down_since is None:
            self._redis_down_since = time.time()
            log.error("scheduler %s: Redis unavailable: %s", self.base, exc)

    def _lose(self, why: str) -> None:
        """The frontier is incomplete: the site's crawl must not be reported complete."""
        log.error("scheduler %s: %s", self.base, why)
        if not self.tally.lost:
            self.tally.lost = why
        if getattr(self.spider, "fatal_error", "") is None:  # the crawler's spider: site -> failed, with why
            self.spider.fatal_error = f"crawl frontier lost in Redis: {why}"

    def _ok(self, fn, *args: Any) -> Any:
        """fn(*args), or None when Redis cannot be reached."""
        try:
            return fn(*args)
        except _redis_error() as exc:
            self._down(exc)
            return None


def _redis_error() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError)


# -- the worker's side ---------------------------------------------------------------------------------------

def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def unit_keys(redis: Any, prefix: str, run_id: int, site_id: str) -> dict[str, list[str]]:
    """Keys of this unit's crawls in Redis, by the worker that owns them."""
    head = f"{prefix}:scrapy:{run_id}:{site_id}:"
    out: dict[str, list[str]] = {}
    for raw in redis.scan_iter(match=_glob_escape(head) + "*", count=500):
        key = raw.decode() if isinstance(raw, bytes) else raw
        owner, _, suffix = key[len(head):].rpartition(":")
        if owner and suffix in KEY_SUFFIXES:
            out.setdefault(owner, []).append(key)
    return out


def clear_unit_keys(redis: Any, prefix: str, run_id: int, site_id: str, *, owner: str | None = None,
                    keep_owners: frozenset[str] = frozenset()) -> int:
    """Delete the unit's request queues, dupefilters and tallies: those of `owner` only when given, else of
    every worker but `keep_owners` (live workers still crawling it). Returns how many keys went."""
    if owner is not None:
        base = unit_key_base(prefix, run_id, site_id, owner)
        return int(redis.delete(*[f"{base}:{suffix}" for suffix in KEY_SUFFIXES]))
    doomed = [k for who, keys in unit_keys(redis, prefix, run_id, site_id).items() if who not in keep_owners
              for k in keys]
    return int(redis.delete(*doomed)) if doomed else 0


def clear_run_keys(redis: Any, prefix: str, run_id: int) -> int:
    """Delete every scrapy-redis key of a run (the run is finished: nothing of it may outlive the night)."""
    keys = list(redis.scan_iter(match=_glob_escape(f"{prefix}:scrapy:{run_id}:") + "*", count=500))
    return int(redis.delete(*keys)) if keys else 0


def read_tally(redis: Any, prefix: str, run_id: int, site_id: str, owner: str) -> SchedulerTally | None:
    raw = redis.hgetall(f"{unit_key_base(prefix, run_id, site_id, owner)}:tally")
    if not raw:
        return None
    data = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()}
    try:
        return SchedulerTally(enqueued=int(data.get("enqueued", 0)), dequeued=int(data.get("dequeued", 0)),
                              peak_queued=int(data.get("peak_queued", 0)), in_memory=int(data.get("in_memory", 0)),
                              lost=data.get("lost", ""))
    except ValueError:
        return None
