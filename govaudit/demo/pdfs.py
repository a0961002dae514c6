"""PDF attachments and pictures of the demo platforms, made with reportlab and Pillow.

Formal documents follow GB/T 9704 closely enough for a label finder: title, 文号, body, issuer, 成文日期,
and the public-attribute label (附注) in brackets on the line after the date on the last page, indented two
characters. CJK text uses WenQuanYi Zen Hei embedded from Debian's fonts-wqy-zenhei (or reportlab's
built-in, non-embedded STSong-Light CID font where asked, since real PDFs come both ways). The "scanned"
PDF holds one picture per page and no text layer at all. Every file is deterministic (reportlab's
invariant mode; no clock, no random ids).
"""

from __future__ import annotations

import io
import random
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from govaudit.demo.annual_report import Grid, Report, report_parts

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
TTF_NAME = "WQYZenHei"
CID_NAME = "STSong-Light"


@cache
def font_name(kind: str) -> str:
    """Register the CJK font once; fall back to the CID font when the TTF is not installed."""
    if kind == "ttf" and WQY.exists():
        pdfmetrics.registerFont(TTFont(TTF_NAME, str(WQY), subfontIndex=0))
        return TTF_NAME
    pdfmetrics.registerFont(UnicodeCIDFont(CID_NAME))
    return CID_NAME


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = dict(fontName=font, wordWrap="CJK")
    return {
        "title": ParagraphStyle("t", fontSize=18, leading=28, alignment=TA_CENTER, spaceAfter=10, **base),
        "docno": ParagraphStyle("n", fontSize=12, leading=18, alignment=TA_CENTER, spaceAfter=12, **base),
        "body": ParagraphStyle("b", fontSize=12, leading=22, firstLineIndent=24, **base),
        "right": ParagraphStyle("r", fontSize=12, leading=22, alignment=TA_RIGHT, rightIndent=24, **base),
        "note": ParagraphStyle("a", fontSize=12, leading=22, leftIndent=24, **base),
        "head": ParagraphStyle("h", fontSize=13, leading=22, spaceBefore=6, **base),
        "cell": ParagraphStyle("c", fontSize=8, leading=10, **base),
    }


def _doc(buf: io.BytesIO, title: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(buf, pagesize=A4, leftMargin=28 * mm, rightMargin=26 * mm, topMargin=37 * mm,
                             bottomMargin=35 * mm, title=title, author="", creator="govaudit demo",
                             invariant=1)


def policy_pdf(title: str, doc_no: str | None, paragraphs: list[str], issuer: str, date_text: str,
               label_text: str | None, font: str = "ttf") -> bytes:
    """A formal document; ``label_text`` (e.g. （此件公开发布）) goes to the 附注 position, or nowhere."""
    st = _styles(font_name(font))
    story: list = [Paragraph(title, st["title"])]
    if doc_no:
        story.append(Paragraph(doc_no, st["docno"]))
    story += [Paragraph(p, st["body"]) for p in paragraphs]
    story += [Spacer(1, 24), Paragraph(issuer, st["right"]), Paragraph(date_text, st["right"])]
    if label_text:
        story.append(Paragraph(label_text, st["note"]))
    buf = io.BytesIO()
    _doc(buf, title).build(story)
    return buf.getvalue()


def _grid_table(grid: Grid, st: ParagraphStyle) -> tuple[list[list], list[tuple]]:
    """Lay a grid with spans onto reportlab's full matrix; returns (data, span commands)."""
    ncols = max(sum(c.colspan for c in grid[0]), 1)
    taken: set[tuple[int, int]] = set()
    data = [["" for _ in range(ncols)] for _ in grid]
    spans = []
    for r, row in enumerate(grid):
        col = 0
        for cell in row:
            while (r, col) in taken:
                col += 1
            data[r][col] = Paragraph(cell.text.replace("\u00a0", " "), st)
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, col + dc))
            if cell.colspan > 1 or cell.rowspan > 1:
                spans.append(("SPAN", (col, r), (col + cell.colspan - 1, r + cell.rowspan - 1)))
            col += cell.colspan
    return data, spans


def _split_spans(spans: list[tuple], cut: int) -> tuple[list[tuple], list[tuple]]:
    """Span commands of the two halves of a table cut before row ``cut``; a span crossing the cut is
    closed above it and re-opened (blank) below it."""
    first: list[tuple] = []
    second: list[tuple] = []
    for _, (c0, r0), (c1, r1) in spans:
        if r1 < cut:
            first.append(("SPAN", (c0, r0), (c1, r1)))
        elif r0 >= cut:
            second.append(("SPAN", (c0, r0 - cut), (c1, r1 - cut)))
        else:
            if c1 > c0 or cut - 1 > r0:
                first.append(("SPAN", (c0, r0), (c1, cut - 1)))
            if c1 > c0 or r1 - cut > 0:
                second.append(("SPAN", (c0, 0), (c1, r1 - cut)))
    return first, second


