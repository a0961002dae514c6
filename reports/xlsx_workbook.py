"""The XLSX workbook auditors print: 汇总 (ranking), 扣分明细 (deductions), 问题清单 (problems).

Every sheet has a frozen, bold header row repeated on each printed page, fixed column widths, wrapped
text, landscape A4 fitted to the page width, and an auto-filter. Values are the stored ones (scores as the
rubric engine wrote them); crawled text goes through ``xlsx_cell`` (formula guard, illegal characters).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports.cell_safety import xlsx_cell
from reports.csv_files import dispute_cell, evidence_file_cell, ordered_scores
from reports.evidence_files import EvidenceExporter
from reports.labels import label
from reports.records import ReportData
from reports.schema import ITEM_SEPARATOR, SCHEMA_VERSION, fmt_points, fmt_time

HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
ADJUSTED_FILL = PatternFill("solid", fgColor="FFF2CC")
WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class Col:
    title: str
    width: float


def _sheet(wb: Workbook, title: str, cols: Sequence[Col], first: bool = False) -> Sheet:
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append([c.title for c in cols])
    for i, c in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return Sheet(ws=ws, ncols=len(cols))


@dataclass
class Sheet:
    """A worksheet being filled row by row. It counts its own rows: ``ws.max_row`` scans every cell, which
    made styling each appended row quadratic (33 s for 5,000 problems)."""

    ws: Worksheet
    ncols: int
    next_row: int = 2

    def append(self, values: Sequence[object]) -> list[Cell]:
        cells = []
        for col, v in enumerate(values, start=1):
            cell = self.ws.cell(row=self.next_row, column=col, value=xlsx_cell(v))
            cell.alignment = WRAP
            cells.append(cell)
        self.next_row += 1
        return cells

    def finish(self) -> None:
        self.ws.auto_filter.ref = f"A1:{get_column_letter(self.ncols)}{self.next_row - 1}"


SUMMARY_COLS = (Col("排名", 6), Col("单位", 28), Col("单位类型", 10), Col("评分细则", 26), Col("总分", 9),
                Col("等次", 8), Col("满分", 8), Col("扣分", 8), Col("加分", 8), Col("待人工评分项", 11),
                Col("不合格项", 9), Col("无法核验项", 10), Col("已调整（争议）", 12), Col("采集状态", 10))

DEDUCTION_COLS = (Col("单位", 24), Col("评分细则", 22), Col("指标编号", 10), Col("指标", 36), Col("方式", 10),
                  Col("分值", 7), Col("扣分", 7), Col("加分", 7), Col("得分", 7), Col("说明", 40),
                  Col("依据问题", 60), Col("已调整", 8))

ISSUE_COLS = (Col("单位", 24), Col("检查", 14), Col("问题代码", 26), Col("状态", 9), Col("严重程度", 8),
              Col("问题描述", 48), Col("网址", 40), Col("证据摘录", 40), Col("证据文件", 30),
              Col("对应指标", 36), Col("首次发现（运行）", 10), Col("争议", 30), Col("问题编号", 9))


def write_xlsx(data: ReportData, path: Path, exporter: EvidenceExporter) -> Path:
    wb = Workbook()
    names = {s.site_id: s.name for s in data.sites}
    status_of = {s.site_id: s.status for s in data.sites}
    counts: Counter[tuple[str, str]] = Counter((f.site_id, f.status) for f in data.findings)

    sh = _sheet(wb, "汇总", SUMMARY_COLS, first=True)
    scored = set()
    for t in data.totals():
        scored.add(t.site_id)
        manual = sum(1 for r in data.scores_of(t.site_id)
                     if r.rubric_id == t.rubric_id and not r.is_total and r.score is None)
        cells = sh.append([t.rank, names.get(t.site_id, t.site_id), data.site(t.site_id).unit_type
                     if data.site(t.site_id) else "", t.rubric_id, fmt_points(t.score), t.grade or "",
                     fmt_points(t.max_points), fmt_points(t.deducted), fmt_points(t.bonus), manual,
                     counts[(t.site_id, "fail")], counts[(t.site_id, "unverifiable")],
                     "是" if t.adjusted else "", label("run_site_status", status_of.get(t.site_id))])
        if t.adjusted:
            for cell in cells:
                cell.fill = ADJUSTED_FILL
    for s in data.sites:  # units without a total are listed too: a missing score must be visible
        if s.site_id not in scored:
            sh.append(["", s.name, s.unit_type, s.rubric or "", "未评分", "", "", "", "", "",
                         counts[(s.site_id, "fail")], counts[(s.site_id, "unverifiable")], "",
                         label("run_site_status", s.status)])
    sh.finish()

    sh = _sheet(wb, "扣分明细", DEDUCTION_COLS)
    by_id = {f.id: f for f in data.findings}
    for r in ordered_scores(data):
        if r.is_total or not (r.deducted or r.bonus or r.score is None):
            continue
        basis = "\n".join(f"#{fid} {by_id[fid].message}" if fid in by_id else f"#{fid}" for fid in r.basis)
        sh.append([names.get(r.site_id, r.site_id), r.rubric_id, r.indicator_id, r.path or r.name,
                     label("mode", r.mode), fmt_points(r.max_points), fmt_points(r.deducted),
                     fmt_points(r.bonus), fmt_points(r.score) if r.score is not None else "待人工评分",
                     r.explanation or "", basis, "是" if r.adjusted else ""])
    sh.finish()

    sh = _sheet(wb, "问题清单", ISSUE_COLS)
    for f in data.findings:
        if f.status not in ("fail", "unverifiable"):
            continue
        sh.append([names.get(f.site_id, f.site_id), data.check_titles.get(f.check_id, f.check_id), f.code,
                     label("status", f.status), label("severity", f.severity), f.message, f.url or "",
                     f.evidence or "", evidence_file_cell(f, exporter), ITEM_SEPARATOR.join(f.rubric_items),
                     f.first_seen_run, dispute_cell(f), f.id])
    sh.finish()

    wb.properties.title = f"govaudit 运行 {data.run.id}"
    wb.properties.subject = f"as-of {data.run.as_of} · schema {SCHEMA_VERSION} · {fmt_time(data.run.started_at)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
