"""Every rubric file loads and cites real source lines; every kind of mistake in a file is refused with its
file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rubric_map.codes import known_codes
from rubric_map.loader import RUBRIC_DIR, list_rubrics, load_rubric, load_rubric_file
from rubric_map.model import RubricError, UnknownRubric

SOURCES = Path("/work/shared/rubric-sources")
RUBRIC_IDS = ["suizhou-2020-thirdparty-county", "suizhou-2020-thirdparty-department", "suizhou-2020-work-county",
              "suizhou-2020-work-department", "changning-2020-township", "changning-2020-department",
              "langfang-2020-county", "baohe-2021-street", "baohe-2021-department"]


def test_every_listed_rubric_and_the_method_load() -> None:
    infos = {i.id: i for i in list_rubrics()}
    assert set(RUBRIC_IDS) <= set(infos)
    assert infos["datong-2020"].unit_type == "method"
    for rid in RUBRIC_IDS:
        r = load_rubric(rid)
        assert r.total == pytest.approx(100.0), rid
        assert r.indicators and all(i.mode in ("automated", "partial", "manual") for i in r.walk())
        # the scored leaves add up to the total, whatever the layout (points or nested weights)
        assert sum(i.points for i in r.leaves() if i.kind == "scored") == pytest.approx(r.total), rid


def test_unknown_rubric_is_a_key_error() -> None:
    with pytest.raises(UnknownRubric, match="unknown rubric 'nope'"):
        load_rubric("nope")
    assert isinstance(UnknownRubric("x"), KeyError)


@pytest.mark.skipif(not SOURCES.is_dir(), reason="rubric source texts not present")
def test_every_indicator_cites_a_printed_line_of_its_source() -> None:
    texts = {p.name: p.read_text(encoding="utf-8").split("\n") for p in SOURCES.glob("*.txt")}
    for rid in RUBRIC_IDS:
        for ind in load_rubric(rid).walk():
            lines = texts[ind.source.file]
            assert 1 <= ind.source.line <= len(lines), (rid, ind.id)
            assert lines[ind.source.line - 1].strip(), f"{rid} {ind.id} cites blank line {ind.source.line}"
            for _, src in ind.items:
                assert texts[src.file][src.line - 1].strip()


@pytest.mark.skipif(not SOURCES.is_dir(), reason="rubric source texts not present")
def test_numbered_rows_are_all_encoded() -> None:
    """昌宁's 序号 1–28 / 1–27, 包河's 27 共性 items and 8 / 5 个性 items, 随州's 三级 rows: none left out."""
    ids = {rid: {i.id for i in load_rubric(rid).walk()} for rid in RUBRIC_IDS}
    assert {str(n) for n in range(1, 29)} <= ids["changning-2020-township"]
    assert {str(n) for n in range(1, 28)} <= ids["changning-2020-department"]
    for rid, personal in (("baohe-2021-street", 8), ("baohe-2021-department", 5)):
        assert {f"共性.{n}" for n in range(1, 28)} <= ids[rid]
        assert {f"个性.{n}" for n in range(1, personal + 1)} <= ids[rid]
        assert f"个性.{personal + 1}" not in ids[rid]
    county_rows = [i for i in load_rubric("suizhou-2020-thirdparty-county").leaves()]
    dept_rows = [i for i in load_rubric("suizhou-2020-thirdparty-department").leaves()]
    # 附件2 县市区 table rows 43–102, 部门 rows 106–159: every printed row is a leaf or heads one
    assert {i.source.line for i in county_rows} == set(range(43, 103))
    assert {i.source.line for i in dept_rows} == set(range(106, 160))
    langfang = load_rubric("langfang-2020-county")
    assert len(next(i for i in langfang.walk() if i.id == "重点领域.1").items) == 14
    assert sum(i.points for i in langfang.walk() if i.level == 1) == 100


def test_rubric_codes_are_all_known_and_modes_consistent() -> None:
    known = known_codes()
    for rid in RUBRIC_IDS:
        for ind in load_rubric(rid).walk():
            for rule in ind.rules:
                assert set(rule.codes) <= set(known)
            if ind.mode == "manual":
                assert all(r.kind == "review" or r.field == "manual_value" or r.kind == "veto"
                           for r in ind.rules)


# ------------------------------------------------------------------------------------------- bad files

GOOD = """\
id: test-rubric
title: 测试评分表
unit_type: county
source: {file: changning-2020-assessment-notice.txt, line: 82}
scoring: points
total: 10
indicators:
  - id: 一
    name: 主动公开
    points: 10
    source: {file: changning-2020-assessment-notice.txt, line: 93}
    children:
      - id: "7"
        name: 指南
        points: 5
        mode: automated
        source: {file: changning-2020-assessment-notice.txt, line: 93}
        rules:
          - {kind: per_item, codes: [guide.element_missing], points: 0.5, cap: 5}
      - id: "8"
        name: 会议
        points: 5
        mode: manual
        source: {file: changning-2020-assessment-notice.txt, line: 94}
"""

WEIGHTED = """\
id: test-weighted
title: 测试权重
unit_type: county
source: {file: suizhou-2020-assessment-plan.txt, line: 41}
scoring: weights
total: 100
indicators:
  - id: 一
    name: 主动公开
    weight: 100
    source: {file: suizhou-2020-assessment-plan.txt, line: 43}
    children:
      - {name: 有无, weight: 60, mode: manual, source: {file: suizhou-2020-assessment-plan.txt, line: 84}}
      - {name: 时效性, weight: 30, mode: manual, source: {file: suizhou-2020-assessment-plan.txt, line: 85}}
"""


