"""The `columns` check on hand-built evidence shaped like real platform menus."""

from __future__ import annotations

import datetime as dt

import pytest

from checks.runner import run_check_on_evidence
from tests.evidence_factory import EvidenceBuilder

AS_OF = dt.date(2026, 11, 20)

SIX = ["政策", "政府信息公开指南", "政府信息公开制度", "法定主动公开内容", "政府信息公开年报", "政府网站工作年度报表"]


def by_code(findings, code, status=None):
    return [f for f in findings if f.code == code and (status is None or f.status == status)]


def full_platform(b: EvidenceBuilder, names=None, skip=()):
    cols = {}
    for i, name in enumerate(names or SIX):
        if name in skip:
            continue
        col = b.column(name, f"/xxgk/c{i}/", item_count=3, newest=dt.date(2026, 10, 1))
        for j in range(3):
            b.item(col, f"{name}信息{j}", f"/xxgk/c{i}/{j}.html", dt.date(2026, 10, 1) - dt.timedelta(days=j))
        cols[name] = col
    return cols


def test_all_six_present_with_synonyms_and_numbering():
    b = EvidenceBuilder()
    full_platform(b, names=["政策文件", "信息公开指南", "政府信息公开制度", "法定主动公开内容",
                            "政府信息公开工作年度报告", "政府网站年度报表"])
    fs = run_check_on_evidence("columns", b.build())
    assert {f.subject for f in by_code(fs, "columns.present", "pass")} == set(SIX)
    assert not by_code(fs, "columns.required_missing")


def test_missing_column_is_one_fail_named_canonically():
    b = EvidenceBuilder()
    full_platform(b, skip={"政府信息公开制度"})
    fs = run_check_on_evidence("columns", b.build())
    missing = by_code(fs, "columns.required_missing", "fail")
    assert [f.subject for f in missing] == ["政府信息公开制度"]
    assert missing[0].message == "缺少一级栏目：政府信息公开制度"
    assert "政府信息公开指南" in missing[0].evidence


def test_policy_interpretation_is_not_policy():
    b = EvidenceBuilder()
    full_platform(b, names=["政策解读", *SIX[1:]])
    fs = run_check_on_evidence("columns", b.build())
    assert [f.subject for f in by_code(fs, "columns.required_missing", "fail")] == ["政策"]


def test_website_report_column_exempt_for_department_without_website():
    b = EvidenceBuilder(unit_type="department", name="青山县档案馆", options={"has_website": False})
    full_platform(b, skip={"政府网站工作年度报表"})
    fs = run_check_on_evidence("columns", b.build())
    [f] = by_code(fs, "columns.required_missing")
    assert f.status == "not_applicable" and f.subject == "政府网站工作年度报表"


def test_columns_under_platform_root_count_as_first_level():
    b = EvidenceBuilder()
    root = b.column("政府信息公开", "/xxgk/", item_count=0)
    for i, name in enumerate(SIX):
        b.column(name, f"/xxgk/{i}/", parent=root, item_count=1, newest=dt.date(2026, 9, 1))
    fs = run_check_on_evidence("columns", b.build())
    assert len(by_code(fs, "columns.present", "pass")) == 6
    assert not by_code(fs, "columns.empty")  # the root is a container, not an empty column


def test_column_only_at_second_level_is_still_missing_as_first_level():
    b = EvidenceBuilder()
    cols = full_platform(b, skip={"政府信息公开制度"})
    b.column("政府信息公开制度", "/xxgk/zd/", parent=cols["法定主动公开内容"], item_count=2,
             newest=dt.date(2026, 1, 1))
    fs = run_check_on_evidence("columns", b.build())
    [f] = by_code(fs, "columns.required_missing", "fail")
    assert "法定主动公开内容/政府信息公开制度" in f.message


def test_unreadable_menu_and_unreachable_site_are_unverifiable_never_fail():
    b = EvidenceBuilder()
    fs = run_check_on_evidence("columns", b.build())
    assert {f.status for f in fs} == {"unverifiable"} and len(fs) == 6
    b = EvidenceBuilder(run_status="unreachable")
    full_platform(b)
    fs = run_check_on_evidence("columns", b.build())
    assert fs and all(f.status == "unverifiable" and f.details["reason"] for f in fs)


