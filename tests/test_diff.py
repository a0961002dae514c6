"""Run history: new / resolved / persisting findings, unstable flips caused by fetching, score changes."""

from __future__ import annotations

import pytest

from reports.diff import (
    FindingLite,
    SiteSnapshot,
    compare_sites,
    diff_runs,
    format_diff,
    previous_run_of_site,
    since_last_run,
)
from tests.test_report_fixtures import ReportDB, scenario

GUIDE = "http://127.0.0.1/s/guide.html"


@pytest.fixture
def two_runs(tmp_path):
    db = ReportDB(tmp_path)
    db.site("s", "青山县人民政府")
    a, b = db.run(), db.run()
    db.run_site(a, "s")
    db.run_site(b, "s")
    return db, a, b


def codes(items) -> list[str]:
    return sorted(f"{c.code}[{c.subject}]" for c in items)


def test_new_resolved_persisting(two_runs):
    db, a, b = two_runs
    db.finding(a, "s", "guide.element_missing", subject="传真号码", url=GUIDE)
    db.finding(a, "s", "guide.element_missing", subject="办公时间", url=GUIDE)
    db.finding(b, "s", "guide.element_missing", subject="传真号码", url=GUIDE)
    db.finding(b, "s", "guide.element_present", status="pass", subject="办公时间", url=GUIDE)
    db.finding(b, "s", "guide.element_missing", subject="办公地址", url=GUIDE)
    d = diff_runs(db.store, a, b)
    assert codes(d.persisting) == ["guide.element_missing[传真号码]"]
    assert codes(d.resolved) == ["guide.element_missing[办公时间]"]
    assert codes(d.new) == ["guide.element_missing[办公地址]"]
    assert d.unstable == []
    # passes and unverifiable findings are not problems: only `fail` is compared
    assert all(c.finding_id_b is not None for c in d.new)


def test_a_timeout_makes_a_flip_unstable_not_resolved(two_runs):
    db, a, b = two_runs
    db.finding(a, "s", "guide.missing", url=GUIDE)
    db.page(a, "s", GUIDE, "not_found")
    db.page(b, "s", GUIDE, "timeout")
    db.finding(b, "s", "guide.element_present", status="pass", subject="x", url="http://127.0.0.1/s/other")
    d = diff_runs(db.store, a, b)
    assert d.resolved == [] and codes(d.unstable) == ["guide.missing[]"]
    assert "timeout" in d.unstable[0].reason


def test_a_404_is_the_sites_answer_so_a_fixed_broken_link_is_resolved(two_runs):
    db, a, b = two_runs
    dead = "http://127.0.0.1/s/dead.html"
    db.finding(a, "s", "site_health.broken_link", subject="/s/dead.html", url=dead)
    db.page(a, "s", dead, "not_found")
    db.finding(b, "s", "site_health.nonstandard_domain", status="pass", subject="127.0.0.1")
    d = diff_runs(db.store, a, b)
    assert codes(d.resolved) == ["site_health.broken_link[/s/dead.html]"] and d.unstable == []


def test_a_waf_block_on_an_attachment_makes_a_new_finding_unstable(two_runs):
    db, a, b = two_runs
    pdf = "http://127.0.0.1/s/a.pdf"
    db.finding(a, "s", "pdf_label.present", status="pass", subject="/s/a.pdf", url=pdf)
    db.finding(b, "s", "pdf_label.missing", subject="/s/a.pdf", url=pdf)
    db.attachment(b, "s", pdf, "blocked")
    d = diff_runs(db.store, a, b)
    assert d.new == [] and codes(d.unstable) == ["pdf_label.missing[/s/a.pdf]"]


def test_unreachable_site_makes_every_flip_unstable(tmp_path):
    db = ReportDB(tmp_path)
    db.site("s", "单位")
    a, b = db.run(), db.run()
    db.run_site(a, "s")
    db.run_site(b, "s", status="unreachable")
    db.finding(a, "s", "guide.element_missing", subject="传真号码")
    db.finding(b, "s", "site_health.unreachable", message="网站无法访问")
    d = diff_runs(db.store, a, b)
    assert d.new == [] and d.resolved == []
    assert codes(d.unstable) == ["guide.element_missing[传真号码]", "site_health.unreachable[]"]
    assert "无法访问" in d.unstable[0].reason
    assert d.sites[0].not_seen


def test_unreachable_finding_alone_also_counts(tmp_path):
    db = ReportDB(tmp_path)
    db.site("s", "单位")
    a, b = db.run(), db.run()
    db.run_site(a, "s")
    db.run_site(b, "s", status="checked")  # status says fine, but the check saw the site down
    db.finding(a, "s", "columns.required_missing", subject="政策")
    db.finding(b, "s", "site_health.unreachable")
    d = diff_runs(db.store, a, b)
    assert d.resolved == [] and "columns.required_missing[政策]" in codes(d.unstable)


def test_unverifiable_or_crashed_or_missing_check_makes_flip_unstable(two_runs):
    db, a, b = two_runs
    db.finding(a, "s", "pdf_label.missing", subject="/s/a.pdf")
    db.finding(b, "s", "pdf_label.unverifiable", status="unverifiable", subject="/s/a.pdf",
               message="扫描件，无法核验")
    db.finding(a, "s", "annual_report.late", subject="2025")
    db.finding(b, "s", "annual_report.error", status="unverifiable", subject="__error__", message="检查程序出错")
    db.finding(a, "s", "interpretation.missing", subject="/s/p1.html")
    # interpretation did not run at all in b
    d = diff_runs(db.store, a, b)
    assert d.resolved == []
    reasons = {c.code: c.reason for c in d.unstable}
    assert "无法核验" in reasons["pdf_label.missing"]
    assert "出错" in reasons["annual_report.late"]
    assert "未运行检查 interpretation" in reasons["interpretation.missing"]


