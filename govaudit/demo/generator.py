"""Generate the demo platforms into a work directory, with their ground truth.

Layout of ``workdir``::

    ground_truth.json          what is on the platforms and what is wrong with them (port-free)
    sites/<site_id>/...        the files each unit's server serves, by URL path
    sites/<site_id>/_serve.json  how to serve them: encoding, injected HTTP errors, lying headers, dates
    sites/<site_id>/_api/*.json  data behind the JSON endpoints (JSON-fed style only)

Deterministic: fixed seeds, dates fixed around AS_OF, PDFs in reportlab's invariant mode, so two
generations give the same bytes (the tests check it).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govaudit.demo import office, pdfs
from govaudit.demo.content import cn_date
from govaudit.demo.model import AS_OF, ASSESSMENT_YEAR, Attachment, Document, Unit
from govaudit.demo.styles import STYLES, Style
from govaudit.demo.units import all_units

TRUTH_FILE = "ground_truth.json"
SITES_DIR = "sites"
SERVE_FILE = "_serve.json"
API_DIR = "_api"


@dataclass
class Generated:
    workdir: Path
    units: list[Unit]
    truth: dict[str, Any]
    styles: dict[str, Style] = field(default_factory=dict)

    def site_root(self, site_id: str) -> Path:
        return self.workdir / SITES_DIR / site_id


def attachment_bytes(unit: Unit, a: Attachment) -> bytes:
    d = a.doc
    assert d is not None
    date_text = cn_date(d.written or d.date)
    if a.kind == "policy_pdf":
        return pdfs.policy_pdf(d.title, d.doc_no, d.paragraphs, d.publisher, date_text, a.label_text, a.font)
    if a.kind == "scanned_pdf":
        return pdfs.scanned_pdf(d.title, d.paragraphs, d.publisher, date_text, a.label_text, seed=d.seq)
    if a.kind == "report_pdf":
        return pdfs.report_pdf(a.payload, unit.name, cn_date(d.date), a.label_text)
    if a.ext == "docx":
        return office.docx_bytes(d.title, d.paragraphs)
    if a.ext == "ofd":
        return office.ofd_bytes(d.title, d.paragraphs)
    raise ValueError(f"no maker for attachment kind {a.kind}/{a.ext}")


def _finalise(unit: Unit) -> None:
    """Lists show the newest first, as every platform does."""
    for col in unit.all_columns():
        col.docs.sort(key=lambda d: (d.date, d.seq), reverse=True)


def _write_site(root: Path, unit: Unit, style: Style) -> None:
    files = style.build()
    for d in unit.all_docs():
        for a in d.attachments:
            style.put(a.url_path, attachment_bytes(unit, a), d.date)
    for path, content in style.files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    del files
    content_types = {}
    for d in unit.all_docs():
        if d.charset_header is not None:
            content_types[d.url_path] = "text/html; charset=utf-8" if d.charset_header else "text/html"
    serve = {"site_id": unit.site_id, "encoding": unit.encoding, "errors": unit.errors,
             "content_types": content_types,
             "dates": {p: day.isoformat() for p, day in sorted(style.dates.items())}}
    (root / SERVE_FILE).write_text(json.dumps(serve, ensure_ascii=False, indent=1), encoding="utf-8")
    if style.api:
        (root / API_DIR).mkdir(exist_ok=True)
        for name, data in style.api.items():
            (root / API_DIR / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _subject(s: str | Document | Attachment) -> str:
    return s if isinstance(s, str) else s.url_path


def site_truth(unit: Unit, style: Style | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": unit.name, "unit_type": unit.unit_type, "category": unit.category, "rubric": unit.rubric,
        "style": unit.style, "url_path": "/", "reachable": unit.reachable, "has_website": unit.has_website,
        "encoding": unit.encoding, "platform_path": style.platform_path if style else None,
        "columns": [], "items": [], "attachments": [], "defects": [], "expect_status": [],
        "http_errors": dict(unit.errors), "notes": list(unit.notes),
    }
    if style is not None:
        for col in unit.all_columns():
            docs = col.all_docs()
            entry = {"path": col.path, "name": col.name, "level": col.level, "url_path": col.url_path,
                     "parent": col.parent.path if col.parent else None, "has_children": bool(col.children),
                     "items": len(docs), "newest": max(d.date for d in docs).isoformat() if docs else None,
                     "oldest": min(d.date for d in docs).isoformat() if docs else None,
                     "list_pages": style.list_pages.get(col.path, 0), "empty_note": col.empty_note}
            if unit.style == "json-list":
                entry["col_id"] = col.col_id
            out["columns"].append(entry)
            for d in col.docs:
                item = {"column": col.path, "title": d.title, "url_path": d.url_path, "date": d.date.isoformat(),
                        "kind": d.kind}
                if d.doc_no:
                    item["doc_no"] = d.doc_no
                if d.interprets is not None:
                    item["interprets"] = d.interprets.url_path
                    item["form"] = d.form
                out["items"].append(item)
                for a in d.attachments:
                    out["attachments"].append({"url_path": a.url_path, "doc_url_path": d.url_path, "ext": a.ext,
                                               "name": a.name, "label": a.label, "label_text": a.label_text,
                                               "scanned": a.scanned})
        out["charset_mislabelled"] = [
            {"url_path": d.url_path, "header": "text/html; charset=utf-8" if d.charset_header else "text/html",
             "meta": "gb2312"} for d in unit.all_docs() if d.charset_header is not None]
    for df in unit.defects:
        entry = {"check": df.check, "code": df.code, "subject": _subject(df.subject), "note": df.note}
        if df.match:
            entry["match"] = df.match
        out["defects"].append(entry)
    for ex in unit.expectations:
        out["expect_status"].append({"check": ex.check, "code": ex.code, "subject": _subject(ex.subject),
                                     "status": ex.status, "note": ex.note})
    return out


CONVENTIONS = {
    "subjects": "as docs/conventions.md: URL subjects are the path (plus ?query), no scheme/host/port",
    "defects": "complete: every fail finding not listed here is a false positive; predicted = fail findings",
    "match_prefix": "a defect with \"match\": \"prefix\" matches any subject equal to it or starting with it + '/'",
    "expect_status": "a fail finding of that check on that subject is a false positive whatever its code",
    "domain_allowlist": ["127.0.0.0/8"],
    "nonstandard_domain": "the demo runs with 127.0.0.0/8 in the allow-list: no site_health.nonstandard_domain "
                          "finding is expected",
    "parent_columns": "a column with sub-columns has no list of its own: its page links its sub-columns; its "
                      "items/newest/oldest summarise its sub-columns (has_children: true), so it is not empty",
    "pdf_label_sample": "each site has at most 10 PDF attachments on its documents, so sampling the 10 newest "
                        "covers all of them",
    "interpretations": "compliant interpretations are published the same day as their policy (timely under a "
                       "5-day, 3-day or same-day rule); late ones are 15 working days after",
    "annual_report_deadlines": "departments 2026-01-31; the county government's own report 2026-03-31; the "
                               "townships publish in January, so either rule holds for them",
    "copied_report": "the copied 2025 report repeats 2024 but for the years (difflib ratio of the page texts "
                     "0.998); the other units' 2025 and 2024 reports share only the template's wording "
                     "(page-text ratio 0.75-0.79, narrative ratio below 0.6)",
    "staleness": "动态 columns have an item within 4 days of as_of, 通知公告 and 政策 columns within 6 months, "
                 "other 法定主动公开内容 sub-columns within 4 months, except the stale defects listed",
}


def generate(workdir: str | Path) -> Generated:
    """Write every reachable unit's files under ``workdir/sites`` and the truth to ``ground_truth.json``."""
    workdir = Path(workdir)
    sites_dir = workdir / SITES_DIR
    if sites_dir.exists():
        shutil.rmtree(sites_dir)
    sites_dir.mkdir(parents=True)
    units = all_units()
    styles: dict[str, Style] = {}
    for unit in units:
        _finalise(unit)
        if not unit.reachable:
            continue
        style = STYLES[unit.style](unit)
        style.assign()
        _write_site(sites_dir / unit.site_id, unit, style)
        styles[unit.site_id] = style
    truth = {"as_of": AS_OF.isoformat(), "assessment_year": ASSESSMENT_YEAR, "version": 1,
             "conventions": CONVENTIONS,
             "sites": {u.site_id: site_truth(u, styles.get(u.site_id)) for u in units}}
    (workdir / TRUTH_FILE).write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return Generated(workdir=workdir, units=units, truth=truth, styles=styles)
