"""History: what changed between two runs — new, resolved and persisting problems, and score changes.

Findings are matched by site + fingerprint (sha1 of check id, code and subject), among ``fail`` findings.
A fetch status is not a finding (../shared/DESIGN.md), so a problem that appears or disappears only
because we could not see the site properly is **unstable**, never new or resolved. It is unstable when,
in either run:

- the site as a whole was not seen (run-site status unreachable/failed/not finished, or a
  ``site_health.unreachable`` failure);
- the page or attachment at the finding's URL came back with a fetch status that describes our fetch
  (timeout, WAF block, 5xx ...; the list is ``unstable_fetch_statuses`` in reports/data/labels.yaml);
- in the other run the check could not verify the same subject (``unverifiable``), crashed
  (``<check>.error``) or did not run at all for the site.

Scores are compared as stored (never recomputed): every indicator and total whose score, grade or rank
differs, with the ``adjusted`` mark the rubric engine sets after disputes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from reports.labels import label, site_not_seen_statuses, unstable_fetch_statuses
from reports.loader import score_row
from reports.records import ScoreRow
from reports.schema import fmt_points
from storage import Store
from storage import models as m

UNREACHABLE_CODE = "site_health.unreachable"


@dataclass(frozen=True)
class FindingLite:
    id: int
    check_id: str
    code: str
    status: str
    subject: str
    fingerprint: str
    message: str
    url: str | None


@dataclass
class SiteSnapshot:
    """What a diff needs of one site in one run."""

    run_id: int
    site_id: str
    name: str
    run_site_status: str | None  # None = the site is not part of the run
    findings: list[FindingLite] = field(default_factory=list)
    bad_fetches: dict[str, str] = field(default_factory=dict)  # url -> unstable fetch status
    scores: list[ScoreRow] = field(default_factory=list)

    @property
    def not_seen(self) -> str | None:
        """Why the site as a whole was not seen in this run, or None."""
        if self.run_site_status is None:
            return f"运行 {self.run_id} 未包含该单位"
        if self.run_site_status in site_not_seen_statuses():
            return f"运行 {self.run_id} 中该单位{label('run_site_status', self.run_site_status)}"
        if any(f.code == UNREACHABLE_CODE and f.status == "fail" for f in self.findings):
            return f"运行 {self.run_id} 中该单位网站无法访问"
        return None

    def failing(self) -> dict[str, FindingLite]:
        return {f.fingerprint: f for f in self.findings if f.status == "fail"}


@dataclass(frozen=True)
class FindingChange:
    site_id: str
    fingerprint: str
    check_id: str
    code: str
    subject: str
    message: str
    url: str | None
    finding_id_a: int | None
    finding_id_b: int | None
    reason: str = ""  # why it is unstable


@dataclass(frozen=True)
class ScoreChange:
    site_id: str
    rubric_id: str
    indicator_id: str
    name: str
    before: float | None
    after: float | None
    grade_before: str | None = None
    grade_after: str | None = None
    rank_before: int | None = None
    rank_after: int | None = None
    adjusted_before: bool = False
    adjusted_after: bool = False

    @property
    def is_total(self) -> bool:
        return self.indicator_id == "__total__"

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass
class SiteDiff:
    site_id: str
    name: str
    run_a: int
    run_b: int
    new: list[FindingChange] = field(default_factory=list)
    resolved: list[FindingChange] = field(default_factory=list)
    persisting: list[FindingChange] = field(default_factory=list)
    unstable: list[FindingChange] = field(default_factory=list)
    score_changes: list[ScoreChange] = field(default_factory=list)
    not_seen: list[str] = field(default_factory=list)  # why the site was not (fully) seen in a run

    @property
    def changed(self) -> bool:
        return bool(self.new or self.resolved or self.unstable or self.score_changes)


@dataclass
class RunDiff:
    run_a: int
    run_b: int
    sites: list[SiteDiff] = field(default_factory=list)
    sites_only_in_a: list[str] = field(default_factory=list)
    sites_only_in_b: list[str] = field(default_factory=list)

    def _all(self, name: str) -> list:
        return [x for sd in self.sites for x in getattr(sd, name)]

    @property
    def new(self) -> list[FindingChange]:
        return self._all("new")

    @property
    def resolved(self) -> list[FindingChange]:
        return self._all("resolved")

    @property
    def persisting(self) -> list[FindingChange]:
        return self._all("persisting")

    @property
    def unstable(self) -> list[FindingChange]:
        return self._all("unstable")

    @property
    def score_changes(self) -> list[ScoreChange]:
        return self._all("score_changes")


# --- comparing two snapshots (pure) -------------------------------------------------------------------

def _instability(f: FindingLite, a: SiteSnapshot, b: SiteSnapshot, other: SiteSnapshot) -> str | None:
    """Why a flip of ``f`` between runs a and b may be an artefact of fetching; ``other`` is the run where
    the finding is not failing."""
    for snap in (a, b):
        why = snap.not_seen
        if why:
            return why
    if f.url:
        for snap in (a, b):
            status = snap.bad_fetches.get(f.url)
            if status:
                return f"运行 {snap.run_id} 中该页面抓取失败（{status}）"
    of_check = [g for g in other.findings if g.check_id == f.check_id]
    if not of_check:
        return f"运行 {other.run_id} 未运行检查 {f.check_id}"
    for g in of_check:
        if g.code == f"{f.check_id}.error":
            return f"运行 {other.run_id} 中检查 {f.check_id} 出错"
        if g.status == "unverifiable" and (g.fingerprint == f.fingerprint or g.subject == f.subject):
            return f"运行 {other.run_id} 中无法核验：{g.message}"
    return None


def _change(site_id: str, f: FindingLite, a: FindingLite | None, b: FindingLite | None,
            reason: str = "") -> FindingChange:
    return FindingChange(site_id=site_id, fingerprint=f.fingerprint, check_id=f.check_id, code=f.code,
                         subject=f.subject, message=f.message, url=f.url,
                         finding_id_a=a.id if a else None, finding_id_b=b.id if b else None, reason=reason)


def _score_changes(a: SiteSnapshot, b: SiteSnapshot) -> list[ScoreChange]:
    before = {(r.rubric_id, r.indicator_id): r for r in a.scores}
    out: list[ScoreChange] = []
    for r in b.scores:
        old = before.get((r.rubric_id, r.indicator_id))
        if old is None:
            continue  # a rubric or indicator that did not exist before: nothing to compare
        differs = (old.score is None) != (r.score is None) or (
            old.score is not None and r.score is not None and abs(old.score - r.score) > 1e-9)
        if r.is_total:
            differs = differs or old.grade != r.grade or old.rank != r.rank
        differs = differs or old.adjusted != r.adjusted
        if differs:
            out.append(ScoreChange(site_id=b.site_id, rubric_id=r.rubric_id, indicator_id=r.indicator_id,
                                   name=r.name or r.path, before=old.score, after=r.score,
                                   grade_before=old.grade, grade_after=r.grade, rank_before=old.rank,
                                   rank_after=r.rank, adjusted_before=old.adjusted, adjusted_after=r.adjusted))
    out.sort(key=lambda c: (c.rubric_id, not c.is_total, c.indicator_id))
    return out


def compare_sites(a: SiteSnapshot, b: SiteSnapshot) -> SiteDiff:
    fa, fb = a.failing(), b.failing()
    d = SiteDiff(site_id=b.site_id, name=b.name or a.name, run_a=a.run_id, run_b=b.run_id,
                 not_seen=[w for w in (a.not_seen, b.not_seen) if w])
    for fp, f in fb.items():
        if fp in fa:
            d.persisting.append(_change(b.site_id, f, fa[fp], f))
        else:
            why = _instability(f, a, b, other=a)
            (d.unstable if why else d.new).append(_change(b.site_id, f, None, f, why or ""))
    for fp, f in fa.items():
        if fp not in fb:
            why = _instability(f, a, b, other=b)
            (d.unstable if why else d.resolved).append(_change(a.site_id, f, f, None, why or ""))
    for lst in (d.new, d.resolved, d.persisting, d.unstable):
        lst.sort(key=lambda c: (c.check_id, c.code, c.subject))
    d.score_changes = _score_changes(a, b)
    return d


# --- reading snapshots from the store -----------------------------------------------------------------

def load_snapshots(s: Session, run_id: int, site_ids: list[str] | None = None) -> dict[str, SiteSnapshot]:
    """Snapshots of the run's sites (or of ``site_ids``, including ones the run did not contain)."""
    q = select(m.RunSite).where(m.RunSite.run_id == run_id)
    if site_ids is not None:
        q = q.where(m.RunSite.site_id.in_(site_ids))
    snaps = {rs.site_id: SiteSnapshot(run_id=run_id, site_id=rs.site_id, name=rs.name,
                                      run_site_status=rs.status) for rs in s.scalars(q)}
    for sid in site_ids or []:
        snaps.setdefault(sid, SiteSnapshot(run_id=run_id, site_id=sid, name="", run_site_status=None))
    wanted = list(snaps)

    fq = select(m.Finding).where(m.Finding.run_id == run_id, m.Finding.site_id.in_(wanted))
    for f in s.scalars(fq):
        snaps[f.site_id].findings.append(FindingLite(
            id=f.id, check_id=f.check_id, code=f.code, status=f.status, subject=f.subject or "",
            fingerprint=f.fingerprint, message=f.message or "", url=f.url))

    bad = sorted(unstable_fetch_statuses())
    pq = select(m.Page.site_id, m.Page.url, m.Page.final_url, m.Page.fetch_status).where(
        m.Page.run_id == run_id, m.Page.site_id.in_(wanted), m.Page.fetch_status.in_(bad))
    for site_id, url, final_url, status in s.execute(pq):
        snaps[site_id].bad_fetches.setdefault(url, status)
        if final_url:
            snaps[site_id].bad_fetches.setdefault(final_url, status)
    aq = select(m.Attachment.site_id, m.Attachment.url, m.Attachment.fetch_status).where(
        m.Attachment.run_id == run_id, m.Attachment.site_id.in_(wanted), m.Attachment.fetch_status.in_(bad))
    for site_id, url, status in s.execute(aq):
        snaps[site_id].bad_fetches.setdefault(url, status)

    sq = select(m.Score).where(m.Score.run_id == run_id, m.Score.site_id.in_(wanted)).order_by(m.Score.id)
    for r in s.scalars(sq):
        snaps[r.site_id].scores.append(score_row(r))
    return snaps


