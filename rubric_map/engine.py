"""The deduction engine: findings in, indicator scores out. The only place that does scoring arithmetic.

``score_site`` is pure (a rubric, one site's findings, the assessor's entries → a ``SiteScore``).
``score_run`` loads a run's findings and active disputes from the store, scores every site, ranks and grades
the sites that share a rubric, and writes the ``scores`` rows.

Principles (../shared/DESIGN.md, issue 6):
- only ``fail`` findings deduct; ``unverifiable`` never costs points: the indicator keeps its score and is
  flagged 无法核验 with the reason;
- a manual indicator without an entered score is 待人工评分: score None, its points kept out of the total and
  reported as pending — never silently awarded or deducted;
- a partial indicator applies the deductions its source states and is flagged provisional (an upper bound
  until an assessor confirms it);
- disputed findings (active ``disputes`` rows of the finding's fingerprint and site) are left out and the
  scores they touch are marked adjusted;
- every deduction names its findings and the rubric line it applies.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rubric_map.codes import check_of
from rubric_map.findings import FindingLike, PlainFinding
from rubric_map.grading import grade_sites, threshold_grade
from rubric_map.manual import ManualEntry, ManualScores, load_manual_file
from rubric_map.model import Indicator, Rubric
from rubric_map.rules import Deduction, evaluate, rule_checks

ROUND = 4  # points are kept to 4 decimals so sums of 0.1s and weighted shares print as they should
SCORE_CHUNK = 50  # sites whose findings and detail are held at once while a run is scored (≈0.3 MB each)


def _r(x: float) -> float:
    return round(x + 0.0, ROUND)


@dataclass(slots=True)
class IndicatorScore:
    indicator: Indicator
    max_points: float
    score: float | None  # None = 待人工评分
    deducted: float = 0.0
    bonus: float = 0.0
    penalty: float = 0.0
    deductions: list[Deduction] = field(default_factory=list)
    unverifiable: list[str] = field(default_factory=list)
    review: list[FindingLike] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    basis: list[int] = field(default_factory=list)
    manual: ManualEntry | None = None
    pending: float = 0.0  # manual points under this node still to be entered
    provisional: bool = False
    adjusted: bool = False
    vetoed: bool = False  # a veto item that was triggered
    zeroed_by_veto: bool = False
    children: list[IndicatorScore] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.indicator.id

    @property
    def mode(self) -> str:
        return self.indicator.mode

    @property
    def path(self) -> str:
        return " / ".join(self.indicator.path)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass
class SiteScore:
    site_id: str
    rubric_id: str
    rubric_title: str
    site_name: str = ""
    category: str | None = None
    total: float = 0.0  # automated + provisional partial + entered manual + bonus − penalty, within caps
    max_total: float = 0.0
    rubric_total: float = 0.0
    automated_total: float = 0.0  # from automated and partial indicators
    automated_max: float = 0.0
    manual_entered: float = 0.0
    manual_max: float = 0.0
    manual_pending: float = 0.0  # points of manual indicators with no entered score
    bonus: float = 0.0
    penalty: float = 0.0
    vetoes: list[str] = field(default_factory=list)
    veto_effects: list[str] = field(default_factory=list)
    grade: str | None = None
    grade_note: str | None = None
    grade_final: bool = False
    rank: int | None = None
    rank_of: int | None = None
    adjusted: bool = False
    unreachable: bool = False
    unverifiable_count: int = 0
    provisional_count: int = 0
    warnings: list[str] = field(default_factory=list)
    # the indicator tree is built from the arrays on first use (scoring itself needs only the arrays)
    _state: _State | None = field(default=None, repr=False, compare=False)
    _tree: list[IndicatorScore] | None = field(default=None, repr=False, compare=False)

    @property
    def scored_max(self) -> float:
        """The points that have been scored (the rubric total minus manual points still pending)."""
        return max(self.rubric_total - self.manual_pending, 0.0)

    @property
    def percent(self) -> float | None:
        """The total on the rubric's own scale, projecting pending manual points at the scored rate."""
        if self.scored_max <= 0:
            return None
        if self.manual_pending <= 0:
            return self.total
        return self.total / self.scored_max * self.rubric_total

    @property
    def indicators(self) -> list[IndicatorScore]:
        """The top-level indicator scores (walk() for all of them)."""
        if self._tree is None:
            self._tree = self._state.tree() if self._state is not None else []
        return self._tree

    def walk(self):
        for ind in self.indicators:
            yield from ind.walk()

    def release(self) -> None:
        """Drop the indicator detail once its rows are written: ranking and grading need only the totals, so
        a run of thousands of units is scored without holding every unit's detail at once."""
        self._state = None
        self._tree = []


