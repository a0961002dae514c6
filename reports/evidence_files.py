"""Evidence files copied out of the blob store next to a report, and PDF pages rendered as images.

A report directory must stand alone (opened from disk, mailed, archived), so the screenshot or PDF behind
each finding is copied into ``<out>/evidence/``. For PDFs the page the finding is about is rendered with
pypdfium2, and the label region the check found (``details["bbox"]``) is drawn on it in red, so an auditor
sees at a glance where the label is (or which page was searched).

``details["bbox"]`` convention: ``[x0, top, x1, bottom]`` in PDF points with the origin at the page's top
left (pdfplumber's convention; a dict with those keys works too). ``details["bbox_origin"] ==
"bottom-left"`` means PDF user space ``[x0, y0, x1, y1]`` instead.

Crawled HTML is never copied as ``.html``: opened from disk it would run the crawled page's scripts
outside the report's Content-Security-Policy, so it is saved as ``.txt``.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.blobs import BlobStore

log = logging.getLogger(__name__)

EVIDENCE_DIR = "evidence"
MAX_RENDER_WIDTH_PX = 1240  # about A4 at 150 dpi: readable label text, small files
MAX_RENDER_HEIGHT_PX = 3508  # a hostile page size (a 1 pt wide, 14400 pt tall strip) stays bounded
MAX_SCALE = 2.5
MAX_COPY_BYTES = 200 * 1024 * 1024  # the crawler already caps bodies; this only stops a runaway copy


@dataclass(frozen=True)
class EvidenceFile:
    sha256: str
    rel_path: str | None  # relative to the report directory; None when the blob is gone
    kind: str  # image / pdf / text / other / missing

    @property
    def missing(self) -> bool:
        return self.rel_path is None


@dataclass(frozen=True)
class PageImage:
    rel_path: str
    page: int  # 1-based
    page_count: int
    bbox_drawn: bool


def sniff_kind(head: bytes) -> tuple[str, str]:
    """(kind, file extension) from the first bytes: the blob store keeps no content type."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image", "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "webp"
    if b"%PDF-" in head[:1024]:  # some servers prepend junk before the header; PDF readers tolerate it
        return "pdf", "pdf"
    lowered = head[:512].lstrip().lower()
    if lowered.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
        return "text", "txt"
    return "other", "bin"


def parse_bbox(details: dict[str, Any], page_height: float) -> tuple[float, float, float, float] | None:
    """The label region as (x0, top, x1, bottom) in points from the top left, or None when absent/bad."""
    raw = details.get("bbox")
    if isinstance(raw, dict):
        keys = ("x0", "top", "x1", "bottom") if "top" in raw else ("x0", "y0", "x1", "y1")
        raw = [raw.get(k) for k in keys]
    if not isinstance(raw, list | tuple) or len(raw) != 4:
        return None
    try:
        x0, a, x1, b = (float(v) for v in raw)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x0, a, x1, b)):
        return None
    if details.get("bbox_origin") == "bottom-left":
        a, b = page_height - b, page_height - a
    top, bottom = min(a, b), max(a, b)
    x0, x1 = min(x0, x1), max(x0, x1)
    if x1 - x0 <= 0 or bottom - top <= 0:
        return None
    return x0, top, x1, bottom


class EvidenceExporter:
    """Copies blobs into ``<out>/evidence`` once each and renders PDF pages (cached per page and bbox)."""

    def __init__(self, blobs: BlobStore, out_dir: Path) -> None:
        self.blobs = blobs
        self.out_dir = out_dir
        self.dir = out_dir / EVIDENCE_DIR
        self._copied: dict[str, EvidenceFile] = {}
        self._pages: dict[tuple[str, int, tuple[float, ...] | None], PageImage | None] = {}

    def _read(self, sha: str) -> bytes | None:
        try:
            if not self.blobs.exists(sha):
                return None
            return self.blobs.get(sha)
        except (ValueError, OSError) as exc:  # a malformed sha in a row, or an unreadable file
            log.warning("evidence blob %r unreadable: %s", sha, exc)
            return None

    def copy(self, sha: str | None) -> EvidenceFile | None:
        if not sha:
            return None
        if sha in self._copied:
            return self._copied[sha]
        data = self._read(sha)
        if data is None or len(data) > MAX_COPY_BYTES:
            ev = EvidenceFile(sha256=sha, rel_path=None, kind="missing")
        else:
            kind, ext = sniff_kind(data[:2048])
            name = f"{sha}.{ext}"
            target = self.dir / name
            if not target.exists():
                self.dir.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            ev = EvidenceFile(sha256=sha, rel_path=f"{EVIDENCE_DIR}/{name}", kind=kind)
        self._copied[sha] = ev
        return ev

    def pdf_page(self, sha: str, page: int | None, details: dict[str, Any]) -> PageImage | None:
        """Render one page (1-based; the first when unknown) of a stored PDF, with the bbox drawn.
        None when the PDF cannot be rendered (corrupt, encrypted, page out of range): never raises."""
        page_no = page if isinstance(page, int) and page >= 1 else 1
        raw_bbox = details.get("bbox")
        key_bbox = tuple(float(v) for v in raw_bbox) if isinstance(raw_bbox, list | tuple) and all(
            isinstance(v, int | float) for v in raw_bbox) else None
        key = (sha, page_no, key_bbox)
        if key not in self._pages:
            try:
                self._pages[key] = self._render(sha, page_no, details)
            except Exception as exc:  # noqa: BLE001 - pdfium raises its own errors on hostile PDFs
                log.warning("cannot render page %s of %s: %s", page_no, sha, exc)
                self._pages[key] = None
        return self._pages[key]

    def _render(self, sha: str, page_no: int, details: dict[str, Any]) -> PageImage | None:
        import pypdfium2 as pdfium
        from PIL import ImageDraw

        data = self._read(sha)
        if data is None:
            return None
        pdf = pdfium.PdfDocument(data)
        try:
            count = len(pdf)
            if page_no > count:
                return None
            pg = pdf[page_no - 1]
            width, height = pg.get_size()
            if width <= 0 or height <= 0:
                return None
            scale = min(MAX_SCALE, MAX_RENDER_WIDTH_PX / width, MAX_RENDER_HEIGHT_PX / height)
            image = pg.render(scale=scale).to_pil().convert("RGB")
            bbox = parse_bbox(details, height)
            drawn = False
            if bbox is not None:
                x0, top, x1, bottom = (v * scale for v in bbox)
                pad = 4
                ImageDraw.Draw(image).rectangle(
                    [max(0, x0 - pad), max(0, top - pad), min(image.width - 1, x1 + pad),
                     min(image.height - 1, bottom + pad)], outline=(220, 0, 0), width=4)
                drawn = True
            tag = hashlib.sha1(repr(bbox).encode()).hexdigest()[:8] if bbox else "page"
            name = f"{sha}-p{page_no}-{tag}.png"
            self.dir.mkdir(parents=True, exist_ok=True)
            # no optimize=True: it doubles the time per page for a few percent of size
            image.save(self.dir / name, format="PNG", compress_level=6)
            return PageImage(rel_path=f"{EVIDENCE_DIR}/{name}", page=page_no, page_count=count,
                             bbox_drawn=drawn)
        finally:
            pdf.close()
