"""政府信息公开工作年度报告 for the demo units, in the 2021 template (国办公开办函〔2021〕30号) or the 2019
one (〔2019〕60号), as table grids that ``pages.py`` writes as HTML and ``pdfs.py`` as a PDF.

The numbers are drawn so every identity of the template holds — 本年新收 + 上年结转 = 办理结果总计 +
结转下年度; the result rows sum to （七）总计; the applicant columns sum to 总计; each 行政复议 / 行政诉讼
group sums to its 总计 — unless a defect is injected on purpose (``break_total``), and this year's 上年结转
is last year's 结转下年度 unless ``carry_in`` says otherwise. So a broken identity is always in the year the
ground truth names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from functools import cache
from html import escape
from importlib import resources
from typing import Any

import yaml

from govaudit.demo.content import fullwidth

SECTIONS = (
    ("一", "总体情况"),
    ("二", "主动公开政府信息情况"),
    ("三", "收到和处理政府信息公开申请情况"),
    ("四", "政府信息公开行政复议、行政诉讼情况"),
    ("五", "存在的主要问题及改进情况"),
    ("六", "其他需要报告的事项"),
)
NUMERALS = "一二三四五六"
APPLICANTS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")

# (key, group label, row label) of the applications table; group None = a row of its own.
RESULT_ROWS_2021: tuple[tuple[str, str | None, str], ...] = (
    ("r1", None, "（一）予以公开"),
    ("r2", None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    *((f"r3_{i}", "（三）不予公开", t) for i, t in enumerate((
        "1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”", "4.保护第三方合法权益",
        "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项"), 1)),
    *((f"r4_{i}", "（四）无法提供", t) for i, t in enumerate((
        "1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确"), 1)),
    *((f"r5_{i}", "（五）不予处理", t) for i, t in enumerate((
        "1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物", "4.无正当理由大量反复申请",
        "5.要求行政机关确认或重新出具已获取信息"), 1)),
    *((f"r6_{i}", "（六）其他处理", t) for i, t in enumerate((
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他"), 1)),
)
# The 2019 template has a single （六）其他处理 row.
RESULT_ROWS_2019 = tuple(r for r in RESULT_ROWS_2021 if not r[0].startswith("r6_")) + (
    ("r6", None, "（六）其他处理"),)
REVIEW_GROUPS = ("行政复议", "未经复议直接起诉", "复议后起诉")
REVIEW_COLS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")


@cache
def sentences() -> dict[str, Any]:
    text = resources.files("govaudit.demo").joinpath("data", "annual_report.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class Cell:
    text: str
    colspan: int = 1
    rowspan: int = 1


Grid = list[list[Cell]]


@dataclass
class ReportNumbers:
    new: list[int]  # per applicant (6 columns, 总计 computed)
    carry_in: list[int]
    results: dict[str, list[int]]  # row key -> per applicant
    carry_out: list[int]
    review: list[list[int]]  # 3 groups x 4 (维持, 纠正, 其他, 尚未审结)
    active: dict[str, int]  # 主动公开 table figures
    total_override: dict[int, int] = field(default_factory=dict)  # column -> wrong （七）总计 (injected)

    def result_total(self, col: int) -> int:
        if col in self.total_override:
            return self.total_override[col]
        return sum(v[col] for v in self.results.values())


@dataclass
class Report:
    unit: str
    year: int
    template: str  # "2021" / "2019"
    numbers: ReportNumbers
    narrative: dict[str, list[str]]  # section name -> paragraphs (tables are added for 二 三 四)
    omit: frozenset[str] = frozenset()  # canonical section names left out (injected defect)
    cells: str = "plain"  # plain / nbsp (zeros blank) / fullwidth / jian (件 suffix)

    @property
    def title(self) -> str:
        return f"{self.unit}{self.year}年政府信息公开工作年度报告"

    def result_rows(self) -> tuple[tuple[str, str | None, str], ...]:
        return RESULT_ROWS_2021 if self.template == "2021" else RESULT_ROWS_2019

    def sections(self) -> list[tuple[str, str]]:
        """(heading as printed, canonical name); numbering closes up over a left-out section, as the
        unit that forgets one does."""
        kept = [name for _, name in SECTIONS if name not in self.omit]
        return [(f"{NUMERALS[i]}、{name}", name) for i, name in enumerate(kept)]

    def text(self) -> str:
        """Plain text of the narrative (what a copy detector compares)."""
        return "\n".join(p for name in self.narrative for p in self.narrative[name])


def draw_numbers(rng: random.Random, carry_in: list[int], busy: int, template: str) -> ReportNumbers:
    """Figures of one year whose identities all hold. ``busy`` scales the number of applications."""
    new = [rng.randint(busy, busy * 3), rng.randint(0, 3), 0, rng.randint(0, 1), rng.randint(0, 2),
           rng.randint(0, 1)]
    keys = [k for k, _, _ in (RESULT_ROWS_2021 if template == "2021" else RESULT_ROWS_2019)]
    results = {k: [0] * 6 for k in keys}
    carry_out = [0] * 6
    carry_out[0] = min(rng.randint(0, 2), new[0] + carry_in[0])
    weights = {"r1": 10, "r2": 3, "r3_4": 1, "r3_6": 1, "r4_1": 3, "r4_2": 1, "r5_1": 1, "r5_2": 1,
               "r6_1": 1, "r6_3": 1, "r6": 1}
    choices = [k for k in keys if k in weights]
    for col in range(6):
        for _ in range(new[col] + carry_in[col] - carry_out[col]):
            key = rng.choices(choices, weights=[weights[k] for k in choices])[0]
            results[key][col] += 1
    review = []
    for _ in REVIEW_GROUPS:
        review.append([rng.randint(0, 2), rng.randint(0, 1), 0, rng.randint(0, 1)])
    active = {"规章": 0, "规范性文件制发": rng.randint(1, 6), "规范性文件废止": rng.randint(0, 2),
              "现行有效": rng.randint(8, 30), "行政许可": rng.randint(20, 400), "行政处罚": rng.randint(0, 60),
              "行政强制": rng.randint(0, 5), "收费": rng.randint(0, 90), "采购项目": rng.randint(2, 20),
              "采购金额": rng.randint(30, 900)}
    return ReportNumbers(new=new, carry_in=list(carry_in), results=results, carry_out=carry_out,
                         review=review, active=active)


def draw_narrative(rng: random.Random, unit: str, year: int, template: str, variant: int,
                   n: ReportNumbers, n_policy: int, n_interp: int) -> dict[str, list[str]]:
    """Sentences of one year; ``variant`` differs from last year's so texts of two years differ."""
    s = sentences()
    done = sum(n.result_total(c) for c in range(6))
    fields = dict(unit=unit, year=year, next=year + 1, n_active=rng.randint(180, 900), n_policy=n_policy,
                  n_interp=n_interp, n_new=sum(n.new), n_carry_in=sum(n.carry_in), n_done=done,
                  n_carry_out=sum(n.carry_out))

    def slot(options: list[str], shift: int = 0) -> str:
        return options[(variant + shift) % len(options)].format(**fields)

    overall = [s["intro"][template].format(**fields)]
    overall += [slot(opts, i) for i, opts in enumerate(s["overall"])]
    return {
        "总体情况": overall,
        "主动公开政府信息情况": [],
        "收到和处理政府信息公开申请情况": [],
        "政府信息公开行政复议、行政诉讼情况": [],
        "存在的主要问题及改进情况": [slot(opts) for opts in s["problems"]],
        "其他需要报告的事项": [slot(opts) for opts in s["other"]],
    }


