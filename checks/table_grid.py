"""Tables of HTML pages, PDFs and Word files as rectangular grids.

Merged cells are the rule in annual-report tables (the template's header spans three rows and seven
columns), so every source is expanded to a grid in which a cell covered by a rowspan/colspan is marked
``spanned`` instead of repeating its text: a value must be read exactly once. PDF tables come from
pdfplumber (``None`` there means "covered by a merged cell"); a table split over two PDF pages comes back
as two grids, one per page, and the caller reads them in order.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from checks.text import parse_html


@dataclass(frozen=True)
class Cell:
    text: str
    spanned: bool = False  # covered by a merged cell that starts elsewhere
    bbox: tuple[float, float, float, float] | None = None  # PDF: (x0, top, x1, bottom), top-left origin


@dataclass
class Grid:
    rows: list[list[Cell]]
    source: str  # html / pdf / docx
    index: int  # position of the table in its document
    page: int | None = None  # 1-based PDF page
    row_pages: list[int | None] = field(default_factory=list)

    def page_of(self, row: int) -> int | None:
        return self.row_pages[row] if row < len(self.row_pages) else self.page


class TableParseError(ValueError):
    """The file could not be read as a document with tables (corrupt PDF, not a zip, ...)."""


# --- HTML -----------------------------------------------------------------------------------------------

def _span(value: str | None) -> int:
    try:
        n = int(str(value or "1").strip() or 1)
    except ValueError:
        return 1
    return min(max(n, 1), 200)  # a bogus rowspan="9999" must not blow up the grid


def _cell_text(el: etree._Element) -> str:
    parts = []
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag == "br":
            parts.append("\n")
        if node.text and node.tag not in {"script", "style"}:
            parts.append(node.text)
        if node is not el and node.tail:
            parts.append(node.tail)
    return "".join(parts).strip()


def html_tables(markup: str | bytes | None) -> list[Grid]:
    """Innermost ``<table>`` elements of a page (layout tables that wrap the report are skipped)."""
    root = parse_html(markup or "")
    if root is None:
        return []
    grids = []
    for index, table in enumerate(t for t in root.iter("table") if not t.xpath(".//table")):
        rows = _expand_html(table)
        if rows:
            grids.append(Grid(rows=rows, source="html", index=index))
    return grids


def _expand_html(table: etree._Element) -> list[list[Cell]]:
    grid: dict[tuple[int, int], Cell] = {}
    r = 0
    for tr in table.iter("tr"):
        c = 0
        for td in tr:
            if not isinstance(td.tag, str) or td.tag not in {"td", "th"}:
                continue
            while (r, c) in grid:
                c += 1
            rs, cs = _span(td.get("rowspan")), _span(td.get("colspan"))
            text = _cell_text(td)
            for dr in range(rs):
                for dc in range(cs):
                    grid.setdefault((r + dr, c + dc), Cell(text if (dr, dc) == (0, 0) else "",
                                                           spanned=(dr, dc) != (0, 0)))
            c += cs
        r += 1
    if not grid:
        return []
    n_rows = r
    n_cols = max(col for (_, col) in grid) + 1
    return [[grid.get((i, j), Cell("")) for j in range(n_cols)] for i in range(n_rows)]


# --- PDF ------------------------------------------------------------------------------------------------

def pdf_tables(data: bytes) -> list[Grid]:
    """Every ruled table of every page (pdfplumber), in page order, with each cell's box so a reading can
    be cross-checked against another text extractor (``pdf_cell_texts``)."""
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError

    grids: list[Grid] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for pno, page in enumerate(pdf.pages, start=1):
                for table in page.find_tables():
                    texts = table.extract()
                    rows: list[list[Cell]] = []
                    for r, row in enumerate(table.rows):
                        boxes = list(row.cells)
                        values = texts[r] if r < len(texts) else []
                        rows.append([Cell("", spanned=True) if v is None or i >= len(boxes) or boxes[i] is None
                                     else Cell(str(v).strip(), bbox=tuple(boxes[i]))
                                     for i, v in enumerate(values)])
                    if rows:
                        grids.append(Grid(rows=rows, source="pdf", index=len(grids), page=pno,
                                          row_pages=[pno] * len(rows)))
    except (PDFSyntaxError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise TableParseError(f"PDF tables unreadable: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # pdfminer raises a zoo of its own exception types on damaged files
        if type(exc).__module__.startswith(("pdfminer", "pdfplumber")):
            raise TableParseError(f"PDF tables unreadable: {type(exc).__name__}: {exc}") from exc
        raise
    return grids


def pdf_cell_texts(data: bytes, cells: list[tuple[int, tuple[float, float, float, float]]]) -> list[str | None]:
    """Text inside each (page, box) read by pypdfium2 — an extractor independent of pdfplumber — so a
    number read from a table is confirmed before a report is said not to add up. None: page unreadable."""
    import pypdfium2 as pdfium

    out: list[str | None] = []
    try:
        pdf = pdfium.PdfDocument(io.BytesIO(data))
    except pdfium.PdfiumError:
        return [None] * len(cells)
    try:
        for pno, (x0, top, x1, bottom) in cells:
            if not 1 <= pno <= len(pdf):
                out.append(None)
                continue
            page = pdf[pno - 1]
            height = page.get_height()
            tp = page.get_textpage()
            inset = 1.0  # stay off the ruling lines and the neighbours' glyphs
            out.append(tp.get_text_bounded(left=x0 + inset, bottom=height - bottom + inset,
                                           right=x1 - inset, top=height - top - inset))
            tp.close()
            page.close()
    except pdfium.PdfiumError:
        out += [None] * (len(cells) - len(out))
    finally:
        pdf.close()
    return out


# --- DOCX -----------------------------------------------------------------------------------------------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_xml(data: bytes) -> etree._Element:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            xml = z.read("word/document.xml")
        return etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, huge_tree=False))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, OSError) as exc:
        raise TableParseError(f"Word file unreadable: {type(exc).__name__}: {exc}") from exc


def docx_text(root: etree._Element) -> str:
    """Paragraph text of a .docx body, one paragraph per line (table cells included, in reading order)."""
    lines = []
    for p in root.iter(W + "p"):
        s = "".join(t.text or "" for t in p.iter(W + "t"))
        if s.strip():
            lines.append(s)
    return "\n".join(lines)


def docx_tables(root: etree._Element) -> list[Grid]:
    grids = []
    for index, tbl in enumerate(root.iter(W + "tbl")):
        rows: list[list[Cell]] = []
        for tr in tbl.findall(W + "tr"):
            row: list[Cell] = []
            for tc in tr.findall(W + "tc"):
                pr = tc.find(W + "tcPr")
                span = 1
                vmerge_continue = False
                if pr is not None:
                    gs = pr.find(W + "gridSpan")
                    if gs is not None:
                        span = _span(gs.get(W + "val"))
                    vm = pr.find(W + "vMerge")
                    if vm is not None and vm.get(W + "val") != "restart":
                        vmerge_continue = True
                text = "\n".join("".join(t.text or "" for t in p.iter(W + "t")) for p in tc.findall(W + "p"))
                row.append(Cell("" if vmerge_continue else text.strip(), spanned=vmerge_continue))
                row.extend(Cell("", spanned=True) for _ in range(span - 1))
            rows.append(row)
        if rows:
            width = max(len(r) for r in rows)
            rows = [r + [Cell("")] * (width - len(r)) for r in rows]
            grids.append(Grid(rows=rows, source="docx", index=index))
    return grids
