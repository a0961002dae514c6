"""Scheduled runs: crawl (incrementally) → check → score → reports in a per-run directory → the changes
since the previous finished run of the same sites, all under the store's lock; then optional retention.

The crawl is incremental by itself: the crawler sends conditional requests (If-None-Match /
If-Modified-Since) with the previous run's validators and reuses the stored evidence on a 304, so a
night over unchanged platforms downloads almost nothing yet stores a complete run.

Resuming (`govaudit crawl --resume RUN`) goes through the same function: sites whose crawl did not
complete get their partial derived rows cleared (``govaudit.ops.recrawl``) and are crawled again; sites
already crawled or checked are not redone.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from govaudit.ops.recrawl import prepare_recrawl
from govaudit.pipeline import RunResult, execute_run
from storage import Store
from storage import models as m

log = logging.getLogger(__name__)

DEFAULT_REPORTS_TEMPLATE = "govaudit-reports/{run_id}"
KEEP_RUNS_ENV = "GOVAUDIT_KEEP_RUNS"
REPORTS_ENV = "GOVAUDIT_REPORTS"


@dataclass
class NightlyOutcome:
    run_id: int
    result: RunResult
    reports_dir: Path | None
    previous_run_id: int | None = None
    changes_text: str = ""
    changed: bool = False
    recrawled: list[str] = field(default_factory=list)
    prune_summary: str | None = None
    fetch_stats: FetchStats | None = None


def reports_dir_for(template: str | os.PathLike[str] | None, run_id: int, as_of: dt.date) -> Path:
    """`--out` may name the run's directory with {run_id} and {date} (the as-of date); a plain directory
    gets a subdirectory per run, so nightly reports never overwrite each other."""
    text = str(template or os.environ.get(REPORTS_ENV) or DEFAULT_REPORTS_TEMPLATE)
    if re.search(r"\{[^{}]*\}", text):
        try:
            return Path(text.format(run_id=run_id, date=as_of.isoformat()))
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"--out template {text!r}: only {{run_id}} and {{date}} may be used ({exc})") from None
    return Path(text) / str(run_id)


def keep_runs_setting(value: int | None) -> int | None:
    """The retention setting: the flag, else $GOVAUDIT_KEEP_RUNS; None (keep everything) when unset."""
    if value is not None:
        return value
    raw = os.environ.get(KEEP_RUNS_ENV, "").strip()
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        raise ValueError(f"${KEEP_RUNS_ENV} must be a whole number of runs, not {raw!r}") from None
    return n


def previous_finished_run(store: Store, run_id: int) -> int | None:
    """The newest earlier finished run holding every site of this run (the one to compare with);
    failing that, the newest earlier finished run sharing at least one of its sites."""
    with store.session() as s:
        mine = set(s.scalars(select(m.RunSite.site_id).where(m.RunSite.run_id == run_id)))
        if not mine:
            return None
        q = (select(m.RunSite.run_id, func.count())
             .join(m.Run, m.Run.id == m.RunSite.run_id)
             .where(m.Run.status == "finished", m.Run.id < run_id, m.RunSite.site_id.in_(mine))
             .group_by(m.RunSite.run_id).order_by(m.RunSite.run_id.desc()))
        candidates = s.execute(q).all()
    for rid, n in candidates:
        if n == len(mine):
            return rid
    return candidates[0][0] if candidates else None


@dataclass(frozen=True)
class FetchStats:
    """What a run's crawl cost: requests answered with a body, requests answered 304 (stored evidence
    reused), pages copied from the previous run without a request (their column's list was unchanged),
    bytes over the wire, and the pages whose fetch did not succeed, by fetch status."""

    requests: int = 0
    reused: int = 0  # answered 304
    downloaded: int = 0
    bytes: int = 0
    skipped: int = 0  # copied unasked
    problems: dict[str, int] = field(default_factory=dict)

    @property
    def reused_share(self) -> float:
        """Share of the requests actually sent that answered 304."""
        return self.reused / self.requests if self.requests else 0.0


def fetch_stats(store: Store, run_id: int) -> FetchStats:
    """From the crawler's per-site counters: ``stats["incremental"]`` (fetched / revalidated / skipped) where
    the crawler wrote them, else pages_fetched and pages_reused."""
    downloaded = not_modified = skipped = nbytes = 0
    with store.session() as s:
        for rs in s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id)):
            inc = (rs.stats or {}).get("incremental")
            if inc:
                downloaded += int(inc.get("fetched") or 0)
                not_modified += int(inc.get("revalidated") or 0)
                skipped += int(inc.get("skipped") or 0)
            else:
                downloaded += rs.pages_fetched or 0
                not_modified += rs.pages_reused or 0
            nbytes += rs.bytes_downloaded or 0
        rows = s.execute(select(m.Page.fetch_status, func.count()).where(
            m.Page.run_id == run_id, m.Page.fetch_status.not_in(("ok", "not_modified_reused")))
            .group_by(m.Page.fetch_status)).all()
    return FetchStats(requests=downloaded + not_modified, reused=not_modified, downloaded=downloaded,
                      bytes=nbytes, skipped=skipped, problems={status: n for status, n in rows})


def changes_since_previous(store: Store, run_id: int) -> tuple[int | None, str, bool]:
    """(previous run, text, whether anything changed) — reports.diff against the previous finished run."""
    from reports.diff import diff_runs, format_diff

    prev = previous_finished_run(store, run_id)
    if prev is None:
        return None, f"运行 {run_id}：没有可比较的上一次已完成运行（首次运行）。\n", False
    with store.session() as s:
        sites = sorted(s.scalars(select(m.RunSite.site_id).where(m.RunSite.run_id == run_id)))
    diff = diff_runs(store, prev, run_id, site_ids=sites)
    changed = bool(diff.new or diff.resolved or diff.unstable or diff.score_changes
                   or diff.sites_only_in_a or diff.sites_only_in_b)
    text = format_diff(diff)
    if not changed:
        text += "与上一次运行相比没有变化。\n"
    return prev, text, changed


def run_scheduled(store: Store, run_id: int, *, reports_dir: Path | None = None, check: bool = True,
                  compare: bool = True, crawl_overrides: dict[str, Any] | None = None,
                  log_file: Path | None = None, keep_runs: int | None = None,
                  on_progress: Callable[[dict[str, Any]], None] | None = None) -> NightlyOutcome:
    """Crawl what is left of the run, check, score, write reports to `reports_dir`, compare with the
    previous finished run, prune to `keep_runs`. The caller holds the store's lock."""
    recrawled = prepare_recrawl(store, run_id)
    if reports_dir is not None and check:
        reports_dir.mkdir(parents=True, exist_ok=True)
    else:
        reports_dir = None  # reports read findings and scores: nothing to write without checks
    result = execute_run(store, run_id, check=check, score=check, reports_dir=reports_dir,
                         crawl_overrides=crawl_overrides, log_file=log_file, on_progress=on_progress)
    outcome = NightlyOutcome(run_id=run_id, result=result, reports_dir=reports_dir, recrawled=recrawled,
                             fetch_stats=fetch_stats(store, run_id))
    if check and compare:
        outcome.previous_run_id, outcome.changes_text, outcome.changed = changes_since_previous(store, run_id)
        if reports_dir is not None:
            (reports_dir / "changes.txt").write_text(outcome.changes_text, encoding="utf-8")
    # prune only after a run that finished: a failed night must not eat the evidence of the good ones
    if keep_runs is not None and _run_status(store, run_id) == "finished":
        from storage.retention import prune

        outcome.prune_summary = prune(store, keep_runs).describe()
    return outcome


def _run_status(store: Store, run_id: int) -> str:
    with store.session() as s:
        return s.get(m.Run, run_id).status


def describe_fetches(stats: FetchStats) -> str:
    if not stats.requests:
        return f"no requests sent ({stats.skipped} pages copied without asking)" if stats.skipped else "no requests sent"
    text = (f"{stats.requests} requests: {stats.reused} unchanged (304, stored evidence reused, "
            f"{100 * stats.reused_share:.0f}%), {stats.downloaded} downloaded, {stats.bytes / 1e6:.1f} MB")
    if stats.skipped:
        text += f"; {stats.skipped} pages copied without asking (their column's list was unchanged)"
    if stats.problems:
        text += "; not fetched: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.problems.items()))
    return text
