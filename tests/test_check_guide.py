"""The `guide` check on guides shaped like real 政府信息公开指南 pages (HTML and PDF)."""

from __future__ import annotations

import datetime as dt

from checks.runner import run_check_on_evidence
from tests.evidence_factory import EvidenceBuilder, make_pdf

ALL_ELEMENTS = {"公开范围", "公开方式", "公开时限", "依申请公开程序", "信息查询方式", "机构名称", "办公地址",
                "办公时间", "邮政编码", "联系电话", "传真号码", "投诉监督方式", "信息处理费"}

GUIDE_PARTS = {
    "head": ["青山县财政局政府信息公开指南", "（2026年3月修订）",
             "为了保障公民、法人和其他组织依法获取政府信息，根据《中华人民共和国政府信息公开条例》，结合本机关实际，编制本指南。"],
    "公开范围": ["一、主动公开", "（一）公开范围",
             "本机关主动公开的政府信息主要包括：机构职能、规范性文件、财政预决算、政府采购等，具体内容详见本机关政府信息公开目录。"],
    "公开方式": ["（二）公开方式",
             "本机关主动公开的政府信息，通过青山县人民政府门户网站“政府信息公开”专栏予以公开，同时根据需要通过新闻发布会、政务新媒体等方式公开。"],
    "公开时限": ["（三）公开时限", "属于主动公开范围的政府信息，应当自该政府信息形成或者变更之日起20个工作日内及时公开。"],
    "机构名称": ["二、依申请公开", "（一）受理机构", "本机关政府信息公开工作机构为青山县财政局办公室，负责受理向本机关提出的政府信息公开申请。"],
    "办公地址": ["办公地址：青山县人民路88号财政大楼3楼"],
    "办公时间": ["办公时间：周一至周五上午8:30-12:00，下午14:30-17:30（法定节假日除外）"],
    "邮政编码": ["邮政编码：415000"],
    "联系电话": ["联系电话：0736-7221234"],
    "传真号码": ["传真号码：0736-7221235"],
    "依申请公开程序": ["（二）申请的处理",
                "本机关收到政府信息公开申请，能够当场答复的，应当当场予以答复；不能当场答复的，应当自收到申请之日起20个工作日内予以答复。"],
    "信息处理费": ["（三）收费", "依申请提供政府信息，不收取费用。申请公开政府信息的数量、频次明显超过合理范围的，本机关可以收取信息处理费。"],
    "信息查询方式": ["三、信息查询方式",
               "公民、法人或者其他组织可通过青山县人民政府门户网站检索、查阅本机关主动公开的政府信息，也可到县档案馆、县图书馆政府信息查阅点查阅。"],
    "投诉监督方式": ["四、监督和救济",
               "公民、法人或者其他组织认为本机关在政府信息公开工作中侵犯其合法权益的，可以向青山县人民政府办公室投诉、举报，也可以依法申请行政复议或者提起行政诉讼。"],
}

SITE_FOOTER = ("<div class='footer'>主办：青山县人民政府办公室 地址：青山县府前路1号 邮编：415000 "
               "联系电话：0736-7220001 传真：0736-7220002</div>")


def guide_lines(drop=(), replace=None) -> list[str]:
    lines: list[str] = []
    for key, part in GUIDE_PARTS.items():
        if key in drop:
            continue
        lines += (replace or {}).get(key, part)
    return lines


def guide_html(lines: list[str], footer: bool = True) -> str:
    body = "".join(f"<p>{ln}</p>" for ln in lines)
    return (f"<html><head><title>政府信息公开指南</title></head><body><div class='header'>青山县人民政府 今天是2026年11月20日</div>"
            f"<div class='article'>{body}</div>{SITE_FOOTER if footer else ''}</body></html>")


def site_with_guide(lines, *, publish=dt.date(2026, 3, 5), assessment_year=2026, body_text=True):
    b = EvidenceBuilder(unit_type="department", name="青山县财政局", assessment_year=assessment_year)
    col = b.column("政府信息公开指南", "/xxgk/zn/", item_count=1, newest=publish)
    b.item(col, "青山县财政局政府信息公开指南", "/xxgk/zn/1.html", publish)
    b.document("/xxgk/zn/1.html", kind="guide", title="青山县财政局政府信息公开指南",
               body_text="\n".join(lines) if body_text else "", html=guide_html(lines), column=col,
               publish_date=publish)
    return b


def by(fs, code, status=None):
    return [f for f in fs if f.code == code and (status is None or f.status == status)]