def test_empty_empty_with_note_and_unreadable_lists():
    b = EvidenceBuilder()
    cols = full_platform(b)
    parent = cols["法定主动公开内容"]
    b.column("财政信息", "/xxgk/czxx/", parent=parent, item_count=0)
    b.column("重大建设项目", "/xxgk/zdxm/", parent=parent, item_count=0, empty_note="本栏目暂无信息，因本单位无重大建设项目")
    b.column("统计信息", "/xxgk/tjxx/", parent=parent, item_count=None, list_status="timeout")
    b.column("审计信息", "/xxgk/sjxx/", parent=parent, item_count=0, list_status="server_error")
    fs = run_check_on_evidence("columns", b.build())
    [empty] = by_code(fs, "columns.empty", "fail")
    assert empty.subject == "法定主动公开内容/财政信息" and empty.message == "空白栏目：法定主动公开内容/财政信息"
    [noted] = by_code(fs, "columns.empty_with_note", "fail")
    assert noted.subject == "法定主动公开内容/重大建设项目" and noted.severity == "low"
    assert "暂无信息" in noted.evidence
    unver = {f.subject for f in by_code(fs, "columns.empty", "unverifiable")}
    assert unver == {"法定主动公开内容/统计信息", "法定主动公开内容/审计信息"}


def test_single_page_column_is_not_empty():
    b = EvidenceBuilder()
    full_platform(b)
    col = b.column("机构职能", "/xxgk/jgzn/", item_count=0)
    b.document("/xxgk/jgzn/", title="机构职能", body_text="青山县财政局是县政府工作部门……", column=col)
    fs = run_check_on_evidence("columns", b.build())
    assert not by_code(fs, "columns.empty", "fail")
    assert any(f.subject == "机构职能" and f.status == "pass" for f in by_code(fs, "columns.populated"))


@pytest.mark.parametrize(("name", "newest", "stale"), [
    ("工作动态", dt.date(2026, 11, 6), False),   # exactly two weeks: still on time
    ("工作动态", dt.date(2026, 11, 5), True),
    ("政务要闻", dt.date(2026, 10, 1), True),
    ("通知公告", dt.date(2026, 5, 20), False),  # six calendar months
    ("通知公告", dt.date(2026, 5, 19), True),
    ("政策文件", dt.date(2026, 3, 1), True),
    ("人事信息", dt.date(2025, 11, 21), False),
    ("规划计划", dt.date(2025, 11, 19), True),
    ("财政预决算", dt.date(2020, 1, 1), False),  # other kinds are not judged stale
    ("新闻发布会", dt.date(2025, 1, 1), False),
])
def test_staleness_periods_by_kind(name, newest, stale):
    b = EvidenceBuilder(as_of=AS_OF)
    full_platform(b)
    col = b.column(name, "/xxgk/x/", item_count=2, newest=newest)
    b.item(col, "某条信息", "/xxgk/x/1.html", newest)
    b.item(col, "更早的信息", "/xxgk/x/2.html", newest - dt.timedelta(days=30))
    fs = [f for f in run_check_on_evidence("columns", b.build()) if f.subject == name]
    assert bool(by_code(fs, "columns.stale", "fail")) is stale
    if stale:
        f = by_code(fs, "columns.stale", "fail")[0]
        assert "某条信息" in f.evidence and newest.isoformat() in f.evidence


def test_stale_uses_item_dates_and_is_unverifiable_without_dates():
    b = EvidenceBuilder(as_of=AS_OF)
    full_platform(b)
    col = b.column("部门动态", "/xxgk/bmdt/", item_count=1, newest=None)
    b.item(col, "一条没有日期的动态", "/xxgk/bmdt/1.html", None)
    col2 = b.column("乡镇动态", "/xxgk/xzdt/", item_count=1, newest=None)
    b.item(col2, "十一月动态", "/xxgk/xzdt/1.html", dt.date(2026, 11, 18))
    fs = run_check_on_evidence("columns", b.build())
    stale = {f.subject: f.status for f in by_code(fs, "columns.stale")}
    assert stale == {"部门动态": "unverifiable"}
    assert {f.subject for f in by_code(fs, "columns.fresh")} >= {"乡镇动态"}


def test_judged_at_as_of_not_wall_clock():
    b = EvidenceBuilder(as_of=dt.date(2026, 1, 10))
    full_platform(b)
    col = b.column("工作动态", "/xxgk/gzdt/", item_count=1, newest=dt.date(2026, 1, 1))
    b.item(col, "元旦动态", "/xxgk/gzdt/1.html", dt.date(2026, 1, 1))
    fs = run_check_on_evidence("columns", b.build())
    assert not by_code(fs, "columns.stale", "fail")
