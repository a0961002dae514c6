"""Build `SiteEvidence` by hand for check unit tests, shaped like what the crawler stores."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from storage.evidence import (
    AttachmentRec,
    ColumnItemRec,
    ColumnRec,
    DocumentRec,
    LinkRec,
    PageRec,
    SiteEvidence,
    SiteInfo,
)

_ids = itertools.count(1)


@dataclass
class EvidenceBuilder:
    """Fluent builder: ``b = EvidenceBuilder(); col = b.column("政策"); b.item(col, "…"); ev = b.build()``."""

    unit_type: str = "county"
    site_id: str = "s1"
    name: str = "青山县人民政府"
    base: str = "http://127.0.0.11:8000"
    as_of: dt.date = dt.date(2026, 11, 20)
    assessment_year: int = 2026
    run_status: str = "crawled"
    options: dict[str, Any] = field(default_factory=dict)
    pages: list[PageRec] = field(default_factory=list)
    columns: list[ColumnRec] = field(default_factory=list)
    items: list[ColumnItemRec] = field(default_factory=list)
    documents: list[DocumentRec] = field(default_factory=list)
    attachments: list[AttachmentRec] = field(default_factory=list)
    links: list[LinkRec] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def put_blob(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        return sha

    def page(self, path: str, *, body: str | bytes | None = None, kind: str = "other", fetch_status: str = "ok",
             http_status: int | None = 200, encoding: str = "utf-8", title: str | None = None,
             content_type: str = "text/html", publish_date: dt.date | None = None,
             column_id: int | None = None, rendered: bool = False, referer: str | None = None,
             error: str | None = None, screenshot: bytes | None = None) -> PageRec:
        sha = None
        size = None
        if body is not None:
            raw = body.encode(encoding) if isinstance(body, str) else body
            sha = self.put_blob(raw)
            size = len(raw)
        rec = PageRec(id=next(_ids), url=self.url(path), final_url=self.url(path), kind=kind,
                      fetch_status=fetch_status, http_status=http_status, content_type=content_type,
                      encoding=encoding, sha256=sha, size=size, title=title, publish_date=publish_date,
                      column_id=column_id, rendered=rendered,
                      screenshot_sha256=self.put_blob(screenshot) if screenshot else None,
                      referer=self.url(referer) if referer else None, error=error)
        self.pages.append(rec)
        return rec

    def column(self, name: str, path: str | None = None, *, parent: ColumnRec | None = None,
               item_count: int | None = None, newest: dt.date | None = None, oldest: dt.date | None = None,
               empty_note: str | None = None, list_status: str | None = "ok", total_reported: int | None = None,
               capped_at: int | None = None) -> ColumnRec:
        rec = ColumnRec(id=next(_ids), name=name, url=self.url(path) if path else None,
                        parent_id=parent.id if parent else None, level=(parent.level + 1) if parent else 1,
                        source="menu", item_count=item_count, total_reported=total_reported,
                        newest_date=newest, oldest_date=oldest, capped_at=capped_at, empty_note=empty_note,
                        list_status=list_status)
        self.columns.append(rec)
        return rec

    def item(self, column: ColumnRec, title: str, path: str | None = None,
             date: dt.date | None = None) -> ColumnItemRec:
        rec = ColumnItemRec(id=next(_ids), column_id=column.id, title=title,
                            url=self.url(path) if path else None, date=date)
        self.items.append(rec)
        return rec

    def document(self, path: str, *, kind: str = "other", title: str | None = None, body_text: str = "",
                 column: ColumnRec | None = None, doc_number: str | None = None,
                 written_date: dt.date | None = None, publish_date: dt.date | None = None,
                 disclosure_mode: str | None = None, meta: dict[str, Any] | None = None,
                 rendered: bool = False, html: str | None = None) -> DocumentRec:
        page = self.page(path, body=html if html is not None else f"<html><body>{body_text}</body></html>",
                         kind="document", title=title, publish_date=publish_date,
                         column_id=column.id if column else None)
        rec = DocumentRec(id=next(_ids), url=self.url(path), column_id=column.id if column else None, kind=kind,
                          title=title, doc_number=doc_number, index_no=None, publisher=None,
                          written_date=written_date, publish_date=publish_date, disclosure_mode=disclosure_mode,
                          validity=None, body_text=body_text, meta=dict(meta or {}), rendered=rendered,
                          page_id=page.id)
        self.documents.append(rec)
        return rec

    def attachment(self, doc: DocumentRec | None, path: str, data: bytes | None, *, ext: str = "pdf",
                   anchor_text: str | None = None, fetch_status: str = "ok",
                   content_type: str = "application/pdf") -> AttachmentRec:
        sha = self.put_blob(data) if data is not None else None
        rec = AttachmentRec(id=next(_ids), document_id=doc.id if doc else None,
                            page_url=doc.url if doc else self.base + "/", url=self.url(path),
                            anchor_text=anchor_text, ext=ext, fetch_status=fetch_status,
                            content_type=content_type, size=len(data) if data is not None else None, sha256=sha)
        self.attachments.append(rec)
        return rec

    def link(self, from_path: str, to_path: str, anchor: str | None = None, *, internal: bool = True,
             rendered: bool = False) -> LinkRec:
        rec = LinkRec(from_url=self.url(from_path), to_url=self.url(to_path), anchor_text=anchor,
                      internal=internal, rendered=rendered)
        self.links.append(rec)
        return rec

    def build(self) -> SiteEvidence:
        site = SiteInfo(site_id=self.site_id, name=self.name, unit_type=self.unit_type, category=None,
                        url=self.base + "/", rubric=None, options=dict(self.options))
        blobs = dict(self.blobs)
        return SiteEvidence(run_id=1, site=site, as_of=self.as_of, assessment_year=self.assessment_year,
                            run_status=self.run_status, pages=list(self.pages), columns=list(self.columns),
                            items=list(self.items), documents=list(self.documents),
                            attachments=list(self.attachments), links=list(self.links),
                            read_blob=blobs.__getitem__)


# --- PDFs shaped like real ones (added for the guide / annual-report check tests) ------------------------

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def make_pdf(flow: list[Any], *, font_size: float = 9) -> bytes:
    """A PDF in Chinese (WenQuanYi Zen Hei) from a list of paragraphs (``str``) and tables
    (``{"rows": [[...]], "spans": [((c0, r0), (c1, r1)), ...]}``). Long tables split across pages the way
    reportlab (and Word) split them: rows continue on the next page without the merged header."""
    import io

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if "wqy" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("wqy", CJK_FONT, subfontIndex=0))
    style = ParagraphStyle("body", fontName="wqy", fontSize=font_size, leading=font_size * 1.5,
                           wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName="wqy", fontSize=font_size - 2, leading=(font_size - 2) * 1.3,
                          wordWrap="CJK")
    story: list[Any] = []
    for block in flow:
        if isinstance(block, str):
            story.append(Paragraph(block, style))
        elif isinstance(block, dict) and "rows" in block:
            rows = [[Paragraph(str(v), cell) if isinstance(v, str) and len(v) > 6 else v for v in r]
                    for r in block["rows"]]
            t = Table(rows, colWidths=block.get("col_widths"), repeatRows=0)
            cmds: list[Any] = [("FONTNAME", (0, 0), (-1, -1), "wqy"), ("FONTSIZE", (0, 0), (-1, -1), font_size - 2),
                               ("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
            cmds += [("SPAN", a, b) for a, b in block.get("spans", [])]
            t.setStyle(TableStyle(cmds))
            story.append(t)
        elif isinstance(block, dict) and "space" in block:
            story.append(Spacer(1, block["space"]))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title="").build(story)
    return out.getvalue()