def diff_runs(store: Store, run_a: int, run_b: int, site_ids: list[str] | None = None) -> RunDiff:
    """Compare run ``run_a`` (before) with ``run_b`` (after), site by site."""
    with store.session() as s:
        for rid in (run_a, run_b):
            if s.get(m.Run, rid) is None:
                raise LookupError(f"no run {rid}")
        snaps_a = load_snapshots(s, run_a, site_ids)
        snaps_b = load_snapshots(s, run_b, site_ids)
    out = RunDiff(run_a=run_a, run_b=run_b)
    for sid in sorted(set(snaps_a) | set(snaps_b)):
        a, b = snaps_a.get(sid), snaps_b.get(sid)
        in_a = a is not None and a.run_site_status is not None
        in_b = b is not None and b.run_site_status is not None
        if in_a and in_b:
            out.sites.append(compare_sites(a, b))
        elif in_a:
            out.sites_only_in_a.append(sid)
        elif in_b:
            out.sites_only_in_b.append(sid)
    return out


def previous_run_of_site(store: Store, site_id: str, run_id: int) -> int | None:
    """The latest earlier run that contained the site (its "last run"), whatever became of it there."""
    with store.session() as s:
        q = (select(m.RunSite.run_id).where(m.RunSite.site_id == site_id, m.RunSite.run_id < run_id)
             .order_by(m.RunSite.run_id.desc()).limit(1))
        return s.scalars(q).first()


