"""Read one run's stored findings, scores, sites and disputes into ``ReportData``.

The only module of ``reports`` (with ``diff`` and ``disputes``) that queries the database. It never
computes a score: totals, grades and ranks are the rubric engine's ``scores`` rows, shown as stored.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reports.disputes import list_disputes
from reports.records import DisputeInfo, FindingRow, ReportData, RunInfo, ScoreRow, SiteRow
from storage import Store
from storage import models as m

log = logging.getLogger(__name__)

# Report order inside a site: problems first, then what could not be verified, then passes.
STATUS_ORDER = {"fail": 0, "unverifiable": 1, "pass": 2, "not_applicable": 3}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


def basis_finding_ids(basis: Any) -> tuple[int, ...]:
    """Finding ids out of a score's ``basis``.

    The contract says "finding ids", but the column is free JSON written by another package, so accept
    ints, numeric strings and dicts carrying ``finding_id``/``id``; anything else is ignored (logged), never
    a crash of the report.
    """
    out: list[int] = []
    items: Iterable[Any] = basis if isinstance(basis, list | tuple) else ([] if basis is None else [basis])
    for item in items:
        value = item.get("finding_id", item.get("id")) if isinstance(item, dict) else item
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            out.append(value)
        elif isinstance(value, str) and value.strip().isdigit():
            out.append(int(value.strip()))
        else:
            log.debug("ignoring score basis entry %r", item)
    return tuple(dict.fromkeys(out))


def check_titles() -> dict[str, str]:
    """Check titles from the check registry, for display only; a broken check module must not cost the
    report, so any import error yields an empty table (reports then show check ids)."""
    try:
        from checks import registry

        return {cid: spec.title for cid, spec in registry().items()}
    except Exception as exc:  # noqa: BLE001 - display nicety, never fatal
        log.warning("check titles unavailable: %s", exc)
        return {}


def _run_info(run: m.Run) -> RunInfo:
    return RunInfo(id=run.id, kind=run.kind, status=run.status, started_at=run.started_at,
                   finished_at=run.finished_at, as_of=run.as_of, assessment_year=run.assessment_year,
                   tool_version=run.tool_version, previous_run_id=run.previous_run_id)


def load_sites(s: Session, run_id: int) -> list[SiteRow]:
    rows = s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id).order_by(m.RunSite.site_id))
    return [SiteRow(site_id=r.site_id, name=r.name, unit_type=r.unit_type, category=r.category, url=r.url,
                    rubric=r.rubric, status=r.status, error=r.error, pages_fetched=r.pages_fetched or 0)
            for r in rows]


def finding_row(f: m.Finding) -> FindingRow:
    return FindingRow(id=f.id, run_id=f.run_id, site_id=f.site_id, check_id=f.check_id,
                      check_version=f.check_version, code=f.code, status=f.status, severity=f.severity,
                      subject=f.subject or "", fingerprint=f.fingerprint, message=f.message or "", url=f.url,
                      evidence=f.evidence, evidence_file=f.evidence_file, evidence_page=f.evidence_page,
                      details=f.details if isinstance(f.details, dict) else {}, created_at=f.created_at)


def score_row(r: m.Score) -> ScoreRow:
    return ScoreRow(id=r.id, site_id=r.site_id, rubric_id=r.rubric_id, indicator_id=r.indicator_id,
                    path=r.path or "", name=r.name or "", mode=r.mode, max_points=r.max_points or 0.0,
                    deducted=r.deducted or 0.0, bonus=r.bonus or 0.0, score=r.score,
                    basis=basis_finding_ids(r.basis), explanation=r.explanation, grade=r.grade, rank=r.rank,
                    adjusted=bool(r.adjusted), details=r.details if isinstance(r.details, dict) else {})


def first_seen_runs(s: Session, run_id: int) -> dict[tuple[str, str], int]:
    """(site_id, fingerprint) -> the earliest run, up to this one, in which that finding appeared."""
    # One grouped scan of the sites' earlier findings, filtered here in Python. A self-join on
    # (site_id, fingerprint) has no index to use and took 8.6 s on 100k findings; this takes well under 1 s.
    wanted = set(s.execute(select(m.Finding.site_id, m.Finding.fingerprint).where(m.Finding.run_id == run_id)))
    if not wanted:
        return {}
    sites = sorted({site for site, _ in wanted})
    out: dict[tuple[str, str], int] = {}
    for i in range(0, len(sites), 500):  # bounded IN lists
        q = (select(m.Finding.site_id, m.Finding.fingerprint, func.min(m.Finding.run_id))
             .where(m.Finding.run_id <= run_id, m.Finding.site_id.in_(sites[i:i + 500]))
             .group_by(m.Finding.site_id, m.Finding.fingerprint))
        for site, fp, first in s.execute(q):
            if (site, fp) in wanted:
                out[(site, fp)] = first
    return out


def active_disputes(s: Session, site_ids: Iterable[str]) -> dict[tuple[str, str], DisputeInfo]:
    """(site_id, fingerprint) -> the newest active dispute (it follows the finding across runs)."""
    ids = list(site_ids)
    if not ids:
        return {}
    q = (select(m.Dispute).where(m.Dispute.active.is_(True), m.Dispute.site_id.in_(ids))
         .order_by(m.Dispute.created_at, m.Dispute.id))
    out: dict[tuple[str, str], DisputeInfo] = {}
    for d in s.scalars(q):
        out[(d.site_id, d.fingerprint)] = DisputeInfo(id=d.id, reason=d.reason, author=d.author,
                                                      created_at=d.created_at, source=d.source)
    return out


def page_screenshots(s: Session, run_id: int) -> dict[tuple[str, str], str]:
    """(site_id, url or final url) -> screenshot blob of that page in this run."""
    q = select(m.Page.site_id, m.Page.url, m.Page.final_url, m.Page.screenshot_sha256).where(
        m.Page.run_id == run_id, m.Page.screenshot_sha256.is_not(None))
    out: dict[tuple[str, str], str] = {}
    for site_id, url, final_url, sha in s.execute(q):
        out.setdefault((site_id, url), sha)
        if final_url:
            out.setdefault((site_id, final_url), sha)
    return out


def load_report_data(store: Store, run_id: int) -> ReportData:
    with store.session() as s:
        run = s.get(m.Run, run_id)
        if run is None:
            raise LookupError(f"no run {run_id}")
        info = _run_info(run)
        sites = load_sites(s, run_id)
        findings = [finding_row(f) for f in s.scalars(
            select(m.Finding).where(m.Finding.run_id == run_id).order_by(m.Finding.id))]
        scores = [score_row(r) for r in s.scalars(
            select(m.Score).where(m.Score.run_id == run_id).order_by(m.Score.id))]
        first_seen = first_seen_runs(s, run_id)
        disputes = active_disputes(s, {f.site_id for f in findings})
        screenshots = page_screenshots(s, run_id)

    consumed: dict[int, list[str]] = defaultdict(list)
    for sc in scores:
        if sc.is_total:
            continue
        for fid in sc.basis:
            if sc.label not in consumed[fid]:
                consumed[fid].append(sc.label)
    for f in findings:
        f.rubric_items = consumed.get(f.id, [])
        f.first_seen_run = first_seen.get((f.site_id, f.fingerprint), run_id)
        f.dispute = disputes.get((f.site_id, f.fingerprint))
        if f.url:
            f.page_screenshot = screenshots.get((f.site_id, f.url))

    findings.sort(key=lambda f: (f.site_id, STATUS_ORDER.get(f.status, 9), SEVERITY_ORDER.get(f.severity, 9),
                                 f.check_id, f.code, f.subject, f.id))
    site_ids = sorted({s.site_id for s in sites} | {f.site_id for f in findings})
    return ReportData(run=info, sites=sites, findings=findings, scores=scores, check_titles=check_titles(),
                      disputes=list_disputes(store, site_ids=site_ids))
