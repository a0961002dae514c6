"""The `annual_report` check on reports shaped like real ones: HTML (Word export with merged cells and
&nbsp;), a PDF whose table continues on the next page, DOCX, scans and free-text reports."""

from __future__ import annotations

import datetime as dt

import pytest

from checks.runner import run_check_on_evidence
from tests.evidence_factory import EvidenceBuilder, make_pdf
from tests.fixtures.annual_reports.build import (
    NARRATIVE,
    ReportNumbers,
    copied_narrative,
    report_docx,
    report_html,
    report_pdf,
    report_text,
)

TITLE = "青山县人民政府{year}年政府信息公开工作年度报告"


def builder(**kw) -> tuple[EvidenceBuilder, object]:
    b = EvidenceBuilder(**kw)
    col = b.column("政府信息公开年报", "/xxgk/nb/", item_count=0, newest=None)
    return b, col


def add_html_report(b, col, year, html=None, *, publish=dt.date(2026, 3, 20), title=None, path=None):
    html = html if html is not None else report_html(year)
    title = title or TITLE.format(year=year)
    path = path or f"/xxgk/nb/{year}.html"
    b.item(col, title, path, publish)
    return b.document(path, kind="annual_report", title=title, body_text=report_text(html), html=html,
                      column=col, publish_date=publish)


def add_pdf_report(b, col, year, pdf, *, publish=dt.date(2026, 1, 20), unit="青山县财政局"):
    title = f"{unit}{year}年政府信息公开工作年度报告"
    path = f"/xxgk/nb/{year}.html"
    b.item(col, title, path, publish)
    doc = b.document(path, kind="annual_report", title=title, column=col, publish_date=publish,
                     body_text=f"{title}\n详见附件：{title}.pdf")
    return b.attachment(doc, f"/xxgk/nb/{year}.pdf", pdf, anchor_text=f"{title}.pdf")


def run(b):
    return run_check_on_evidence("annual_report", b.build())


def by(fs, code, status=None):
    return [f for f in fs if f.code == code and (status is None or f.status == status)]


def fails(fs):
    return sorted((f.code, f.subject) for f in fs if f.status == "fail")


# --- present / missing / late -----------------------------------------------------------------------------

def test_complete_consistent_report_passes_everything():
    b, col = builder()
    add_html_report(b, col, 2025)
    add_html_report(b, col, 2024, publish=dt.date(2025, 3, 25))
    fs = run(b)
    assert fails(fs) == []
    assert by(fs, "annual_report.present", "pass")[0].subject == "2025"
    assert by(fs, "annual_report.on_time", "pass")
    assert len(by(fs, "annual_report.section_present", "pass")) == 6
    [ok] = by(fs, "annual_report.tables_consistent", "pass")
    assert ok.details["template"] == "2021"
    assert {"balance:总计", "results:自然人", "applicants:本年新收", "review:行政复议", "carryover:总计"} <= set(
        ok.details["identities"])
    [orig] = by(fs, "annual_report.original", "pass")
    assert orig.details["ratio"] < 0.2  # two honest reports on the same template


def test_missing_report_is_one_fail_with_what_the_column_lists():
    b, col = builder()
    add_html_report(b, col, 2024, publish=dt.date(2025, 3, 25))
    fs = run(b)
    [miss] = by(fs, "annual_report.missing")
    assert (miss.status, miss.subject) == ("fail", "2025")
    assert "2024年政府信息公开工作年度报告" in miss.evidence
    assert len(fs) == 1


def test_missing_is_not_applicable_before_the_deadline_and_unverifiable_when_unreadable():
    b, _ = builder(unit_type="department", name="青山县财政局", as_of=dt.date(2026, 1, 20))
    [f] = run(b)
    assert (f.code, f.status) == ("annual_report.missing", "not_applicable")
    b = EvidenceBuilder()
    b.column("政府信息公开年报", "/xxgk/nb/", item_count=None, list_status="timeout")
    [f] = run(b)
    assert f.status == "unverifiable" and "timeout" in f.details["reason"]
    [f] = run(EvidenceBuilder(run_status="unreachable"))
    assert f.status == "unverifiable"


def test_other_units_reports_do_not_stand_for_the_units_own():
    b, col = builder()
    b.item(col, "青山县财政局2025年政府信息公开工作年度报告", "/xxgk/nb/czj.html", dt.date(2026, 1, 10))
    b.item(col, "城关镇人民政府2025年政府信息公开工作年度报告", "/xxgk/nb/cgz.html", dt.date(2026, 1, 12))
    [f] = run(b)
    assert (f.code, f.status) == ("annual_report.missing", "unverifiable")
    # ...but with the county's own report among them, the county's report is the one judged
    add_html_report(b, col, 2025, title="青山县2025年政府信息公开工作年度报告")
    fs = run(b)
    assert by(fs, "annual_report.present", "pass")[0].url.endswith("/xxgk/nb/2025.html")