def since_last_run(store: Store, run_id: int) -> dict[str, SiteDiff]:
    """For every site of the run, its diff against that site's previous run (sites seen for the first time
    are absent). Runs are grouped so each earlier run is read once."""
    with store.session() as s:
        site_ids = list(s.scalars(select(m.RunSite.site_id).where(m.RunSite.run_id == run_id)))
    by_prev: dict[int, list[str]] = defaultdict(list)
    for sid in site_ids:
        prev = previous_run_of_site(store, sid, run_id)
        if prev is not None:
            by_prev[prev].append(sid)
    out: dict[str, SiteDiff] = {}
    for prev, sids in by_prev.items():
        for sd in diff_runs(store, prev, run_id, site_ids=sids).sites:
            out[sd.site_id] = sd
    return out


# --- text ---------------------------------------------------------------------------------------------

def _fmt_change(c: FindingChange, mark: str) -> str:
    subject = f" [{c.subject}]" if c.subject else ""
    line = f"    {mark} {c.code}{subject} — {c.message}"
    if c.reason:
        line += f"\n        原因：{c.reason}"
    return line


def indicator_label(indicator_id: str, name: str) -> str:
    """``2.1 要素齐全``; just the name when the rubric uses the name as the id."""
    if not name or name == indicator_id:
        return name or indicator_id
    return f"{indicator_id} {name}"