def _table(data: list[list], spans: list, width: float, ncols: int) -> Table:
    if ncols == 10:  # the applications table: wide label columns, narrow figures
        labels = [16 * mm, 20 * mm, 48 * mm]
        widths = labels + [(width - sum(labels)) / 7] * 7
    else:
        widths = [width / ncols] * ncols
    t = Table(data, colWidths=widths)
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                           *spans]))
    return t


def report_pdf(report: Report, issuer: str, date_text: str, label_text: str | None) -> bytes:
    """The annual report as a PDF whose applications table is split across two pages, as Word exports of
    real reports are: the first rows end page one's table, the rest continue on the next page with no
    repeated header. Spans crossing the cut are closed at it (the cut cell is left blank below)."""
    st = _styles(font_name("ttf"))
    width = A4[0] - 54 * mm
    story: list = []
    for kind, value in report_parts(report):
        if kind == "title":
            story.append(Paragraph(value, st["title"]))
        elif kind == "heading":
            story.append(Paragraph(value, st["head"]))
        elif kind == "para":
            story.append(Paragraph(value, st["body"]))
        else:
            data, spans = _grid_table(value, st["cell"])
            ncols = len(data[0])
            if len(data) > 20:  # the applications table: cut it after 三、…（二）部分公开
                first, second = _split_spans(spans, cut=7)
                story.append(_table(data[:7], first, width, ncols))
                story.append(PageBreak())
                story.append(_table(data[7:], second, width, ncols))
            else:
                story.append(_table(data, spans, width, ncols))
            story.append(Spacer(1, 8))
    story += [Spacer(1, 24), Paragraph(issuer, st["right"]), Paragraph(date_text, st["right"])]
    if label_text:
        story.append(Paragraph(label_text, st["note"]))
    buf = io.BytesIO()
    _doc(buf, report.title).build(story)
    return buf.getvalue()


def _pil_font(size: int) -> ImageFont.ImageFont:
    if WQY.exists():
        return ImageFont.truetype(str(WQY), size)
    return ImageFont.load_default()


def _wrap(text: str, width: int) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)] or [""]


def scanned_pdf(title: str, paragraphs: list[str], issuer: str, date_text: str, label_text: str | None,
                seed: int) -> bytes:
    """An image-only PDF, as a scanner makes it: a grey page picture with speckles, no text layer."""
    rng = random.Random(seed)
    w, h = 1240, 1754  # A4 at 150 dpi
    img = Image.new("L", (w, h), 246)
    draw = ImageDraw.Draw(img)
    big, body = _pil_font(44), _pil_font(30)
    y = 260
    for line in _wrap(title, 22):
        draw.text((w // 2 - len(line) * 22, y), line, font=big, fill=25)
        y += 64
    y += 30
    for p in paragraphs:
        for line in _wrap("　　" + p, 31):
            draw.text((150, y), line, font=body, fill=30)
            y += 50
    y += 40
    draw.text((w - 180 - len(issuer) * 30, y), issuer, font=body, fill=30)
    draw.text((w - 180 - len(date_text) * 30, y + 50), date_text, font=body, fill=30)
    if label_text:
        draw.text((210, y + 100), label_text, font=body, fill=30)
    for _ in range(2500):  # scanner dust
        x, yy = rng.randrange(w), rng.randrange(h)
        draw.point((x, yy), fill=rng.randint(90, 200))
    img = img.rotate(0.4, fillcolor=246)
    png = io.BytesIO()
    img.save(png, format="PNG", compress_level=6)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(title)
    c.drawImage(ImageReader(io.BytesIO(png.getvalue())), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    c.save()
    return buf.getvalue()


def figure_png(title: str, lines: list[str]) -> bytes:
    """The picture of an 图解 interpretation: a title banner and a few key points."""
    img = Image.new("RGB", (800, 120 + 70 * len(lines)), (255, 250, 240))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 800, 90), fill=(190, 30, 45))
    draw.text((30, 24), title[:26], font=_pil_font(34), fill=(255, 255, 255))
    for i, line in enumerate(lines):
        draw.text((40, 120 + 70 * i), f"● {line[:30]}", font=_pil_font(24), fill=(60, 40, 30))
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=6)
    return out.getvalue()