def test_score_changes_read_as_stored(two_runs):
    db, a, b = two_runs
    db.score(a, "s", "r", "1.1", max_points=5, score=4.5, deducted=0.5, name="指南")
    db.score(a, "s", "r", "1.2", max_points=5, score=5, name="制度")
    db.score(a, "s", "r", "9.9", max_points=5, score=None, mode="manual", name="人工")
    db.score(a, "s", "r", "__total__", max_points=100, score=80, grade="良好", rank=3)
    db.score(b, "s", "r", "1.1", max_points=5, score=5, name="指南", adjusted=True)
    db.score(b, "s", "r", "1.2", max_points=5, score=5, name="制度")
    db.score(b, "s", "r", "9.9", max_points=5, score=4, mode="manual", name="人工")
    db.score(b, "s", "r", "__total__", max_points=100, score=90.5, grade="优秀", rank=1, adjusted=True)
    d = diff_runs(db.store, a, b)
    changes = {c.indicator_id: c for c in d.score_changes}
    assert set(changes) == {"1.1", "9.9", "__total__"}  # 1.2 did not change
    total = changes["__total__"]
    assert (total.before, total.after, total.delta) == (80, 90.5, 10.5)
    assert (total.grade_before, total.grade_after, total.rank_after, total.adjusted_after) == ("良好", "优秀", 1, True)
    assert changes["9.9"].before is None and changes["9.9"].delta is None
    assert d.score_changes[0].is_total  # totals first
    text = format_diff(d)
    assert "总分: 80 → 90.5 (+10.5)" in text and "等次 良好 → 优秀" in text and "已因争议调整" in text


def test_sites_only_in_one_run_are_not_compared(tmp_path):
    db = ReportDB(tmp_path)
    for sid in ("a", "b", "c"):
        db.site(sid, sid)
    r1, r2 = db.run(), db.run()
    db.run_site(r1, "a")
    db.run_site(r1, "b")
    db.run_site(r2, "a")
    db.run_site(r2, "c")
    db.finding(r2, "c", "guide.missing")
    d = diff_runs(db.store, r1, r2)
    assert [s.site_id for s in d.sites] == ["a"]
    assert d.sites_only_in_a == ["b"] and d.sites_only_in_b == ["c"]
    assert d.new == []
    with pytest.raises(LookupError):
        diff_runs(db.store, r1, 999)


def test_format_diff_lists_changes(tmp_path):
    sc = scenario(tmp_path)
    text = format_diff(diff_runs(sc.db.store, sc.run1, sc.run2))
    assert text.startswith(f"运行 {sc.run1} → 运行 {sc.run2}：新增问题 2，已整改 1，仍存在 1，不稳定 2")
    assert "+ guide.element_missing [办公时间]" in text
    assert "- columns.required_missing [政策]" in text
    assert "~ guide.missing" in text and "timeout" in text
    assert "仅在运行 2 中：hefeng" in text
    verbose = format_diff(diff_runs(sc.db.store, sc.run1, sc.run2), verbose=True)
    assert "= guide.element_missing [传真号码]" in verbose and "= guide" not in text


def test_since_last_run_uses_each_sites_own_previous_run(tmp_path):
    db = ReportDB(tmp_path)
    db.site("a", "甲")
    db.site("b", "乙")
    r1, r2, r3 = db.run(), db.run(), db.run()
    db.run_site(r1, "a")
    db.run_site(r1, "b")
    db.run_site(r2, "a")  # b skipped in run 2
    db.run_site(r3, "a")
    db.run_site(r3, "b")
    db.finding(r1, "b", "guide.element_missing", subject="传真号码")
    db.finding(r3, "b", "guide.element_missing", subject="传真号码")
    db.finding(r3, "a", "guide.missing")
    db.finding(r2, "a", "guide.element_present", status="pass", subject="x")
    assert previous_run_of_site(db.store, "b", r3) == r1
    assert previous_run_of_site(db.store, "a", r3) == r2
    assert previous_run_of_site(db.store, "a", r1) is None
    since = since_last_run(db.store, r3)
    assert since["b"].run_a == r1 and codes(since["b"].persisting) == ["guide.element_missing[传真号码]"]
    assert since["a"].run_a == r2 and codes(since["a"].new) == ["guide.missing[]"]


def test_compare_is_pure_over_snapshots():
    f = FindingLite(id=1, check_id="guide", code="guide.missing", status="fail", subject="", fingerprint="x" * 40,
                    message="m", url="u")
    ok = FindingLite(id=2, check_id="guide", code="guide.element_present", status="pass", subject="e",
                     fingerprint="y" * 40, message="m", url="u")
    a = SiteSnapshot(run_id=1, site_id="s", name="n", run_site_status="checked", findings=[f])
    b = SiteSnapshot(run_id=2, site_id="s", name="n", run_site_status="checked", findings=[ok])
    assert [c.code for c in compare_sites(a, b).resolved] == ["guide.missing"]
    b.bad_fetches["u"] = "server_error"
    d = compare_sites(a, b)
    assert d.resolved == [] and [c.code for c in d.unstable] == ["guide.missing"]