def test_complete_guide_passes_every_element_with_its_sentence():
    fs = run_check_on_evidence("guide", site_with_guide(guide_lines()).build())
    present = {f.subject: f for f in by(fs, "guide.element_present", "pass")}
    assert set(present) == ALL_ELEMENTS
    assert not by(fs, "guide.element_missing")
    assert present["传真号码"].evidence == "传真号码：0736-7221235"
    assert "20个工作日内及时公开" in present["公开时限"].evidence
    assert by(fs, "guide.present", "pass") and by(fs, "guide.current", "pass")


def test_each_missing_element_is_one_fail_named_canonically():
    fs = run_check_on_evidence("guide", site_with_guide(guide_lines(drop={"传真号码", "邮政编码"})).build())
    missing = {f.subject: f for f in by(fs, "guide.element_missing", "fail")}
    assert set(missing) == {"传真号码", "邮政编码"}
    assert missing["传真号码"].message == "政府信息公开指南缺少要素：传真号码"
    assert len(by(fs, "guide.element_present", "pass")) == len(ALL_ELEMENTS) - 2


def test_heading_without_value_is_missing_and_quoted():
    lines = guide_lines(replace={"传真号码": ["传真号码：无"], "邮政编码": ["邮政编码：（待定）"],
                                 "联系电话": ["联系电话："]})
    fs = run_check_on_evidence("guide", site_with_guide(lines).build())
    missing = {f.subject: f for f in by(fs, "guide.element_missing", "fail")}
    assert set(missing) == {"传真号码", "邮政编码", "联系电话"}
    assert "传真号码：无" in missing["传真号码"].evidence


def test_fax_is_not_mistaken_for_phone_and_full_width_digits_count():
    lines = guide_lines(replace={"联系电话": ["联系电话：无"], "传真号码": ["传真电话：０７３６－７２２１２３５"],
                                 "邮政编码": ["邮　编：４１５０００"]})
    fs = run_check_on_evidence("guide", site_with_guide(lines).build())
    assert {f.subject for f in by(fs, "guide.element_missing", "fail")} == {"联系电话"}


def test_site_footer_contact_details_do_not_count():
    # the crawler's body_text is empty: the text comes from the page, without its footer
    lines = guide_lines(drop={"联系电话", "传真号码", "邮政编码"})
    fs = run_check_on_evidence("guide", site_with_guide(lines, body_text=False).build())
    assert {f.subject for f in by(fs, "guide.element_missing", "fail")} == {"联系电话", "传真号码", "邮政编码"}


def test_processing_fee_not_required_before_2021():
    fs = run_check_on_evidence("guide", site_with_guide(guide_lines(drop={"信息处理费"}),
                                                        publish=dt.date(2020, 3, 1), assessment_year=2020).build())
    [fee] = [f for f in fs if f.subject == "信息处理费"]
    assert fee.status == "not_applicable"
    fs = run_check_on_evidence("guide", site_with_guide(guide_lines(drop={"信息处理费"})).build())
    assert [f.subject for f in by(fs, "guide.element_missing", "fail")] == ["信息处理费"]


def test_outdated_when_latest_version_predates_assessment_year():
    lines = guide_lines(replace={"head": ["青山县财政局政府信息公开指南", "（2024年修订）"]})
    fs = run_check_on_evidence("guide", site_with_guide(lines, publish=dt.date(2024, 6, 1)).build())
    [out] = by(fs, "guide.outdated")
    assert out.status == "fail" and out.subject == "" and "2024" in out.message


def test_update_date_in_text_makes_it_current():
    lines = guide_lines(replace={"head": ["青山县财政局政府信息公开指南", "更新日期：2026年2月10日"]})
    fs = run_check_on_evidence("guide", site_with_guide(lines, publish=dt.date(2023, 6, 1)).build())
    assert by(fs, "guide.current", "pass") and not by(fs, "guide.outdated")


def test_undated_guide_is_unverifiable_not_outdated():
    lines = guide_lines(replace={"head": ["青山县财政局政府信息公开指南"]})
    fs = run_check_on_evidence("guide", site_with_guide(lines, publish=None).build())
    [out] = by(fs, "guide.outdated")
    assert out.status == "unverifiable" and out.details["reason"]


def test_latest_of_several_versions_is_judged():
    b = site_with_guide(guide_lines(), publish=dt.date(2026, 3, 5))
    old = guide_lines(drop={"信息处理费", "传真号码"}, replace={"head": ["青山县财政局政府信息公开指南（2019年版）"]})
    b.document("/xxgk/zn/0.html", kind="guide", title="青山县财政局政府信息公开指南（2019年版）",
               body_text="\n".join(old), publish_date=dt.date(2019, 5, 1))
    fs = run_check_on_evidence("guide", b.build())
    assert not by(fs, "guide.element_missing", "fail")
    assert by(fs, "guide.current", "pass")


