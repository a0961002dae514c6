"""Reading a run's sites, findings and disputes, and writing ``scores`` rows (the engine stays pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select

from rubric_map.explain import indicator_explanation, total_explanation
from rubric_map.findings import PlainFinding
from rubric_map.model import Rubric
from storage import models as m

TOTAL_ID = "__total__"


def load_run_sites(store: Any, run_id: int) -> list[Any]:
    from rubric_map.engine import _SiteRef

    with store.session() as s:
        if s.get(m.Run, run_id) is None:
            raise LookupError(f"no run {run_id}")
        rows = s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id).order_by(m.RunSite.site_id)).all()
        return [_SiteRef(site_id=r.site_id, name=r.name, category=r.category, rubric=r.rubric,
                         unit_type=r.unit_type) for r in rows]


def load_findings(store: Any, run_id: int, site_ids: Iterable[str]) -> tuple[dict[str, list[PlainFinding]],
                                                                               dict[str, set[str]]]:
    """The sites' findings of this run, and the fingerprints under an active dispute per site."""
    wanted = sorted(set(site_ids))
    findings: dict[str, list[PlainFinding]] = {}
    disputed: dict[str, set[str]] = {}
    if not wanted:
        return findings, disputed
    with store.session() as s:
        for chunk in _chunks(wanted, 500):
            for f in s.scalars(select(m.Finding).where(m.Finding.run_id == run_id, m.Finding.site_id.in_(chunk))):
                findings.setdefault(f.site_id, []).append(PlainFinding.of(f))
            for d in s.scalars(select(m.Dispute).where(m.Dispute.site_id.in_(chunk), m.Dispute.active.is_(True))):
                disputed.setdefault(d.site_id, set()).add(d.fingerprint)
    return findings, disputed


def _chunks(items: list[str], n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def indicator_rows(run_id: int, rubric: Rubric, sc: Any) -> list[m.Score]:
    rows = []
    for n in sc.walk():
        ind = n.indicator
        rows.append(m.Score(
            run_id=run_id, site_id=sc.site_id, rubric_id=rubric.id, indicator_id=ind.id,
            path=" / ".join(ind.path), name=ind.name, mode=ind.mode, max_points=n.max_points,
            deducted=n.deducted, bonus=n.bonus, score=n.score, basis=sorted(set(n.basis)),
            explanation=indicator_explanation(n), adjusted=n.adjusted,
            details={
                "kind": ind.kind, "source": {"file": ind.source.file, "line": ind.source.line},
                "rubric_file_line": ind.line, "pending": n.pending, "provisional": n.provisional,
                "unverifiable": n.unverifiable, "penalty": n.penalty, "vetoed": n.vetoed,
                "deductions": [{"points": d.points, "reason": d.reason, "finding_ids": d.finding_ids,
                                "url": d.url, "code": d.code, "rule": d.rule_kind,
                                "rubric_file_line": d.rule_line} for d in n.deductions],
                "review": [f.id for f in n.review if f.id is not None],
                "manual": None if n.manual is None else {"score": n.manual.score, "note": n.manual.note,
                                                         "value": n.manual.value, "where": n.manual.where},
            }))
    return rows


def total_row(run_id: int, rubric: Rubric, sc: Any) -> m.Score:
    return m.Score(
        run_id=run_id, site_id=sc.site_id, rubric_id=rubric.id, indicator_id=TOTAL_ID, path="", name="总分",
        mode="total", max_points=sc.max_total, deducted=0.0, bonus=sc.bonus, score=sc.total,
        basis=[], explanation=total_explanation(sc), grade=sc.grade, rank=sc.rank, adjusted=sc.adjusted,
        details=total_details(sc))


def _pts(x: float | None) -> float | None:
    # nested weights (一级 × 二级 × 三级 percentages) leave float noise such as 83.2003; scores are published
    # to two decimals
    return None if x is None else round(x, 2)


def total_details(sc: Any) -> dict[str, Any]:
    return {
        "rubric_total": _pts(sc.rubric_total), "automated_total": _pts(sc.automated_total),
        "automated_max": _pts(sc.automated_max), "manual_entered": _pts(sc.manual_entered),
        "manual_max": _pts(sc.manual_max), "manual_pending": _pts(sc.manual_pending),
        "bonus": sc.bonus, "penalty": sc.penalty, "veto": sc.vetoes, "veto_effects": sc.veto_effects,
        "percent": sc.percent, "grade_final": sc.grade_final, "grade_note": sc.grade_note, "rank_of": sc.rank_of,
        "unreachable": sc.unreachable, "unverifiable_indicators": sc.unverifiable_count,
        "provisional_indicators": sc.provisional_count, "warnings": sc.warnings,
    }


def write_indicators(store: Any, run_id: int, rubric: Rubric, scores: list[Any]) -> None:
    """Replace these sites' rows under this rubric in this run by their indicator rows. Their total rows
    follow in ``write_totals`` once the whole group is ranked and graded."""
    with store.session() as s:
        for sc in scores:
            s.execute(delete(m.Score).where(m.Score.run_id == run_id, m.Score.site_id == sc.site_id,
                                            m.Score.rubric_id == rubric.id))
            s.add_all(indicator_rows(run_id, rubric, sc))


def write_totals(store: Any, run_id: int, rubric: Rubric, scores: list[Any], *, others: list[Any]) -> None:
    """The total rows (rank and grade included) of ``scores``, whose old rows ``write_indicators`` cleared;
    for ``others`` (scored again only to rank the group) refresh rank and grade on their total row."""
    with store.session() as s:
        s.add_all(total_row(run_id, rubric, sc) for sc in scores)
        for sc in others:
            row = s.scalars(select(m.Score).where(m.Score.run_id == run_id, m.Score.site_id == sc.site_id,
                                                  m.Score.rubric_id == rubric.id,
                                                  m.Score.indicator_id == TOTAL_ID)).first()
            if row is not None:
                row.rank, row.grade = sc.rank, sc.grade
                row.details = {**(row.details or {}), "grade_note": sc.grade_note, "rank_of": sc.rank_of,
                               "grade_final": sc.grade_final}
