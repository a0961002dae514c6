"""Read the two statistical tables of an annual report (2019 and 2021 templates) and test their identities.

Section 三 (applications): rows 本年新收 … 结转下年度继续办理 by seven applicant columns. Identities:
- ``balance:{列}``  本年新收 + 上年结转 = 办理结果总计 + 结转下年度继续办理, per applicant column;
- ``results:{列}``  the result rows (予以公开 … 其他处理) add up to 总计, per column;
- ``applicants:{行}`` 自然人 + the five 法人或其他组织 columns = 总计, per row;
Section 四 (review and litigation): ``review:{组}`` each group's four result columns add up to its 总计;
and across years ``carryover:{列}`` this year's 上年结转 = last year's 结转下年度继续办理.

Rows are recognised by their own label, not by position, so a table split over two PDF pages (the
continuation has no header and no group cells) reads the same as one HTML table. A cell that is not a
number makes the identities it takes part in unverifiable. A blank cell counts as 0, except that an
identity a blank could repair (the blank is on the short side) is unverifiable rather than broken.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from checks.base import load_data
from checks.table_grid import Cell, Grid
from checks.text import Count, parse_count, squash

_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|\([一二三四五六七八九十]+\)|\d+[.、]|[①②③④⑤⑥⑦⑧⑨])")


@dataclass(frozen=True)
class RowSpec:
    id: str
    label: str
    pattern: re.Pattern[str]
    result: bool
    group: str | None
    template: str | None


@cache
def row_specs() -> tuple[RowSpec, ...]:
    data = load_data("annual_report.yaml")
    return tuple(RowSpec(id=r["id"], label=r["label"], pattern=re.compile(r["match"]), result=bool(r.get("result")),
                         group=r.get("group"), template=str(r["template"]) if r.get("template") else None)
                 for r in data["rows"])


def applicant_columns() -> list[str]:
    return list(load_data("annual_report.yaml")["applicant_columns"])


def review_groups() -> list[dict]:
    return list(load_data("annual_report.yaml")["review_groups"])


def leaf_label(text: str) -> str:
    """A row label without spaces and numbering: ``（三）不予公开`` → ``不予公开``, ``1.属于国家秘密`` → ``属于国家秘密``."""
    s = squash(text)
    prev = None
    while prev != s:
        prev = s
        s = _NUMBERING.sub("", s)
    return s


@dataclass
class ValueRef:
    """Where a number was read: for the cross-check of PDF cells and for the evidence page."""

    count: Count
    page: int | None
    bbox: tuple[float, float, float, float] | None


@dataclass
class ParsedRow:
    spec: RowSpec
    raw_label: str
    values: list[ValueRef]
    page: int | None


@dataclass
class ApplicationsTable:
    template: str  # "2019" / "2021"
    rows: dict[str, ParsedRow]
    missing: list[str] = field(default_factory=list)  # template rows not found
    problems: list[str] = field(default_factory=list)  # rows found but unreadable / ambiguous
    bad_rows: set[str] = field(default_factory=set)

    def expected(self) -> list[RowSpec]:
        return [s for s in row_specs() if s.template in (None, self.template)]


@dataclass
class ReviewTable:
    values: list[ValueRef]
    page: int | None


@dataclass
class Identity:
    id: str
    status: str  # pass / fail / unverifiable
    evidence: str
    cells: list[ValueRef]
    reason: str | None = None

    @property
    def page(self) -> int | None:
        """The page of the identity's total (its last cell): on a split table, where the sum is shown."""
        return next((c.page for c in reversed(self.cells) if c.page), None)


# --- reading ----------------------------------------------------------------------------------------------

def _value_columns(grid: Grid, width: int) -> tuple[list[int] | None, str | None]:
    """Applicant columns of a grid: from its header (自然人 … 总计) when it has one, else the last seven."""
    n = len(applicant_columns())
    for row in grid.rows:
        texts = [squash(c.text) for c in row]
        if "自然人" in texts:
            first = texts.index("自然人")
            totals = [i for i, t in enumerate(texts) if t == "总计" and i > first]
            if not totals:
                # 总计 may sit on the same header row or be a rowspan origin on an earlier one
                for r2 in grid.rows:
                    t2 = [squash(c.text) for c in r2]
                    totals += [i for i, t in enumerate(t2) if t == "总计" and i > first]
            if totals:
                last = min(totals)
                if last - first + 1 != n:
                    return None, f"表头“自然人”至“总计”共{last - first + 1}列，不是模板的{n}列"
                return list(range(first, last + 1)), None
    if width < n + 1:
        return None, f"表格只有{width}列"
    return list(range(width - n, width)), None


