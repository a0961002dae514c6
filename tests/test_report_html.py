"""The static HTML report, read as files: escaping, CSP, self-contained assets, evidence, history.

(tests/test_report_browser.py opens the same report in a real Chromium.)
"""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from reports import write_reports
from reports.evidence_files import EvidenceExporter, parse_bbox, sniff_kind
from reports.html_parts import bar_chart, link, safe_href
from tests.test_report_fixtures import HOSTILE_SCRIPT, ReportDB, pdf_bytes, scenario


class Tags(HTMLParser):
    """Collects tags with attributes, element ids and the text, for assertions on the structure."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        self.tags.append((tag, d))
        if d.get("id"):
            self.ids.add(d["id"])

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> Tags:
    t = Tags()
    t.feed(path.read_text(encoding="utf-8"))
    return t


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    sc = scenario(tmp)
    out = write_reports(sc.db.store, sc.run2, tmp / "out", formats={"html"})
    return sc, out["html"].parent


def all_pages(root: Path) -> list[Path]:
    return [root / "index.html", *sorted((root / "sites").glob("*/index.html"))]


def test_every_page_has_the_csp_and_only_the_reports_own_script(report):
    _, root = report
    pages = all_pages(root)
    assert len(pages) == 4
    for p in pages:
        t = parse(p)
        metas = [a for tag, a in t.tags if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
        assert len(metas) == 1
        csp = metas[0]["content"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
        scripts = [a for tag, a in t.tags if tag == "script"]
        assert [s["src"].rsplit("/", 1)[-1] for s in scripts] == ["report.js"]
        for tag, a in t.tags:  # nothing from the network: every asset is a relative file
            for attr in ("src", "href"):
                v = a.get(attr)
                if v and tag in ("script", "link", "img"):
                    assert not v.startswith(("http:", "https:", "//", "data:text")), (p, tag, v)
            assert not any(k.startswith("on") for k in a), (p, tag, a)  # no event handler attributes
    assert (root / "assets" / "report.js").exists() and (root / "assets" / "report.css").exists()


def test_crawled_text_is_escaped_and_javascript_urls_are_not_links(report):
    _, root = report
    raw = (root / "sites" / "qingshan" / "index.html").read_text(encoding="utf-8")
    assert HOSTILE_SCRIPT not in raw
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in raw
    assert "<img src=x" not in raw
    t = parse(root / "sites" / "qingshan" / "index.html")
    hrefs = [a.get("href") or "" for tag, a in t.tags if tag == "a"]
    assert not any(h.lower().startswith("javascript:") for h in hrefs)
    assert "javascript:window.__pwned=3" in "".join(t.text)  # still shown, as text
    assert safe_href("JavaScript:alert(1)") is None and safe_href("data:text/html,x") is None
    assert safe_href('http://a/"><b>') == "http://a/&quot;&gt;&lt;b&gt;"
    assert link("http://a/?q=<x>").count("&lt;x&gt;") == 2


def test_deductions_link_to_their_findings(report):
    sc, root = report
    t = parse(root / "sites" / "qingshan" / "index.html")
    basis = [a["href"] for tag, a in t.tags if tag == "a" and "basis" in (a.get("class") or "")]
    assert f"#f-{sc.ids['fax']}" in basis and f"#f-{sc.ids['pdf']}" in basis
    for href in basis:
        assert href[1:] in t.ids
    articles = [a for tag, a in t.tags if tag == "article"]
    assert len(articles) == 7
    assert {a["data-status"] for a in articles} == {"fail", "pass", "unverifiable"}
    assert "待人工评分" in "".join(t.text)


def test_overview_ranks_units_and_charts_grades(report):
    _, root = report
    raw = (root / "index.html").read_text(encoding="utf-8")
    t = parse(root / "index.html")
    text = "".join(t.text)
    ranking = text[text.index("单位排名"):text.index("等次分布")]
    assert ranking.index("绿水镇人民政府") < ranking.index("青山镇人民政府") < ranking.index("和丰镇人民政府")
    bars = {a["data-label"]: a["data-count"] for tag, a in t.tags if tag == "g" and a.get("class") == "bar"}
    assert bars == {"优秀": "1", "良好": "1", "未评定": "1"}
    assert "<svg" in raw and "按检查统计" in text
    links = {a["href"] for tag, a in t.tags if tag == "a"}
    assert {"sites/qingshan/index.html", "sites/lushui/index.html", "sites/hefeng/index.html"} <= links


def test_screenshot_and_pdf_page_with_label_region(report):
    sc, root = report
    t = parse(root / "sites" / "qingshan" / "index.html")
    imgs = [a["src"] for tag, a in t.tags if tag == "img"]
    assert f"../../evidence/{sc.shas['shot']}.png" in imgs
    page_imgs = [s for s in imgs if s.startswith(f"../../evidence/{sc.shas['pdf']}-p2-")]
    assert len(page_imgs) == 1
    img = Image.open(root / "sites" / "qingshan" / page_imgs[0]).convert("RGB")
    assert img.width == 1240
    scale = img.width / 595.2756  # A4 width in points
    _, bbox = pdf_bytes("(此件不予公开)")
    # the outline starts 4px outside the bbox and is 4px wide (inwards): sample the left edge
    x = int(bbox[0] * scale - 4 + 2)
    y = int((bbox[1] + bbox[3]) / 2 * scale)
    r, g, b = img.getpixel((x, y))
    assert r > 180 and g < 60 and b < 60, (r, g, b)
    # and the page is really rendered (text pixels, not a blank)
    assert len(img.crop((0, 0, img.width, img.height // 3)).getcolors(maxcolors=1 << 20)) > 2


def test_since_last_run_section(report):
    sc, root = report
    text = "".join(parse(root / "sites" / "qingshan" / "index.html").text)
    assert "与上次运行（运行 1）相比" in text
    assert "新增问题（2）" in text  # 办公时间, spam_injected (site_health ran in run 1 too)
    assert "已整改（1）" in text  # 政策 column now present
    assert "仍存在（1）" in text  # 传真号码
    assert "未运行检查 pdf_label" in text  # pdf_label did not run in run 1: unstable, not new
    lushui = "".join(parse(root / "sites" / "lushui" / "index.html").text)
    assert "已整改（0）" in lushui and "timeout" in lushui
    hefeng = "".join(parse(root / "sites" / "hefeng" / "index.html").text)
    assert "首次测评" in hefeng


def test_adjusted_scores_and_disputes_are_marked(tmp_path):
    db = ReportDB(tmp_path)
    db.site("s", "单位甲")
    run = db.run()
    db.run_site(run, "s")
    fid = db.finding(run, "s", "guide.element_missing", subject="传真号码", message="缺少传真号码")
    from reports.disputes import dispute

    dispute(db.store, fid, "指南第2页有传真号码", author="张三")
    db.score(run, "s", "r", "1", max_points=5, score=5, basis=[], adjusted=True)
    db.score(run, "s", "r", "__total__", max_points=100, score=100, grade="优秀", rank=1, adjusted=True)
    out = write_reports(db.store, run, tmp_path / "out", formats={"html"})
    page = (out["html"].parent / "sites" / "s" / "index.html").read_text(encoding="utf-8")
    assert "已调整" in page and "争议中（不计分）：指南第2页有传真号码" in page
    assert 'data-disputed="yes"' in page
    index = out["html"].read_text(encoding="utf-8")
    assert "争议中的问题" in index and "已调整" in index


def test_ranking_flags_unreachable_units_and_shows_the_stored_split(tmp_path):
    db = ReportDB(tmp_path)
    db.site("down", "农业农村局", "department")
    run = db.run()
    db.run_site(run, "down", status="scored")  # the pipeline moves on to "scored" even for a dead site
    db.finding(run, "down", "site_health.unreachable", message="政府信息公开平台无法访问")
    db.score(run, "down", "r", "__total__", max_points=100, score=28, grade="优秀（暂定）", rank=1,
             details={"automated_total": 28, "automated_max": 28, "manual_pending": 72})
    out = write_reports(db.store, run, tmp_path / "out", formats={"html"})
    t = parse(out["html"])
    text = "".join(t.text)
    ranking = text[text.index("单位排名"):text.index("等次分布")]
    assert "无法访问" in ranking and "28 / 100" in ranking and "自动 28/28 · 待人工 72" in ranking


def test_bad_pdf_or_missing_blob_never_crashes(tmp_path):
    db = ReportDB(tmp_path)
    db.site("s", "单位")
    run = db.run()
    db.run_site(run, "s")
    broken = db.blob(b"%PDF-1.7\n this is not really a pdf")
    db.finding(run, "s", "pdf_label.missing", subject="/a.pdf", evidence_file=broken, evidence_page=1,
               details={"bbox": ["x", None, 3, 4]})
    good, _ = pdf_bytes(pages=1)
    db.finding(run, "s", "pdf_label.present", status="pass", subject="/b.pdf", evidence_file=db.blob(good),
               evidence_page=7, details={"bbox": [1e309, 0, 1, 1]})
    db.finding(run, "s", "guide.missing", evidence_file="cd" * 32)
    html_text = db.blob(b"<html><script>window.__pwned=1</script></html>")
    db.finding(run, "s", "guide.outdated", evidence_file=html_text)
    out = write_reports(db.store, run, tmp_path / "out")
    page = (out["html"].parent / "sites" / "s" / "index.html").read_text(encoding="utf-8")
    assert page.count("PDF 页面无法渲染") == 2  # corrupt file; page 7 of a 1-page PDF
    assert "证据文件已不在存储中" in page
    assert (out["html"].parent / "evidence" / f"{html_text}.txt").exists()  # crawled HTML never as .html
    assert not list((out["html"].parent / "evidence").glob("*.html"))


def test_hostile_page_size_renders_bounded(tmp_path):
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(2, 14400))  # a 2 pt wide strip, 5 m tall
    c.drawString(0, 100, "x")
    c.showPage()
    c.save()
    db = ReportDB(tmp_path)
    sha = db.blob(buf.getvalue())
    img = EvidenceExporter(db.store.blobs, tmp_path / "o").pdf_page(sha, 1, {"bbox": [0, 0, 2, 2]})
    assert img is not None and img.bbox_drawn
    with Image.open(tmp_path / "o" / img.rel_path) as im:
        assert im.height <= 3508 and im.width <= 1240


def test_bbox_conventions():
    assert parse_bbox({"bbox": [10, 20, 30, 40]}, 800) == (10, 20, 30, 40)
    assert parse_bbox({"bbox": {"x0": 10, "top": 20, "x1": 30, "bottom": 40}}, 800) == (10, 20, 30, 40)
    assert parse_bbox({"bbox": [10, 760, 30, 780], "bbox_origin": "bottom-left"}, 800) == (10, 20, 30, 40)
    assert parse_bbox({"bbox": [10, 20, 10, 40]}, 800) is None
    assert parse_bbox({"bbox": "10,20,30,40"}, 800) is None
    assert parse_bbox({}, 800) is None


def test_sniffing_and_chart_edge_cases(tmp_path):
    assert sniff_kind(b"\x89PNG\r\n\x1a\n....") == ("image", "png")
    assert sniff_kind(b"junk\n%PDF-1.4") == ("pdf", "pdf")
    assert sniff_kind(b"<!DOCTYPE html>") == ("text", "txt")
    assert sniff_kind(b"\x00\x01") == ("other", "bin")
    assert "无数据" in bar_chart([], "x")
    svg = bar_chart([("<b>", 0)], "t")
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    exp = EvidenceExporter(ReportDB(tmp_path).store.blobs, tmp_path / "o")
    assert exp.copy(None) is None
