"""Helpers that fill one unit's columns with documents drawn from the word tables (``content.py``): news,
notices, informational items, policies and their interpretations, guides, rules, annual reports.

Every helper takes explicit dates so each column's freshness is decided by the unit's recipe in
``units.py`` (where the defects are injected and recorded), never by chance.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict

from govaudit.demo import annual_report as ar
from govaudit.demo.content import (
    cn_date,
    doc_no,
    fill,
    index_no,
    pick,
    slug,
    spread_dates,
    words,
    written_before,
)
from govaudit.demo.guides import Office, guide_blocks
from govaudit.demo.model import Attachment, Column, Document, Unit, add_workdays, previous_workday
from govaudit.demo.pdfs import figure_png


class Builder:
    def __init__(self, unit: Unit, seed: int, credit: str, issuer: str, office: Office) -> None:
        self.u = unit
        self.rng = random.Random(seed)
        self.credit = credit
        self.issuer = issuer
        self.office = office
        self._seq = itertools.count(1)
        self._doc_nos: dict[tuple[str, int], int] = defaultdict(int)
        self.topics = list(words()["policy_topics"][unit.site_id])
        self.reports: dict[int, ar.Report] = {}

    # ------------------------------------------------------------------ columns and documents
    def col(self, name: str, parent: Column | None = None, note: str | None = None) -> Column:
        c = Column(name=name, slug=slug(name), parent=parent, empty_note=note)
        (parent.children if parent else self.u.columns).append(c)
        return c

    def doc(self, col: Column, kind: str, title: str, date: dt.date, **kw) -> Document:
        seq = next(self._seq)
        d = Document(kind=kind, title=title, date=date, publisher=kw.pop("publisher", self.issuer),
                     index_no=index_no(self.credit, date, seq), seq=seq, column=col, **kw)
        col.docs.append(d)
        return d

    def _titles(self, templates: list[str], n: int, **kw) -> list[str]:
        """n distinct titles from the templates and news topics."""
        seen: set[str] = set()
        out: list[str] = []
        topics = words()["news_topics"]
        while len(out) < n:
            t = fill(self.rng.choice(templates), topic=self.rng.choice(topics), **kw)
            if t not in seen:
                seen.add(t)
                out.append(t)
        return out

    def news(self, col: Column, n: int, newest: dt.date, gap: tuple[int, int] = (1, 3)) -> list[Document]:
        w = words()
        titles = self._titles(w["news_titles"], n, short=self.u.short)
        return [self.doc(col, "news", t, day, paragraphs=pick(self.rng, w["news_paragraphs"], 3))
                for t, day in zip(titles, spread_dates(self.rng, newest, n, gap), strict=True)]

    def notices(self, col: Column, n: int, newest: dt.date, gap: tuple[int, int] = (4, 15)) -> list[Document]:
        w = words()
        titles = self._titles(w["notice_titles"], n)
        return [self.doc(col, "notice", t, day, paragraphs=pick(self.rng, w["news_paragraphs"], 2))
                for t, day in zip(titles, spread_dates(self.rng, newest, n, gap), strict=True)]

    def infos(self, col: Column, n: int, newest: dt.date, gap: tuple[int, int] = (20, 60),
              kind_of: str | None = None) -> list[Document]:
        w = words()
        templates = w["info_titles"][kind_of or col.name]
        out = []
        for i, day in enumerate(spread_dates(self.rng, newest, n, gap)):
            title = fill(templates[i % len(templates)], unit=self.u.name, year=day.year, prev=day.year - 1)
            out.append(self.doc(col, "info", title, day, paragraphs=pick(self.rng, w["info_paragraphs"], 2)))
        return out

    def systems(self, col: Column, n: int, newest: dt.date) -> list[Document]:
        w = words()
        out = []
        for tpl, day in zip(w["system_titles"][:n], spread_dates(self.rng, newest, n, (60, 200)), strict=True):
            out.append(self.doc(col, "system", fill(tpl, unit=self.u.name), day,
                                paragraphs=list(w["system_paragraphs"])))
        return out

    # ------------------------------------------------------------------ policies and interpretations
    def policies(self, col: Column, n: int, newest: dt.date, prefix: str, gap: tuple[int, int] = (12, 40),
                 dates: list[dt.date] | None = None) -> list[Document]:
        w = words()
        out = []
        for day in dates or spread_dates(self.rng, newest, n, gap):
            topic = self.topics.pop(0)
            title = fill(w["policy_title_forms"][0], issuer=self.issuer, topic=topic)
            self._doc_nos[(prefix, day.year)] += 1
            d = self.doc(col, "policy", title, day, written=written_before(self.rng, day),
                         doc_no=doc_no(prefix, day.year, self._doc_nos[(prefix, day.year)] * 3 + 2),
                         validity="有效", paragraphs=sorted(pick(self.rng, w["policy_paragraphs"], 5),
                                                           key=lambda p: "施行" in p))
            d.extra["topic"] = topic
            out.append(d)
        return out

    def interpret(self, policy: Document, col: Column, delay_workdays: int = 0, form: str = "text",
                  links_to_policy: bool = True, quote: str = "title") -> Document:
        """An interpretation of ``policy``: same day unless ``delay_workdays`` is given (late), linking
        back through 原文链接 unless ``links_to_policy`` is False."""
        topic = policy.extra["topic"]
        if form == "图解":
            title = f"图解：《{topic}》"
        elif form == "视频":
            title = f"视频解读：《{topic}》"
        elif quote == "title":
            title = "《" + policy.title.replace("《", "〈").replace("》", "〉") + "》政策解读"
        else:
            title = f"关于《{topic}》的政策解读"
        day = add_workdays(policy.date, delay_workdays) if delay_workdays else policy.date
        w = words()
        paras = [fill(p, issuer=self.issuer) for p in w["interpretation_paragraphs"]]
        d = self.doc(col, "interpretation", title, day, paragraphs=paras, interprets=policy,
                     links_to_policy=links_to_policy, form=form)
        if form in ("图解", "视频"):
            name = f"jd{d.seq}.png"
            self.u.images[name] = figure_png(title, [p[2:20] for p in paras[:4]])
            d.image = name
        policy.interpretations.append(d)
        return d

    def pdf(self, d: Document, label: str | None = None, wording: int = 0, font: str = "ttf",
            scanned: bool = False) -> Attachment:
        """A PDF of the document's full text; ``label`` is the public attribute printed in it."""
        topic = d.extra.get("topic", d.title)
        text = words()["labels"][label][wording] if label else None
        a = Attachment(name=f"{topic}.pdf", ext="pdf", kind="scanned_pdf" if scanned else "policy_pdf",
                       label=label, label_text=text, scanned=scanned, font=font, doc=d,
                       seq=len(d.attachments) + 1)
        d.attachments.append(a)
        return a

    def office_file(self, d: Document, name: str, ext: str) -> Attachment:
        a = Attachment(name=name, ext=ext, kind="office", doc=d, seq=len(d.attachments) + 1)
        d.attachments.append(a)
        return a

    # ------------------------------------------------------------------ guide, reports
    def guide(self, col: Column, date: dt.date, missing: frozenset[str] = frozenset()) -> Document:
        return self.doc(col, "guide", f"{self.u.name}政府信息公开指南", date,
                        html_blocks=guide_blocks(self.office, date, missing))

    def annual_reports(self, col: Column, plan: dict[int, dict]) -> list[Document]:
        """Reports for the planned years (oldest first). Plan keys per year: date, template, cells, omit,
        copy (repeat last year's), equal_carry (last year's 上年结转 = 结转下年度), carry_shift (add to 上年
        结转 of 自然人: carry-over mismatch), break_total (add to （七）总计 of 自然人), pdf (label wording
        index)."""
        out = []
        carry = [0] * 6
        for year in sorted(plan):
            p = plan[year]
            template = p.get("template", "2021")
            if p.get("copy"):
                report = ar.copy_of(self.reports[year - 1])
            else:
                carry_in = list(carry)
                carry_in[0] += p.get("carry_shift", 0)
                numbers = ar.draw_numbers(self.rng, carry_in, busy=p.get("busy", 4), template=template)
                if p.get("equal_carry"):
                    numbers = self._equal_carry(numbers)
                report = ar.Report(unit=self.u.name, year=year, template=template, numbers=numbers,
                                   narrative={}, omit=frozenset(p.get("omit", ())), cells=p.get("cells", "plain"))
                report.narrative = ar.draw_narrative(self.rng, self.u.name, year, template,
                                                     variant=year + len(self.u.site_id), n=numbers,
                                                     n_policy=self.rng.randint(3, 12),
                                                     n_interp=self.rng.randint(3, 12))
                if p.get("break_total"):
                    true_total = sum(v[0] for v in numbers.results.values())
                    numbers.total_override[0] = true_total + p["break_total"]
            self.reports[year] = report
            carry = list(report.numbers.carry_out)
            day = previous_workday(p["date"])
            if "pdf" in p:
                d = self.doc(col, "annual_report", report.title, day,
                             paragraphs=[f"{report.title}全文详见附件。"])
                text = words()["labels"]["主动公开"][p["pdf"]]
                d.attachments.append(Attachment(name=f"{report.title}.pdf", ext="pdf", kind="report_pdf",
                                                label="主动公开", label_text=text, doc=d, seq=1,
                                                payload=report))
            else:
                d = self.doc(col, "annual_report", report.title, day, html_blocks=ar.report_html_blocks(report))
            d.extra["report"] = report
            out.append(d)
        return out

    @staticmethod
    def _equal_carry(n: ar.ReportNumbers) -> ar.ReportNumbers:
        """Make 结转下年度 equal 上年结转 (so a copy of this report next year keeps its carry-over right),
        moving the difference into （一）予以公开."""
        for c in range(6):
            diff = n.carry_out[c] - n.carry_in[c]
            n.carry_out[c] = n.carry_in[c]
            n.results["r1"][c] += diff
            if n.results["r1"][c] < 0:
                raise ValueError("cannot equalise carry-over")
        return n

    def website_reports(self, col: Column, dates: dict[int, dt.date]) -> list[Document]:
        out = []
        for year, day in sorted(dates.items()):
            rows = [("网站名称", f"{self.u.name}网站"), ("首页网址", "http://www.qingshan.gov.cn"),
                    ("主办单位", self.u.name), ("网站类型", "部门网站" if self.u.unit_type == "department"
                                                     else "政府门户网站"),
                    ("政府网站标识码", "3611250001"), ("ICP备案编号", "赣ICP备12001234号"),
                    ("独立用户访问总量（单位：个）", str(self.rng.randint(20000, 300000))),
                    ("网站总访问量（单位：次）", str(self.rng.randint(100000, 900000))),
                    ("信息发布（单位：条）", str(self.rng.randint(300, 2000))),
                    ("解读回应（单位：条）", str(self.rng.randint(5, 40))),
                    ("安全检测评估次数（单位：次）", str(self.rng.randint(2, 12)))]
            table = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
            title = f"{self.u.name}{year}年政府网站工作年度报表"
            out.append(self.doc(col, "website_report", title, previous_workday(day),
                                html_blocks=[f'<table border="1" class="report-table"><tbody>{table}</tbody>'
                                             "</table>"]))
        return out


def date_text(d: Document) -> str:
    return cn_date(d.written or d.date)
