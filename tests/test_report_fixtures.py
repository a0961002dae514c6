"""Test data for the reports: rows inserted by hand into a temporary SQLite store.

The reports read only stored rows (runs, run_sites, pages, findings, scores, disputes), so their tests
build those rows directly and depend on neither the crawler nor the rubric engine. ``scenario()`` builds a
small two-run history used by several report test files.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.base import fingerprint
from storage import Store, open_store
from storage import models as m

HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=2">'


class ReportDB:
    """Insert rows one call at a time; every call commits, like the real writers do."""

    def __init__(self, tmp_path: Path) -> None:
        self.store: Store = open_store(f"sqlite:///{tmp_path / 'report-test.db'}", tmp_path / "blobs")

    def site(self, site_id: str, name: str, unit_type: str = "county", rubric: str | None = None,
             url: str | None = None) -> str:
        with self.store.session() as s:
            s.merge(m.Site(site_id=site_id, name=name, unit_type=unit_type, url=url or f"http://127.0.0.1/{site_id}/",
                           rubric=rubric, options={}))
        return site_id

    def run(self, as_of: dt.date = dt.date(2026, 11, 20), status: str = "finished",
            previous: int | None = None) -> int:
        with self.store.session() as s:
            r = m.Run(kind="crawl", status=status, as_of=as_of, assessment_year=as_of.year, tool_version="0.1.0",
                      settings={}, previous_run_id=previous, started_at=dt.datetime(2026, 11, 20, 8, 0),
                      finished_at=dt.datetime(2026, 11, 20, 9, 0))
            s.add(r)
            s.flush()
            return r.id

    def run_site(self, run_id: int, site_id: str, status: str = "scored", error: str | None = None) -> None:
        with self.store.session() as s:
            site = s.get(m.Site, site_id)
            s.add(m.RunSite(run_id=run_id, site_id=site_id, name=site.name, unit_type=site.unit_type,
                            category=site.category, url=site.url, rubric=site.rubric, options={}, status=status,
                            error=error))

    def page(self, run_id: int, site_id: str, url: str, fetch_status: str = "ok",
             screenshot: str | None = None, title: str | None = None) -> int:
        with self.store.session() as s:
            p = m.Page(run_id=run_id, site_id=site_id, url=url, fetch_status=fetch_status, kind="other",
                       screenshot_sha256=screenshot, title=title)
            s.add(p)
            s.flush()
            return p.id

    def attachment(self, run_id: int, site_id: str, url: str, fetch_status: str = "ok",
                   sha: str | None = None) -> None:
        with self.store.session() as s:
            s.add(m.Attachment(run_id=run_id, site_id=site_id, page_url=url, url=url, ext="pdf",
                               fetch_status=fetch_status, sha256=sha))

    def finding(self, run_id: int, site_id: str, code: str, status: str = "fail", subject: str = "",
                message: str | None = None, *, url: str | None = None, evidence: str | None = None,
                evidence_file: str | None = None, evidence_page: int | None = None,
                details: Any = None, severity: str = "medium") -> int:
        check_id = code.split(".", 1)[0]
        with self.store.session() as s:
            f = m.Finding(run_id=run_id, site_id=site_id, check_id=check_id, check_version="1", code=code,
                          status=status, severity=severity, subject=subject,
                          fingerprint=fingerprint(check_id, code, subject),
                          message=message if message is not None else f"{code} {subject}", url=url,
                          evidence=evidence, evidence_file=evidence_file, evidence_page=evidence_page,
                          details=details if details is not None else {},
                          created_at=dt.datetime(2026, 11, 20, 8, 30))
            s.add(f)
            s.flush()
            return f.id

    def score(self, run_id: int, site_id: str, rubric_id: str, indicator_id: str, *, max_points: float,
              score: float | None, deducted: float = 0.0, basis: Any = None, mode: str = "automated",
              path: str = "", name: str = "", grade: str | None = None, rank: int | None = None,
              adjusted: bool = False, bonus: float = 0.0, explanation: str | None = None,
              details: dict[str, Any] | None = None) -> int:
        with self.store.session() as s:
            r = m.Score(run_id=run_id, site_id=site_id, rubric_id=rubric_id, indicator_id=indicator_id,
                        path=path, name=name, mode=mode, max_points=max_points, deducted=deducted, bonus=bonus,
                        score=score, basis=basis if basis is not None else [], explanation=explanation,
                        grade=grade, rank=rank, adjusted=adjusted, details=details or {})
            s.add(r)
            s.flush()
            return r.id

    def blob(self, data: bytes) -> str:
        return self.store.blobs.put(data)


def png_bytes(size: tuple[int, int] = (320, 200), color: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (255, 255, 255))
    ImageDraw.Draw(img).rectangle([20, 20, size[0] - 20, size[1] - 20], fill=color)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def pdf_bytes(label: str = "(此件公开发布)", pages: int = 2) -> tuple[bytes, list[float]]:
    """A small PDF with the public-attribute label on the last page; returns (bytes, bbox of the label in
    pdfplumber's top-left convention, in points)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    width, height = A4
    for n in range(1, pages + 1):
        c.setFont("STSong-Light", 16)
        c.drawString(72, height - 100, f"第{n}页 关于印发某某办法的通知")
        if n == pages:
            c.setFont("STSong-Light", 14)
            c.drawString(90, height - 400, label)
        c.showPage()
    c.save()
    # drawString's y is the baseline; the glyphs span roughly 14pt above it
    bbox = [90.0, 400.0 - 14.0, 90.0 + 14.0 * len(label), 400.0 + 3.0]
    return buf.getvalue(), bbox


@dataclass
class Scenario:
    db: ReportDB
    run1: int
    run2: int
    ids: dict[str, int] = field(default_factory=dict)
    shas: dict[str, str] = field(default_factory=dict)


RUBRIC = "changning-2020-township"


def scenario(tmp_path: Path) -> Scenario:
    """Two runs of three units.

    Run 1: qingshan fails guide.element_missing[传真号码] and columns.required_missing[政策], passes
           site_health, has no pdf_label findings (check not run); lushui fails guide.missing. Run 2 (the one reported): qingshan still misses 传真号码, has fixed
    政策, newly misses 办公时间, and has a PDF without label (page image + bbox) and a hostile-titled
    finding; lushui's guide page timed out (guide.missing must be unstable, not resolved); hefeng is new
    in run 2 and has no findings at all.
    """
    db = ReportDB(tmp_path)
    db.site("qingshan", "青山镇人民政府", "township", RUBRIC)
    db.site("lushui", "绿水镇人民政府", "township", RUBRIC)
    db.site("hefeng", "和丰镇人民政府", "township", RUBRIC)
    sc = Scenario(db=db, run1=db.run(as_of=dt.date(2026, 10, 20)), run2=0)
    r1 = sc.run1
    for sid in ("qingshan", "lushui"):
        db.run_site(r1, sid)
    sc.ids["r1_fax"] = db.finding(r1, "qingshan", "guide.element_missing", subject="传真号码",
                                  message="指南缺少传真号码", url="http://127.0.0.1/qingshan/guide.html")
    db.finding(r1, "qingshan", "columns.required_missing", subject="政策", message="缺少政策栏目",
               url="http://127.0.0.1/qingshan/")
    db.finding(r1, "qingshan", "site_health.spam_injected", status="pass", subject="",
               message="未发现被篡改的内容", severity="info")
    db.finding(r1, "lushui", "guide.missing", message="未找到政府信息公开指南",
               url="http://127.0.0.1/lushui/guide.html")
    db.page(r1, "lushui", "http://127.0.0.1/lushui/guide.html", "not_found")
    db.score(r1, "qingshan", RUBRIC, "2.1", max_points=5, deducted=0.5, score=4.5, basis=[sc.ids["r1_fax"]],
             path="公开指南 / 要素齐全", name="要素齐全")
    db.score(r1, "qingshan", RUBRIC, "__total__", max_points=100, deducted=1.5, score=88.5, grade="良好", rank=2)
    db.score(r1, "lushui", RUBRIC, "__total__", max_points=100, deducted=5, score=95, grade="优秀", rank=1)

    sc.run2 = r2 = db.run(previous=r1)
    for sid in ("qingshan", "lushui", "hefeng"):
        db.run_site(r2, sid)
    shot = db.blob(png_bytes())
    sc.shas["shot"] = shot
    pdf, bbox = pdf_bytes("(此件不予公开)")
    sc.shas["pdf"] = db.blob(pdf)
    guide_url = "http://127.0.0.1/qingshan/guide.html"
    db.page(r2, "qingshan", guide_url, "ok", screenshot=shot, title="指南")
    sc.ids["fax"] = db.finding(r2, "qingshan", "guide.element_missing", subject="传真号码",
                               message="指南缺少传真号码", url=guide_url, evidence="联系电话：0722-1234567",
                               severity="medium")
    sc.ids["hours"] = db.finding(r2, "qingshan", "guide.element_missing", subject="办公时间",
                                 message="指南缺少办公时间", url=guide_url, evidence=f"=HYPERLINK(\"http://x\") {HOSTILE_SCRIPT}")
    sc.ids["phone"] = db.finding(r2, "qingshan", "guide.element_present", status="pass", subject="联系电话",
                                 message="指南列有联系电话", url=guide_url, severity="info")
    db.finding(r2, "qingshan", "columns.present", status="pass", subject="政策", message="政策栏目存在",
               url="http://127.0.0.1/qingshan/", severity="info")
    sc.ids["pdf"] = db.finding(r2, "qingshan", "pdf_label.conflict", subject="/qingshan/doc1.pdf",
                               message="公开文件标注为不予公开", url="http://127.0.0.1/qingshan/doc1.pdf",
                               evidence="(此件不予公开)", evidence_file=sc.shas["pdf"], evidence_page=2,
                               details={"bbox": bbox, "value": "不予公开"}, severity="high")
    sc.ids["scan"] = db.finding(r2, "qingshan", "pdf_label.unverifiable", status="unverifiable",
                                subject="/qingshan/scan.pdf", message="扫描件无文字层，无法核验",
                                url="http://127.0.0.1/qingshan/scan.pdf", details={"reason": "no_text_layer"},
                                severity="info")
    sc.ids["hostile"] = db.finding(r2, "qingshan", "site_health.spam_injected", subject="/qingshan/spam.html",
                                   message=f"页面标题含可疑内容：{HOSTILE_SCRIPT}{HOSTILE_IMG}",
                                   url="javascript:window.__pwned=3", evidence=HOSTILE_IMG, severity="high")
    db.finding(r2, "lushui", "guide.element_present", status="pass", subject="联系电话", message="指南列有联系电话",
               url="http://127.0.0.1/lushui/guide2.html", severity="info")
    db.page(r2, "lushui", "http://127.0.0.1/lushui/guide.html", "timeout")
    sc.ids["lushui_guide_unv"] = db.finding(r2, "lushui", "guide.missing", status="unverifiable",
                                            message="指南页面抓取超时，无法核验", url="http://127.0.0.1/lushui/guide.html",
                                            details={"reason": "fetch timeout"}, severity="info")

    db.score(r2, "qingshan", RUBRIC, "2.1", max_points=5, deducted=1.0, score=4.0,
             basis=[sc.ids["fax"], sc.ids["hours"]], path="公开指南 / 要素齐全", name="要素齐全",
             explanation="缺少传真号码、办公时间，各扣0.5")
    db.score(r2, "qingshan", RUBRIC, "3.2", max_points=5, deducted=0.5, score=4.5, basis=[sc.ids["pdf"]],
             path="公开属性 / PDF标注", name="PDF标注")
    db.score(r2, "qingshan", RUBRIC, "9.1", max_points=10, score=None, mode="manual",
             path="依申请公开 / 答复规范", name="答复规范")
    # the stored total is what the report must show, even if it is not the sum of the rows above
    db.score(r2, "qingshan", RUBRIC, "__total__", max_points=100, deducted=1.5, score=87.0, grade="良好", rank=2)
    db.score(r2, "lushui", RUBRIC, "__total__", max_points=100, deducted=0, score=96.0, grade="优秀", rank=1)
    return sc


def test_builder_fingerprints_match_the_check_contract(tmp_path: Path) -> None:
    db = ReportDB(tmp_path)
    db.site("s", "某单位")
    run = db.run()
    db.run_site(run, "s")
    fid = db.finding(run, "s", "guide.element_missing", subject="传真号码")
    with db.store.session() as s:
        row = s.get(m.Finding, fid)
        assert row.check_id == "guide"
        assert row.fingerprint == fingerprint("guide", "guide.element_missing", "传真号码")
