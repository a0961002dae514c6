"""A reliable Redis queue of units (one site of one run each).

Why not scrapy-redis's RedisSpider for the units: it pops start URLs with LPOP/SPOP, so a worker killed
mid-site loses its unit. Here a unit is moved atomically (BLMOVE) from the shared queue into the taking
worker's own processing list and stays there until the worker reports it done. Each worker keeps a
heartbeat key with a short TTL; a reaper (every worker runs it between units) moves the processing list
of a worker whose heartbeat expired back to the head of the queue. The unit of work is a whole site, so
one site is crawled by one worker at a time and its politeness settings hold.

Keys (all under a prefix, so tests and separate installations don't meet):
  {p}:units               list  queued units (JSON), taken from the left
  {p}:processing:{wid}    list  the unit a worker is working on
  {p}:alive:{wid}         str   heartbeat, expires after `heartbeat_ttl` seconds without renewal
  {p}:workers             set   worker ids that may own a processing list
  {p}:attempts            hash  "run:site" -> how many times the unit was taken (poison-unit guard)
  {p}:runs                set   run ids with work outstanding (a worker finalises them)
  {p}:finalize:{run}      str   claim of the worker scoring a finished run
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "govaudit"
DEFAULT_HEARTBEAT_TTL = 30


@dataclass(frozen=True)
class WorkItem:
    """One unit: a site of a run. Carried as JSON; unknown keys are ignored."""

    run_id: int
    site_id: str

    @property
    def key(self) -> str:
        return f"{self.run_id}:{self.site_id}"

    def encode(self) -> str:
        return json.dumps({"run_id": self.run_id, "site_id": self.site_id}, sort_keys=True)

    @classmethod
    def decode(cls, raw: str | bytes) -> WorkItem | None:
        """None for anything that is not a unit: a stray value must not kill a worker."""
        try:
            data: Any = json.loads(raw)
        except (ValueError, TypeError):
            return None
        if not isinstance(data, dict):
            return None
        run_id, site_id = data.get("run_id"), data.get("site_id")
        if not isinstance(run_id, int) or isinstance(run_id, bool) or not isinstance(site_id, str) or not site_id:
            return None
        return cls(run_id=run_id, site_id=site_id)


@dataclass(frozen=True)
class Taken:
    raw: str
    item: WorkItem | None
    attempt: int


class WorkQueue:
    def __init__(self, redis: Any, prefix: str = DEFAULT_PREFIX,
                 heartbeat_ttl: int = DEFAULT_HEARTBEAT_TTL) -> None:
        self.r = redis  # a redis.Redis with decode_responses=True
        self.prefix = prefix
        self.heartbeat_ttl = max(1, int(heartbeat_ttl))

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> WorkQueue:
        import redis

        return cls(redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=10,
                                        health_check_interval=30), **kwargs)

    # ------------------------------------------------------------------------------------------ keys
    @property
    def units_key(self) -> str:
        return f"{self.prefix}:units"

    def processing_key(self, worker_id: str) -> str:
        return f"{self.prefix}:processing:{worker_id}"

    def alive_key(self, worker_id: str) -> str:
        return f"{self.prefix}:alive:{worker_id}"

    @property
    def workers_key(self) -> str:
        return f"{self.prefix}:workers"

    @property
    def attempts_key(self) -> str:
        return f"{self.prefix}:attempts"

    @property
    def runs_key(self) -> str:
        return f"{self.prefix}:runs"

    def finalize_key(self, run_id: int) -> str:
        return f"{self.prefix}:finalize:{run_id}"

    # ------------------------------------------------------------------------------------------ producer
    def push(self, items: list[WorkItem]) -> int:
        if not items:
            return 0
        with self.r.pipeline(transaction=True) as p:
            for run_id in {i.run_id for i in items}:
                p.sadd(self.runs_key, run_id)
            p.hdel(self.attempts_key, *[i.key for i in items])
            p.rpush(self.units_key, *[i.encode() for i in items])
            p.execute()
        return len(items)

    # ------------------------------------------------------------------------------------------ worker side
    def register(self, worker_id: str) -> None:
        # heartbeat first: a reaper that sees the id in the set must also see it alive
        self.heartbeat(worker_id)
        self.r.sadd(self.workers_key, worker_id)

    def heartbeat(self, worker_id: str) -> None:
        self.r.set(self.alive_key(worker_id), "1", ex=self.heartbeat_ttl)

    def unregister(self, worker_id: str) -> None:
        """A clean exit: give back anything still held, then forget the worker."""
        self._requeue_all(worker_id)
        with self.r.pipeline(transaction=True) as p:
            p.srem(self.workers_key, worker_id)
            p.delete(self.alive_key(worker_id))
            p.execute()

    def take(self, worker_id: str, timeout: float = 1.0) -> Taken | None:
        """Move the next unit into this worker's processing list (atomic), waiting up to `timeout` s."""
        raw = self.r.blmove(self.units_key, self.processing_key(worker_id), timeout, "LEFT", "RIGHT")
        if raw is None:
            return None
        item = WorkItem.decode(raw)
        attempt = int(self.r.hincrby(self.attempts_key, item.key, 1)) if item else 1
        return Taken(raw=raw, item=item, attempt=attempt)

    def done(self, worker_id: str, taken: Taken) -> bool:
        """Drop the unit from the processing list. False if a reaper had already given it back (our
        heartbeat lapsed): the unit may then be processed twice, which is safe (re-crawl is idempotent)."""
        removed = int(self.r.lrem(self.processing_key(worker_id), 1, taken.raw))
        if taken.item is not None:
            self.r.hdel(self.attempts_key, taken.item.key)
        return removed > 0

    def give_back(self, worker_id: str, taken: Taken) -> None:
        """Return a unit to the head of the queue (e.g. the store is locked by a crawl right now)."""
        with self.r.pipeline(transaction=True) as p:
            p.lrem(self.processing_key(worker_id), 1, taken.raw)
            p.lpush(self.units_key, taken.raw)
            if taken.item is not None:
                p.hincrby(self.attempts_key, taken.item.key, -1)  # not a failed attempt
            p.execute()

    def drop(self, worker_id: str, taken: Taken) -> None:
        """Remove a unit for good (malformed, or given up after too many attempts)."""
        self.r.lrem(self.processing_key(worker_id), 1, taken.raw)
        if taken.item is not None:
            self.r.hdel(self.attempts_key, taken.item.key)

    # ------------------------------------------------------------------------------------------ reaper
    def reap(self) -> list[str]:
        """Give back the units of workers whose heartbeat expired. Safe to run in every worker at once:
        each unit is moved by exactly one LMOVE."""
        returned: list[str] = []
        for wid in self.r.smembers(self.workers_key):
            if self.r.exists(self.alive_key(wid)):
                continue
            moved = self._requeue_all(wid)
            returned.extend(moved)
            self.r.srem(self.workers_key, wid)
            if moved:
                log.warning("worker %s stopped answering; gave back %d unit(s)", wid, len(moved))
        return returned

    def _requeue_all(self, worker_id: str) -> list[str]:
        moved = []
        while True:
            # LEFT->LEFT keeps the dead worker's unit at the head: it was first in line already
            raw = self.r.lmove(self.processing_key(worker_id), self.units_key, "LEFT", "LEFT")
            if raw is None:
                return moved
            moved.append(raw)

    # ------------------------------------------------------------------------------------------ runs
    def active_runs(self) -> list[int]:
        out = []
        for v in self.r.smembers(self.runs_key):
            try:
                out.append(int(v))
            except ValueError:
                continue
        return sorted(out)

    def forget_run(self, run_id: int) -> None:
        self.r.srem(self.runs_key, run_id)

    def claim_finalize(self, run_id: int, worker_id: str, ttl: int = 1800) -> bool:
        """One worker scores a finished run; the claim expires if that worker dies while scoring."""
        return bool(self.r.set(self.finalize_key(run_id), worker_id, nx=True, ex=ttl))

    def release_finalize(self, run_id: int) -> None:
        self.r.delete(self.finalize_key(run_id))

    def queued_sites(self, run_id: int) -> set[str]:
        """Sites of this run with a unit queued or in some worker's processing list."""
        out: set[str] = set()
        lists = [self.units_key] + [self.processing_key(w) for w in self.r.smembers(self.workers_key)]
        for key in lists:
            for raw in self.r.lrange(key, 0, -1):
                item = WorkItem.decode(raw)
                if item is not None and item.run_id == run_id:
                    out.add(item.site_id)
        return out

    def clear(self) -> None:
        """Delete every key under this prefix (tests; an operator resetting a queue)."""
        keys = list(self.r.scan_iter(match=f"{self.prefix}:*", count=500))
        if keys:
            self.r.delete(*keys)
