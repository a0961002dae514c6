"""The deduction engine: every rule kind, and hand-computed scores of realistic finding sets of a county,
a department and a township under five rubrics (the arithmetic is written out beside each expectation)."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from rubric_map.engine import score_run, score_site
from rubric_map.explain import format_rubric, format_scores
from rubric_map.findings import PlainFinding
from rubric_map.grading import grade_sites
from rubric_map.loader import load_rubric, load_rubric_file
from storage import models as m

_ids = itertools.count(1)


def F(code: str, status: str = "fail", subject: str = "", message: str = "", url: str | None = None,
      site: str = "s1", **details) -> PlainFinding:
    return PlainFinding(id=next(_ids), site_id=site, check_id=code.split(".")[0], code=code, status=status,
                        subject=subject, message=message or f"{code} {subject}", url=url,
                        fingerprint=f"fp-{code}-{subject}", details=details)


def by_id(sc, ind_id):
    return next(n for n in sc.walk() if n.indicator.id == ind_id)


GUIDE_OK = ["公开范围", "公开方式", "公开时限", "依申请公开程序", "信息查询方式", "机构名称", "办公地址", "联系电话",
            "投诉监督方式"]


def checks_ran(site: str = "s1") -> list[PlainFinding]:
    """Passing findings of every check, so no indicator is flagged 'check did not run'."""
    return [F("columns.present", "pass", "政策", site=site), F("annual_report.present", "pass", "2025", site=site),
            F("guide.present", "pass", site=site), F("site_health.unreachable", "pass", site=site),
            F("interpretation.share", "pass", site=site, share=1.0, policies=4, interpretations=4),
            F("pdf_label.present", "pass", "/x.pdf", site=site)]


# ------------------------------------------------------------------------------ department under 昌宁 部门表


def department_findings() -> list[PlainFinding]:
    fs = [f for f in checks_ran() if f.code not in ("interpretation.share", "pdf_label.present")]
    fs += [F("guide.element_missing", subject="传真号码", message="缺少传真号码", url="/xxgk/zn.html"),
           F("guide.element_missing", subject="邮政编码", message="缺少邮政编码", url="/xxgk/zn.html"),
           F("guide.element_missing", subject="办公时间", message="缺少办公时间", url="/xxgk/zn.html"),
           F("guide.outdated", message="指南为2024年版本，未按年度更新", url="/xxgk/zn.html")]
    fs += [F("guide.element_present", "pass", e) for e in GUIDE_OK]
    fs += [F("columns.empty", subject=f"法定主动公开内容/{c}", message=f"空白栏目：{c}") for c in ("财政信息", "人事信息")]
    fs += [F("columns.stale", subject=f"工作动态/{i}", message="栏目更新不及时") for i in range(3)]
    fs.append(F("interpretation.share", "pass", share=0.5, policies=4, interpretations=2))
    # the check sampled 10 PDFs: 3 unlabelled, 1 scanned (unverifiable), 6 labelled; 2 more beyond the sample
    sample = ["m", "p", "m", "u", "p", "p", "m", "p", "p", "p", "m", "m"]
    code = {"m": ("pdf_label.missing", "fail"), "p": ("pdf_label.present", "pass"),
            "u": ("pdf_label.unverifiable", "unverifiable")}
    for i, k in enumerate(sample):
        c, st = code[k]
        fs.append(F(c, st, f"/doc/{i}.pdf", message="附件未标定公开属性" if k == "m" else "", url=f"/doc/{i}.pdf",
                    reason="扫描件，无文字层" if k == "u" else None))
    return fs


def test_department_under_changning_hand_computed() -> None:
    r = load_rubric("changning-2020-department")
    manual = {"1": 4, "2": 1, "加分.1": 0.6, "扣分.1": "5"}
    sc = score_site(r, department_findings(), manual, site="s1")
    # 7 指南 (5): 传真号码 −0.5, 邮政编码 −0.5 (办公时间 is not on 昌宁's list), 未按年度更新 −1  → 3
    assert by_id(sc, "7").score == 3 and by_id(sc, "7").deducted == 2
    # 12 栏目 (5): 空白栏目 −1 once, 3 stale columns −0.5 each → 2.5 (provisional: the rest is manual)
    assert by_id(sc, "12").score == 2.5 and by_id(sc, "12").provisional
    # 14 解读 (6): interpretations found → no automated deduction
    assert by_id(sc, "14").score == 6
    # 15 公开属性 (5): first 10 PDFs, 3 unlabelled → −1.5; the scanned one flagged, the 2 beyond not counted
    n15 = by_id(sc, "15")
    assert n15.score == 3.5 and n15.unverifiable and any("样本外另有 2 项" in x for x in n15.notes)
    # 5 年报 (4): present → 4, provisional
    assert by_id(sc, "5").score == 4
    assert sc.automated_total == 19 and sc.automated_max == 25
    # manual: 4 + 1 entered; 75 − 4 − 2 = 69 points pending; bonus 0.6; penalty 5
    assert sc.manual_entered == 5 and sc.manual_pending == 69 and sc.bonus == 0.6 and sc.penalty == 5
    assert sc.total == pytest.approx(19 + 5 + 0.6 - 5)
    out = format_scores([sc])
    assert "指南 −0.5：指南要素不齐全：缺少传真号码（/xxgk/zn.html）" in out
    assert "公开属性标识 −0.5：未标定公开属性：附件未标定公开属性（/doc/0.pdf）" in out
    assert "待人工评分 69 分" in out


# ------------------------------------------------------------------------------ township under 昌宁 乡镇表


def township_findings(site: str = "t1") -> list[PlainFinding]:
    fs = [f for f in checks_ran(site) if f.code != "interpretation.share"]
    fs += [F("guide.missing", message="未找到政府信息公开指南", site=site),
           F("columns.empty", subject="法定主动公开内容/财政信息", site=site),
           F("columns.stale", subject="工作动态", site=site), F("columns.stale", subject="通知公告", site=site),
           F("annual_report.missing", subject="2025", message="未公开2025年度报告", site=site),
           F("interpretation.share", "fail", site=site, share=0.0, policies=3, interpretations=0)]
    fs += [F("pdf_label.present", "pass", f"/p{i}.pdf", site=site) for i in range(10)]
    return fs


def test_township_under_changning_hand_computed() -> None:
    r = load_rubric("changning-2020-township")
    sc = score_site(r, township_findings(), {"一票否决": "否"}, site="t1")
    assert by_id(sc, "7").score == 0  # 未编制指南 −5
    assert by_id(sc, "13").score == 1  # 空白栏目 −1, 2 stale × 0.5
    assert by_id(sc, "5").score == 2  # 年报未公开 −2
    assert by_id(sc, "16").score == 0  # no interpretation material at all: −5
    assert by_id(sc, "17").score == 5
    assert sc.automated_total == 8 and sc.automated_max == 22 and sc.vetoes == []


def test_rank_shares_for_townships_and_veto() -> None:
    r = load_rubric("changning-2020-township")
    scores = []
    for i in range(13):
        manual = {"1": 4 - (i % 5) * 0.5} if i else {"1": 4}
        if i == 0:
            manual["一票否决"] = "是"  # the best-scoring township is vetoed
        sc = score_site(r, township_findings(f"t{i}") + [F("columns.stale", subject=f"x{j}", site=f"t{i}")
                                                         for j in range(i % 3)], manual, site=f"t{i}")
        scores.append(sc)
    grade_sites(scores, r)
    grades = {s.site_id: s.grade for s in scores}
    ranks = {s.site_id: s.rank for s in scores}
    assert all(g.endswith("（暂定）") for g in grades.values())  # manual points still pending
    assert grades["t0"].startswith("不合格")  # 一票否决 whatever its rank
    by_rank = sorted(scores, key=lambda s: s.rank)
    for s in by_rank:
        if s.site_id == "t0":
            continue
        expect = "优秀" if s.rank <= 4 else "良好" if s.rank <= 10 else "合格"
        # provisional totals are projected to 100; below 60 → 不合格 (第47行)
        if (s.percent or 0) < 60:
            expect = "不合格"
        assert grades[s.site_id].startswith(expect), (s.site_id, s.rank, s.percent)
    assert ranks["t0"] == 1


def test_rank_shares_scale_to_fewer_units_and_split_by_category() -> None:
    r = load_rubric("changning-2020-department")
    scores = []
    for i, cat in enumerate("AAAAABB"):
        manual = {str(n): 0 for n in range(1, 28) if load_rubric("changning-2020-department")}  # all entered
        manual = {k: v for k, v in manual.items() if by_kind(r, k) == "manual"}
        manual["1"] = 4 - i * 0.5 if i < 5 else 4 - (i - 5)
        sc = score_site(r, checks_ran(f"d{i}"), manual, site=type("S", (), {"site_id": f"d{i}", "name": f"局{i}",
                                                                          "category": cat})())
        scores.append(sc)
    grade_sites(scores, r)
    a = sorted((s for s in scores if s.category == "A"), key=lambda s: s.rank)
    # 5 A units: 优秀 round(5×5/26)=1, 良好 round(5×13/26)=3 → 2, 合格 2; shares said so in the note
    assert [s.grade for s in a] == ["优秀", "良好", "良好", "合格", "合格"] or all(
        (s.percent or 0) < 60 for s in a[3:])
    assert "按比例折算" in (a[0].grade_note or "")
    b = sorted((s for s in scores if s.category == "B"), key=lambda s: s.rank)
    assert b[0].rank == 1 and b[1].rank == 2  # ranked within category B


def by_kind(r, ind_id):
    node = next(i for i in r.walk() if i.id == ind_id)
    return node.mode if node.kind == "scored" and node.is_leaf else None


# ------------------------------------------------------------------------------ county under 廊坊


def test_county_under_langfang_hand_computed() -> None:
    r = load_rubric("langfang-2020-county")
    fs = checks_ran("c1")
    fs = [f for f in fs if f.code != "interpretation.share"]
    fs += [F("site_health.nonstandard_domain", subject="xxgk.example.com", site="c1"),
           F("site_health.nonstandard_domain", subject="old.example.net", site="c1"),
           F("site_health.nonstandard_domain", "pass", "www.example.gov.cn", site="c1"),
           F("interpretation.share", "pass", site="c1", share=0.6, policies=5, interpretations=3),
           F("interpretation.late", subject="/jd/1", site="c1", working_days=7),
           F("interpretation.late", subject="/jd/2", site="c1", working_days=4),  # late by 3, fine under 廊坊's 5
           F("interpretation.late", subject="/jd/3", site="c1"),  # no working days: cannot judge
           F("interpretation.late", "pass", "/jd/4", site="c1", working_days=1)]
    fs += [F("interpretation.not_linked_to_policy", subject=f"/jd/{i}", site="c1") for i in range(3)]
    fs += [F("interpretation.policy_not_linked_back", subject=f"/zc/{i}", site="c1") for i in range(4)]
    fs += [F("guide.element_missing", subject="传真号码", site="c1"),
           F("annual_report.missing", subject="2025", site="c1")]
    manual = {"内容更新否决": "是", "新媒体开设": 5, "政府公报": 2}
    sc = score_site(r, fs, manual, site="c1")
    assert by_id(sc, "域名规范").score == pytest.approx(1.6)  # 2 × 0.2
    assert by_id(sc, "解读比例").score == 2  # share 0.6 → 3 × 0.4 = 1.2 ≈ 1 missing of 3 → −1
    n = by_id(sc, "解读时效")
    assert n.score == 2 and n.unverifiable  # 1 late of 3 judged → −1; the one without days flagged
    assert by_id(sc, "解读关联").score == 0  # 7 × 0.5 = 3.5, capped at 3
    assert by_id(sc, "信息公开指南").score == 3 and by_id(sc, "信息公开指南").review  # shown, not deducted
    assert by_id(sc, "年度报告").score == 0
    assert sc.automated_total == pytest.approx(8.6) and sc.automated_max == 16
    # 单项否决: the whole 新媒体平台 (9) scores 0, the entered 5 is not counted
    assert by_id(sc, "新媒体平台").score == 0 and sc.vetoes
    assert sc.manual_entered == 2 and sc.total == pytest.approx(10.6)


# ------------------------------------------------------------------------------ weights: 随州 第三方 县市区


def test_county_under_suizhou_weights_hand_computed() -> None:
    r = load_rubric("suizhou-2020-thirdparty-county")
    fs = checks_ran("c2") + [
        F("guide.missing", site="c2"),
        F("annual_report.late", subject="2025", site="c2"),
        F("annual_report.section_missing", subject="2025/存在的主要问题及改进情况", site="c2"),
        F("annual_report.section_missing", subject="2025/其他需要报告的事项", site="c2"),
        F("columns.required_missing", subject="政府网站工作年度报表", site="c2"),
        F("columns.required_missing", subject="政策", site="c2")]
    sc = score_site(r, fs, site="c2")
    pts = {n.indicator.name: n for n in sc.walk() if n.indicator.path[:2] == ("主动公开", "公開年報")}
    # 60% × 5% × 40% × 100 = 1.2 for 結構完整; each missing part −1/6 of it
    assert pts["結構完整"].max_points == pytest.approx(1.2) and pts["結構完整"].score == pytest.approx(0.8)
    assert pts["發布時間"].score == 0 and pts["新穎性"].score == pytest.approx(0.9)
    guide = [n for n in sc.walk() if n.indicator.path[:2] == ("主动公开", "公開指南") and n.indicator.is_leaf]
    assert [n.score for n in guide if n.indicator.mode == "automated"] == [0, 0, 0]
    assert by_id(sc, "三.1.1").score == pytest.approx(4)  # 10% × 60% = 6, two of six columns missing
    assert sc.automated_total == pytest.approx(6.0) and sc.automated_max == pytest.approx(10.5)
    assert sc.grade is None or sc.grade.endswith("（暂定）")


# ------------------------------------------------------------------------------ bands, bonus caps, veto


def test_department_under_suizhou_work_bands_bonus_and_veto() -> None:
    r = load_rubric("suizhou-2020-work-department")
    fs = checks_ran("d9")
    fs = [f for f in fs if f.code != "interpretation.share"]
    fs += [F("columns.required_missing", subject=s, site="d9") for s in
           ("政策", "政府信息公开指南", "政府信息公开制度", "法定主动公开内容", "政府信息公开年报")]
    fs.append(F("interpretation.share", "fail", site="d9", share=0.0, policies=3, interpretations=0))
    manual = {"內容保障.1": {"score": None, "value": 35}, "加分.1": 18, "加分.2": 8, "否決.2": "是"}
    sc = score_site(r, fs, manual, site="d9")
    n = by_id(sc, "工作落實.1")
    assert n.score == 0 and sum(d.points for d in n.deductions) == 20  # 5 × 5 = 25, capped at 20
    assert by_id(sc, "內容保障.1").score == 9  # 35 items: 30–40 band
    assert by_id(sc, "內容保障.3").score == 5  # policies but no interpretation
    assert by_id(sc, "加分.1").bonus == 12 and by_id(sc, "加分").bonus == 20
    assert sc.total == pytest.approx(0 + 9 + 5 + 20)
    assert sc.vetoes == ["考核材料弄虛作假"]


def test_band_edges_and_no_policies() -> None:
    r = load_rubric("suizhou-2020-work-department")
    for value, expect in ((40, 12), (39.9, 9), (30, 9), (10, 3), (1, 1), (0, 0)):
        sc = score_site(r, checks_ran(), {"內容保障.1": {"value": value}}, site="s1")
        assert by_id(sc, "內容保障.1").score == expect, value
    sc = score_site(r, checks_ran()[:-2] + [F("interpretation.share", "pass", policies=0, share=0,
                                                interpretations=0)], site="s1")
    assert by_id(sc, "內容保障.3").score == 0  # no policy documents at all


def test_total_cap_after_bonus() -> None:
    r = load_rubric("changning-2020-township")
    manual = {i.id: i.points for i in r.leaves() if i.kind == "scored" and i.mode != "automated"}
    manual["加分.1"] = 3
    sc = score_site(r, checks_ran("t1"), manual, site="t1")
    assert sc.total == 100 and any("按 100 分计算" in w for w in sc.warnings)
    grade_sites([sc], r)
    # one unit alone: 1 × 4/13 rounds to no 优秀 place, 1 × 10/13 to one 良好 place — and the note says so
    assert sc.grade == "良好" and sc.grade_final and "按比例折算" in (sc.grade_note or "")


# ------------------------------------------------------------------------------ unverifiable, unreachable, disputes


def test_unverifiable_and_missing_checks_never_deduct() -> None:
    r = load_rubric("changning-2020-department")
    fs = [F("guide.missing", "unverifiable", message="指南页面无法访问", reason="timeout")]
    sc = score_site(r, fs, site="s1")
    n7 = by_id(sc, "7")
    assert n7.score == 5 and n7.unverifiable and "timeout" in n7.unverifiable[0]
    n15 = by_id(sc, "15")  # pdf_label check has no result at all
    assert n15.score == 5 and any("pdf_label 无结果" in u for u in n15.unverifiable)


def test_guide_element_not_on_the_rubric_list_is_unverifiable_not_deducted() -> None:
    r = load_rubric("changning-2020-department")
    fs = checks_ran() + [F("guide.element_missing", subject="邮箱地址")]
    n = by_id(score_site(r, fs, site="s1"), "7")
    assert n.score == 5 and "无法对应" in n.unverifiable[0]


def test_unreachable_site_is_not_deducted() -> None:
    r = load_rubric("changning-2020-department")
    fs = [F("site_health.unreachable", message="平台无法访问"), F("guide.missing"), F("columns.empty", subject="x")]
    sc = score_site(r, fs, site="s1")
    assert sc.unreachable and sc.automated_total == sc.automated_max
    assert all(n.unverifiable for n in sc.walk() if n.indicator.is_leaf and n.indicator.mode != "manual"
               and n.indicator.kind == "scored")


def test_unreachable_site_is_neither_ranked_nor_graded() -> None:
    """Its points stand only because nothing could be verified: ranking it first would grade 优秀 a
    platform nobody could open."""
    from rubric_map.engine import score_many

    r = load_rubric("langfang-2020-county")
    reachable = [*checks_ran("ok"), F("guide.element_missing", subject="传真号码", site="ok")]
    dead = [F("site_health.unreachable", message="平台无法访问", site="dead")]
    out = {sc.site_id: sc for sc in score_many(r, [("ok", reachable, None, None), ("dead", dead, None, None)])}
    assert out["dead"].grade is None and out["dead"].rank is None
    assert "平台无法访问" in (out["dead"].grade_note or "")
    assert out["ok"].rank == 1 and out["ok"].rank_of == 1 and out["ok"].grade


def test_disputed_findings_are_left_out_and_marked_adjusted() -> None:
    r = load_rubric("changning-2020-department")
    fax = F("guide.element_missing", subject="传真号码", message="缺少传真号码")
    fs = checks_ran() + [fax, F("guide.element_missing", subject="邮政编码")]
    before = score_site(r, fs, site="s1")
    after = score_site(r, fs, site="s1", disputed={fax.fingerprint})
    assert by_id(before, "7").score == 4 and by_id(after, "7").score == 4.5
    assert by_id(after, "7").adjusted and after.adjusted and not before.adjusted


def test_manual_never_awarded_without_an_entry_and_bad_entries_are_reported() -> None:
    r = load_rubric("changning-2020-department")
    sc = score_site(r, checks_ran(), {"8": 9, "nope": 1, "9": "abc"}, site="s1")
    assert by_id(sc, "8").score is None and by_id(sc, "8").pending == 4  # 9 > 4: not taken
    assert any("nope" in w for w in sc.warnings) and any("9" in w for w in sc.warnings)
    assert all(n.score is None for n in sc.walk() if n.indicator.is_leaf and n.indicator.mode == "manual"
               and n.indicator.kind == "scored")
    assert sc.manual_entered == 0 and sc.total == sc.automated_total


# ------------------------------------------------------------------------------ the 大同 method


METHOD_RUBRIC = """\
id: test-datong
title: 大同计分办法测试
unit_type: township
source: {file: datong-2020-assessment-scheme.txt, line: 68}
method: datong-2020
total: 20
indicators:
  - id: 一
    name: 一级
    points: 10
    source: {file: datong-2020-assessment-scheme.txt, line: 72}
    children:
      - id: a
        name: 二级甲
        points: 5
        mode: automated
        source: {file: datong-2020-assessment-scheme.txt, line: 74}
        rules:
          - {kind: per_item, codes: [columns.empty], points: 3}
      - id: b
        name: 二级乙
        points: 5
        mode: automated
        source: {file: datong-2020-assessment-scheme.txt, line: 74}
        rules:
          - {kind: fixed, codes: [guide.missing], points: 1}
      - id: plus
        name: 亮点加分
        kind: bonus
        points: 5
        mode: manual
        source: {file: datong-2020-assessment-scheme.txt, line: 76}
  - id: 二
    name: 一级二
    points: 10
    source: {file: datong-2020-assessment-scheme.txt, line: 72}
    children:
      - id: c
        name: 二级丙
        points: 10
        mode: automated
        source: {file: datong-2020-assessment-scheme.txt, line: 74}
        rules:
          - {kind: per_item, codes: [columns.stale], points: 1}
