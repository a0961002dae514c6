"""Read the text of a PDF's last and first pages, with line positions, within bounded time and memory.

Used by the ``pdf_label`` check: the public-attribute label (公开属性) sits in the GB/T 9704 附注 position (the
line after the 成文日期) on the last page or, for some agencies, in a header on the first page, so only those
two pages are read. Both are always read because a header and a 附注 that disagree are a finding of their own.

Two extractors, because each fails on files the other reads. pypdfium2 (Chrome's PDFium, native) reads first:
text and loose character boxes (font bounds, like pdfminer's) for every line, in a few milliseconds a page.
pdfplumber (pdfminer, pure Python, ~10x slower) reads a page only when PDFium could not do the job there: it
found no readable text (fewer than ``min_cjk_chars`` CJK characters: a scan, or a font PDFium cannot map),
could not open the file at all, or could not place every line on the page. So "no text layer" is still only
concluded when both extractors find nothing; the caller sees both extractors' lines and decides.

Files come from the open web, so parsing runs in a child process (``checks.bounded_worker``: one long-lived
child reused across files, killed after ``timeout_s`` and replaced) whose address space may grow by at most
``max_memory_mb`` per file: a crafted or merely huge PDF must not stall or exhaust a whole run. Every way of
failing has its own status so a finding can say why it could not verify (never a guessed deduction).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from checks.bounded_worker import shared_worker

ReadStatus = Literal[
    "ok",  # at least one extractor opened the file (the text may still be empty: scanned)
    "not_pdf",  # no %PDF- header: an HTML error page, a DOC renamed .pdf ...
    "too_large",  # over the byte limit, or the parser ran out of its memory budget
    "too_many_pages",
    "encrypted",  # needs a password to open
    "corrupt",  # neither extractor could parse it
    "timeout",
    "extractor_error",  # the worker crashed or an extractor failed in an unexpected way
]

# PDFium's FPDF_GetLastError codes (fpdfview.h): FORMAT = 3, PASSWORD = 4, SECURITY = 5.
_PDFIUM_ERR_FORMAT = 3
_PDFIUM_ERR_PASSWORD = 4
_PDFIUM_ERR_SECURITY = 5

# A page whose PDFium text has fewer CJK characters than this is read by pdfplumber too (pdf_label passes
# its own threshold from checks/data/pdf_label.yaml; this is the default for other callers).
DEFAULT_MIN_CJK_CHARS = 4
_CJK = re.compile(r"[\u3400-\u9fff]")

# A chain of bare references longer than this is treated as a loop (real files use one hop, rarely two).
_MAX_REFERENCE_HOPS = 32


@dataclass(frozen=True)
class PdfLimits:
    max_bytes: int = 30 * 1024 * 1024
    max_pages: int = 500  # page tree size: a formal document has a few dozen pages at most
    timeout_s: float = 30.0
    max_memory_mb: int = 768  # address space the worker may map for one file on top of what it holds already


@dataclass(frozen=True)
class TextLine:
    """One line of text; coordinates in PDF points, origin top-left (pdfplumber's convention)."""

    text: str
    x0: float | None = None
    top: float | None = None
    x1: float | None = None
    bottom: float | None = None

    @property
    def bbox(self) -> list[float] | None:
        if None in (self.x0, self.top, self.x1, self.bottom):
            return None
        return [round(v, 1) for v in (self.x0, self.top, self.x1, self.bottom)]  # type: ignore[arg-type]


@dataclass(frozen=True)
class PageText:
    number: int  # 1-based
    width: float | None
    height: float | None
    plumber_lines: tuple[TextLine, ...] = ()  # empty when pdfplumber was not needed on this page
    pdfium_lines: tuple[TextLine, ...] = ()
    plumber_read: bool = False  # pdfplumber was asked to read this page (its lines may still be empty)

    @property
    def plumber_text(self) -> str:
        return "\n".join(line.text for line in self.plumber_lines)

    @property
    def pdfium_text(self) -> str:
        return "\n".join(line.text for line in self.pdfium_lines)


@dataclass(frozen=True)
class PdfText:
    status: ReadStatus
    page_count: int | None = None
    pages: tuple[PageText, ...] = ()  # the last page first, then the first page (once if it is the same)
    errors: dict[str, str] = field(default_factory=dict)  # extractor name -> why it failed

    @property
    def last(self) -> PageText | None:
        return self.pages[0] if self.pages else None

    @property
    def first(self) -> PageText | None:
        return self.pages[-1] if self.pages else None


def looks_like_pdf(data: bytes) -> bool:
    # The PDF spec tolerates junk before the header; readers accept it within the first 1024 bytes.
    return b"%PDF-" in data[:1024]


def read_pdf_text(data: bytes, limits: PdfLimits | None = None, *,
                  min_cjk_chars: int = DEFAULT_MIN_CJK_CHARS) -> PdfText:
    """Text lines of the last and first pages of ``data``; never raises for a bad file."""
    limits = limits or PdfLimits()
    if len(data) > limits.max_bytes:
        return PdfText(status="too_large", errors={"limit": f"{len(data)} bytes > {limits.max_bytes}"})
    if not looks_like_pdf(data):
        return PdfText(status="not_pdf", errors={"header": repr(data[:16])})
    _preload_extractors()
    return run_bounded(_extract, (data, limits.max_pages, min_cjk_chars), limits)


def _preload_extractors() -> None:
    # Import once in the parent so the forked worker inherits the modules instead of importing them again
    # (that import is most of a fresh worker's cost). Parsing itself happens only in the worker.
    import pdfplumber  # noqa: F401
    import pypdfium2  # noqa: F401


def run_bounded(func: Callable[..., PdfText], args: tuple[Any, ...], limits: PdfLimits) -> PdfText:
    """Run ``func(*args)`` in the shared bounded worker; map how it ended to a read status."""
    out = shared_worker().run(func, args, timeout_s=limits.timeout_s, max_memory_mb=limits.max_memory_mb)
    if out.kind == "ok":
        return out.value
    if out.kind == "timeout":
        return PdfText(status="timeout", errors={"worker": out.detail})
    if out.kind == "memory":
        return PdfText(status="too_large", errors={"worker": "memory budget exceeded while parsing"})
    errors = {"worker": out.detail}
    if out.trace:
        errors["traceback"] = out.trace
    return PdfText(status="extractor_error", errors=errors)


def _pages_to_read(count: int) -> list[int]:
    """0-based indexes: last page, then the first (GB/T 9704 puts 附注 on the last page)."""
    return [count - 1] if count <= 1 else [count - 1, 0]


_PageData = tuple[float, float, tuple[TextLine, ...]]


def _extract(data: bytes, max_pages: int, min_cjk_chars: int = DEFAULT_MIN_CJK_CHARS) -> PdfText:
    errors: dict[str, str] = {}
    pdfium_pages, pdfium_count, pdfium_fail = _pdfium_pages(data, max_pages, errors)
    if pdfium_fail in ("encrypted", "too_many_pages"):
        return PdfText(status=pdfium_fail, page_count=pdfium_count, errors=errors)

    plumber_pages: dict[int, _PageData] | None = None
    plumber_count: int | None = None
    asked: set[int] = set()
    if pdfium_pages is None:  # PDFium could not open it: pdfplumber reads the file on its own
        plumber_pages, plumber_count, plumber_fail = _plumber_pages(data, max_pages, errors)
        if plumber_fail in ("encrypted", "too_many_pages"):
            return PdfText(status=plumber_fail, page_count=plumber_count, errors=errors)
        if plumber_pages is None:
            corrupt = "corrupt" in (pdfium_fail, plumber_fail)
            return PdfText(status="corrupt" if corrupt else "extractor_error", errors=errors)
        asked = set(_pages_to_read(plumber_count or 0))
    else:
        assert pdfium_count is not None
        asked = {i for i in _pages_to_read(pdfium_count) if not _pdfium_enough(pdfium_pages.get(i), min_cjk_chars)}
        if asked:
            plumber_pages, _count, _fail = _plumber_pages(data, max_pages, errors, only=sorted(asked))

    count = pdfium_count if pdfium_count is not None else plumber_count
    assert count is not None
    pages: list[PageText] = []
    for index in _pages_to_read(count):
        pm = (pdfium_pages or {}).get(index)
        pl = (plumber_pages or {}).get(index)
        size = pl or pm
        pages.append(PageText(number=index + 1, width=size[0] if size else None,
                              height=size[1] if size else None,
                              plumber_lines=pl[2] if pl else (), pdfium_lines=pm[2] if pm else (),
                              plumber_read=index in asked))
    return PdfText(status="ok", page_count=count, pages=tuple(pages), errors=errors)


def _pdfium_enough(page: _PageData | None, min_cjk_chars: int) -> bool:
    """PDFium's reading of a page stands alone when it has readable text and a position for every line."""
    if page is None:
        return False
    lines = page[2]
    cjk = sum(len(_CJK.findall(line.text)) for line in lines)
    return cjk >= min_cjk_chars and all(line.bbox is not None for line in lines)


def _count_refused(count: int, max_pages: int, errors: dict[str, str], reader: str) -> str | None:
    """Why a document of ``count`` pages is not read any further by ``reader`` (None: it is read)."""
    if count > max_pages:
        errors["limit"] = f"{count} pages > {max_pages}"
        return "too_many_pages"
    if count == 0:
        errors[reader] = "no pages"
        return "corrupt"
    return None


def _pdfium_pages(data: bytes, max_pages: int, errors: dict[str, str]
                  ) -> tuple[dict[int, _PageData] | None, int | None, str | None]:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        errors["pdfium"] = str(exc)
        code = getattr(exc, "err_code", None)
        if code in (_PDFIUM_ERR_PASSWORD, _PDFIUM_ERR_SECURITY):
            return None, None, "encrypted"
        return None, None, "corrupt" if code == _PDFIUM_ERR_FORMAT else "error"
    try:
        count = len(doc)
        refused = _count_refused(count, max_pages, errors, "pdfium")
        if refused:
            return None, count, refused
        out: dict[int, _PageData] = {}
        for index in _pages_to_read(count):
            try:
                out[index] = _pdfium_page(doc, index)
            except Exception as exc:  # one unreadable page must not hide the other
                errors[f"pdfium.page{index + 1}"] = f"{type(exc).__name__}: {exc}"
        return out, count, None
    finally:
        doc.close()


def _pdfium_page(doc: Any, index: int) -> _PageData:
    import pypdfium2.raw as pdfium_c

    page = doc[index]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            # Char boxes are indexed like the text when no character needed a surrogate pair; otherwise
            # keep the text without positions (pdfplumber then places the lines) rather than draw a box in
            # the wrong place.
            aligned = len(text) == textpage.count_chars()
            rect = pdfium_c.FS_RECTF()  # one struct reused for every character: this loop is the hot path
            lines: list[TextLine] = []
            start = 0
            for raw in text.split("\n"):
                line_text = raw.rstrip("\r")
                if line_text.strip():
                    box = (_union_box(pdfium_c, textpage, rect, start, start + len(line_text), height)
                           if aligned else None)
                    lines.append(TextLine(line_text, *box) if box else TextLine(line_text))
                start += len(raw) + 1
            return width, height, _reading_order(lines)
        finally:
            textpage.close()
    finally:
        page.close()


def _union_box(pdfium_c: Any, textpage: Any, rect: Any, start: int, end: int, height: float
               ) -> tuple[float, float, float, float] | None:
    # Loose boxes span the font's ascent to descent and the glyph's advance, as pdfminer's do, so a line's box
    # is the line's full height whichever glyphs it holds.
    x0 = top = float("inf")
    x1 = bottom = float("-inf")
    for i in range(start, end):
        if not pdfium_c.FPDFText_GetLooseCharBox(textpage, i, rect):
            continue
        if rect.right <= rect.left and rect.top <= rect.bottom:  # generated space / line break: no box
            continue
        x0, x1 = min(x0, rect.left), max(x1, rect.right)
        top, bottom = min(top, height - rect.top), max(bottom, height - rect.bottom)  # PDF space is bottom-up
    if x0 == float("inf"):
        return None
    return x0, top, x1, bottom


def _reading_order(lines: list[TextLine]) -> tuple[TextLine, ...]:
    """Top to bottom, left to right, as pdfplumber orders lines: PDFium keeps content-stream order, and a
    header drawn last or a 成文日期 drawn after the 附注 must not change which line follows which."""
    if any(line.top is None or line.bottom is None or line.x0 is None for line in lines):
        return tuple(lines)  # without every position an order cannot be rebuilt: keep the stream's
    out: list[TextLine] = []
    row: list[TextLine] = []
    for line in sorted(lines, key=lambda ln: ln.top):  # type: ignore[arg-type,return-value]
        # same row: starts within half of the row's first line height (two segments of one printed line)
        if row and line.top - row[0].top > (row[0].bottom - row[0].top) / 2:  # type: ignore[operator]
            out.extend(sorted(row, key=lambda ln: ln.x0))  # type: ignore[arg-type,return-value]
            row = []
        row.append(line)
    out.extend(sorted(row, key=lambda ln: ln.x0))  # type: ignore[arg-type,return-value]
    return tuple(out)


def _plumber_pages(data: bytes, max_pages: int, errors: dict[str, str], only: list[int] | None = None
                   ) -> tuple[dict[int, _PageData] | None, int | None, str | None]:
    """pdfplumber's lines of the pages read (``only``: these 0-based indexes, else last and first)."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psexceptions import PSException

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:
        cause = exc.__cause__ or exc.__context__ or exc
        errors["pdfplumber"] = f"{type(cause).__name__}: {cause}"
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            return None, None, "encrypted"
        if isinstance(cause, (PDFSyntaxError, PSException)) or "Malformed" in type(exc).__name__:
            return None, None, "corrupt"
        return None, None, "error"
    loop = _reference_loop(pdf.doc)
    if loop:
        # pdfminer follows a reference to a reference without end (resolve1): it would spin until the worker
        # is killed, so such a file is corrupt for pdfplumber and PDFium's reading stands alone. Not
        # pdf.close(): that lists the pages, which is exactly where pdfminer would spin.
        pdf.stream.close()
        errors["pdfplumber"] = f"indirect objects refer to each other: {loop}"
        return None, None, "corrupt"
    try:
        try:
            pages = pdf.pages
        except Exception as exc:
            errors["pdfplumber"] = f"{type(exc).__name__}: {exc}"
            return None, None, "corrupt"
        count = len(pages)
        refused = _count_refused(count, max_pages, errors, "pdfplumber")
        if refused:
            return None, count, refused
        out: dict[int, _PageData] = {}
        for index in (only if only is not None else _pages_to_read(count)):
            if not 0 <= index < count:
                errors[f"pdfplumber.page{index + 1}"] = f"pdfplumber sees {count} pages"
                continue
            page = pages[index]
            try:
                rows = page.extract_text_lines(return_chars=False)
                lines = tuple(TextLine(r["text"], float(r["x0"]), float(r["top"]), float(r["x1"]),
                                       float(r["bottom"])) for r in rows if str(r.get("text", "")).strip())
                out[index] = (float(page.width), float(page.height), lines)
            except Exception as exc:  # pdfminer fails on some content streams; pdfium may still read them
                errors[f"pdfplumber.page{index + 1}"] = f"{type(exc).__name__}: {exc}"
            finally:
                page.close()
        return out, count, None
    finally:
        pdf.close()


def _reference_loop(doc: Any) -> str | None:
    """``"6 -> 7 -> 6"`` when some indirect object is a reference whose chain of references never ends.

    Every object is fetched once (pdfminer caches them, so pdfplumber does not parse them again); streams are
    not decoded. Only files PDFium could not read well come here."""
    from pdfminer.pdftypes import PDFObjRef

    objids: set[int] = set()
    for xref in getattr(doc, "xrefs", ()):
        try:
            objids.update(xref.get_objids())
        except Exception:  # a broken xref section: pdfplumber will report it
            continue
    for objid in sorted(objids):
        chain = [objid]
        try:
            obj = doc.getobj(objid)
            while isinstance(obj, PDFObjRef):
                if obj.objid in chain or len(chain) > _MAX_REFERENCE_HOPS:
                    return " -> ".join(str(i) for i in [*chain, obj.objid])
                chain.append(obj.objid)
                obj = doc.getobj(obj.objid)
        except Exception:  # an object that does not parse is pdfminer's to report, not a loop
            continue
    return None