def copy_of(last: Report) -> Report:
    """This year's report made by copying last year's and changing the years only (the injected
    ``annual_report.copied`` defect). Its 上年结转 is then last year's 上年结转: callers pass a last year
    whose carry-over in and out are equal, so no table identity breaks with the copy."""
    shift = {str(y): str(y + 1) for y in range(last.year + 1, last.year - 3, -1)}

    def bump(text: str) -> str:
        for old, new in shift.items():  # newest first so 2025→2026 happens before 2024→2025
            text = text.replace(f"{old}年", f"{new}年")
        return text

    narrative = {k: [bump(p) for p in v] for k, v in last.narrative.items()}
    return replace(last, year=last.year + 1, narrative=narrative)


# ---------------------------------------------------------------------------------------------- grids

def _fmt(value: int, style: str) -> str:
    if style == "nbsp" and value == 0:
        return "\u00a0"
    if style == "fullwidth":
        return fullwidth(str(value))
    if style == "jian":
        return f"{value}件"
    return str(value)


def active_grid(r: Report) -> Grid:
    a = r.numbers.active
    f = lambda v: _fmt(v, "plain" if r.cells == "jian" else r.cells)  # noqa: E731 - 件 only for counts of cases
    if r.template == "2021":
        return [
            [Cell("第二十条第（一）项", colspan=4)],
            [Cell("信息内容"), Cell("本年制发件数"), Cell("本年废止件数"), Cell("现行有效件数")],
            [Cell("规章"), Cell(f(0)), Cell(f(0)), Cell(f(0))],
            [Cell("行政规范性文件"), Cell(f(a["规范性文件制发"])), Cell(f(a["规范性文件废止"])),
             Cell(f(a["现行有效"]))],
            [Cell("第二十条第（五）项", colspan=4)],
            [Cell("信息内容"), Cell("本年处理决定数量", colspan=3)],
            [Cell("行政许可"), Cell(f(a["行政许可"]), colspan=3)],
            [Cell("第二十条第（六）项", colspan=4)],
            [Cell("信息内容"), Cell("本年处理决定数量", colspan=3)],
            [Cell("行政处罚"), Cell(f(a["行政处罚"]), colspan=3)],
            [Cell("行政强制"), Cell(f(a["行政强制"]), colspan=3)],
            [Cell("第二十条第（八）项", colspan=4)],
            [Cell("信息内容"), Cell("本年收费金额（单位：万元）", colspan=3)],
            [Cell("行政事业性收费"), Cell(f(a["收费"]), colspan=3)],
        ]
    return [
        [Cell("第二十条第（一）项", colspan=4)],
        [Cell("信息内容"), Cell("本年新制作数量"), Cell("本年新公开数量"), Cell("对外公开总数量")],
        [Cell("规章"), Cell(f(0)), Cell(f(0)), Cell(f(0))],
        [Cell("规范性文件"), Cell(f(a["规范性文件制发"])), Cell(f(a["规范性文件制发"])), Cell(f(a["现行有效"]))],
        [Cell("第二十条第（五）项", colspan=4)],
        [Cell("信息内容"), Cell("上一年项目数量"), Cell("本年增/减"), Cell("处理决定数量")],
        [Cell("行政许可"), Cell(f(12)), Cell(f(0)), Cell(f(a["行政许可"]))],
        [Cell("其他对外管理服务事项"), Cell(f(3)), Cell(f(0)), Cell(f(0))],
        [Cell("第二十条第（六）项", colspan=4)],
        [Cell("信息内容"), Cell("上一年项目数量"), Cell("本年增/减"), Cell("处理决定数量")],
        [Cell("行政处罚"), Cell(f(8)), Cell(f(0)), Cell(f(a["行政处罚"]))],
        [Cell("行政强制"), Cell(f(2)), Cell(f(0)), Cell(f(a["行政强制"]))],
        [Cell("第二十条第（八）项", colspan=4)],
        [Cell("信息内容"), Cell("上一年项目数量"), Cell("本年增/减", colspan=2)],
        [Cell("行政事业性收费"), Cell(f(1)), Cell(f(0), colspan=2)],
        [Cell("第二十条第（九）项", colspan=4)],
        [Cell("信息内容"), Cell("采购项目数量"), Cell("采购总金额", colspan=2)],
        [Cell("政府集中采购"), Cell(f(a["采购项目"])), Cell(f(a["采购金额"]), colspan=2)],
    ]