def _leaf(row: list[Cell], first_value: int) -> tuple[str, str]:
    for c in reversed(row[:first_value]):
        if not c.spanned and squash(c.text):
            return leaf_label(c.text), c.text
    return "", ""


def _flat_rows(grids: list[Grid]) -> list[tuple[Grid, int]]:
    ordered = sorted(grids, key=lambda g: (g.page or 0, g.index))
    return [(g, i) for g in ordered for i in range(len(g.rows))]


def parse_applications(grids: list[Grid], report_year: int) -> ApplicationsTable | None:
    """The section-三 table, or None when no row 本年新收 exists in any table."""
    specs = row_specs()
    new_spec = next(s for s in specs if s.id == "new")
    end_spec = next(s for s in specs if s.id == "carry_next")
    col_cache: dict[int, tuple[list[int] | None, str | None]] = {}
    rows: dict[str, ParsedRow] = {}
    problems: list[str] = []
    bad: set[str] = set()
    started = False
    for grid, ri in _flat_rows(grids):
        row = grid.rows[ri]
        key = id(grid)
        if key not in col_cache:
            col_cache[key] = _value_columns(grid, len(row))
        cols, col_problem = col_cache[key]
        first_value = cols[0] if cols else max(len(row) - len(applicant_columns()), 0)
        leaf, raw = _leaf(row, first_value)
        if not leaf:
            continue
        if not started:
            if not new_spec.pattern.search(leaf):
                continue
            started = True
        matches = [s for s in specs if s.pattern.search(leaf)]
        if not matches:
            continue  # a group sub-heading or subtotal row the template does not have: not used
        spec = matches[0]
        if len(matches) > 1:
            problems.append(f"行“{raw}”可对应多个模板行")
            bad.update(s.id for s in matches)
        if spec.id in rows:
            problems.append(f"模板行“{spec.label}”出现不止一次")
            bad.add(spec.id)
        elif cols is None:
            problems.append(f"行“{raw}”：{col_problem}")
            bad.add(spec.id)
        else:
            cells = [row[i] if i < len(row) else Cell("", spanned=True) for i in cols]
            values = [ValueRef(parse_count(c.text), grid.page_of(ri), c.bbox) for c in cells]
            if any(c.spanned for c in cells):
                problems.append(f"行“{raw}”的数值单元格被合并，无法逐列读取")
                bad.add(spec.id)
            elif not all(v.count.ok for v in values):
                shown = "、".join(v.count.raw.strip() for v in values if not v.count.ok)
                problems.append(f"行“{raw}”含非数字内容：{shown}")
                bad.add(spec.id)
            rows.setdefault(spec.id, ParsedRow(spec=spec, raw_label=raw, values=values, page=grid.page_of(ri)))
        if end_spec.pattern.search(leaf):
            break
    if not started:
        return None
    if "other" in rows:
        template = "2019"
    elif any(k in rows for k in ("other_no_correction", "other_no_fee", "other_other")):
        template = "2021"
    else:
        template = "2021" if report_year >= 2021 else "2019"
    table = ApplicationsTable(template=template, rows=rows, problems=problems, bad_rows=bad)
    table.missing = [s.label for s in table.expected() if s.id not in rows]
    return table


