"""The readable content of a stored document: an HTML page, or a PDF / Word attachment.

One record per source with its text, its tables and, when it cannot be read, why (``status`` and
``reason``): a check that cannot read a document says ``unverifiable`` with that reason, never ``fail``.
PDF text comes from pypdfium2 (reliable with CJK fonts) and tables from pdfplumber; both are kept so a
table reading can be cross-checked against the page text before anything is concluded from it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from checks.table_grid import Grid, TableParseError, docx_tables, docx_text, docx_xml, html_tables, pdf_tables
from checks.text import html_to_text, squash, unwrap_lines
from storage.evidence import AttachmentRec, DocumentRec, PageRec, SiteEvidence

FETCHED = {"ok", "not_modified_reused"}
# Below this many characters a PDF has no text layer worth the name (a scan).
MIN_PDF_TEXT = 30


@dataclass
class DocContent:
    url: str
    kind: str  # html / pdf / docx / other
    status: str  # ok / not_fetched / unsupported / unreadable / image_only
    reason: str | None = None
    text: str = ""
    page_texts: list[str] = field(default_factory=list)  # PDF: one text per page (pypdfium2)
    tables: list[Grid] = field(default_factory=list)
    blob: str | None = None  # sha256 of the PDF/Word file, or of the page's screenshot
    table_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def page_of_text(self, needle: str) -> int | None:
        """1-based PDF page whose text contains ``needle`` (compared without spaces)."""
        target = squash(needle)
        for i, t in enumerate(self.page_texts, start=1):
            if target and target in squash(t):
                return i
        return None


def page_of_document(ev: SiteEvidence, doc: DocumentRec) -> PageRec | None:
    if doc.page_id is not None:
        for p in ev.pages:
            if p.id == doc.page_id:
                return p
    return ev.page_by_url.get(doc.url)


def html_content(ev: SiteEvidence, url: str, page: PageRec | None, body_text: str | None = None) -> DocContent:
    """Content of an HTML page; ``body_text`` (the crawler's main-content extraction) wins for prose."""
    if page is None and not body_text:
        return DocContent(url=url, kind="html", status="not_fetched", reason="page_not_in_evidence")
    if page is not None and page.fetch_status not in FETCHED:
        return DocContent(url=url, kind="html", status="not_fetched",
                          reason=f"fetch_status={page.fetch_status}")
    raw = None
    if page is not None and page.sha256:
        try:
            raw = ev.text_of(page)
        except LookupError:
            raw = None
    text = body_text or ""
    if not text.strip() and raw:
        text = html_to_text(raw, main_only=True)
    tables = html_tables(raw) if raw else []
    if not text.strip() and not tables:
        return DocContent(url=url, kind="html", status="not_fetched", reason="page_body_missing",
                          blob=page.screenshot_sha256 if page else None)
    return DocContent(url=url, kind="html", status="ok", text=text, tables=tables,
                      blob=page.screenshot_sha256 if page else None)


def document_content(ev: SiteEvidence, doc: DocumentRec) -> DocContent:
    return html_content(ev, doc.url, page_of_document(ev, doc), doc.body_text)


def _sniff(att: AttachmentRec, data: bytes) -> str:
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK"):
        return "docx"
    ext = (att.ext or att.url.rsplit(".", 1)[-1]).lower().strip(".")
    return ext or "other"


def attachment_content(ev: SiteEvidence, att: AttachmentRec) -> DocContent:
    ext = (att.ext or "").lower()
    if att.fetch_status not in FETCHED or not att.sha256:
        return DocContent(url=att.url, kind=ext or "other", status="not_fetched",
                          reason=f"attachment fetch_status={att.fetch_status}")
    try:
        data = ev.blob(att.sha256)
    except LookupError:
        return DocContent(url=att.url, kind=ext or "other", status="not_fetched", reason="blob_missing")
    kind = _sniff(att, data)
    if kind == "pdf":
        return pdf_content(att.url, data, att.sha256)
    if kind == "docx":
        return docx_content(att.url, data, att.sha256)
    return DocContent(url=att.url, kind=kind, status="unsupported", blob=att.sha256,
                      reason=f"attachment format {kind!r} cannot be read (only PDF and DOCX)")


def pdf_content(url: str, data: bytes, sha: str | None) -> DocContent:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(io.BytesIO(data))
    except pdfium.PdfiumError as exc:
        return DocContent(url=url, kind="pdf", status="unreadable", reason=f"PDF unreadable: {exc}", blob=sha)
    try:
        page_texts = []
        for i in range(len(pdf)):
            page = pdf[i]
            tp = page.get_textpage()
            page_texts.append(tp.get_text_bounded())
            tp.close()
            page.close()
    except pdfium.PdfiumError as exc:
        return DocContent(url=url, kind="pdf", status="unreadable", reason=f"PDF unreadable: {exc}", blob=sha)
    finally:
        pdf.close()
    text = "\n".join(page_texts)
    if len(squash(text)) < MIN_PDF_TEXT:
        return DocContent(url=url, kind="pdf", status="image_only", blob=sha, page_texts=page_texts,
                          reason="PDF has no text layer (scanned image); cannot be read without OCR")
    # prose with the margin wraps undone; the per-page texts stay raw for cross-checks and page numbers
    text = "\n".join(unwrap_lines(t) for t in page_texts)
    content = DocContent(url=url, kind="pdf", status="ok", text=text, page_texts=page_texts, blob=sha)
    try:
        content.tables = pdf_tables(data)
    except TableParseError as exc:
        content.table_error = str(exc)
    return content


def docx_content(url: str, data: bytes, sha: str | None) -> DocContent:
    try:
        root = docx_xml(data)
    except TableParseError as exc:
        return DocContent(url=url, kind="docx", status="unreadable", reason=str(exc), blob=sha)
    text = docx_text(root)
    if not squash(text):
        return DocContent(url=url, kind="docx", status="unreadable", reason="Word file has no text", blob=sha)
    return DocContent(url=url, kind="docx", status="ok", text=text, tables=docx_tables(root), blob=sha)