def test_notices_about_reports_are_not_reports():
    b, col = builder()
    b.item(col, "关于做好2025年政府信息公开工作年度报告编制工作的通知", "/xxgk/nb/tz.html", dt.date(2025, 12, 1))
    b.item(col, "青山县2025年政府网站工作年度报表", "/xxgk/nb/bb.html", dt.date(2026, 1, 10))
    [f] = run(b)
    assert (f.code, f.status) == ("annual_report.missing", "fail")


@pytest.mark.parametrize(("unit_type", "published", "late"), [
    ("department", dt.date(2026, 1, 31), False),
    ("department", dt.date(2026, 2, 1), True),
    ("county", dt.date(2026, 3, 31), False),
    ("county", dt.date(2026, 4, 1), True),
])
def test_deadline_depends_on_the_unit(unit_type, published, late):
    b, col = builder(unit_type=unit_type)
    add_html_report(b, col, 2025, publish=published)
    fs = run(b)
    assert bool(by(fs, "annual_report.late", "fail")) is late
    assert bool(by(fs, "annual_report.on_time", "pass")) is not late
    if late:
        f = by(fs, "annual_report.late", "fail")[0]
        assert f.subject == "2025" and published.isoformat() in f.evidence


def test_no_publish_date_is_unverifiable_not_late():
    b, col = builder()
    add_html_report(b, col, 2025, publish=None)
    fs = run(b)
    [f] = by(fs, "annual_report.late")
    assert f.status == "unverifiable"


def test_chinese_numeral_year_and_truncated_list_title():
    b, col = builder()
    html = report_html(2025)
    b.item(col, "青山县人民政府二〇二五年政府信息公开工作年度…", "/xxgk/nb/x.html", dt.date(2026, 3, 1))
    b.document("/xxgk/nb/x.html", kind="annual_report", title="青山县人民政府二〇二五年政府信息公开工作年度报告",
               body_text=report_text(html), html=html, publish_date=dt.date(2026, 3, 1))
    assert by(run(b), "annual_report.present", "pass")


# --- sections ---------------------------------------------------------------------------------------------

def test_missing_section_named_in_subject():
    b, col = builder()
    add_html_report(b, col, 2025, report_html(2025, drop_sections=("五、存在的主要问题及改进情况",)))
    fs = run(b)
    [f] = by(fs, "annual_report.section_missing", "fail")
    assert f.subject == "2025/存在的主要问题及改进情况"
    assert f.message == "2025年政府信息公开工作年度报告缺少部分：存在的主要问题及改进情况"


def test_section_heading_variants_are_tolerated():
    b, col = builder()
    html = (report_html(2025).replace("一、总体情况", "一. 总 体 情 况")
            .replace("五、存在的主要问题及改进情况", "（五）存在的主要问题和改进情况")
            .replace("四、政府信息公开行政复议、行政诉讼情况", "四、政府信息公开行政复议和行政诉讼情况"))
    add_html_report(b, col, 2025, html)
    assert not by(run(b), "annual_report.section_missing")


# --- tables -----------------------------------------------------------------------------------------------

def test_wrong_total_breaks_exactly_the_identities_it_is_part_of():
    b, col = builder()
    n = ReportNumbers.consistent().set("total", "自然人", "18")  # the results really add up to 19
    add_html_report(b, col, 2025, report_html(2025, n))
    fs = run(b)
    assert fails(fs) == [("annual_report.table_inconsistent", "2025/applicants:总计"),
                         ("annual_report.table_inconsistent", "2025/balance:自然人"),
                         ("annual_report.table_inconsistent", "2025/results:自然人")]
    bal = next(f for f in fs if f.subject == "2025/balance:自然人")
    assert bal.evidence == "本年新收 20 + 上年结转 2 ≠ 办理结果总计 18 + 结转下年度 3（自然人）"
    res = next(f for f in fs if f.subject == "2025/results:自然人")
    assert res.evidence.startswith("予以公开 8 + 部分公开 2 + 不予公开 2 + 无法提供 6 + 不予处理 1 + 其他处理 0 = 19 ≠ 总计 18")
    assert not by(fs, "annual_report.tables_consistent")


