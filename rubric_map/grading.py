"""Ranks and grades: score thresholds (大同 2020) or shares of the ranking (昌宁 2020).

While manual points are pending, a total cannot be compared with a threshold printed for a full score: the
grade is then taken on the total projected at the rate already scored, and marked 暂定 (provisional) —
likewise when a partial indicator still awaits an assessor. Ranks use the same projected figure, which orders
sites exactly as their totals do whenever the same points are pending for all of them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rubric_map.model import Grading, RankShare, Rubric

if TYPE_CHECKING:
    from rubric_map.engine import SiteScore

PROVISIONAL = "（暂定）"


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _finish(sc: SiteScore, grade: str | None, grading: Grading, notes: list[str]) -> None:
    if grade is not None:
        if "fail_unit" in sc.veto_effects:
            notes.append("一票否决：等次为不合格")
            grade = "不合格"
        elif "not_excellent" in sc.veto_effects and grade == "优秀":
            notes.append("触发否决项：不能评为优秀，降为良好")
            grade = "良好"
    sc.grade_final = grade is not None and sc.manual_pending <= 0 and sc.provisional_count == 0
    if grade is not None and not sc.grade_final:
        notes.append("尚有待人工评分或待人工复核的指标，等次为暂定")
        grade += PROVISIONAL
    if grading.method:
        notes.append(f"等次按 {grading.method} 计分办法")
    if grading.note:
        notes.append(grading.note)
    sc.grade = grade
    sc.grade_note = "；".join(dict.fromkeys(notes)) or None


def threshold_grade(sc: SiteScore, rubric: Rubric) -> None:
    g = rubric.grading
    value = sc.percent
    if value is None:
        _finish(sc, None, g, ["全部指标待人工评分，暂无等次"])
        return
    notes = []
    if sc.manual_pending > 0:
        notes.append(f"待人工评分 {round(sc.manual_pending, 2):g} 分，按已评部分得分率折算为 {value:.2f} 分定等次")
    grade = next((t.grade for t in g.thresholds if value >= t.min - 1e-9), g.thresholds[-1].grade)
    _finish(sc, grade, g, notes)


def rank_sites(scores: list[SiteScore]) -> None:
    """Competition ranking (1, 2, 2, 4) on the projected total; sites with nothing scored get no rank."""
    ranked = sorted((s for s in scores if s.percent is not None), key=lambda s: -(s.percent or 0.0))
    prev, rank = None, 0
    for i, sc in enumerate(ranked, 1):
        value = round(sc.percent or 0.0, 4)
        if value != prev:
            rank, prev = i, value
        sc.rank, sc.rank_of = rank, len(ranked)
    for sc in scores:
        if sc.percent is None:
            sc.rank, sc.rank_of = None, len(ranked)


UNREACHABLE_NOTE = "平台无法访问，自动核验项均无法核验：不排名、不评定等次，需人工核实"


def grade_sites(scores: list[SiteScore], rubric: Rubric) -> None:
    """Rank the sites scored under one rubric and grade them as the rubric says.

    A site whose platform could not be reached keeps its points only because nothing could be verified;
    ranking or grading it on them would award 优秀 to a site nobody could open, so it gets neither."""
    g = rubric.grading
    for sc in scores:
        if sc.unreachable:
            sc.rank, sc.rank_of = None, None
            _finish(sc, None, g, [UNREACHABLE_NOTE])
    scores = [sc for sc in scores if not sc.unreachable]
    if g.kind == "rank_shares":
        _rank_shares(scores, g)
        return
    rank_sites(scores)
    for sc in scores:
        if g.kind == "thresholds":
            threshold_grade(sc, rubric)
        else:
            _finish(sc, None, g, ["来源未规定等次"])


def _quotas(shares: tuple[RankShare, ...], n: int) -> tuple[list[tuple[str, int]], str | None]:
    """How many of n units take each grade, scaling the source's counts when n differs from them."""
    of = sum(s.count for s in shares)
    if n == of:
        return [(s.grade, s.count) for s in shares], None
    out, cum_src, cum_n = [], 0, 0
    for i, s in enumerate(shares):
        cum_src += s.count
        upto = n if i == len(shares) - 1 else min(n, _round_half_up(n * cum_src / of))
        out.append((s.grade, max(upto - cum_n, 0)))
        cum_n = max(upto, cum_n)
    text = "、".join(f"{g} {k} 名" for g, k in out)
    return out, f"参评 {n} 个单位，与来源的 {of} 个不同，按比例折算：{text}"


def _rank_shares(scores: list[SiteScore], g: Grading) -> None:
    groups: dict[str, list[SiteScore]] = {}
    for sc in scores:
        key = "all"
        if g.group_by == "category":
            key = (sc.category or "").strip().upper() or "?"
        groups.setdefault(key, []).append(sc)
    for key, members in groups.items():
        rank_sites(members)
        shares = g.shares.get(key)
        notes: list[str] = []
        if shares is None:
            shares = g.shares.get("all") or next(iter(g.shares.values()))
            if g.group_by == "category":
                notes.append(f"类别 {key!r} 不在来源的分类中，按全部单位的比例评定")
        ranked = [s for s in members if s.rank is not None]
        quotas, scaled = _quotas(shares, len(ranked))
        if scaled:
            notes.append(scaled)
        bounds, cum = [], 0
        for grade, k in quotas:
            cum += k
            bounds.append((cum, grade))
        for sc in members:
            my = list(notes)
            if sc.rank is None:
                _finish(sc, None, g, [*my, "全部指标待人工评分，暂无名次和等次"])
                continue
            # a tie straddling a boundary takes the better grade: the tied units share the higher rank
            grade = next((gr for upto, gr in bounds if sc.rank <= upto), bounds[-1][1])
            if g.below_min is not None and g.below_grade and (sc.percent or 0.0) < g.below_min:
                my.append(f"得分低于 {g.below_min:g} 分，评定为{g.below_grade}")
                grade = g.below_grade
            _finish(sc, grade, g, my)
