"""After a dispute is added or withdrawn: score again the runs holding the finding, and say what changed."""

from __future__ import annotations

from sqlalchemy import select

from storage import Store
from storage import models as m


def _totals(store: Store, run_id: int, site_id: str) -> dict[str, float | None]:
    with store.session() as s:
        rows = s.scalars(select(m.Score).where(m.Score.run_id == run_id, m.Score.site_id == site_id,
                                               m.Score.indicator_id == "__total__")).all()
        return {r.rubric_id: r.score for r in rows}


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def rescore_fingerprint(store: Store, site_id: str, fingerprint: str) -> list[str]:
    """Re-score every scored run of the site that holds a finding with this fingerprint."""
    from rubric_map.engine import score_run

    with store.session() as s:
        runs = sorted(set(s.scalars(select(m.Finding.run_id).where(
            m.Finding.site_id == site_id, m.Finding.fingerprint == fingerprint)).all()))
        scored = set(s.scalars(select(m.Score.run_id).where(m.Score.site_id == site_id)).all())
    lines = []
    for run_id in runs:
        if run_id not in scored:
            continue
        before = _totals(store, run_id, site_id)
        score_run(store, run_id, [site_id])
        for rubric_id, new in _totals(store, run_id, site_id).items():
            lines.append(f"run {run_id} · {site_id} · {rubric_id}: {_fmt(before.get(rubric_id))} → {_fmt(new)}")
    return lines


def rescore_after_dispute(store: Store, finding_id: int) -> list[str]:
    with store.session() as s:
        f = s.get(m.Finding, finding_id)
        if f is None:
            raise LookupError(f"no finding {finding_id}")
        site_id, fp = f.site_id, f.fingerprint
    return rescore_fingerprint(store, site_id, fp)
