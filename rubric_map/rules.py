"""The arithmetic of one rule on one site's findings.

Only ``fail`` findings deduct. A finding that could not be verified (status ``unverifiable``, a code that only
says so, a subject this rubric cannot place, or details a rule needs but that are absent) never costs points:
it is returned as a reason, and the indicator is flagged 无法核验 with its score kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rubric_map.codes import _never, check_of
from rubric_map.findings import FindingLike, reason_of
from rubric_map.model import Indicator, Rule


@dataclass
class Deduction:
    points: float
    reason: str  # "缺少传真号码" as the check said it, prefixed by the rubric's wording when it has one
    finding_ids: list[int]
    url: str | None
    code: str | None
    rule_kind: str
    rule_line: int  # the rule in the rubric file


@dataclass(slots=True)
class RuleOutcome:
    deductions: list[Deduction] = field(default_factory=list)
    unverifiable: list[str] = field(default_factory=list)
    review: list[FindingLike] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    band_score: float | None = None  # a band rule's score (None: not decided)
    bonus: float = 0.0
    triggered: list[FindingLike] = field(default_factory=list)  # veto
    basis: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Sorted:
    fails: list[FindingLike] = field(default_factory=list)
    passes: list[FindingLike] = field(default_factory=list)
    unverifiable: list[tuple[FindingLike, str]] = field(default_factory=list)
    population: list[FindingLike] = field(default_factory=list)  # every finding of the codes, in check order


def _fid(f: FindingLike) -> int:
    return f.id if f.id is not None else -1


def sort_findings(rule: Rule, index: dict[str, list[FindingLike]]) -> Sorted:
    out = Sorted()
    never = _never()
    for code in rule.codes:
        for f in index.get(code, ()):
            if f.status == "not_applicable":
                continue
            out.population.append(f)
            if f.status == "unverifiable" or (code in never and f.status == "fail"):
                out.unverifiable.append((f, reason_of(f)))
                continue
            if f.status == "pass":
                out.passes.append(f)
                continue
            if f.status != "fail":
                out.unverifiable.append((f, f"未知状态 {f.status!r}"))
                continue
            subject = f.subject or ""
            if subject in rule.ignore_subjects:
                continue  # known not to be on this rubric's list (e.g. an element the source does not require)
            if rule.subjects and subject not in rule.subjects:
                out.unverifiable.append((f, f"“{subject}”无法对应本评分表所列项目，未扣分"))
                continue
            verdict = _where(rule, f)
            if verdict is None:
                out.fails.append(f)
            elif verdict == "skip":
                out.passes.append(f)  # within this rubric's own limit (e.g. late by the check, on time here)
            else:
                out.unverifiable.append((f, verdict))
    out.population.sort(key=_fid)
    out.fails.sort(key=_fid)
    return out


def _where(rule: Rule, f: FindingLike) -> str | None:
    details = f.details or {}
    for cond in rule.where:
        if cond.field not in details or details[cond.field] is None:
            return f"缺少判断所需的 {cond.field}，无法按本评分表核验"
        try:
            if not cond.test(details[cond.field]):
                return "skip"
        except (TypeError, ValueError):
            return f"{cond.field} 的值 {details[cond.field]!r} 无法比较"
    return None


def _reason(rule: Rule, fails: Sequence[FindingLike]) -> str:
    msgs = "；".join(dict.fromkeys(f.message for f in fails if f.message)) or fails[0].code
    return f"{rule.label}：{msgs}" if rule.label else msgs


def _deduction(rule: Rule, points: float, fails: Sequence[FindingLike]) -> Deduction:
    urls = [f.url for f in fails if f.url]
    return Deduction(points=points, reason=_reason(rule, fails), finding_ids=[f.id for f in fails if f.id is not None],
                     url=urls[0] if urls else None, code=fails[0].code, rule_kind=rule.kind, rule_line=rule.line)


def _capped(rule: Rule, deductions: list[Deduction], notes: list[str]) -> list[Deduction]:
    if rule.cap is None:
        return deductions
    left = rule.cap
    for d in deductions:
        if d.points > left:
            notes.append(f"本项最多扣 {rule.cap:g} 分（扣完为止）")
            d.points = max(left, 0.0)
        left -= d.points
    return deductions


def evaluate(rule: Rule, ind: Indicator, index: dict[str, list[FindingLike]],
             manual_value: float | None = None) -> RuleOutcome:
    out = RuleOutcome()
    if rule.kind == "band" and rule.field == "manual_value":
        if manual_value is not None:
            out.band_score = band_score(rule, manual_value)
            out.notes.append(f"人工录入数值 {manual_value:g} → 得 {out.band_score:g} 分")
        return out
    s = sort_findings(rule, index)
    out.unverifiable.extend(r for _, r in s.unverifiable)
    out.basis.extend(f.id for f, _ in s.unverifiable if f.id is not None)
    pts = rule.points or 0.0
    if rule.kind == "review":
        out.review.extend(s.fails + [f for f, _ in s.unverifiable])
        return out
    if rule.kind == "veto":
        out.triggered.extend(s.fails)
        out.basis.extend(_fid(f) for f in s.fails)
        return out
    if rule.kind == "bonus":
        n = len(s.passes)
        if n:
            amount = pts * n
            if rule.cap is not None and amount > rule.cap:
                amount = rule.cap
            out.bonus = amount
            out.basis.extend(_fid(f) for f in s.passes)
            out.notes.append(f"加分 {amount:g}（{n} 项 × {pts:g}）")
        return out
    if rule.kind == "fixed":
        if s.fails:
            out.deductions.append(_deduction(rule, pts, s.fails))
    elif rule.kind == "per_item":
        out.deductions.extend(_capped(rule, [_deduction(rule, pts, [f]) for f in s.fails], out.notes))
    elif rule.kind == "per_sample":
        assert rule.sample is not None
        population = s.population
        if rule.sample_of:
            population = sorted((f for c in rule.sample_of for f in index.get(c, ())
                                 if f.status != "not_applicable"), key=_fid)
        sample = population[: rule.sample]
        in_sample = {id(f) for f in sample}
        fails = [f for f in s.fails if id(f) in in_sample]
        out.deductions.extend(_capped(rule, [_deduction(rule, pts, [f]) for f in fails], out.notes))
        if len(sample) < rule.sample:
            out.notes.append(f"抽查 {rule.sample} 份，实有 {len(sample)} 份")
        outside = len(s.fails) - len(fails)
        if outside:
            out.notes.append(f"样本外另有 {outside} 项问题，按评分表抽样规则不扣分")
    elif rule.kind == "proportion":
        judged = len(s.fails) + len(s.passes)
        if s.fails and judged:
            share = len(s.fails) / judged
            d = _deduction(rule, pts * share, s.fails)
            d.reason = f"{d.reason}（{len(s.fails)}/{judged} 未达要求）"
            out.deductions.append(d)
            out.deductions = _capped(rule, out.deductions, out.notes)
    elif rule.kind == "band":
        value, carrier = _band_value(rule, s)
        if value is None:
            if s.population:
                out.unverifiable.append(f"{', '.join(rule.codes)} 未给出 {rule.field}，无法按分档计分")
        else:
            out.band_score = band_score(rule, value)
            out.basis.append(_fid(carrier))  # type: ignore[arg-type]
            out.notes.append(f"{rule.field} = {value:g} → 得 {out.band_score:g} 分")
    out.basis.extend(i for d in out.deductions for i in d.finding_ids)
    return out


def _band_value(rule: Rule, s: Sorted) -> tuple[float | None, FindingLike | None]:
    for f in s.fails + s.passes:
        raw = (f.details or {}).get(rule.field or "")
        if isinstance(raw, bool) or raw is None:
            continue
        try:
            return float(raw), f
        except (TypeError, ValueError):
            continue
    return None, None


def band_score(rule: Rule, value: float) -> float:
    for band in rule.bands:
        if band.holds(value):
            return band.score
    return 0.0  # below every band: the source awards nothing


def rule_checks(rule: Rule) -> set[str]:
    return {check_of(c) for c in rule.codes}
