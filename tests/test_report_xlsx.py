"""report.xlsx: the three sheets, formatted for printing, with crawled text kept inert."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from reports import write_reports
from reports.cell_safety import xlsx_cell
from tests.test_report_fixtures import ReportDB, scenario


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xlsx")
    sc = scenario(tmp)
    out = write_reports(sc.db.store, sc.run2, tmp / "out", formats={"xlsx"})
    return sc, load_workbook(out["xlsx"])


def test_sheets_are_formatted_for_printing(workbook):
    _, wb = workbook
    assert wb.sheetnames == ["汇总", "扣分明细", "问题清单"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.print_title_rows == "$1:$1"
        assert ws.page_setup.orientation == "landscape"
        assert ws["A1"].font.bold
        assert ws.column_dimensions["B"].width > 8
        assert ws.auto_filter.ref.startswith("A1:")
        if ws.max_row > 1:
            assert ws.cell(row=2, column=2).alignment.wrap_text


def test_summary_ranks_units_and_lists_unscored(workbook):
    _, wb = workbook
    rows = list(wb["汇总"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[4], r[5]) for r in rows[:2]] == [(1, "绿水镇人民政府", 96.0, "优秀"),
                                                           (2, "青山镇人民政府", 87.0, "良好")]
    assert rows[1][9] == 1  # one manual indicator still 待人工评分
    assert rows[1][10] == 4  # four fail findings
    assert rows[2][1] == "和丰镇人民政府" and rows[2][4] == "未评分"


def test_deductions_sheet_traces_to_findings(workbook):
    sc, wb = workbook
    rows = list(wb["扣分明细"].iter_rows(min_row=2, values_only=True))
    by_ind = {r[2]: r for r in rows}
    assert set(by_ind) == {"2.1", "3.2", "9.1"}
    assert by_ind["2.1"][6] == 1.0
    assert f"#{sc.ids['fax']} 指南缺少传真号码" in by_ind["2.1"][10]
    assert by_ind["9.1"][8] == "待人工评分"


def test_problem_list_has_fail_and_unverifiable_only_and_is_inert(workbook):
    sc, wb = workbook
    ws = wb["问题清单"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert {r[3] for r in rows} == {"不合格", "无法核验"}
    ids = {r[12] for r in rows}
    assert sc.ids["fax"] in ids and sc.ids["phone"] not in ids
    hours_row = next(i for i, r in enumerate(rows, start=2) if r[12] == sc.ids["hours"])
    cell = ws.cell(row=hours_row, column=8)
    assert cell.data_type == "s" and cell.value.startswith("'=HYPERLINK")


def test_cell_guard_handles_illegal_and_huge_text():
    assert xlsx_cell("a\x00b\x1fc") == "a\ufffdb\ufffdc"
    assert len(xlsx_cell("字" * 40000)) <= 32767
    assert xlsx_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"


def test_control_characters_from_crawled_text_do_not_break_the_workbook(tmp_path):
    db = ReportDB(tmp_path)
    db.site("s", "单位\x07")
    run = db.run()
    db.run_site(run, "s")
    db.finding(run, "s", "guide.missing", message="标题\x00\x0b含控制字符", evidence="@SUM(1)")
    out = write_reports(db.store, run, tmp_path / "out", formats={"xlsx"})
    ws = load_workbook(out["xlsx"])["问题清单"]
    assert ws.cell(row=2, column=6).value == "标题\ufffd\ufffd含控制字符"
    assert ws.cell(row=2, column=8).value == "'@SUM(1)"
