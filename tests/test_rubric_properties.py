"""Properties of the engine on arbitrary finding sets, under every real rubric: deductions never exceed caps,
totals stay within [0, max], unverifiable never deducts, and manual points are never silently awarded."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from rubric_map.codes import known_codes
from rubric_map.engine import score_site
from rubric_map.findings import PlainFinding
from rubric_map.loader import load_rubric
from rubric_map.model import Rubric

RUBRIC_IDS = ["suizhou-2020-thirdparty-county", "suizhou-2020-thirdparty-department", "suizhou-2020-work-county",
              "suizhou-2020-work-department", "changning-2020-township", "changning-2020-department",
              "langfang-2020-county", "baohe-2021-street", "baohe-2021-department"]
CODES = sorted(known_codes())
SUBJECTS = ["", "传真号码", "邮政编码", "办公时间", "邮箱地址", "政策", "政府信息公开指南", "法定主动公开内容",
            "法定主动公开内容/财政信息", "2025", "2025/其他需要报告的事项", "/doc/1.pdf", "/doc/2.pdf", "/zc/1",
            "/jd/1", "xxgk.example.com"]
EPS = 1e-6

details_st = st.fixed_dictionaries({}, optional={
    "share": st.floats(0, 1), "policies": st.integers(0, 50), "interpretations": st.integers(0, 50),
    "working_days": st.integers(0, 30), "reason": st.just("测试原因")})
finding_st = st.builds(
    lambda code, status, subject, details: (code, status, subject, details),
    st.sampled_from(CODES), st.sampled_from(["fail", "fail", "pass", "unverifiable", "not_applicable"]),
    st.sampled_from(SUBJECTS), details_st)


def _findings(raw: list[tuple[str, str, str, dict]]) -> list[PlainFinding]:
    return [PlainFinding(id=i + 1, site_id="s", check_id=code.split(".")[0], code=code, status=status,
                         subject=subject, message=f"{code} {subject}", fingerprint=f"{i}-{code}", details=details)
            for i, (code, status, subject, details) in enumerate(raw)]


def _manual(rubric: Rubric, picks: list[tuple[int, float]]) -> dict[str, float]:
    ids = [i.id for i in rubric.walk() if i.is_leaf]
    return {ids[k % len(ids)]: v for k, v in picks}


rubric_st = st.sampled_from(RUBRIC_IDS)
manual_st = st.lists(st.tuples(st.integers(0, 500), st.floats(-30, 130, allow_nan=False)), max_size=12)


@settings(max_examples=80, deadline=None)
@given(rubric_st, st.lists(finding_st, max_size=40), manual_st)
def test_deductions_never_exceed_caps_and_totals_stay_in_range(rid: str, raw, picks) -> None:
    rubric = load_rubric(rid)
    sc = score_site(rubric, _findings(raw), _manual(rubric, picks), site="s")
    assert -EPS <= sc.total <= rubric.max_total + EPS
    for n in sc.walk():
        ind = n.indicator
        if ind.kind == "scored":
            assert -EPS <= n.deducted <= n.max_points + EPS, (ind.id, n.deducted)
            assert n.score is None or -EPS <= n.score <= n.max_points + EPS, (ind.id, n.score)
            for rule in ind.rules:
                if rule.cap is not None:
                    got = sum(d.points for d in n.deductions if d.rule_line == rule.line)
                    assert got <= rule.cap + EPS
        if ind.kind == "bonus":
            assert 0 <= n.bonus <= ind.points + EPS
        if ind.kind == "penalty":
            assert 0 <= n.penalty <= ind.points + EPS
    assert sc.manual_pending <= sc.manual_max + EPS


@settings(max_examples=60, deadline=None)
@given(rubric_st, st.lists(finding_st, max_size=40))
def test_unverifiable_never_deducts(rid: str, raw) -> None:
    rubric = load_rubric(rid)
    unverifiable = [(c, "unverifiable", s, d) for c, _, s, d in raw]
    sc = score_site(rubric, _findings(unverifiable), site="s")
    assert sc.automated_total == sc.automated_max
    assert all(not n.deductions for n in sc.walk())
    # turning any failing finding into an unverifiable one never lowers the total
    base = score_site(rubric, _findings(raw), site="s")
    for k, (c, status, s, d) in enumerate(raw):
        if status == "fail":
            changed = list(raw)
            changed[k] = (c, "unverifiable", s, d)
            assert score_site(rubric, _findings(changed), site="s").total >= base.total - EPS
            break


@settings(max_examples=60, deadline=None)
@given(rubric_st, st.lists(finding_st, max_size=40))
def test_manual_points_are_never_silently_awarded(rid: str, raw) -> None:
    rubric = load_rubric(rid)
    sc = score_site(rubric, _findings(raw), None, site="s")
    manual_leaves = [n for n in sc.walk() if n.indicator.is_leaf and n.indicator.kind == "scored"
                     and n.indicator.mode == "manual"]
    bands_on_findings = any(r.kind == "band" and r.field != "manual_value" for n in manual_leaves
                            for r in n.indicator.rules)
    assert not bands_on_findings
    assert all(n.score is None and n.pending == n.max_points for n in manual_leaves)
    assert sc.manual_entered == 0 and sc.bonus == 0 and sc.penalty == 0
    assert abs(sc.manual_pending - sc.manual_max) < EPS
    assert abs(sc.total - sc.automated_total) < EPS or sc.total == 0 or sc.vetoes


@settings(max_examples=40, deadline=None)
@given(rubric_st, st.lists(finding_st, max_size=30))
def test_scoring_is_pure_and_order_independent(rid: str, raw) -> None:
    rubric = load_rubric(rid)
    fs = _findings(raw)
    a = score_site(rubric, fs, site="s")
    b = score_site(rubric, list(reversed([dataclasses.replace(f) for f in fs])), site="s")
    assert a.total == b.total and [n.score for n in a.walk()] == [n.score for n in b.walk()]
