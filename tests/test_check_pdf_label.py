"""pdf_label on PDFs generated like real 红头文件: label after the 成文日期, header labels, scans, bad files."""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib import pdfencrypt
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from checks import pdf_text
from checks.base import CheckContext
from checks.pdf_label import CHECK, find_labels
from checks.pdf_text import PageText, PdfLimits, PdfText, TextLine, read_pdf_text, run_bounded
from checks.runner import run_check_on_evidence
from tests.evidence_factory import EvidenceBuilder

WQY = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
pdfmetrics.registerFont(TTFont("WQY", WQY, subfontIndex=0))
pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))

BODY = [
    "各乡（镇）人民政府，县直各部门：",
    "《青山县农村人居环境整治提升实施方案》已经县人民政府同意，",
    "现印发给你们，请认真贯彻执行。",
]


def red_head_pdf(*, label: str | None = "（此件公开发布）", header: str | None = None, font: str = "WQY",
                 pages: int = 2, encrypt: pdfencrypt.StandardEncryption | None = None,
                 split_label: bool = False, label_first: bool = False, body: list[str] | None = None) -> bytes:
    """A GB/T 9704-shaped document: 版头 on page 1, body, then 发文机关署名, 成文日期 and the 附注 line."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=encrypt)
    for n in range(1, pages + 1):
        c.setFont(font, 12)
        y = 780
        if n == 1:
            if header:
                c.drawString(60, 800, header)
            c.setFont(font, 22)
            c.drawString(150, 740, "青山县人民政府办公室文件")
            c.setFont(font, 12)
            c.drawString(240, 700, "青政办发〔2026〕12号")
            y = 650
        for line in body or BODY:
            c.drawString(80, y, line)
            y -= 24
        if n == pages:
            if label and label_first:  # drawn before the signature: content-stream order is not reading order
                c.drawString(80, y - 108, label)
            c.drawString(330, y - 60, "青山县人民政府办公室")
            c.drawString(340, y - 84, "2026年3月5日")
            if label and split_label and not label_first:
                c.drawString(80, y - 108, label[:4])
                c.drawString(80, y - 126, label[4:])
            elif label and not label_first:
                c.drawString(80, y - 108, label)
            c.drawString(280, 60, f"— {n} —")
        c.showPage()
    c.save()
    return buf.getvalue()


def scanned_pdf() -> bytes:
    """An image-only PDF: the page is a picture of text (a scan), no text layer at all."""
    img = Image.new("L", (800, 400), 255)
    draw = ImageDraw.Draw(img)
    draw.text((40, 60), "青山县人民政府办公室  2026年3月5日", fill=0, font=ImageFont.truetype(WQY, 28))
    draw.text((40, 120), "（此件公开发布）", fill=0, font=ImageFont.truetype(WQY, 28))
    png = io.BytesIO()
    img.save(png, format="PNG")
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawImage(ImageReader(io.BytesIO(png.getvalue())), 40, 400, width=500, height=250)
    c.showPage()
    c.save()
    return buf.getvalue()


def site_with(pdfs: list[tuple[str, bytes | None]], **doc_kw) -> EvidenceBuilder:
    b = EvidenceBuilder()
    col = b.column("政策文件", "/zc/zcwj/")
    for i, (name, data) in enumerate(pdfs):
        doc = b.document(f"/zc/zcwj/{name}.html", kind="policy", title=f"关于印发{name}的通知", column=col,
                         doc_number=f"青政办发〔2026〕{i + 1}号", publish_date=dt.date(2026, 3, 1) + dt.timedelta(days=i),
                         **doc_kw)
        if data is None:
            b.attachment(doc, f"/files/{name}.pdf", None, fetch_status="not_found", anchor_text=f"{name}.pdf")
        else:
            b.attachment(doc, f"/files/{name}.pdf", data, anchor_text=f"{name}.pdf")
    return b


def run_on(b: EvidenceBuilder, **params):
    findings = run_check_on_evidence("pdf_label", b.build(), params)
    return {f.subject: f for f in findings if f.code != "pdf_label.sample"}, findings


def test_label_after_written_date_is_present_with_position() -> None:
    b = site_with([("a", red_head_pdf())])
    f = run_on(b)[0]["/files/a.pdf"]
    assert (f.code, f.status) == ("pdf_label.present", "pass")
    assert f.details["value"] == "主动公开"
    assert f.details["position"] == "attachment_note"
    assert f.evidence_page == 2 and f.evidence == "（此件公开发布）"
    x0, top, x1, bottom = f.details["bbox"]
    assert x0 == pytest.approx(80, abs=2) and top < bottom and x1 > x0
    assert f.evidence_file == b.attachments[0].sha256


@pytest.mark.parametrize("label,value", [
    ("(此件主动公开)", "主动公开"),
    ("( 此件 依申请公开 )", "依申请公开"),
    ("（此件公开发布）", "主动公开"),
    ("公开方式：主动公开", "主动公开"),
    ("公开属性: 依申请公开", "依申请公开"),
])
def test_real_wordings_with_stray_spaces_and_brackets(label: str, value: str) -> None:
    by, _ = run_on(site_with([("a", red_head_pdf(label=label, pages=1))]))
    assert by["/files/a.pdf"].code == "pdf_label.present"
    assert by["/files/a.pdf"].details["value"] == value


def test_cid_font_header_label_on_first_page() -> None:
    pdf = red_head_pdf(label=None, header="公开属性：主动公开", font="STSong-Light", pages=3)
    f = run_on(site_with([("a", pdf)]))[0]["/files/a.pdf"]
    assert f.code == "pdf_label.present"
    assert (f.evidence_page, f.details["position"]) == (1, "header")


def test_label_broken_over_two_lines_is_found() -> None:
    f = run_on(site_with([("a", red_head_pdf(split_label=True))]))[0]["/files/a.pdf"]
    assert f.code == "pdf_label.present"


def test_missing_label_is_a_fail_even_when_html_metadata_states_it() -> None:
    b = site_with([("a", red_head_pdf(label=None))], disclosure_mode="主动公开")
    f = run_on(b)[0]["/files/a.pdf"]
    assert (f.code, f.status) == ("pdf_label.missing", "fail")
    assert f.evidence_page == 2 and "2026年3月5日" in (f.evidence or "")
    assert f.details["html_disclosure_mode"] == "主动公开"


def test_withheld_label_on_a_published_document_is_a_conflict() -> None:
    f = run_on(site_with([("a", red_head_pdf(label="（此件不予公开）"))]))[0]["/files/a.pdf"]
    assert (f.code, f.status) == ("pdf_label.conflict", "fail")
    assert f.details["value"] == "不予公开"


def test_pdf_label_contradicting_html_metadata_is_a_conflict() -> None:
    b = site_with([("a", red_head_pdf(label="（此件依申请公开）"))], disclosure_mode="主动公开")
    f = run_on(b)[0]["/files/a.pdf"]
    assert f.code == "pdf_label.conflict"
    assert "网页元数据" in f.details["problems"][0]


def test_matching_html_metadata_is_no_conflict() -> None:
    b = site_with([("a", red_head_pdf())], meta={"公开方式": "主动公开"})
    assert run_on(b)[0]["/files/a.pdf"].code == "pdf_label.present"


def test_pdfium_reads_what_pdfminer_garbles_without_asking_pdfminer() -> None:
    # Owner-password-only encryption with a CID font: pdfminer yields "(cid:123)" strings, PDFium reads it.
    pdf = red_head_pdf(font="STSong-Light", encrypt=pdfencrypt.StandardEncryption("", ownerPassword="o", canPrint=0))
    plumber, _count, _fail = pdf_text._plumber_pages(pdf, 500, {})  # in process: pdfminer alone
    assert plumber is not None and "(cid:" in "".join(line.text for line in plumber[1][2])
    text = read_pdf_text(pdf)
    assert "此件公开发布" in text.last.pdfium_text
    assert not any(p.plumber_read for p in text.pages)  # PDFium's reading was enough
    f = run_on(site_with([("a", pdf)]))[0]["/files/a.pdf"]
    assert f.code == "pdf_label.present" and f.details["extractor"] == "pdfium"
    assert f.details["bbox"] is not None


def test_pdfplumber_reads_the_pages_pdfium_finds_no_text_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # PDFium sees no text where pdfminer does (a font only pdfminer's CMaps map): pdfminer is asked, in process
    real = pdf_text._pdfium_pages

    def blind(data: bytes, max_pages: int, errors: dict[str, str]):
        pages, count, fail = real(data, max_pages, errors)
        return {i: (w, h, ()) for i, (w, h, _lines) in pages.items()}, count, fail

    monkeypatch.setattr(pdf_text, "_pdfium_pages", blind)
    out = pdf_text._extract(red_head_pdf(), 500)
    assert [p.plumber_read for p in out.pages] == [True, True]
    assert "此件公开发布" in out.last.plumber_text and out.last.pdfium_lines == ()
    (hit,) = find_labels(out)
    assert hit.extractor == "pdfplumber" and hit.position == "attachment_note" and hit.line.bbox is not None


def test_lines_pdfium_cannot_place_are_placed_by_pdfplumber() -> None:
    # Characters outside the BMP (CJK Extension B, common in personal and place names) break PDFium's
    # text-index-to-box alignment: its lines carry no box, so pdfplumber reads the page and gives the bbox
    pdf = red_head_pdf(pages=1, body=[BODY[0], "《青山县𠀀𠀁村人居环境整治提升实施方案》已经县人民政府同意，", BODY[2]])
    text = read_pdf_text(pdf)
    assert text.last.plumber_read and any(line.bbox is None for line in text.last.pdfium_lines)
    f = run_on(site_with([("a", pdf)]))[0]["/files/a.pdf"]
    assert f.code == "pdf_label.present" and f.details["extractor"] == "pdfplumber"
    x0, top, x1, bottom = f.details["bbox"]
    assert x0 == pytest.approx(80, abs=2) and top < bottom


def test_pdfium_lines_are_in_reading_order_not_stream_order() -> None:
    # the 附注 drawn before the signature and date: still the line after the 成文日期 on the page
    f = run_on(site_with([("a", red_head_pdf(label_first=True))]))[0]["/files/a.pdf"]
    assert f.code == "pdf_label.present" and f.details["position"] == "attachment_note"
    lines = [line.text for line in read_pdf_text(red_head_pdf(label_first=True)).last.pdfium_lines]
    assert lines.index("（此件公开发布）") == lines.index("2026年3月5日") + 1


def test_a_reference_loop_is_corrupt_for_pdfminer_instead_of_spinning_until_killed() -> None:
    from tests.hostile_server import pdf_reference_cycle

    # PDFium reads the page ("hostile", no CJK), so pdfplumber is asked; pdfminer would follow 6 -> 7 -> 6
    # forever and the read would end as a timeout
    text = read_pdf_text(pdf_reference_cycle(), PdfLimits(timeout_s=15))
    assert text.status == "ok" and text.last.pdfium_text == "hostile"
    assert "refer to each other" in text.errors["pdfplumber"]
    f = run_on(site_with([("a", pdf_reference_cycle())]))[0]["/files/a.pdf"]
    assert (f.status, f.details["reason"]) == ("unverifiable", "unreadable_text")


def test_reference_chains_that_end_are_not_loops() -> None:
    import pdfplumber

    from tests.hostile_server import _FONT, _STREAM, build_pdf, pdf_reference_cycle

    chained = build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                         b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources 6 0 R >>",
                         _STREAM, _FONT, b"7 0 R", b"<< /Font << /F1 5 0 R >> >>"])
    with pdfplumber.open(io.BytesIO(chained)) as pdf:
        assert pdf_text._reference_loop(pdf.doc) is None
        assert "hostile" in pdf.pages[0].extract_text()
    looped = pdfplumber.open(io.BytesIO(pdf_reference_cycle()))  # no `with`: closing lists the pages and spins
    assert pdf_text._reference_loop(looped.doc) == "6 -> 7 -> 6"


@pytest.mark.parametrize("data,reason", [
    (scanned_pdf(), "no_text_layer"),
    (red_head_pdf(encrypt=pdfencrypt.StandardEncryption("secret", ownerPassword="o")), "encrypted"),
    (red_head_pdf()[:3000], "corrupt"),
    (b"<html><body>404 Not Found</body></html>", "not_pdf"),
    (None, "not_downloaded"),
])
def test_unreadable_files_are_unverifiable_never_a_fail(data: bytes | None, reason: str) -> None:
    f = run_on(site_with([("a", data)]))[0]["/files/a.pdf"]
    assert (f.code, f.status) == ("pdf_label.unverifiable", "unverifiable")
    assert f.details["reason"] == reason


def test_distinct_read_statuses() -> None:
    assert read_pdf_text(b"%PDF-1.4\n1 0 obj garbage").status == "corrupt"
    assert read_pdf_text(red_head_pdf(), PdfLimits(max_bytes=100)).status == "too_large"
    assert read_pdf_text(red_head_pdf(pages=3), PdfLimits(max_pages=2)).status == "too_many_pages"
    ok = read_pdf_text(red_head_pdf(pages=4))
    assert ok.status == "ok" and ok.page_count == 4
    assert [p.number for p in ok.pages] == [4, 1]  # only the last and the first page are read


def _hang() -> PdfText:
    time.sleep(120)
    return PdfText(status="ok")


def test_a_hanging_parser_is_killed_and_reported_as_timeout() -> None:
    assert run_bounded(_hang, (), PdfLimits(timeout_s=0.5)).status == "timeout"


def _allocate() -> PdfText:
    blocks = [bytearray(64 * 1024 * 1024) for _ in range(64)]  # 4 GiB: over the 64 MiB budget below
    return PdfText(status="ok", page_count=len(blocks))


def test_a_parser_over_its_memory_budget_is_stopped() -> None:
    assert run_bounded(_allocate, (), PdfLimits(max_memory_mb=64)).status == "too_large"


def test_garbled_text_layer_is_unverifiable(monkeypatch: pytest.MonkeyPatch) -> None:
    garbage = (TextLine("(cid:12)(cid:99)(cid:7)"),)
    fake = PdfText(status="ok", page_count=1,
                   pages=(PageText(number=1, width=595, height=842, plumber_lines=garbage, pdfium_lines=garbage),))
    monkeypatch.setattr("checks.pdf_label.read_pdf_text", lambda data, limits, **kw: fake)
    f = run_on(site_with([("a", b"%PDF-1.4")]))[0]["/files/a.pdf"]
    assert f.details["reason"] == "unreadable_text" and f.status == "unverifiable"


def test_sample_takes_the_newest_formal_documents_main_pdf_only() -> None:
    pdf = red_head_pdf(label=None, pages=1)
    b = site_with([(f"d{i:02d}", pdf) for i in range(12)])  # d11 newest
    annexed = b.documents[-1]
    b.attachment(annexed, "/files/d11-annex.pdf", pdf, anchor_text="附件1：项目清单.pdf")
    news = b.document("/xw/1.html", kind="other", title="工作动态", publish_date=dt.date(2026, 11, 1))
    b.attachment(news, "/files/news.pdf", pdf)
    by, findings = run_on(b)
    assert set(by) == {f"/files/d{i:02d}.pdf" for i in range(2, 12)}
    summary = next(f for f in findings if f.code == "pdf_label.sample")
    assert summary.details["sampled"] == 10 and summary.details["missing"] == 10
    by3, _ = run_on(b, sample=3)
    assert set(by3) == {"/files/d11.pdf", "/files/d10.pdf", "/files/d09.pdf"}


def test_no_formal_pdfs_is_not_applicable() -> None:
    findings = CHECK.run(CheckContext(evidence=EvidenceBuilder().build()))
    assert [(f.code, f.status) for f in findings] == [("pdf_label.sample", "not_applicable")]


def test_find_labels_ignores_discussion_of_disclosure_in_body_text() -> None:
    lines = (TextLine("对依申请公开的政府信息，行政机关应当按规定答复。"), TextLine("主动公开目录另行发布。"))
    pdf = PdfText(status="ok", page_count=1, pages=(PageText(1, 595, 842, lines, lines),))
    assert find_labels(pdf) == []
