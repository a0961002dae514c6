"""One run, end to end: register the sites, crawl, check, score, report.

Each stage reads what the previous one stored, so a run interrupted anywhere resumes from its run_sites
statuses (pending → crawling → crawled → checked → scored) without redoing finished work.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import govaudit
from govaudit.sites import SiteSpec
from storage import Store
from storage import models as m

log = logging.getLogger(__name__)

CRAWLED_OR_LATER = ("crawled", "checked", "scored")
# A site whose platform could not be fetched is still checked: site_health reports it, the others answer
# "unverifiable" — an unreachable platform is a finding the rubrics score, a crash of ours is not.
CHECKABLE = ("crawled", "unreachable")


@dataclass
class RunResult:
    run_id: int
    statuses: dict[str, str] = field(default_factory=dict)
    network_suspect: bool = False
    reports: dict[str, Path] = field(default_factory=dict)

    @property
    def failed_sites(self) -> list[str]:
        return sorted(s for s, st in self.statuses.items() if st in ("failed", "unreachable"))

    @property
    def exit_code(self) -> int:
        if self.network_suspect:
            return govaudit.EXIT_NETWORK
        if self.failed_sites:
            return govaudit.EXIT_SITES_FAILED
        return govaudit.EXIT_OK


def upsert_sites(store: Store, sites: Iterable[SiteSpec]) -> None:
    with store.session() as s:
        for spec in sites:
            row = s.get(m.Site, spec.site_id) or m.Site(site_id=spec.site_id)
            row.name, row.unit_type, row.category = spec.name, spec.unit_type, spec.category
            row.url, row.rubric, row.options = spec.url, spec.rubric, dict(spec.options)
            s.add(row)


def latest_run_id(store: Store, *, finished_only: bool = False, before: int | None = None) -> int | None:
    with store.session() as s:
        q = select(func.max(m.Run.id))
        if finished_only:
            q = q.where(m.Run.status == "finished")
        if before is not None:
            q = q.where(m.Run.id < before)
        return s.scalar(q)


def rubric_check_params(rubric_id: str | None) -> dict[str, dict[str, Any]]:
    """The parameters a site's rubric sets for the checks (empty when the rubric is unknown)."""
    if not rubric_id:
        return {}
    from rubric_map.loader import load_rubric

    try:
        return {k: dict(v) for k, v in load_rubric(rubric_id).check_params.items()}
    except (KeyError, ValueError):
        log.warning("rubric %s could not be loaded; checks use their default parameters", rubric_id)
        return {}


def run_crawl_settings(store: Store, run_id: int) -> dict[str, Any]:
    with store.session() as s:
        run = s.get(m.Run, run_id)
        return dict((run.settings or {}).get("crawl_settings") or {})


def create_run(store: Store, sites: list[SiteSpec], *, as_of: dt.date, assessment_year: int | None = None,
               kind: str = "crawl", settings: dict[str, Any] | None = None,
               sites_file: str | None = None) -> int:
    """Register the sites and open a run with every site pending."""
    upsert_sites(store, sites)
    previous = latest_run_id(store)
    with store.session() as s:
        run = m.Run(kind=kind, status="running", as_of=as_of,
                    assessment_year=assessment_year or as_of.year, tool_version=govaudit.__version__,
                    settings=dict(settings or {}), sites_file=sites_file, previous_run_id=previous)
        s.add(run)
        s.flush()
        for spec in sites:
            s.add(m.RunSite(run_id=run.id, site_id=spec.site_id, name=spec.name, unit_type=spec.unit_type,
                            category=spec.category, url=spec.url, rubric=spec.rubric,
                            options={**spec.options, "check_params": spec.options.get("check_params")
                                     or rubric_check_params(spec.rubric)},
                            status="pending"))
        return run.id


def run_site_statuses(store: Store, run_id: int) -> dict[str, str]:
    with store.session() as s:
        rows = s.execute(select(m.RunSite.site_id, m.RunSite.status).where(m.RunSite.run_id == run_id))
        return dict(rows.all())


def _set_status(store: Store, run_id: int, site_id: str, status: str) -> None:
    with store.session() as s:
        rs = s.get(m.RunSite, (run_id, site_id))
        rs.status = status
        if status in ("scored", "failed"):
            rs.finished_at = m.utcnow()


NETWORK_MESSAGE = ("所有单位均无法访问：很可能是本机网络故障，而不是各单位网站的问题；"
                   "本次结果不作扣分依据。")