# ---------------------------------------------------------------------------------------------- pure scoring


def _fid(f: FindingLike) -> int:
    return f.id if f.id is not None else -1


class _Site:
    def __init__(self, findings: Iterable[FindingLike], disputed: set[str] | None) -> None:
        self.index: dict[str, list[FindingLike]] = {}
        self.checks: set[str] = set()
        self.errors: dict[str, list[FindingLike]] = {}
        self.disputed_codes: dict[str, list[int]] = {}
        index = self.index
        for f in findings:
            if disputed and f.fingerprint in disputed:
                self.disputed_codes.setdefault(f.code, []).append(f.id if f.id is not None else -1)
                continue
            lst = index.get(f.code)
            if lst is None:
                index[f.code] = [f]
            else:
                lst.append(f)
        for code, lst in index.items():
            chk = lst[0].check_id or check_of(code)
            self.checks.add(chk)
            if code.endswith(".error"):
                self.errors[chk] = [f for f in lst if f.status == "unverifiable"]
            if len(lst) > 1:
                lst.sort(key=_fid)
        self.unreachable = [f for f in self.index.get("site_health.unreachable", ()) if f.status == "fail"]


def _leaf(ind: Indicator, site: _Site, entry: ManualEntry | None, rubric: Rubric, checks: list[str],
          codes: set[str]) -> IndicatorScore:
    res = IndicatorScore(indicator=ind, max_points=_r(ind.points) if math.isfinite(ind.points) else 0.0,
                         score=None, manual=entry)
    if site.disputed_codes and any(c in site.disputed_codes for c in codes):
        res.adjusted = True
        res.notes.append("有争议的问题已排除（adjusted）")
    if ind.kind == "veto":
        return _veto(ind, site, entry, res)
    if ind.kind in ("bonus", "penalty"):
        return _extra(ind, site, entry, res)

    manual_value = entry.value if entry is not None else None
    band: float | None = None
    band_rule: Any = None
    band_basis: list[int] = []
    if ind.mode != "manual":
        for chk in checks:
            if chk not in site.checks:
                res.unverifiable.append(f"检查 {chk} 无结果（未运行或未存储），无法核验")
            for err in site.errors.get(chk, ()):
                res.unverifiable.append(f"检查 {chk} 出错：{err.message}")
                if err.id is not None:
                    res.basis.append(err.id)
        if site.unreachable:
            res.unverifiable.append("平台无法访问（site_health.unreachable），自动核验项均无法核验，未扣分")
            res.basis.extend(f.id for f in site.unreachable if f.id is not None)
    index = site.index
    for rule in ind.rules:
        if site.unreachable and rule.kind != "review" and ind.mode != "manual":
            continue
        if rule.field != "manual_value" and not any(c in index for c in rule.codes) and not any(
                c in index for c in rule.sample_of):
            continue  # no finding of these codes: nothing to deduct, flag or show
        out = evaluate(rule, ind, index, manual_value)
        res.deductions.extend(out.deductions)
        res.unverifiable.extend(out.unverifiable)
        res.review.extend(out.review)
        res.notes.extend(out.notes)
        res.basis.extend(out.basis)
        if out.band_score is not None and (band is None or out.band_score < band):
            band, band_rule, band_basis = out.band_score, rule, out.basis
    if band is not None and band < ind.points:
        label = f"{band_rule.label}：" if band_rule.label else ""
        res.deductions.insert(0, Deduction(points=ind.points - band, reason=f"{label}按分档得 {band:g} 分",
                                           finding_ids=[i for i in band_basis if i >= 0], url=None,
                                           code=band_rule.codes[0] if band_rule.codes else None,
                                           rule_kind="band", rule_line=band_rule.line))
    raw = sum(d.points for d in res.deductions)
    if rubric.deduction_caps == "per_indicator" and raw > ind.points:
        left = ind.points
        for d in res.deductions:
            if d.points > left:
                d.points = max(left, 0.0)
            left -= d.points
        res.notes.append(f"扣分以本项 {ind.points:g} 分为限（扣完为止）")
    deducted = _r(sum(d.points for d in res.deductions))

    if ind.mode == "manual":
        if band is not None:
            res.score, res.deducted = _r(band), _r(ind.points - band)
        elif entry is not None and entry.score is not None:
            _apply_entry(res, ind, entry)
        else:
            res.score, res.pending = None, res.max_points
            res.notes.append("待人工评分")
        return res
    res.deducted = deducted
    res.score = _r(ind.points - deducted)
    res.provisional = ind.mode == "partial"
    if entry is not None and entry.score is not None:
        auto = res.score
        _apply_entry(res, ind, entry)
        res.notes.append(f"自动核验结果 {auto:g} 分，以人工评分为准")
        res.provisional = False
    elif res.provisional:
        res.notes.append("其余评分内容需人工核验（暂按自动核验结果计，为上限）")
    res.basis = sorted(set(res.basis))
    return res