def test_carry_forward_not_balancing():
    b, col = builder()
    n = ReportNumbers.consistent()
    n.cells["carry_next"] = ["5", "1", "0", "0", "0", "0", "6"]  # 20+2 ≠ 19+5 and 24+2 ≠ 22+6
    add_html_report(b, col, 2025, report_html(2025, n))
    assert fails(run(b)) == [("annual_report.table_inconsistent", "2025/balance:总计"),
                             ("annual_report.table_inconsistent", "2025/balance:自然人")]


def test_review_group_total_and_carryover_from_last_years_report():
    b, col = builder()
    n = ReportNumbers.consistent()
    n.review[4] = "2"  # 行政复议: 1 + 0 + 0 + 0 ≠ 2
    add_html_report(b, col, 2025, report_html(2025, n))
    last = ReportNumbers.consistent(base={"new": [10, 0, 0, 0, 0, 0], "granted": [7, 0, 0, 0, 0, 0]})
    add_html_report(b, col, 2024, report_html(2024, last), publish=dt.date(2025, 3, 1))
    # last year carried 3 forward (10 - 7), this year says 2 came in from last year
    fs = run(b)
    assert fails(fs) == [("annual_report.table_inconsistent", "2025/carryover:总计"),
                         ("annual_report.table_inconsistent", "2025/carryover:自然人"),
                         ("annual_report.table_inconsistent", "2025/review:行政复议")]
    carry = next(f for f in fs if f.subject == "2025/carryover:自然人")
    assert carry.evidence == "本年报上年结转 2 ≠ 2024年报结转下年度继续办理 3（自然人）"


def test_blank_full_width_and_suffixed_cells_read_as_counts():
    b, col = builder()
    n = ReportNumbers.consistent()
    for rid, cells in n.cells.items():
        n.cells[rid] = [("" if v == "0" else v) for v in cells]  # &nbsp; for every zero
    n.set("new", "自然人", "２０").set("new", "总计", "24件").set("total", "总计", "２２ 件")
    add_html_report(b, col, 2025, report_html(2025, n))
    fs = run(b)
    assert fails(fs) == []
    assert by(fs, "annual_report.tables_consistent", "pass")


def test_a_blank_that_could_repair_the_sum_is_unverifiable_not_a_fail():
    b, col = builder()
    n = ReportNumbers.consistent().set("new", "自然人", "")
    add_html_report(b, col, 2025, report_html(2025, n))
    fs = run(b)
    assert fails(fs) == []
    [u] = by(fs, "annual_report.table_inconsistent", "unverifiable")
    assert "balance:自然人" in u.details["identities"] and "applicants:本年新收" in u.details["identities"]
    # a blank cannot repair parts that already exceed their total: that is a real inconsistency
    b, col = builder()
    n = ReportNumbers.consistent().set("granted", "自然人", "9").set("granted", "商业企业", "").set("granted", "总计", "5")
    add_html_report(b, col, 2025, report_html(2025, n))
    assert ("annual_report.table_inconsistent", "2025/applicants:予以公开") in fails(run(b))


def test_words_in_a_number_cell_make_identities_unverifiable():
    b, col = builder()
    n = ReportNumbers.consistent().set("granted", "自然人", "见附表")
    add_html_report(b, col, 2025, report_html(2025, n))
    fs = run(b)
    assert fails(fs) == []
    [u] = by(fs, "annual_report.table_inconsistent", "unverifiable")
    assert "见附表" in u.details["reason"]


def test_2019_template_report():
    b, col = builder(as_of=dt.date(2021, 11, 20), assessment_year=2021)
    n = ReportNumbers.consistent(template="2019", base={"new": [5, 0, 0, 0, 0, 0], "granted": [3, 0, 0, 0, 0, 0],
                                                        "other": [1, 0, 0, 0, 0, 0]})
    add_html_report(b, col, 2020, report_html(2020, n), publish=dt.date(2021, 3, 15))
    fs = run(b)
    assert fails(fs) == []
    assert by(fs, "annual_report.tables_consistent")[0].details["template"] == "2019"
    n.set("other", "总计", "2")
    b, col = builder(as_of=dt.date(2021, 11, 20), assessment_year=2021)
    add_html_report(b, col, 2020, report_html(2020, n), publish=dt.date(2021, 3, 15))
    assert ("annual_report.table_inconsistent", "2020/applicants:其他处理") in fails(run(b))


def test_free_text_report_before_the_template_is_not_applicable():
    b, col = builder(as_of=dt.date(2018, 11, 20), assessment_year=2018)
    html = report_html(2017, tables=False)
    add_html_report(b, col, 2017, html, publish=dt.date(2018, 3, 20))
    fs = run(b)
    [f] = by(fs, "annual_report.table_inconsistent")
    assert f.status == "not_applicable" and "2019" in f.details["reason"]