def _write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _line_of(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if marker in line)


def test_the_good_file_loads(tmp_path: Path) -> None:
    r = load_rubric_file(_write(tmp_path, GOOD, "good.yaml"))
    assert r.total == 10 and [i.id for i in r.leaves()] == ["7", "8"]


BAD_CASES = [
    # (what, replace this, by that, marker of the line the error must name, message fragment)
    ("unknown finding code", "codes: [guide.element_missing]", "codes: [guide.element_mising]",
     "guide.element_mising", "unknown finding code"),
    ("cap below zero", "cap: 5}", "cap: -1}", "cap: -1", "cap below 0"),
    ("unknown rule kind", "{kind: per_item,", "{kind: per_element,", "per_element", "unknown rule kind"),
    ("points not summing", "        points: 5\n        mode: manual", "        points: 4\n        mode: manual",
     "  - id: 一", "sum to 9"),
    ("total not summing", "total: 10", "total: 12", "total: 12", "indicators sum to 10"),
    ("unknown key", "        name: 会议", "        name: 会议\n        pionts: 5", "pionts", "unknown key"),
    ("missing source", "        source: {file: changning-2020-assessment-notice.txt, line: 94}\n", "",
     "id: \"8\"", "missing `source"),
    ("unknown mode", "mode: manual", "mode: handmade", "handmade", "unknown or missing mode"),
    ("automated without rules", "        mode: manual", "        mode: automated  # no rules", "# no rules",
     "at least one rule"),
    ("negative points in a rule", "points: 0.5, cap: 5", "points: -0.5, cap: 5", "points: -0.5", "below 0"),
    ("duplicate key", "        name: 会议", "        name: 会议\n        name: 会议二", "name: 会议二", "duplicate key"),
    ("yaml syntax", "    children:", "    children: [", "children: [", "YAML"),
    ("bad source line", "line: 94}", "line: zero}", "line: zero", "line number"),
    ("check param of an unknown check", "total: 10\n", "total: 10\ncheck_params:\n  interpretaton: {late_working_days: 5}\n",
     "interpretaton", "unknown check"),
    ("unknown check param", "total: 10\n", "total: 10\ncheck_params:\n  pdf_label: {samples: 10}\n",
     "samples", "no parameter"),
    ("negative check param", "total: 10\n", "total: 10\ncheck_params:\n  interpretation:\n    late_working_days: -1\n",
     "late_working_days: -1", "whole number"),
]


@pytest.mark.parametrize(("what", "old", "new", "marker", "fragment"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_file_is_refused_naming_file_and_line(tmp_path: Path, what: str, old: str, new: str, marker: str,
                                                  fragment: str) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    with pytest.raises(RubricError) as err:
        load_rubric_file(_write(tmp_path, text))
    e = err.value
    assert e.file == "bad.yaml"
    if what != "yaml syntax":  # the parser points at the token after the unclosed bracket
        assert e.line == _line_of(text, marker), (what, str(e))
    assert fragment in str(e), str(e)
    assert str(e).startswith(f"bad.yaml:{e.line}:")


def test_weights_not_summing_are_refused_unless_declared(tmp_path: Path) -> None:
    with pytest.raises(RubricError) as err:
        load_rubric_file(_write(tmp_path, WEIGHTED))
    assert err.value.line == _line_of(WEIGHTED, "  - id: 一") and "sum to 90%" in str(err.value)
    declared = WEIGHTED.replace("    weight: 100\n", "    weight: 100\n    weights_sum: 90\n")
    r = load_rubric_file(_write(tmp_path, declared, "ok.yaml"))
    # printed weights that do not add up are taken as relative weights: 60/90 and 30/90 of the parent
    assert [round(i.points, 4) for i in r.leaves()] == [66.6667, 33.3333]
    wrong = WEIGHTED.replace("    weight: 100\n", "    weight: 100\n    weights_sum: 80\n")
    with pytest.raises(RubricError, match="weights_sum: 80"):
        load_rubric_file(_write(tmp_path, wrong, "wrong.yaml"))


def test_top_level_weights_must_sum_to_100(tmp_path: Path) -> None:
    text = WEIGHTED.replace("    weight: 100\n", "    weight: 90\n    weights_sum: 90\n")
    with pytest.raises(RubricError, match="一级 weights sum to 90%"):
        load_rubric_file(_write(tmp_path, text))


def test_veto_needs_a_known_effect(tmp_path: Path) -> None:
    text = GOOD + ("  - id: 否决\n    name: 一票否决\n    kind: veto\n    effect: explode\n    mode: manual\n"
                   "    source: {file: changning-2020-assessment-notice.txt, line: 120}\n")
    with pytest.raises(RubricError) as err:
        load_rubric_file(_write(tmp_path, text))
    assert err.value.line == _line_of(text, "effect: explode")


def test_uncapped_bonus_needs_a_total_cap(tmp_path: Path) -> None:
    text = GOOD + ("  - id: 加分\n    name: 加分\n    kind: bonus\n    mode: manual\n"
                   "    source: {file: changning-2020-assessment-notice.txt, line: 119}\n")
    with pytest.raises(RubricError, match="total_cap"):
        load_rubric_file(_write(tmp_path, text))
    r = load_rubric_file(_write(tmp_path, text.replace("total: 10\n", "total: 10\ntotal_cap: 10\n"), "ok.yaml"))
    assert r.max_total == 10


def test_rubric_files_are_named_by_their_id() -> None:
    for p in RUBRIC_DIR.glob("*.yaml"):
        assert load_rubric_file(p).id == p.stem