def _apply_entry(res: IndicatorScore, ind: Indicator, entry: ManualEntry) -> None:
    assert entry.score is not None
    if not 0 <= entry.score <= ind.points + 1e-9:
        res.notes.append(f"人工评分 {entry.score:g} 超出 0–{ind.points:g}，未采用（{entry.where}）")
        if ind.mode == "manual":
            res.score, res.pending = None, res.max_points
        return
    res.score = _r(entry.score)
    res.deducted = _r(ind.points - entry.score)
    # the assessor's score replaces the automated one: its deductions stay visible as notes only
    res.notes.extend(f"（自动核验）−{d.points:g}：{d.reason}" for d in res.deductions if d.points > 0)
    res.deductions = []
    res.notes.append(f"人工评分 {entry.score:g}" + (f"：{entry.note}" if entry.note else "")
                     + (f"（{entry.where}）" if entry.where else ""))


def _veto(ind: Indicator, site: _Site, entry: ManualEntry | None, res: IndicatorScore) -> IndicatorScore:
    res.score = 0.0
    for rule in ind.rules:
        if site.unreachable and rule.kind == "veto":
            res.unverifiable.append("平台无法访问，否决项无法核验")
            continue
        out = evaluate(rule, ind, site.index)
        res.unverifiable.extend(out.unverifiable)
        res.review.extend(out.review)
        res.basis.extend(out.basis)
        if out.triggered:
            res.vetoed = True
            res.notes.append("触发否决：" + "；".join(f.message for f in out.triggered))
    if entry is not None and entry.flag is not None:
        res.vetoed = entry.flag if ind.mode == "manual" else (res.vetoed or entry.flag)
        res.notes.append(("人工认定触发否决" if entry.flag else "人工认定未触发")
                         + (f"：{entry.note}" if entry.note else ""))
    elif ind.mode == "manual":
        res.notes.append("待人工核实（未录入则不否决）")
    return res