def parse_review(grids: list[Grid]) -> ReviewTable | None | str:
    """The section-四 table's 15 numbers; None when there is no such table, a reason string when there is
    one but its numbers cannot be read."""
    n = sum(len(g["columns"]) for g in review_groups())
    ordered = sorted(grids, key=lambda g: (g.page or 0, g.index))
    for gi, grid in enumerate(ordered):
        texts = [squash(c.text) for row in grid.rows for c in row]
        if not (any("行政复议" in t for t in texts) and any("行政诉讼" in t for t in texts)):
            continue
        # the numbers are on the first row after the header whose last 15 cells are all counts; on a
        # page break they are on the next grid
        for cand in ordered[gi:gi + 2]:
            for ri, row in enumerate(cand.rows):
                if len(row) < n:
                    continue
                cells = row[-n:]
                if any(c.spanned for c in cells):
                    continue
                counts = [parse_count(c.text) for c in cells]
                if all(c.ok for c in counts) and any(not c.blank for c in counts):
                    problem = _review_header_problem(grid, len(row)) if cand is grid else None
                    if problem:
                        return problem
                    return ReviewTable(values=[ValueRef(c, cand.page_of(ri), cell.bbox)
                                               for c, cell in zip(counts, cells, strict=True)],
                                       page=cand.page_of(ri))
        return "行政复议、行政诉讼表格未能读出15个数字"
    return None


def _review_header_problem(grid: Grid, width: int) -> str | None:
    """The header's 总计 cells must sit where the template puts them (last column of each group)."""
    groups = review_groups()
    n = sum(len(g["columns"]) for g in groups)
    expected = set()
    offset = width - n
    for g in groups:
        offset += len(g["columns"])
        expected.add(offset - 1)
    found = {i for row in grid.rows for i, c in enumerate(row) if squash(c.text) == "总计"}
    if found and found != expected:
        return "行政复议、行政诉讼表格的“总计”列位置与模板不符"
    return None


# --- identities -------------------------------------------------------------------------------------------

Terms = list[tuple[str, ValueRef]]


@dataclass
class Equation:
    """lhs = rhs over table cells; ``shown`` renders the evidence given the relation sign."""

    id: str
    lhs: Terms
    rhs: Terms
    shown: Callable[[str], str]
    unreadable: str | None = None  # set when the cells could not be read at all


def _open_blanks(terms: Terms, zeros: set[int]) -> list[ValueRef]:
    return [v for _, v in terms if v.count.blank and id(v) not in zeros]


def _judge(eq: Equation, zeros: set[int]) -> tuple[str, str | None]:
    left = sum(v.count.as_int for _, v in eq.lhs)
    right = sum(v.count.as_int for _, v in eq.rhs)
    if left == right:
        return "pass", None
    # a blank could hide the missing amount only on the smaller side, and only if nothing pins it to 0
    short = eq.lhs if left < right else eq.rhs
    if _open_blanks(short, zeros):
        return "unverifiable", "blank cells could make the identity hold"
    return "fail", None


def solve(equations: list[Equation], zeros: set[int] | None = None) -> tuple[list[Identity], set[int]]:
    """Judge every equation. A blank cell reads as 0 when an identity that holds pins it there (all its
    blanks on one side: any other value would break it); such pinned blanks then count as 0 everywhere, so
    a blank 结转下年度 that the report's own balance fixes at 0 can be compared with next year's report."""
    zeros = set(zeros or ())
    while True:
        grown = set(zeros)
        for eq in equations:
            if eq.unreadable is None and _judge(eq, zeros)[0] == "pass":
                left, right = _open_blanks(eq.lhs, zeros), _open_blanks(eq.rhs, zeros)
                if not (left and right):
                    grown |= {id(v) for v in left + right}
        if grown == zeros:
            break
        zeros = grown
    out = []
    for eq in equations:
        if eq.unreadable is not None:
            out.append(Identity(eq.id, "unverifiable", eq.unreadable, [], reason="rows missing or unreadable"))
            continue
        status, reason = _judge(eq, zeros)
        shown = eq.shown("=" if status == "pass" else "≠")
        if any(v.count.blank and id(v) in zeros for _, v in eq.lhs + eq.rhs):
            shown += "；空白单元格按报告自身的勾稽关系计为0"
        out.append(Identity(eq.id, status, shown, [v for _, v in eq.lhs + eq.rhs], reason))
    return out, zeros


def _terms(terms: Terms) -> str:
    return " + ".join(f"{name} {v.count.shown()}" for name, v in terms)


def _sum_shown(terms: Terms) -> int:
    return sum(v.count.as_int for _, v in terms)


def _unreadable(table: ApplicationsTable, *ids: str) -> str | None:
    wanted = set(ids)
    missing = {i for i in wanted if i not in table.rows} | (wanted & table.bad_rows)
    if missing:
        labels = [s.label for s in row_specs() if s.id in missing]
        return "表格缺少或无法读取：" + "、".join(labels)
    return None


