"""`govaudit enqueue`: open tonight's run in the shared store and queue one unit per site for the workers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from govaudit.ops.workqueue import WorkItem, WorkQueue
from govaudit.pipeline import create_run
from govaudit.sites import SiteSpec
from storage import Store

# a unit in one of these states still has work left (see govaudit.ops.worker)
UNFINISHED = ("pending", "crawling", "crawled", "unreachable")


@dataclass(frozen=True)
class Enqueued:
    run_id: int
    units: int


def enqueue_run(store: Store, queue: WorkQueue, sites: list[SiteSpec], *, as_of: dt.date,
                assessment_year: int | None = None, settings: dict[str, Any] | None = None,
                sites_file: str | None = None) -> Enqueued:
    """Create the run (every site pending) and push its units. The run exists before any unit is queued,
    so a worker never sees a unit of a run it cannot find."""
    run_id = create_run(store, sites, as_of=as_of, assessment_year=assessment_year, kind="distributed",
                        settings=settings, sites_file=sites_file)
    n = queue.push([WorkItem(run_id=run_id, site_id=s.site_id) for s in sites])
    return Enqueued(run_id=run_id, units=n)


def requeue_run(store: Store, queue: WorkQueue, run_id: int) -> Enqueued:
    """Queue again the units of an existing run that are not done and not queued (e.g. Redis was
    flushed, or a unit was given up after repeated worker deaths and has since been reset)."""
    from sqlalchemy import select

    from storage import models as m

    with store.session() as s:
        if s.get(m.Run, run_id) is None:
            raise LookupError(f"no run {run_id} in this store")
        todo = sorted(s.scalars(select(m.RunSite.site_id).where(
            m.RunSite.run_id == run_id, m.RunSite.status.in_(UNFINISHED))))
    queued = queue.queued_sites(run_id)
    items = [WorkItem(run_id=run_id, site_id=sid) for sid in todo if sid not in queued]
    if items:
        queue.push(items)
    else:
        queue.r.sadd(queue.runs_key, run_id)  # nothing to crawl, but let a worker score it if it is done
    return Enqueued(run_id=run_id, units=len(items))