def applications_grid(r: Report) -> Grid:
    n = r.numbers

    def values(per: list[int], total: int | None = None) -> list[Cell]:
        return [Cell(_fmt(v, r.cells)) for v in per] + [Cell(_fmt(sum(per) if total is None else total,
                                                                  r.cells))]

    rows = r.result_rows()
    grid: Grid = [
        [Cell("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", colspan=3, rowspan=3),
         Cell("申请人情况", colspan=7)],
        [Cell("自然人", rowspan=2), Cell("法人或其他组织", colspan=5), Cell("总计", rowspan=2)],
        [Cell(a) for a in APPLICANTS[1:]],
        [Cell("一、本年新收政府信息公开申请数量", colspan=3), *values(n.new)],
        [Cell("二、上年结转政府信息公开申请数量", colspan=3), *values(n.carry_in)],
    ]
    group_sizes: dict[str, int] = {}
    for _, group, _ in rows:
        if group:
            group_sizes[group] = group_sizes.get(group, 0) + 1
    seen: set[str] = set()
    for i, (key, group, label) in enumerate(rows):
        lead = [Cell("三、本年度办理结果", rowspan=len(rows) + 1)] if i == 0 else []
        if group is None:
            cells = [Cell(label, colspan=2)]
        elif group not in seen:
            seen.add(group)
            cells = [Cell(group, rowspan=group_sizes[group]), Cell(label)]
        else:
            cells = [Cell(label)]
        grid.append([*lead, *cells, *values(n.results[key])])
    totals = [n.result_total(c) for c in range(6)]
    true_sum = sum(sum(v[c] for v in n.results.values()) for c in range(6))
    grand = true_sum + sum(totals[c] - sum(v[c] for v in n.results.values()) for c in n.total_override)
    grid.append([Cell("（七）总计", colspan=2), *values(totals, grand)])
    grid.append([Cell("四、结转下年度继续办理", colspan=3), *values(n.carry_out)])
    return grid