def _extra(ind: Indicator, site: _Site, entry: ManualEntry | None, res: IndicatorScore) -> IndicatorScore:
    """A bonus (加分) or penalty (扣分) item: points added to or taken from the total, within the item's cap."""
    amount = 0.0
    if ind.children:
        return res  # a bonus/penalty group: summed by the caller
    for rule in ind.rules:
        if site.unreachable and rule.kind != "review":
            continue
        out = evaluate(rule, ind, site.index)
        res.unverifiable.extend(out.unverifiable)
        res.review.extend(out.review)
        res.notes.extend(out.notes)
        res.basis.extend(out.basis)
        amount += out.bonus if ind.kind == "bonus" else sum(d.points for d in out.deductions)
        res.deductions.extend(out.deductions)
    if entry is not None and entry.score is not None:
        amount = abs(entry.score)
        res.notes.append(f"人工录入 {amount:g}" + (f"：{entry.note}" if entry.note else "")
                         + (f"（{entry.where}）" if entry.where else ""))
    elif ind.mode == "manual":
        res.notes.append("待人工核实（未录入则不计）")
    if amount > ind.points:
        res.notes.append(f"以上限 {ind.points:g} 分计")
        amount = ind.points
    if ind.kind == "bonus":
        res.bonus = _r(amount)
    else:
        res.penalty = _r(amount)
    res.score = _r(amount)
    return res


class _Plan:
    """A rubric flattened for scoring: nodes in pre-order, parents, children, and the leaves that need work.

    Most indicators are manual items with no rule: without an assessor's entry their result is always
    "待人工评分", so they are filled from a template and never evaluated one by one."""

    def __init__(self, rubric: Rubric) -> None:
        self.rubric = rubric
        self.nodes: list[Indicator] = []
        self.parent: list[int] = []
        self.children: list[list[int]] = []
        self.top: list[int] = []

        def add(ind: Indicator, parent: int) -> None:
            i = len(self.nodes)
            self.nodes.append(ind)
            self.parent.append(parent)
            self.children.append([])
            if parent < 0:
                self.top.append(i)
            else:
                self.children[parent].append(i)
            for c in ind.children:
                add(c, i)

        for ind in rubric.indicators:
            add(ind, -1)
        n = len(self.nodes)
        self.index_of = {ind.id: i for i, ind in enumerate(self.nodes)}
        self.max_points = [_r(ind.points) if math.isfinite(ind.points) else 0.0 for ind in self.nodes]
        self.parent_points = [self.nodes[p].points if p >= 0 else rubric.total for p in self.parent]
        # a manual leaf whose rules only point at evidence: no arithmetic until an assessor enters something
        self.passive = [ind.is_leaf and ind.mode == "manual" and all(r.kind == "review" for r in ind.rules)
                        for ind in self.nodes]
        self.active = [i for i in range(n) if self.nodes[i].is_leaf and not self.passive[i]]
        self.groups_postorder = [i for i in reversed(range(n)) if not self.nodes[i].is_leaf]
        self.pending0 = [self.max_points[i] if self.passive[i] and self.nodes[i].kind == "scored" else 0.0
                         for i in range(n)]
        self.auto_leaves = [i for i in range(n) if self.nodes[i].is_leaf and self.nodes[i].kind == "scored"
                            and self.nodes[i].mode != "manual"]
        self.manual_leaves = [i for i in range(n) if self.nodes[i].is_leaf and self.nodes[i].kind == "scored"
                              and self.nodes[i].mode == "manual"]
        self.automated_max = _r(sum(self.max_points[i] for i in self.auto_leaves))
        self.manual_max = _r(sum(self.max_points[i] for i in self.manual_leaves))
        self.checks = [sorted({c for r in ind.rules if r.kind != "review" for c in rule_checks(r)})
                       for ind in self.nodes]
        self.codes = [{c for r in ind.rules for c in r.codes} for ind in self.nodes]
        kinds = [ind.kind for ind in self.nodes]
        self.scored_kids = [[k for k in self.children[g] if kinds[k] in ("scored", "group")] for g in range(n)]
        self.bonus_kids = [[k for k in self.children[g] if kinds[k] == "bonus"] for g in range(n)]
        self.penalty_kids = [[k for k in self.children[g] if kinds[k] == "penalty"] for g in range(n)]
        self.veto_kids = [[k for k in self.children[g] if kinds[k] == "veto"] for g in range(n)]
        # a group with no leaf to evaluate below it keeps its template values (all pending) unless an
        # assessor's entry touches it
        live = [False] * n
        for i in self.active:
            j = i
            while j >= 0 and not live[j]:
                live[j] = True
                j = self.parent[j]
        self.live = live
        for g in self.groups_postorder:
            if not live[g] and kinds[g] not in ("bonus", "penalty"):
                self.pending0[g] = _r(sum(self.pending0[k] for k in self.scored_kids[g]))

    def descendants(self, i: int) -> list[int]:
        out, stack = [], [i]
        while stack:
            j = stack.pop()
            out.append(j)
            stack.extend(self.children[j])
        return out