def test_table_as_image_is_unverifiable_not_inconsistent():
    b, col = builder()
    html = report_html(2025).replace("<table", "<!--<table").replace("</table>", "</table>-->")
    html = html.replace("三、收到和处理政府信息公开申请情况</strong></p>",
                        "三、收到和处理政府信息公开申请情况</strong></p><p><img src='t.png'></p>")
    add_html_report(b, col, 2025, html)
    fs = run(b)
    [f] = by(fs, "annual_report.table_inconsistent")
    assert f.status == "unverifiable" and f.subject == "2025"


# --- PDF / Word -------------------------------------------------------------------------------------------

def test_pdf_report_with_table_split_over_two_pages():
    b, col = builder(unit_type="department", name="青山县财政局")
    att = add_pdf_report(b, col, 2025, report_pdf(2025))
    fs = run(b)
    assert fails(fs) == []
    [ok] = by(fs, "annual_report.tables_consistent", "pass")
    assert ok.evidence_file == att.sha256
    assert len(by(fs, "annual_report.section_present", "pass")) == 6


def test_pdf_report_that_does_not_add_up_points_at_the_page():
    b, col = builder(unit_type="department", name="青山县财政局")
    n = ReportNumbers.consistent().set("total", "总计", "21")
    att = add_pdf_report(b, col, 2025, report_pdf(2025, n))
    fs = run(b)
    assert fails(fs) == [("annual_report.table_inconsistent", "2025/applicants:总计"),
                         ("annual_report.table_inconsistent", "2025/balance:总计"),
                         ("annual_report.table_inconsistent", "2025/results:总计")]
    f = next(f for f in fs if f.subject == "2025/balance:总计")
    assert f.evidence == "本年新收 24 + 上年结转 2 ≠ 办理结果总计 21 + 结转下年度 4（总计）"
    # 本年新收 is on p.1, 办理结果总计 and 结转下年度 on p.2: the page of the totals is quoted
    assert f.evidence_file == att.sha256 and f.evidence_page == 2 and f.details["pages"] == [1, 2]


def test_pdf_numbers_the_second_extractor_does_not_confirm_are_not_trusted(monkeypatch):
    import checks.annual_report as ar

    b, col = builder(unit_type="department", name="青山县财政局")
    add_pdf_report(b, col, 2025, report_pdf(2025, ReportNumbers.consistent().set("total", "总计", "21")))
    monkeypatch.setattr(ar, "pdf_cell_texts", lambda data, cells: ["7"] * len(cells))
    fs = run(b)
    assert fails(fs) == []
    [u] = by(fs, "annual_report.table_inconsistent", "unverifiable")
    assert "pypdfium2" in u.details["reason"]


def test_scanned_pdf_and_unsupported_files_are_unverifiable():
    for data, ext in ((make_pdf([{"space": 10}]), "pdf"), (b"\xd0\xcf\x11\xe0 old word", "doc")):
        b, col = builder(unit_type="department", name="青山县财政局")
        title = "青山县财政局2025年政府信息公开工作年度报告"
        b.item(col, title, "/xxgk/nb/2025.html", dt.date(2026, 1, 20))
        doc = b.document("/xxgk/nb/2025.html", kind="annual_report", title=title, column=col,
                         publish_date=dt.date(2026, 1, 20), body_text=f"{title} 详见附件")
        b.attachment(doc, f"/xxgk/nb/2025.{ext}", data, ext=ext)
        fs = run(b)
        assert fails(fs) == [], ext
        assert by(fs, "annual_report.present", "pass") and by(fs, "annual_report.on_time", "pass")
        assert {f.status for f in by(fs, "annual_report.section_missing")} == {"unverifiable"}
        assert by(fs, "annual_report.table_inconsistent")[0].status == "unverifiable"


def test_list_entry_pointing_straight_at_a_pdf():
    b, col = builder(unit_type="department", name="青山县财政局")
    title = "青山县财政局2025年政府信息公开工作年度报告"
    b.item(col, title, "/xxgk/nb/2025.pdf", dt.date(2026, 1, 15))
    b.attachment(None, "/xxgk/nb/2025.pdf", report_pdf(2025), anchor_text=title)
    fs = run(b)
    assert fails(fs) == [] and by(fs, "annual_report.tables_consistent", "pass")
    assert by(fs, "annual_report.on_time", "pass")[0].details["published"] == "2026-01-15"


