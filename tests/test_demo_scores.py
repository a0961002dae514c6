"""Hand-computed scores of crawled demo units under three rubrics (issue 6).

Each expected deduction comes from the unit's injected defects (govaudit/demo ground truth) and the
rubric line that prices it; everything else on these units is compliant, so nothing else may be deducted.

- 柳溪乡 under 昌宁 乡镇表 (automated part 22): item 5 "年度报告每少一项扣2分" (report 2025 missing) −2;
  item 7 "未编制指南扣5分" −5; item 13 发布不及时 (通知公告 > 6 months) −0.5.  22 − 7.5 = 14.5.
  Not deducted: 制度 column missing (item 4 needs the documents: reference only), spam (shown to the assessor).
- 石桥镇 under 昌宁 乡镇表: item 7 "要素不齐全扣0.5分" once (传真号码; 信息处理费 is not among the 11 elements
  the township table lists) −0.5; item 13 工作动态 > 2 weeks −0.5; item 17 10 PDFs sampled, 0.5 per unlabelled
  (one) −0.5.  22 − 1.5 = 20.5.  The copied report and the missing back-link are not priced by this table.
- 青山县政府 under 廊坊/霸州 (automated part 16): 解读关联 "未与被解读的政策文件相关联的，每发现一处扣0.5分"
  (one interpretation without its policy link) −0.5.  16 − 0.5 = 15.5.  解读比例 stays 3: one policy of the
  period uninterpreted rounds to 0 of 3 samples in the unit's favour; 年报's late/section/table items have no
  printed amount and go to the assessor.
- 教育局 under 随州 第三方评估指标（部门） (nested weights, automated part 16.8): 主动公开 60% × 公开指南 5% × 及时更新
  20% = 0.6 points, lost whole to the guide last updated in 2024 (guide.outdated) −0.6.  16.8 − 0.6 = 16.2.
  Its late/missing interpretations, label conflict, broken link and table errors feed manual or reference items.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rubric_map.engine import score_site
from rubric_map.findings import PlainFinding
from rubric_map.loader import load_rubric
from storage import models as m

pytestmark = pytest.mark.integration

EXPECTED = {
    # site: (rubric, automated max, automated total, {indicator id: deducted})
    "qs-liuxi": ("changning-2020-township", 22.0, 14.5, {"5": 2.0, "7": 5.0, "13": 0.5}),
    "qs-shiqiao": ("changning-2020-township", 22.0, 20.5, {"7": 0.5, "13": 0.5, "17": 0.5}),
    "qs-gov": ("langfang-2020-county", 16.0, 15.5, {"解读关联": 0.5}),
    "qs-edu": ("suizhou-2020-thirdparty-department", 16.8, 16.2, {"一.11.5": 0.6}),
}


@pytest.mark.parametrize("site_id", sorted(EXPECTED))
def test_demo_unit_scores_as_computed_by_hand(demo_run, site_id: str) -> None:
    rubric_id, auto_max, auto_total, deductions = EXPECTED[site_id]
    with demo_run.store.session() as s:
        rows = s.scalars(select(m.Score).where(m.Score.run_id == demo_run.run_id, m.Score.site_id == site_id,
                                               m.Score.rubric_id == rubric_id)).all()
    total = next(r for r in rows if r.indicator_id == "__total__")
    assert (total.details["automated_max"], total.details["automated_total"]) == pytest.approx((auto_max, auto_total))
    leaf_deductions = {r.indicator_id: r.deducted for r in rows
                       if r.deducted and r.indicator_id != "__total__" and not any(
                           o.path.startswith(r.path + " / ") for o in rows if o is not r)}
    assert leaf_deductions == pytest.approx(deductions)


def test_five_of_six_interpreted_is_a_full_sample_under_langfang() -> None:
    """3 samples × 1/6 uninterpreted = half a document: rounded in the unit's favour (rubric note)."""
    r = load_rubric("langfang-2020-county")
    share = PlainFinding(id=1, site_id="s", check_id="interpretation", code="interpretation.share",
                         status="pass", subject="", message="", url=None, fingerprint="f",
                         details={"policies": 6, "interpreted": 5, "share": round(5 / 6, 4), "interpretations": 5})
    sc = score_site(r, [share], site="s")
    node = next(n for n in sc.walk() if n.indicator.id == "解读比例")
    assert node.score == 3