_PLANS: dict[int, tuple[Rubric, _Plan]] = {}


def _plan(rubric: Rubric) -> _Plan:
    hit = _PLANS.get(id(rubric))
    if hit is None or hit[0] is not rubric:
        hit = (rubric, _Plan(rubric))
        _PLANS[id(rubric)] = hit
    return hit[1]


class _State:
    """One site's scores as arrays over the plan's nodes, plus the full results of the leaves evaluated."""

    def __init__(self, plan: _Plan, site: _Site) -> None:
        n = len(plan.nodes)
        self.plan = plan
        self.site = site
        self.score: list[float | None] = [None] * n
        self.deducted = [0.0] * n
        self.pending = plan.pending0[:]
        self.bonus = [0.0] * n
        self.penalty = [0.0] * n
        self.provisional = [False] * n
        self.adjusted = [False] * n
        self.results: dict[int, IndicatorScore] = {}
        self.group_notes: dict[int, list[str]] = {}
        self.zeroed: list[int] = []

    def take(self, i: int, res: IndicatorScore) -> None:
        self.results[i] = res
        self.score[i], self.deducted[i], self.pending[i] = res.score, res.deducted, res.pending
        self.bonus[i], self.penalty[i] = res.bonus, res.penalty
        self.provisional[i], self.adjusted[i] = res.provisional, res.adjusted

    def tree(self) -> list[IndicatorScore]:
        plan = self.plan
        made: dict[int, IndicatorScore] = {}
        for i in reversed(range(len(plan.nodes))):
            ind = plan.nodes[i]
            res = self.results.get(i)
            if res is None and plan.passive[i]:
                # evaluated only now: its evidence is shown to the assessor, its points stay pending
                res = _leaf(ind, self.site, None, plan.rubric, plan.checks[i], plan.codes[i])
            if res is None:
                res = IndicatorScore(indicator=ind, max_points=plan.max_points[i], score=self.score[i],
                                     deducted=self.deducted[i], bonus=self.bonus[i], penalty=self.penalty[i],
                                     pending=self.pending[i], provisional=self.provisional[i],
                                     adjusted=self.adjusted[i], zeroed_by_veto=i in self.zeroed,
                                     notes=list(self.group_notes.get(i, ())))
            res.children = [made[c] for c in plan.children[i]]
            made[i] = res
        return [made[t] for t in plan.top]