def test_docx_report_with_vertical_merges():
    b, col = builder(unit_type="department", name="青山县财政局")
    title = "青山县财政局2025年政府信息公开工作年度报告"
    b.item(col, title, "/xxgk/nb/2025.html", dt.date(2026, 1, 15))
    doc = b.document("/xxgk/nb/2025.html", kind="annual_report", title=title, column=col,
                     publish_date=dt.date(2026, 1, 15), body_text="详见附件")
    b.attachment(doc, "/xxgk/nb/2025.docx", report_docx(2025, ReportNumbers.consistent().set("new", "其他", "1")),
                 ext="docx")
    fs = run(b)
    assert ("annual_report.table_inconsistent", "2025/applicants:本年新收") in fails(fs)


def test_damaged_files_never_crash_the_check():
    b, col = builder(unit_type="department", name="青山县财政局")
    title = "青山县财政局2025年政府信息公开工作年度报告"
    b.item(col, title, "/xxgk/nb/2025.html", dt.date(2026, 1, 15))
    doc = b.document("/xxgk/nb/2025.html", kind="annual_report", title=title, column=col,
                     publish_date=dt.date(2026, 1, 15), body_text="详见附件")
    b.attachment(doc, "/xxgk/nb/a.pdf", b"%PDF-1.7\n1 0 obj <<>> broken")
    b.attachment(doc, "/xxgk/nb/b.docx", b"PK\x03\x04garbage", ext="docx")
    fs = run(b)
    assert fails(fs) == [] and not [f for f in fs if f.code == "annual_report.error"]


# --- copied -----------------------------------------------------------------------------------------------

def test_copied_report_is_found_with_its_repeated_sentences():
    b, col = builder()
    add_html_report(b, col, 2025, report_html(2025, narrative=copied_narrative(2024, 2025)))
    last = ReportNumbers.consistent(base={"new": [18, 1, 0, 0, 0, 0], "carried": [2, 0, 0, 0, 0, 0],
                                          "granted": [18, 1, 0, 0, 0, 0]})
    add_html_report(b, col, 2024, report_html(2024, last), publish=dt.date(2025, 3, 1))
    fs = run(b)
    [f] = by(fs, "annual_report.copied", "fail")
    assert f.subject == "2025" and f.details["ratio"] >= 0.9
    assert "依申请公开答复文书不够规范" in f.evidence


def test_copy_needs_last_years_report():
    b, col = builder()
    add_html_report(b, col, 2025)
    [f] = by(run(b), "annual_report.copied")
    assert f.status == "unverifiable" and "2024" in f.details["reason"]


def test_same_template_honest_reports_are_not_copies():
    from checks.annual_report_copy import compare
    from checks.table_grid import html_tables

    a = report_html(2025)
    z = report_html(2024, narrative=NARRATIVE[2024])
    res = compare(report_text(a), html_tables(a), report_text(z), html_tables(z))
    assert res.ratio < 0.2 and res.compared_chars > 500


def test_blank_pinned_to_zero_by_last_years_own_balance_counts_as_zero():
    b, col = builder()
    this = ReportNumbers.consistent().set("carried", "自然人", "3").set("carried", "总计", "3")
    this.set("carry_next", "自然人", "4").set("carry_next", "总计", "5")  # keeps this year's balance
    add_html_report(b, col, 2025, report_html(2025, this))
    last = ReportNumbers.consistent(base={"new": [2, 0, 0, 0, 0, 0], "carried": [1, 0, 0, 0, 0, 0],
                                          "granted": [3, 0, 0, 0, 0, 0]})
    for rid, cells in last.cells.items():
        last.cells[rid] = [("" if v == "0" else v) for v in cells]  # its 结转下年度 row is all blank
    add_html_report(b, col, 2024, report_html(2024, last), publish=dt.date(2025, 3, 1))
    fs = run(b)
    assert fails(fs) == [("annual_report.table_inconsistent", "2025/carryover:总计"),
                         ("annual_report.table_inconsistent", "2025/carryover:自然人")]
    f = next(f for f in fs if f.subject == "2025/carryover:自然人")
    assert f.evidence.startswith("本年报上年结转 3 ≠ 2024年报结转下年度继续办理 空白（自然人）；空白单元格")
    # with blanks on both sides of last year's balance nothing pins them: no verdict
    last.set("carried", "自然人", "").set("carried", "总计", "").set("granted", "自然人", "2").set("granted", "总计", "2")
    b, col = builder()
    add_html_report(b, col, 2025, report_html(2025, this))
    add_html_report(b, col, 2024, report_html(2024, last), publish=dt.date(2025, 3, 1))
    assert fails(run(b)) == []
