"""`govaudit worker`: take one unit (one site of one run) at a time from Redis, crawl it, check it; the
worker that completes a run's last unit scores the run (and writes its reports if the run asks for them).

Every step is idempotent and driven by the unit's `run_sites.status`, so a unit given back after its
worker died is finished from where the store says it is: a site left `crawling` has its partial derived
rows cleared and is crawled again (pages already stored are upserted), a site already `crawled` is only
checked, a site already `checked` is only acknowledged. All workers write to one shared database
(PostgreSQL) and one shared blob directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from govaudit.lock import StoreLock, StoreLocked
from govaudit.ops.recrawl import RECRAWL_STATUSES, clear_partial_site, live_local_crawlers
from govaudit.ops.workqueue import Taken, WorkQueue
from storage import Store
from storage import models as m

log = logging.getLogger(__name__)

# unit statuses after which nothing is left to do for the unit itself (scoring is per run)
UNIT_DONE = ("checked", "scored", "failed")
# crawled but not yet checked (a worker died between the two)
UNIT_CRAWLED = ("crawled", "unreachable")
FINALIZE_RETRY_SECONDS = 60


class WorkerStopping(Exception):
    """SIGTERM/SIGINT: give the unit back and leave."""


@dataclass
class WorkerConfig:
    redis_url: str = "redis://127.0.0.1:6379/0"
    prefix: str = "govaudit"
    heartbeat_ttl: int = 30
    once: bool = False
    idle_exit: float | None = None  # leave after this many seconds without work
    max_attempts: int = 3  # a unit whose worker died this many times is marked failed, not retried forever
    poll: float = 1.0  # seconds a take() blocks, between reaper rounds
    locked_backoff: float = 5.0  # the store is held by a crawl/prune: wait this long before retrying
    log_dir: Path | None = None
    # each unit's Scrapy scheduler queue and dupefilter in Redis (govaudit.ops.scrapy_redis_units);
    # off: the crawl keeps its frontier in the crawl process's memory, as a single-process run does
    scrapy_redis: bool = True
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")


@dataclass
class WorkerStats:
    units_done: int = 0
    units_given_back: int = 0
    units_dropped: int = 0
    runs_finalized: list[int] = field(default_factory=list)
    reaped: int = 0


class Worker:
    def __init__(self, store: Store, queue: WorkQueue, config: WorkerConfig) -> None:
        self.store = store
        self.queue = queue
        self.cfg = config
        self.wid = config.worker_id
        self.stats = WorkerStats()
        self._stop_heartbeat = threading.Event()
        self._finalize_failed_at: dict[int, float] = {}  # run -> when scoring it last raised
        self._last_round = float("-inf")
        # reaping/finalising reads the database: often enough to notice a dead worker well within its TTL
        self._round_every = max(config.poll, min(10.0, queue.heartbeat_ttl / 2))

    # ------------------------------------------------------------------------------------------ loop
    def run(self) -> WorkerStats:
        self.queue.register(self.wid)
        beat = threading.Thread(target=self._heartbeat, name="govaudit-heartbeat", daemon=True)
        beat.start()
        idle_since = time.monotonic()
        try:
            with _stop_on_signals():
                while True:
                    self._reap_and_finalize()
                    try:
                        taken = self.queue.take(self.wid, timeout=self.cfg.poll)
                    except _redis_errors() as exc:  # Redis restarting: wait for it rather than exit
                        log.warning("worker %s: Redis unavailable (%s); retrying", self.wid, exc)
                        time.sleep(max(1.0, self.cfg.poll * 5))
                        continue
                    if taken is None:
                        if self.cfg.idle_exit is not None and time.monotonic() - idle_since >= self.cfg.idle_exit:
                            log.info("worker %s: idle for %.0fs, leaving", self.wid, self.cfg.idle_exit)
                            break
                        continue
                    handled = self.process(taken)
                    idle_since = time.monotonic()
                    if self.cfg.once and handled:
                        break
        except WorkerStopping:
            log.warning("worker %s: stopping on signal; its unit goes back to the queue", self.wid)
        finally:
            self._stop_heartbeat.set()
            beat.join(timeout=5)
            with contextlib.suppress(Exception):
                self.queue.unregister(self.wid)  # gives back anything still held
        return self.stats

    def _heartbeat(self) -> None:
        interval = max(0.2, self.queue.heartbeat_ttl / 3)
        while not self._stop_heartbeat.wait(interval):
            try:
                self.queue.heartbeat(self.wid)
            except Exception as exc:  # a Redis hiccup: keep trying; the TTL covers a short outage
                log.warning("worker %s: heartbeat failed: %s", self.wid, exc)

    def _reap_and_finalize(self) -> None:
        if time.monotonic() - self._last_round < self._round_every:
            return
        self._last_round = time.monotonic()
        try:
            self.stats.reaped += len(self.queue.reap())
        except Exception:  # never let bookkeeping kill the worker; the next round retries
            log.exception("worker %s: reaper round failed", self.wid)
            return
        for run_id in self.queue.active_runs():
            failed_at = self._finalize_failed_at.get(run_id)
            if failed_at is not None and time.monotonic() - failed_at < FINALIZE_RETRY_SECONDS:
                continue
            self._safe_finalize(run_id)

    def _safe_finalize(self, run_id: int) -> None:
        try:
            self.try_finalize(run_id)
        except Exception:  # scoring crashed: keep the worker, retry later, say what broke
            self._finalize_failed_at[run_id] = time.monotonic()
            log.exception("worker %s: scoring run %s failed; retrying in %ds", self.wid, run_id,
                          FINALIZE_RETRY_SECONDS)

    # ------------------------------------------------------------------------------------------ one unit
    def process(self, taken: Taken) -> bool:
        """Handle one taken unit. True when the unit was handled (done or dropped), False when given back."""
        item = taken.item
        if item is None:
            log.error("worker %s: dropping a queue entry that is not a unit: %r", self.wid, taken.raw[:200])
            self.queue.drop(self.wid, taken)
            self.stats.units_dropped += 1
            return True
        status = self._unit_status(item.run_id, item.site_id)
        if status is None:
            log.error("worker %s: run %s has no site %s (pruned or never created); dropping the unit",
                      self.wid, item.run_id, item.site_id)
            self.queue.drop(self.wid, taken)
            self.stats.units_dropped += 1
            return True
        if taken.attempt > self.cfg.max_attempts and status not in UNIT_DONE:
            self._give_up(item.run_id, item.site_id, taken.attempt - 1)
            self.queue.drop(self.wid, taken)
            self.stats.units_dropped += 1
            self._safe_finalize(item.run_id)
            return True
        if status == "crawling" and live_local_crawlers(self.store, item.run_id, [item.site_id]):
            # the crawl child of a worker killed on this machine is still at it: let it finish first
            log.warning("worker %s: unit %s is still crawled by an orphaned crawl process; waiting",
                        self.wid, item.key)
            self.queue.give_back(self.wid, taken)
            self.stats.units_given_back += 1
            time.sleep(self.cfg.locked_backoff)
            return False
        lock = StoreLock(self.store, purpose="worker", shared=True, run_id=item.run_id)
        try:
            lock.acquire()
        except StoreLocked as exc:
            log.warning("worker %s: %s; unit %s waits", self.wid, exc, item.key)
            self.queue.give_back(self.wid, taken)
            self.stats.units_given_back += 1
            time.sleep(self.cfg.locked_backoff)
            return False
        try:
            self._work_on(item.run_id, item.site_id, status)
        finally:
            lock.release()
        if not self.queue.done(self.wid, taken):
            log.warning("worker %s: unit %s had been given back meanwhile (heartbeat lapsed)", self.wid, item.key)
        self.stats.units_done += 1
        self._safe_finalize(item.run_id)
        return True

    def _work_on(self, run_id: int, site_id: str, status: str) -> None:
        from govaudit.pipeline import check_sites, record_crawl_outcomes

        if status in UNIT_DONE:
            return  # an earlier worker finished it but died before acknowledging
        self._set_worker(run_id, site_id)
        if status in RECRAWL_STATUSES:
            clear_partial_site(self.store, run_id, [site_id])
            self._crawl(run_id, site_id)
            status = self._unit_status(run_id, site_id) or "failed"
            if status in ("pending", "crawling"):
                # the crawler returned without settling the site: say so rather than loop on it
                # (a `failed` site already carries the crawler's reason)
                self._mark_failed(run_id, site_id, f"crawl ended with the site still {status}")
                status = "failed"
        if status in (*UNIT_CRAWLED, "failed"):
            record_crawl_outcomes(self.store, run_id, [site_id])
        if status in UNIT_CRAWLED:
            check_sites(self.store, run_id, [site_id])

    def _crawl(self, run_id: int, site_id: str) -> None:
        from crawler.runner import crawl_run

        with self.store.session() as s:
            run = s.get(m.Run, run_id)
            settings = dict(run.settings or {})
        overrides: dict[str, Any] = dict(settings.get("crawl_settings") or {})
        if settings.get("render"):
            overrides["GOVAUDIT_RENDER"] = settings["render"]
        if self.cfg.scrapy_redis:
            from govaudit.ops.scrapy_redis_units import scrapy_redis_settings

            self._clear_frontiers(run_id, site_id)  # a dead worker's frontier of this unit: it starts fresh
            overrides.update(scrapy_redis_settings(self.cfg.redis_url, self.cfg.prefix, self.wid))
        log_file = None
        if self.cfg.log_dir is not None:
            self.cfg.log_dir.mkdir(parents=True, exist_ok=True)
            log_file = self.cfg.log_dir / f"run-{run_id}-{site_id}.log"
        try:
            crawl_run(self.store, run_id, [site_id], overrides=overrides or None, log_file=log_file)
        finally:
            if self.cfg.scrapy_redis:
                self._collect_frontier(run_id, site_id)

    def _clear_frontiers(self, run_id: int, site_id: str) -> None:
        """Delete the unit's scrapy-redis keys left by workers that are gone (a live worker still crawling
        it after its heartbeat lapsed keeps its own)."""
        from govaudit.ops.scrapy_redis_units import clear_unit_keys, unit_keys

        r = self.queue.r
        alive = frozenset(owner for owner in unit_keys(r, self.cfg.prefix, run_id, site_id)
                          if owner != self.wid and r.exists(self.queue.alive_key(owner)))
        if alive:
            log.warning("worker %s: unit %s:%s is also being crawled by %s", self.wid, run_id, site_id,
                        ", ".join(sorted(alive)))
        n = clear_unit_keys(r, self.cfg.prefix, run_id, site_id, keep_owners=alive)
        if n:
            log.info("worker %s: deleted %d scrapy-redis key(s) left by a dead worker of unit %s:%s",
                     self.wid, n, run_id, site_id)

    def _collect_frontier(self, run_id: int, site_id: str) -> None:
        """Keep what the crawl put through Redis on the unit's stats, then delete the crawl's keys."""
        from govaudit.ops.scrapy_redis_units import clear_unit_keys, read_tally

        try:
            tally = read_tally(self.queue.r, self.cfg.prefix, run_id, site_id, self.wid)
            clear_unit_keys(self.queue.r, self.cfg.prefix, run_id, site_id, owner=self.wid)
        except _redis_errors() as exc:  # the run's end deletes them (clear_run_keys)
            log.warning("worker %s: could not collect unit %s:%s's scrapy-redis keys: %s", self.wid, run_id,
                        site_id, exc)
            return
        if tally is None:  # the crawl child died before its scheduler closed
            return
        with self.store.session() as s:
            rs = s.get(m.RunSite, (run_id, site_id))
            if rs is not None:
                rs.stats = {**(rs.stats or {}), "scheduler": tally.as_stats()}  # a new dict: JSON change seen

    # ------------------------------------------------------------------------------------------ the run
    def try_finalize(self, run_id: int) -> bool:
        """Score the run if every unit is done and nobody else is scoring it. True if this call did it."""
        from govaudit.pipeline import (
            check_sites,
            finish_run,
            mark_network_suspect,
            run_site_statuses,
            score_sites,
        )

        with self.store.session() as s:
            run = s.get(m.Run, run_id)
            if run is None:
                self._forget_run(run_id)
                return False
            if run.status == "finished":
                self._forget_run(run_id)
                return False
            settings = dict(run.settings or {})
            as_of = run.as_of
        statuses = run_site_statuses(self.store, run_id)
        if not statuses or any(st not in UNIT_DONE for st in statuses.values()):
            return False
        if not self.queue.claim_finalize(run_id, self.wid):
            return False
        try:
            lock = StoreLock(self.store, purpose="worker", shared=True, run_id=run_id)
            try:
                lock.acquire()
            except StoreLocked:
                return False  # a crawl or prune holds the store; the reaper round retries later
            with lock:
                crawl_outcomes = self._crawl_outcomes(run_id)
                if mark_network_suspect(self.store, run_id, crawl_outcomes):
                    # a single-process run knows this before its checks (site_health answers unverifiable
                    # instead of unreachable); units were checked one by one without it: check them again
                    check_sites(self.store, run_id, sorted(sid for sid, st in crawl_outcomes.items()
                                                           if st in UNIT_CRAWLED))
                    statuses = run_site_statuses(self.store, run_id)
                checked = sorted(sid for sid, st in statuses.items() if st in ("checked", "scored"))
                if checked:
                    score_sites(self.store, run_id, checked)
                finish_run(self.store, run_id)
                out = settings.get("out")
                if out:
                    from govaudit.nightly import reports_dir_for
                    from reports import write_reports

                    target = reports_dir_for(out, run_id, as_of)
                    target.mkdir(parents=True, exist_ok=True)
                    write_reports(self.store, run_id, target, set(settings.get("formats") or
                                                                  ("csv", "html", "xlsx")))
        finally:
            self.queue.release_finalize(run_id)
        self._forget_run(run_id)
        self.stats.runs_finalized.append(run_id)
        log.info("worker %s: run %s complete and scored", self.wid, run_id)
        return True

    def _forget_run(self, run_id: int) -> None:
        """The run is finished (or gone): no worker looks at it again, and none of its crawl frontiers may
        outlive it (a unit given up after its workers died leaves its keys behind)."""
        self.queue.forget_run(run_id)
        if self.cfg.scrapy_redis:
            from govaudit.ops.scrapy_redis_units import clear_run_keys

            clear_run_keys(self.queue.r, self.cfg.prefix, run_id)

    # ------------------------------------------------------------------------------------------ store helpers
    def _unit_status(self, run_id: int, site_id: str) -> str | None:
        with self.store.session() as s:
            rs = s.get(m.RunSite, (run_id, site_id))
            return rs.status if rs else None

    def _crawl_outcomes(self, run_id: int) -> dict[str, str]:
        """How each site's crawl ended (the status moved on to checked), as the single-process run sees it."""
        with self.store.session() as s:
            rows = s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id)).all()
            return {rs.site_id: (rs.stats or {}).get("crawl_outcome", rs.status) for rs in rows}

    def _set_worker(self, run_id: int, site_id: str) -> None:
        with self.store.session() as s:
            rs = s.get(m.RunSite, (run_id, site_id))
            rs.worker = self.wid[:120]

    def _mark_failed(self, run_id: int, site_id: str, error: str) -> None:
        with self.store.session() as s:
            rs = s.get(m.RunSite, (run_id, site_id))
            rs.status = "failed"
            rs.error = error
            rs.finished_at = m.utcnow()

    def _give_up(self, run_id: int, site_id: str, attempts: int) -> None:
        log.error("worker %s: unit %s:%s lost its worker %d times; marking it failed", self.wid, run_id,
                  site_id, attempts)
        self._mark_failed(run_id, site_id, f"工作进程处理该单位时 {attempts} 次中断，已放弃（可用 "
                                           f"`govaudit crawl --resume {run_id}` 重试）")


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError)


@contextlib.contextmanager
def _stop_on_signals():
    """Turn SIGTERM (systemd stop) into an exception so the unit is given back before exiting."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        raise WorkerStopping(signal.Signals(signum).name)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