def _evaluate(plan: _Plan, site: _Site, entries: Mapping[str, ManualEntry]) -> _State:
    rubric = plan.rubric
    st = _State(plan, site)
    todo = list(plan.active)
    live = plan.live
    if entries:
        live = list(live)
        for key in entries:
            i = plan.index_of[key]
            if plan.passive[i]:
                todo.append(i)
                j = i
                while j >= 0 and not live[j]:
                    live[j] = True
                    j = plan.parent[j]
    for i in todo:
        ind = plan.nodes[i]
        res = _leaf(ind, site, entries.get(ind.id), rubric, plan.checks[i], plan.codes[i])
        if ind.kind == "bonus" and rubric.bonus_cap_share is not None:
            _cap_bonus(res, rubric.bonus_cap_share * plan.parent_points[i])
        st.take(i, res)
    nodes, children = plan.nodes, plan.children
    for g in plan.groups_postorder:
        if not live[g]:
            continue  # template values: nothing below it was scored
        ind = nodes[g]
        kids = children[g]
        notes: list[str] = []
        st.adjusted[g] = any([st.adjusted[k] for k in kids])
        if ind.kind in ("bonus", "penalty"):
            arr = st.bonus if ind.kind == "bonus" else st.penalty
            amount = sum(arr[k] for k in kids)
            if amount > ind.points:
                notes.append(f"合计以上限 {ind.points:g} 分计")
                amount = ind.points
            if ind.kind == "bonus" and rubric.bonus_cap_share is not None:
                cap = rubric.bonus_cap_share * plan.parent_points[g]
                if amount > cap + 1e-9:
                    notes.append(f"加分不超过上一级指标分值的 20%（{cap:g} 分）")
                    amount = cap
            arr[g] = _r(amount)
            st.score[g] = arr[g]
        else:
            scored = plan.scored_kids[g]
            st.pending[g] = _r(sum([st.pending[k] for k in scored]))
            st.deducted[g] = _r(sum([st.deducted[k] for k in scored]))
            if plan.bonus_kids[g]:
                st.bonus[g] = _r(sum([st.bonus[k] for k in plan.bonus_kids[g]]))
            if plan.penalty_kids[g]:
                st.penalty[g] = _r(sum([st.penalty[k] for k in plan.penalty_kids[g]]))
            st.provisional[g] = any([st.provisional[k] for k in scored])
            known = [st.score[k] for k in scored if st.score[k] is not None]
            if rubric.deduction_caps == "first_level" and ind.level == 1:
                # 大同: 二级/三级 deductions may exceed their own points, but not the 一级's
                if st.deducted[g] > ind.points:
                    notes.append(f"一级指标扣分以自身 {ind.points:g} 分为限")
                    st.deducted[g] = ind.points
                st.score[g] = _r(max(ind.points - st.pending[g] - st.deducted[g], 0.0)) if known else None
            else:
                st.score[g] = _r(sum(known)) if known else None  # type: ignore[arg-type]
            for k in plan.veto_kids[g]:
                res = st.results.get(k)
                if res is not None and res.vetoed and nodes[k].veto_effect == "zero_parent":
                    st.zeroed.append(g)
                    notes.append(f"单项否决（{nodes[k].name}）：本项得 0 分")
                    st.score[g], st.deducted[g], st.pending[g] = 0.0, ind.points, 0.0
        if notes:
            st.group_notes[g] = notes
    return st


def _cap_bonus(res: IndicatorScore, cap: float) -> None:
    if res.bonus > cap + 1e-9:
        res.notes.append(f"加分不超过上一级指标分值的 20%（{cap:g} 分）")
        res.bonus = res.score = _r(cap)