def _fmt_score(c: ScoreChange) -> str:
    delta = c.delta
    change = f"{fmt_points(c.before) or '待人工评分'} → {fmt_points(c.after) or '待人工评分'}"
    if delta is not None and abs(delta) > 1e-9:
        change += f" ({'+' if delta > 0 else ''}{fmt_points(delta)})"
    extra = []
    if c.is_total and c.grade_before != c.grade_after:
        extra.append(f"等次 {c.grade_before or '-'} → {c.grade_after or '-'}")
    if c.is_total and c.rank_before != c.rank_after:
        extra.append(f"排名 {c.rank_before or '-'} → {c.rank_after or '-'}")
    if c.adjusted_after:
        extra.append("已因争议调整")
    what = "总分" if c.is_total else indicator_label(c.indicator_id, c.name)
    return f"    {c.rubric_id} {what}: {change}" + (f"；{'；'.join(extra)}" if extra else "")


def format_diff(diff: RunDiff, *, verbose: bool = False) -> str:
    """The diff as text for the terminal (``govaudit diff RUN_A RUN_B``). Persisting problems are
    counted, and listed with ``verbose``."""
    lines = [f"运行 {diff.run_a} → 运行 {diff.run_b}："
             f"{label('change', 'new')} {len(diff.new)}，{label('change', 'resolved')} {len(diff.resolved)}，"
             f"{label('change', 'persisting')} {len(diff.persisting)}，不稳定 {len(diff.unstable)}，"
             f"得分变化 {len(diff.score_changes)}"]
    for sd in diff.sites:
        if not sd.changed and not (verbose and sd.persisting):
            continue
        lines.append(f"\n{sd.site_id} {sd.name}")
        for why in sd.not_seen:
            lines.append(f"  注意：{why}")
        for title, items, mark in ((label("change", "new"), sd.new, "+"),
                                   (label("change", "resolved"), sd.resolved, "-"),
                                   (label("change", "unstable"), sd.unstable, "~")):
            if items:
                lines.append(f"  {title} ({len(items)}):")
                lines.extend(_fmt_change(c, mark) for c in items)
        if sd.persisting:
            lines.append(f"  {label('change', 'persisting')} ({len(sd.persisting)})" + (":" if verbose else ""))
            if verbose:
                lines.extend(_fmt_change(c, "=") for c in sd.persisting)
        if sd.score_changes:
            lines.append(f"  得分变化 ({len(sd.score_changes)}):")
            lines.extend(_fmt_score(c) for c in sd.score_changes)
    if diff.sites_only_in_a:
        lines.append(f"\n仅在运行 {diff.run_a} 中：{', '.join(diff.sites_only_in_a)}")
    if diff.sites_only_in_b:
        lines.append(f"\n仅在运行 {diff.run_b} 中：{', '.join(diff.sites_only_in_b)}")
    return "\n".join(lines) + "\n"