"""


def test_datong_method_caps_at_first_level_and_bonus_at_20_percent(tmp_path: Path) -> None:
    p = tmp_path / "test-datong.yaml"
    p.write_text(METHOD_RUBRIC, encoding="utf-8")
    r = load_rubric_file(p)
    assert r.deduction_caps == "first_level" and r.max_total == 22  # bonus cap 20% of 10
    fs = [F("columns.empty", subject=f"c{i}") for i in range(3)] + [F("guide.missing"), F("columns.stale")]
    fs += [F("columns.present", "pass", "政策"), F("guide.present", "pass")]
    sc = score_site(r, fs, {"plus": 5}, site="s1")
    # 二级甲 loses 9 (> its own 5, allowed), 二级乙 1: the 一级 loses 10, capped at its own 10
    assert by_id(sc, "a").deducted == 9 and by_id(sc, "一").score == 0
    assert by_id(sc, "plus").bonus == 2  # at most 20% of the parent's 10
    assert by_id(sc, "二").score == 9
    assert sc.total == 11
    grade_sites([sc], r)
    assert sc.grade == "不合格" and sc.grade_final and "datong-2020" in (sc.grade_note or "")


def test_format_rubric_shows_modes_points_and_rules() -> None:
    text = format_rubric(load_rubric("changning-2020-department"))
    assert "指南" in text and "自动" in text and "人工" in text and "抽查 10 份，每份扣 0.5" in text
    assert "网上测评/实地测评" in format_rubric(load_rubric("baohe-2021-street"))
    assert "优秀 ≥90" in format_rubric(load_rubric("datong-2020"))


# ------------------------------------------------------------------------------ score_run on SQLite


def _seed(store) -> int:
    with store.session() as s:
        run = m.Run(as_of=dt.date(2026, 11, 20), assessment_year=2026, tool_version="t")
        s.add(run)
        s.flush()
        for i in range(3):
            sid = f"t{i}"
            s.add(m.Site(site_id=sid, name=f"第{i}镇", unit_type="township", url="http://127.0.0.1/",
                         rubric="changning-2020-township"))
            s.flush()
            s.add(m.RunSite(run_id=run.id, site_id=sid, name=f"第{i}镇", unit_type="township",
                            url="http://127.0.0.1/", rubric="changning-2020-township", status="checked"))
            for f in township_findings(sid)[: 6 + i * 3]:
                s.add(m.Finding(run_id=run.id, site_id=sid, check_id=f.check_id, check_version="1", code=f.code,
                                status=f.status, subject=f.subject, fingerprint=f.fingerprint, message=f.message,
                                url=f.url, details=f.details))
        s.flush()
        return run.id


def test_score_run_writes_rows_ranks_and_applies_disputes(store, tmp_path: Path) -> None:
    run_id = _seed(store)
    manual = tmp_path / "manual.csv"
    manual.write_text("site_id,rubric,indicator,score,note\n"
                      "t0,changning-2020-township,1,3,未报备案\n"
                      "t0,changning-2020-township,99,3,\n", encoding="utf-8")
    scores = score_run(store, run_id, manual_file=manual)
    assert [s.site_id for s in scores] == ["t0", "t1", "t2"]
    with store.session() as s:
        rows = s.query(m.Score).filter_by(run_id=run_id).all()
        totals = {r.site_id: r for r in rows if r.indicator_id == "__total__"}
        n_ind = len(list(load_rubric("changning-2020-township").walk()))
        assert len(rows) == 3 * (n_ind + 1)
        assert {t.rank for t in totals.values()} <= {1, 2, 3} and all(t.grade for t in totals.values())
        assert totals["t0"].details["manual_entered"] == 3
        t2_guide = next(r for r in rows if r.site_id == "t2" and r.indicator_id == "7")
        assert t2_guide.score == 0 and t2_guide.basis and "未按要求编制指南" in t2_guide.explanation
        assert "changning-2020-assessment-notice.txt:93" in t2_guide.explanation
        fp = s.query(m.Finding).filter_by(run_id=run_id, site_id="t2", code="guide.missing").one().fingerprint
        s.add(m.Dispute(site_id="t2", fingerprint=fp, reason="指南在“政府信息公开制度”栏目下", author="审核员"))
    assert any("99" in w for w in scores[0].warnings)
    again = score_run(store, run_id, ["t2"])
    assert len(again) == 1 and again[0].adjusted
    with store.session() as s:
        rows = s.query(m.Score).filter_by(run_id=run_id).all()
        assert len(rows) == 3 * (n_ind + 1)  # replaced, not duplicated
        guide = next(r for r in rows if r.site_id == "t2" and r.indicator_id == "7")
        assert guide.score == 5 and guide.adjusted


def _score_rows(store, run_id: int) -> list[tuple]:
    with store.session() as s:
        return sorted((r.site_id, r.indicator_id, r.score, r.deducted, r.rank, r.grade, r.explanation,
                       r.basis, r.details) for r in s.query(m.Score).filter_by(run_id=run_id))


def test_score_run_in_chunks_ranks_the_whole_group_and_writes_the_same_rows(store, monkeypatch) -> None:
    """A run is scored a chunk of sites at a time (memory bounded by the chunk); ranking and grading still
    cover every site, and the rows are the ones an all-at-once scoring writes."""
    from rubric_map import engine

    run_id = _seed(store)
    whole = score_run(store, run_id)
    at_once = _score_rows(store, run_id)
    assert sorted(sc.rank for sc in whole) == [1, 2, 3]
    monkeypatch.setattr(engine, "SCORE_CHUNK", 1)
    slim = score_run(store, run_id, keep_detail=False)
    assert _score_rows(store, run_id) == at_once
    assert [(sc.site_id, sc.total, sc.rank, sc.grade) for sc in slim] == \
        [(sc.site_id, sc.total, sc.rank, sc.grade) for sc in whole]
    assert all(list(sc.walk()) == [] for sc in slim)  # the detail was released once written
    one = score_run(store, run_id, ["t1"])  # a chunk of one, ranked against the others again
    assert list(one[0].walk()) and _score_rows(store, run_id) == at_once


def test_score_run_refuses_unknown_sites_and_skips_unknown_rubrics(store) -> None:
    run_id = _seed(store)
    with pytest.raises(LookupError):
        score_run(store, run_id, ["nope"])
    with store.session() as s:
        s.query(m.RunSite).filter_by(site_id="t1").update({"rubric": "no-such-rubric"})
    out = score_run(store, run_id)
    assert any(s.site_id == "t1" and not s.rubric_id and "未评分" in s.warnings[0] for s in out)
    assert "未评分" in format_scores(out)


def test_manual_file_yaml_and_csv_rows(tmp_path: Path) -> None:
    from rubric_map.manual import ManualFileError, load_manual_file

    y = tmp_path / "m.yaml"
    y.write_text("- {site_id: d1, rubric: suizhou-2020-work-department, indicator: 內容保障.1, value: 41}\n"
                 "- {site_id: d1, rubric: suizhou-2020-work-department, indicator: 否決.1, score: 是, note: 被点名}\n"
                 "- {site_id: d1, rubric: suizhou-2020-work-department, indicator: 組織推進.1, score: 十分}\n"
                 "- just a string\n", encoding="utf-8")
    ms = load_manual_file(y)
    entries = ms.for_site("d1", "suizhou-2020-work-department")
    assert entries["內容保障.1"].value == 41 and entries["否決.1"].flag is True
    assert len(ms.warnings) == 2 and "entry 3" in ms.warnings[0]
    r = load_rubric("suizhou-2020-work-department")
    sc = score_site(r, checks_ran("d1"), entries, site="d1")
    assert by_id(sc, "內容保障.1").score == 12 and sc.vetoes
    grade_sites([sc], r)
    assert sc.grade is not None and not sc.grade.startswith("优秀")
    c = tmp_path / "m.csv"
    c.write_bytes("site_id,rubric,indicator,score,note\nd1,r,x,3,备注\n".encode("gb18030"))
    assert load_manual_file(c).for_site("d1", "r")["x"].note == "备注"
    bad = tmp_path / "bad.csv"
    bad.write_text("site,score\n", encoding="utf-8")
    with pytest.raises(ManualFileError, match="header lacks"):
        load_manual_file(bad)
    with pytest.raises(ManualFileError, match="cannot read"):
        load_manual_file(tmp_path / "missing.csv")


def test_assessor_override_of_an_automated_item_keeps_the_automated_result_visible() -> None:
    r = load_rubric("changning-2020-department")
    fs = checks_ran() + [F("guide.missing", message="未找到指南")]
    sc = score_site(r, fs, {"7": 4}, site="s1")
    n = by_id(sc, "7")
    assert n.score == 4 and n.deducted == 1 and not n.deductions
    assert any("（自动核验）−5" in x for x in n.notes) and any("以人工评分为准" in x for x in n.notes)