def score_site(rubric: Rubric, findings: Iterable[FindingLike], manual: Mapping[str, Any] | None = None,
               site: Any = None, *, disputed: set[str] | None = None) -> SiteScore:
    """Score one site under one rubric. Pure: no database, no clock, no randomness.

    ``manual``: indicator id → ``ManualEntry`` (or a number / word / {score, note, value} mapping).
    ``site``: a site id, or an object with ``site_id`` (and optionally ``name``, ``category``).
    ``disputed``: fingerprints of findings under an active dispute; they are left out.
    """
    findings = list(findings)
    plan = _plan(rubric)
    site_id, name, category = _site_fields(site, findings)
    entries: dict[str, ManualEntry] = {}
    warnings: list[str] = []
    for key, raw in (manual or {}).items():
        try:
            entry = ManualEntry.coerce(raw)
        except ValueError as exc:
            warnings.append(f"人工评分 {key}：{exc}，未采用")
            continue
        if key not in plan.index_of:
            warnings.append(f"人工评分指向不存在的指标 {key!r}（{rubric.id}），未采用")
            continue
        entries[key] = entry
    ctx = _Site([f for f in findings if not site_id or f.site_id == site_id], disputed)
    st = _evaluate(plan, ctx, entries)
    out = SiteScore(site_id=site_id, site_name=name, category=category, rubric_id=rubric.id,
                    rubric_title=rubric.title, max_total=rubric.max_total, rubric_total=rubric.total,
                    warnings=warnings, unreachable=bool(ctx.unreachable), _state=st)
    _totals(out, st, rubric)
    if rubric.grading.kind == "thresholds":
        threshold_grade(out, rubric)
    return out


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during a batch: every object a batch allocates is kept in its
    results, so collections in between find nothing to free and only cost time (≈40% of a large batch)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def score_many(rubric: Rubric, sites: Iterable[tuple[Any, Iterable[FindingLike], Mapping[str, Any] | None,
                                                     set[str] | None]], *, grade: bool = True) -> list[SiteScore]:
    """Score many sites under one rubric (``(site, findings, manual, disputed)`` each) and rank and grade
    them together (``grade=False``: the caller ranks them with others)."""
    with _gc_paused():
        out = [score_site(rubric, findings, manual, site, disputed=disputed)
               for site, findings, manual, disputed in sites]
        if grade:
            grade_sites(out, rubric)
    return out


def _totals(out: SiteScore, st: _State, rubric: Rubric) -> None:
    plan = st.plan
    nodes = plan.nodes
    zeroed = {j for g in st.zeroed for j in plan.descendants(g)} if st.zeroed else ()
    base = sum(st.score[t] or 0.0 for t in plan.top if nodes[t].kind in ("scored", "group"))
    out.automated_total = _r(sum(st.score[i] or 0.0 for i in plan.auto_leaves if i not in zeroed))
    out.automated_max = plan.automated_max
    out.manual_entered = _r(sum(st.score[i] or 0.0 for i in plan.manual_leaves if i not in zeroed))
    out.manual_max = plan.manual_max
    out.manual_pending = _r(sum(st.pending[t] for t in plan.top if nodes[t].kind in ("scored", "group")))
    out.bonus = _r(sum(st.bonus[t] for t in plan.top))
    out.penalty = _r(sum(st.penalty[t] for t in plan.top))
    total = base + out.bonus - out.penalty
    cap = rubric.total_cap if rubric.total_cap is not None else rubric.max_total
    if total > cap:
        out.warnings.append(f"累计加分后超过 {cap:g} 分，按 {cap:g} 分计算")
    out.total = _r(min(max(total, 0.0), cap))
    for i, res in st.results.items():
        if res.vetoed:
            out.vetoes.append(nodes[i].name)
            out.veto_effects.append(nodes[i].veto_effect or "")
        if res.unverifiable and nodes[i].kind == "scored":
            out.unverifiable_count += 1
        if res.provisional:
            out.provisional_count += 1
    out.adjusted = any(st.adjusted)


def _site_fields(site: Any, findings: list[FindingLike]) -> tuple[str, str, str | None]:
    if site is None:
        ids = {f.site_id for f in findings}
        sid = ids.pop() if len(ids) == 1 else ""
        return sid, sid, None
    if isinstance(site, str):
        return site, site, None
    sid = getattr(site, "site_id", "") or ""
    return sid, getattr(site, "name", "") or sid, getattr(site, "category", None)


# ---------------------------------------------------------------------------------------------- with the store


@dataclass(frozen=True)
class _SiteRef:
    site_id: str
    name: str
    category: str | None
    rubric: str | None
    unit_type: str