def application_equations(table: ApplicationsTable) -> list[Equation]:
    cols = applicant_columns()
    rows = table.rows
    out: list[Equation] = []

    def cell(rid: str, ci: int) -> ValueRef:
        return rows[rid].values[ci]

    # 本年新收 + 上年结转 = 办理结果总计 + 结转下年度继续办理, per column
    for ci, col in enumerate(cols):
        why = _unreadable(table, "new", "carried", "total", "carry_next")
        if why:
            out.append(Equation(f"balance:{col}", [], [], lambda r: "", unreadable=why))
            continue
        lhs = [("本年新收", cell("new", ci)), ("上年结转", cell("carried", ci))]
        rhs = [("办理结果总计", cell("total", ci)), ("结转下年度", cell("carry_next", ci))]
        out.append(Equation(f"balance:{col}", lhs, rhs,
                            lambda r, lhs=lhs, rhs=rhs, col=col: f"{_terms(lhs)} {r} {_terms(rhs)}（{col}）"))
    # the result rows add up to 总计, per column
    result_specs = [s for s in table.expected() if s.result]
    for ci, col in enumerate(cols):
        why = _unreadable(table, "total", *[s.id for s in result_specs])
        if why:
            out.append(Equation(f"results:{col}", [], [], lambda r: "", unreadable=why))
            continue
        lhs = [(s.label, cell(s.id, ci)) for s in result_specs]
        rhs = [("总计", cell("total", ci))]

        def shown(r: str, lhs=lhs, rhs=rhs, col=col, specs=result_specs) -> str:
            groups: dict[str, int] = {}
            for spec, (_, v) in zip(specs, lhs, strict=True):
                key = spec.group or spec.label
                groups[key] = groups.get(key, 0) + v.count.as_int
            parts = " + ".join(f"{g} {n}" for g, n in groups.items())
            return f"{parts} = {_sum_shown(lhs)} {r} {_terms(rhs)}（{col}）"

        out.append(Equation(f"results:{col}", lhs, rhs, shown))
    # the applicant columns add up to 总计, per row
    for spec in table.expected():
        if spec.id not in rows:
            continue
        ident = f"applicants:{spec.label}"
        if spec.id in table.bad_rows:
            out.append(Equation(ident, [], [], lambda r: "", unreadable=f"无法读取行：{spec.label}"))
            continue
        values = rows[spec.id].values
        lhs = list(zip(cols[:-1], values[:-1], strict=True))
        rhs = [(cols[-1], values[-1])]
        out.append(Equation(ident, lhs, rhs, lambda r, lhs=lhs, rhs=rhs, label=spec.label:
                            f"{_terms(lhs)} = {_sum_shown(lhs)} {r} {_terms(rhs)}（{label}）"))
    return out


def review_equations(table: ReviewTable) -> list[Equation]:
    out = []
    offset = 0
    for g in review_groups():
        names = g["columns"]
        vals = table.values[offset:offset + len(names)]
        offset += len(names)
        lhs = list(zip(names[:-1], vals[:-1], strict=True))
        rhs = [(names[-1], vals[-1])]
        out.append(Equation(f"review:{g['label']}", lhs, rhs, lambda r, lhs=lhs, rhs=rhs, label=g["label"]:
                            f"{label}：{_terms(lhs)} = {_sum_shown(lhs)} {r} {_terms(rhs)}"))
    return out


def carryover_equations(this: ApplicationsTable, last: ApplicationsTable, last_year: int) -> list[Equation]:
    out = []
    for ci, col in enumerate(applicant_columns()):
        ident = f"carryover:{col}"
        why = _unreadable(this, "carried") or _unreadable(last, "carry_next")
        if why:
            out.append(Equation(ident, [], [], lambda r: "", unreadable=why))
            continue
        lhs = [("本年报上年结转", this.rows["carried"].values[ci])]
        rhs = [(f"{last_year}年报结转下年度继续办理", last.rows["carry_next"].values[ci])]
        out.append(Equation(ident, lhs, rhs, lambda r, lhs=lhs, rhs=rhs, col=col:
                            f"{_terms(lhs)} {r} {_terms(rhs)}（{col}）"))
    return out