def review_grid(r: Report) -> Grid:
    head = [Cell("行政复议", colspan=5), Cell("行政诉讼", colspan=10)]
    sub = [Cell(c, rowspan=2) for c in REVIEW_COLS] + [Cell(REVIEW_GROUPS[1], colspan=5),
                                                         Cell(REVIEW_GROUPS[2], colspan=5)]
    sub2 = [Cell(c) for c in REVIEW_COLS] * 2
    values = []
    for group in r.numbers.review:
        values += [Cell(_fmt(v, r.cells)) for v in group] + [Cell(_fmt(sum(group), r.cells))]
    return [head, sub, sub2, values]


def report_parts(r: Report) -> list[tuple[str, Any]]:
    """The report in reading order: ("title", text), ("heading", text), ("para", text), ("table", Grid)."""
    parts: list[tuple[str, Any]] = [("title", r.title)]
    grids = {"主动公开政府信息情况": active_grid(r), "收到和处理政府信息公开申请情况": applications_grid(r),
             "政府信息公开行政复议、行政诉讼情况": review_grid(r)}
    for heading, name in r.sections():
        parts.append(("heading", heading))
        parts += [("para", p) for p in r.narrative.get(name, [])]
        if name in grids:
            parts.append(("table", grids[name]))
    return parts


def grid_html(grid: Grid) -> str:
    rows = []
    for row in grid:
        cells = []
        for c in row:
            span = (f' colspan="{c.colspan}"' if c.colspan > 1 else "") + (
                f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "")
            text = "&nbsp;" if c.text == "\u00a0" else escape(c.text)
            cells.append(f"<td{span}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return '<table border="1" cellspacing="0" cellpadding="4" class="report-table"><tbody>' + "".join(
        rows) + "</tbody></table>"


def report_html_blocks(r: Report) -> list[str]:
    out = []
    for kind, value in report_parts(r)[1:]:
        if kind == "heading":
            out.append(f"<h3>{escape(value)}</h3>")
        elif kind == "para":
            out.append(f"<p>{escape(value)}</p>")
        else:
            out.append(grid_html(value))
    return out