def test_guide_missing_with_and_without_column():
    b = EvidenceBuilder()
    b.column("政策", "/zc/", item_count=2)
    fs = run_check_on_evidence("guide", b.build())
    assert [(f.code, f.status) for f in fs] == [("guide.missing", "fail")]
    b = EvidenceBuilder()
    b.column("政府信息公开指南", "/zn/", item_count=0)
    b.page("/zn/", body="<html><body><ul></ul><p>暂无信息</p></body></html>", kind="column_list")
    fs = run_check_on_evidence("guide", b.build())
    assert [(f.code, f.status) for f in fs] == [("guide.missing", "fail")]
    assert "无任何信息" in fs[0].evidence


def test_unreadable_evidence_is_never_a_fail():
    # guide column could not be read
    b = EvidenceBuilder()
    b.column("政府信息公开指南", "/zn/", item_count=None, list_status="timeout")
    fs = run_check_on_evidence("guide", b.build())
    assert [(f.code, f.status) for f in fs] == [("guide.missing", "unverifiable")]
    # guide listed but its page timed out
    b = EvidenceBuilder()
    col = b.column("政府信息公开指南", "/zn/", item_count=1)
    b.item(col, "青山县政府信息公开指南", "/zn/1.html", dt.date(2026, 2, 1))
    b.page("/zn/1.html", fetch_status="timeout", http_status=None)
    fs = run_check_on_evidence("guide", b.build())
    assert not by(fs, "guide.element_missing", "fail") and not by(fs, "guide.missing", "fail")
    assert len(by(fs, "guide.element_missing", "unverifiable")) == len(ALL_ELEMENTS)
    # site unreachable
    fs = run_check_on_evidence("guide", EvidenceBuilder(run_status="unreachable").build())
    assert [f.status for f in fs] == ["unverifiable"]


def test_column_page_that_is_the_guide_itself():
    b = EvidenceBuilder()
    b.column("政府信息公开指南", "/zn/", item_count=0)
    b.page("/zn/", body=guide_html(guide_lines(drop={"办公时间"})), kind="column_list",
           publish_date=dt.date(2026, 3, 1))
    fs = run_check_on_evidence("guide", b.build())
    assert [f.subject for f in by(fs, "guide.element_missing", "fail")] == ["办公时间"]


def test_pdf_guide_behind_a_wrapper_page():
    lines = guide_lines(drop={"传真号码"})
    pdf = make_pdf(lines)
    b = EvidenceBuilder()
    col = b.column("政府信息公开指南", "/zn/", item_count=1)
    doc = b.document("/zn/1.html", kind="guide", title="青山县人民政府政府信息公开指南", column=col,
                     body_text="青山县人民政府政府信息公开指南 详见附件。", publish_date=dt.date(2026, 3, 5))
    att = b.attachment(doc, "/zn/guide.pdf", pdf, anchor_text="政府信息公开指南.pdf")
    fs = run_check_on_evidence("guide", b.build())
    [fax] = by(fs, "guide.element_missing", "fail")
    assert fax.subject == "传真号码" and fax.evidence_file == att.sha256
    phone = next(f for f in by(fs, "guide.element_present") if f.subject == "联系电话")
    assert phone.evidence_page == 1 and phone.evidence_file == att.sha256


def test_scanned_pdf_guide_is_unverifiable():
    b = EvidenceBuilder()
    col = b.column("政府信息公开指南", "/zn/", item_count=1)
    doc = b.document("/zn/1.html", kind="guide", title="政府信息公开指南", column=col, body_text="详见附件",
                     publish_date=dt.date(2026, 3, 5))
    b.attachment(doc, "/zn/scan.pdf", make_pdf([{"space": 10}]))
    fs = run_check_on_evidence("guide", b.build())
    assert not [f for f in fs if f.status == "fail"]
    assert all(f.status in {"unverifiable", "pass"} for f in fs)
    assert "OCR" in by(fs, "guide.element_missing")[0].details["reason"]


def test_garbage_attachment_does_not_crash():
    b = EvidenceBuilder()
    col = b.column("政府信息公开指南", "/zn/", item_count=1)
    doc = b.document("/zn/1.html", kind="guide", title="政府信息公开指南", column=col, body_text="详见附件")
    b.attachment(doc, "/zn/x.pdf", b"%PDF-1.4 garbage \x00\x01")
    b.attachment(doc, "/zn/x.docx", b"PK\x03\x04 not really a zip", ext="docx")
    fs = run_check_on_evidence("guide", b.build())
    assert fs and not [f for f in fs if f.status == "fail" or f.code == "guide.error"]