def score_run(store: Any, run_id: int, site_ids: Iterable[str] | None = None, *, rubric: str | Rubric | None = None,
              manual_file: str | Path | None = None, keep_detail: bool = True) -> list[SiteScore]:
    """Score the run's sites (all, or ``site_ids``), rank and grade them, and write their ``scores`` rows.

    ``rubric`` scores every site under that rubric instead of its own. Sites are ranked and graded among all
    the run's sites scored under the same rubric, so scoring a subset still ranks it against the others.
    Returns the requested sites' scores, in site order; with ``keep_detail=False`` without their indicator
    detail (it is in the rows written), so that scoring a large run holds one chunk of sites at a time.
    """
    from rubric_map import persist
    from rubric_map.loader import load_rubric

    wanted = set(site_ids) if site_ids else None
    manual = load_manual_file(manual_file) if manual_file else ManualScores()
    forced = load_rubric(rubric) if isinstance(rubric, str) else rubric
    refs = persist.load_run_sites(store, run_id)
    if wanted is not None:
        unknown = wanted - {r.site_id for r in refs}
        if unknown:
            raise LookupError(f"run {run_id} has no site {', '.join(sorted(unknown))}")
    groups: dict[str, list[_SiteRef]] = {}
    skipped: dict[str, str] = {}
    rubrics: dict[str, Rubric] = {}
    for ref in refs:
        rid = forced.id if forced is not None else ref.rubric
        if not rid:
            skipped[ref.site_id] = "no rubric given for this site"
            continue
        if rid not in rubrics:
            try:
                rubrics[rid] = forced if forced is not None and forced.id == rid else load_rubric(rid)
            except KeyError as exc:
                skipped[ref.site_id] = str(exc)
                continue
        if rubrics[rid].kind == "method":
            skipped[ref.site_id] = f"{rid} is a grading method, not a rubric"
            continue
        groups.setdefault(rid, []).append(ref)
    if wanted is not None:
        # only the rubrics of the requested sites need scoring again (the others keep their rows)
        groups = {rid: refs_ for rid, refs_ in groups.items() if any(r.site_id in wanted for r in refs_)}
    def asked(site_id: str) -> bool:
        return wanted is None or site_id in wanted

    results: list[SiteScore] = []
    for rid, members in groups.items():
        rb = rubrics[rid]
        scored: list[SiteScore] = []
        # findings are loaded, scored and written a chunk of sites at a time: memory stays that of one chunk
        # whatever the number of units; only the totals wait for the group's ranking
        for at in range(0, len(members), SCORE_CHUNK):
            chunk = members[at:at + SCORE_CHUNK]
            findings, disputed = persist.load_findings(store, run_id, [r.site_id for r in chunk])
            part = score_many(rb, ((ref, findings.get(ref.site_id, ()), manual.for_site(ref.site_id, rid),
                                    disputed.get(ref.site_id, set())) for ref in chunk), grade=False)
            del findings
            for ref, sc in zip(chunk, part, strict=True):
                if ref.unit_type and rb.unit_type and ref.unit_type != rb.unit_type:
                    sc.warnings.append(f"单位类型 {ref.unit_type} 与评分表适用类型 {rb.unit_type} 不一致")
            persist.write_indicators(store, run_id, rb, [sc for sc in part if asked(sc.site_id)])
            for sc in part:
                if not (keep_detail and asked(sc.site_id)):
                    sc.release()
            scored.extend(part)
        grade_sites(scored, rb)
        write = [sc for sc in scored if asked(sc.site_id)]
        persist.write_totals(store, run_id, rb, write, others=[sc for sc in scored if not asked(sc.site_id)])
        results.extend(write)
    for sc in results:  # format_scores prints a file's warnings once
        sc.warnings.extend(f"人工评分文件：{w}" for w in manual.warnings)
    for sid, why in sorted(skipped.items()):
        if wanted is None or sid in wanted:
            results.append(SiteScore(site_id=sid, rubric_id="", rubric_title="", warnings=[f"未评分：{why}"]))
    results.sort(key=lambda s: (s.site_id, s.rubric_id))
    return results


def plain(findings: Iterable[FindingLike]) -> list[PlainFinding]:
    return [PlainFinding.of(f) for f in findings]
