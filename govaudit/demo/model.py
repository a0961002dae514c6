"""What a demo platform is made of, before it is written as pages: units, columns, documents, attachments,
and the defects injected into them.

Subjects of defects may point at a document or an attachment: their URL is only known once a page style
has laid the site out, so the ground truth resolves them last (see ``generator.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import chinese_calendar

AS_OF = dt.date(2026, 11, 20)
ASSESSMENT_YEAR = 2026


def is_workday(day: dt.date) -> bool:
    """Official working day (holidays and adjusted working weekends from ``chinesecalendar``)."""
    return chinese_calendar.is_workday(day)


def previous_workday(day: dt.date) -> dt.date:
    while not is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def add_workdays(day: dt.date, n: int) -> dt.date:
    """The n-th working day after ``day``."""
    while n > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end``."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_workday(day)
    return count


@dataclass(eq=False)
class Attachment:
    """A file linked from a document page. ``label`` is the public attribute printed in the file itself."""

    name: str  # file name as the anchor shows it, e.g. 青山县…方案.pdf
    ext: str  # pdf / docx / ofd
    kind: str  # policy_pdf / report_pdf / scanned_pdf / office
    label: str | None = None  # 主动公开 / 不予公开 / None
    label_text: str | None = None  # the wording printed, e.g. （此件公开发布）
    scanned: bool = False
    font: str = "ttf"  # ttf (embedded WenQuanYi Zen Hei) or cid (reportlab's STSong-Light)
    seq: int = 0
    url_path: str = ""
    doc: Document | None = None
    payload: Any = None  # what the file is made from (a Report for report_pdf)


@dataclass(eq=False)
class Document:
    """A document page with the metadata table real platforms print above the text."""

    kind: str  # policy / interpretation / guide / system / annual_report / website_report / news / notice / info
    title: str
    date: dt.date  # 发布日期
    publisher: str
    index_no: str
    written: dt.date | None = None  # 成文日期
    doc_no: str | None = None  # 文号
    mode: str = "主动公开"  # 公开方式 in the HTML metadata table
    validity: str | None = None  # 有效性
    paragraphs: list[str] = field(default_factory=list)
    html_blocks: list[str] = field(default_factory=list)  # pre-built HTML (report tables, guide sections)
    attachments: list[Attachment] = field(default_factory=list)
    extra_links: list[tuple[str, str]] = field(default_factory=list)  # (anchor, raw internal path)
    image: str | None = None  # 图解: file name of the picture on the page
    # policy <-> interpretation
    interprets: Document | None = None
    links_to_policy: bool = True  # interpretation shows 原文链接
    interpretations: list[Document] = field(default_factory=list)
    links_to_interpretations: bool = True  # policy shows 相关解读
    form: str = "text"  # interpretation form: text / 图解 / 视频
    spam: bool = False  # page hijacked with gambling text and a flood of empty tags
    charset_header: str | None = None  # GBK site only: what the HTTP header claims ("utf-8" or "")
    seq: int = 0
    column: Column | None = None
    url_path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # topic of a policy, Report of an annual report

    @property
    def year(self) -> int:
        return self.date.year


@dataclass(eq=False)
class Column:
    name: str  # as shown
    slug: str
    parent: Column | None = None
    children: list[Column] = field(default_factory=list)
    docs: list[Document] = field(default_factory=list)  # newest first once finalised
    empty_note: str | None = None  # shown instead of items
    col_id: int = 0  # numeric id (JSON-fed style)
    url_path: str = ""

    @property
    def path(self) -> str:
        return f"{self.parent.path}/{self.name}" if self.parent else self.name

    @property
    def level(self) -> int:
        return self.parent.level + 1 if self.parent else 1

    def walk(self) -> list[Column]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out

    def all_docs(self) -> list[Document]:
        return [d for c in self.walk() for d in c.docs]


@dataclass
class Defect:
    check: str
    code: str
    subject: str | Document | Attachment  # objects resolve to their URL path
    note: str
    match: str | None = None  # "prefix" where the subject is a prefix (table_inconsistent: the year)


@dataclass
class Expectation:
    check: str
    code: str
    subject: str | Document | Attachment
    status: str
    note: str


@dataclass
class Unit:
    """One unit under assessment and its platform."""

    site_id: str
    name: str
    short: str  # how it names itself in titles, e.g. 县教育局
    unit_type: str  # county / department / township
    category: str | None
    rubric: str
    style: str  # js-pager / json-list / gbk / static
    address: str  # loopback address it is served on
    has_website: bool = True
    reachable: bool = True
    render: str = "auto"
    columns: list[Column] = field(default_factory=list)  # first level, in menu order
    defects: list[Defect] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)  # path -> HTTP status served instead of a file
    images: dict[str, bytes] = field(default_factory=dict)  # file name -> PNG (图解)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def encoding(self) -> str:
        return "gbk" if self.style == "gbk" else "utf-8"

    def all_columns(self) -> list[Column]:
        return [c for top in self.columns for c in top.walk()]

    def all_docs(self) -> list[Document]:
        return [d for c in self.all_columns() for d in c.docs]

    def column(self, path: str) -> Column:
        for c in self.all_columns():
            if c.path == path:
                return c
        raise KeyError(path)

    def defect(self, check: str, code: str, subject: str | Document | Attachment, note: str,
               match: str | None = None) -> None:
        self.defects.append(Defect(check, code, subject, note, match))
