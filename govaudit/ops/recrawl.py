"""Make a site safe to crawl again inside the same run (resume after a kill, a worker's unit given back).

A crawl killed half-way leaves the site `crawling` with some pages, columns, items, documents,
attachments and links stored. Pages (and their blobs) are kept: they are what was fetched, and the
crawler upserts pages by (run_id, site_id, url), so the re-crawl updates them in place. The derived rows
are rebuilt from scratch by the re-crawl, so the partial ones are deleted first — otherwise a resumed site
would list every column twice and the checks would count them twice.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import delete, select, update

from storage import Store
from storage import models as m

# run_sites statuses whose crawl did not complete: the site will be crawled (again)
RECRAWL_STATUSES = ("pending", "crawling", "failed")

# Rows the crawler derives from pages, children before parents (foreign keys).
_DERIVED = (m.Link, m.Attachment, m.ColumnItem, m.Document, m.Column)


def sites_to_recrawl(store: Store, run_id: int) -> list[str]:
    with store.session() as s:
        return sorted(s.scalars(select(m.RunSite.site_id).where(
            m.RunSite.run_id == run_id, m.RunSite.status.in_(RECRAWL_STATUSES))))


def clear_partial_site(store: Store, run_id: int, site_ids: Iterable[str]) -> dict[str, int]:
    """Delete the derived rows of these sites in this run, keep their pages and blobs. One transaction,
    so a kill during the clearing leaves the site either untouched or cleared, both resumable."""
    site_ids = list(site_ids)
    counts: dict[str, int] = {}
    if not site_ids:
        return counts
    with store.session() as s:
        # columns point at their parent column and documents at pages: cut the self-links first
        s.execute(update(m.Column).where(m.Column.run_id == run_id, m.Column.site_id.in_(site_ids))
                  .values(parent_id=None))
        for model in _DERIVED:
            res = s.execute(delete(model).where(model.run_id == run_id, model.site_id.in_(site_ids)))
            counts[model.__tablename__] = res.rowcount or 0
    return counts


def prepare_recrawl(store: Store, run_id: int, site_ids: Iterable[str] | None = None) -> list[str]:
    """Clear the partial rows of every site of the run whose crawl did not complete (or of `site_ids`
    among them). Returns the sites that will be crawled."""
    todo = sites_to_recrawl(store, run_id)
    if site_ids is not None:
        wanted = set(site_ids)
        todo = [s for s in todo if s in wanted]
    clear_partial_site(store, run_id, todo)
    return todo


def _crawler_alive(pid: int) -> bool:
    """Is `pid` a live govaudit crawl process on this machine? (Its command line names crawler.runner, so
    a recycled pid of another program does not count.)"""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else ""
    return state != "Z" and b"crawler.runner" in cmdline


def live_local_crawlers(store: Store, run_id: int, site_ids: Iterable[str] | None = None) -> dict[str, int]:
    """Sites of the run still being crawled by a crawl process alive on this machine (site -> pid).

    The crawl runs in a child process; when its parent (the CLI, a worker) is killed with SIGKILL the
    child is orphaned and keeps writing to the store. Re-crawling the same site beside it would duplicate
    its rows, so a resume must wait for it. The crawler records itself in run_sites.worker as host:pid."""
    host = socket.gethostname()
    out: dict[str, int] = {}
    with store.session() as s:
        q = select(m.RunSite.site_id, m.RunSite.worker).where(m.RunSite.run_id == run_id,
                                                              m.RunSite.status == "crawling")
        if site_ids is not None:
            q = q.where(m.RunSite.site_id.in_(list(site_ids)))
        rows = s.execute(q).all()
    for site_id, worker in rows:
        parts = (worker or "").split(":")
        if len(parts) >= 2 and parts[0] == host and parts[1].isdigit() and _crawler_alive(int(parts[1])):
            out[site_id] = int(parts[1])
    return out