def mark_network_suspect(store: Store, run_id: int, statuses: dict[str, str]) -> bool:
    """Every site failing at once says our network failed, not the sites (../shared/DESIGN.md)."""
    attempted = [s for s, st in statuses.items() if st not in ("pending", "crawling")]
    suspect = len(attempted) >= 2 and all(statuses[s] in ("unreachable", "failed") for s in attempted)
    with store.session() as s:
        run = s.get(m.Run, run_id)
        for rs in s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id)):
            # a resumed run that now reaches the sites must lose the earlier verdict
            if bool((rs.stats or {}).get("network_suspect")) != suspect:
                rs.stats = {**(rs.stats or {}), "network_suspect": suspect}
        if suspect:
            run.message = NETWORK_MESSAGE
        elif run.message == NETWORK_MESSAGE:
            run.message = None
    return suspect


def check_sites(store: Store, run_id: int, site_ids: Iterable[str],
                progress: Callable[[str], None] | None = None) -> None:
    from checks.runner import run_checks

    for site_id in site_ids:
        if progress:
            progress(f"checking {site_id}")
        run_checks(store, run_id, site_id)
        _set_status(store, run_id, site_id, "checked")


def score_sites(store: Store, run_id: int, site_ids: list[str], *, manual_file: Path | None = None) -> None:
    from rubric_map.engine import score_run

    score_run(store, run_id, site_ids, manual_file=manual_file, keep_detail=False)
    for site_id in site_ids:
        _set_status(store, run_id, site_id, "scored")


def execute_run(store: Store, run_id: int, *, check: bool = True, score: bool = True,
                reports_dir: Path | None = None, report_formats: set[str] | None = None,
                crawl_overrides: dict[str, Any] | None = None, log_file: Path | None = None,
                manual_file: Path | None = None, scope: frozenset[str] | None = None,
                on_progress: Callable[[dict[str, Any]], None] | None = None) -> RunResult:
    """Crawl what is not crawled yet (all of it, or only ``scope``), then check, score and report. Safe to
    call again on a resumed run."""
    from crawler.runner import crawl_run

    statuses = run_site_statuses(store, run_id)
    to_crawl = [s for s, st in statuses.items() if st in ("pending", "crawling", "failed")]
    if to_crawl:
        # a run crawls with the settings it was created with (resume, workers, refetch), unless told otherwise
        overrides = {**run_crawl_settings(store, run_id), **(crawl_overrides or {})}
        crawl_run(store, run_id, to_crawl, scope=scope, overrides=overrides, log_file=log_file,
                  on_progress=on_progress)
        statuses = run_site_statuses(store, run_id)
        record_crawl_outcomes(store, run_id, to_crawl)
    result = RunResult(run_id=run_id, statuses=statuses)
    result.network_suspect = mark_network_suspect(store, run_id, statuses)

    def say(msg: str) -> None:
        if on_progress:
            on_progress({"stage": msg})

    if check:
        check_sites(store, run_id, [s for s, st in statuses.items() if st in CHECKABLE], say)
        statuses = run_site_statuses(store, run_id)
        if score:
            checked = sorted(s for s, st in statuses.items() if st in ("checked", "scored"))
            if checked:
                say("scoring")
                score_sites(store, run_id, checked, manual_file=manual_file)
    with store.session() as s:
        result.statuses = {rs.site_id: reported_status(rs)
                           for rs in s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id))}
    finish_run(store, run_id)
    if reports_dir is not None:
        from reports import write_reports

        say("writing reports")
        result.reports = write_reports(store, run_id, reports_dir, report_formats or {"csv", "html", "xlsx"})
    return result


def record_crawl_outcomes(store: Store, run_id: int, site_ids: list[str]) -> None:
    """Keep how each site's crawl ended: its status moves on to checked/scored, the outcome must not be lost."""
    with store.session() as s:
        for rs in s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id, m.RunSite.site_id.in_(site_ids))):
            rs.stats = {**(rs.stats or {}), "crawl_outcome": rs.status}


def reported_status(rs: m.RunSite) -> str:
    """A site that could not be crawled stays reported as such once its (unverifiable) checks are stored."""
    outcome = (rs.stats or {}).get("crawl_outcome")
    return outcome if outcome in ("unreachable", "failed") else rs.status


def finish_run(store: Store, run_id: int) -> None:
    with store.session() as s:
        run = s.get(m.Run, run_id)
        pending = s.scalar(select(func.count()).select_from(m.RunSite).where(
            m.RunSite.run_id == run_id, m.RunSite.status.in_(("pending", "crawling"))))
        run.status = "finished" if not pending else "interrupted"
        run.finished_at = m.utcnow()
