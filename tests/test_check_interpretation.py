"""interpretation on a county platform shaped like the real ones: 政策 > 政策文件 / 规范性文件 / 政策解读."""

from __future__ import annotations

import datetime as dt

from checks.base import Finding
from checks.runner import run_check_on_evidence
from tests.evidence_factory import EvidenceBuilder

D = dt.date
MENU = [("/", "首页"), ("/zc/", "政策"), ("/zc/zcjd/", "政策解读"), ("/xxgk/", "法定主动公开内容")]


def page_links(b: EvidenceBuilder, path: str) -> None:
    """Every page carries the site menu (a 政策解读 entry among it): that is not an interpretation link."""
    for to, anchor in MENU:
        b.link(path, to, anchor)


def platform(*, jd_list_status: str = "ok", jd_item_count: int | None = 3) -> EvidenceBuilder:
    b = EvidenceBuilder()
    zc = b.column("政策", "/zc/")
    wj = b.column("政策文件", "/zc/zcwj/", parent=zc)
    gf = b.column("规范性文件", "/zc/gfxwj/", parent=zc)
    jd = b.column("政策解读", "/zc/zcjd/", parent=zc, list_status=jd_list_status, item_count=jd_item_count)

    def policy(path: str, title: str, number: str, day: D, col=wj) -> None:
        b.item(col, title, path, day)
        b.document(path, kind="policy", title=title, column=col, doc_number=number, publish_date=day,
                   written_date=day - dt.timedelta(days=3), body_text=f"{title}\n{number}\n各乡（镇）人民政府……")
        page_links(b, path)

    def interp(path: str, title: str, day: D | None, body: str = "", html: str | None = None) -> None:
        b.item(jd, title, path, day)
        b.document(path, kind="interpretation", title=title, column=jd, publish_date=day, body_text=body, html=html)
        page_links(b, path)

    # P1: linked both ways, 2 working days later
    policy("/zc/zcwj/p1.html", "青山县人民政府办公室关于印发《青山县农村人居环境整治提升实施方案》的通知",
           "青政办发〔2026〕12号", D(2026, 3, 5))
    interp("/zc/zcjd/j1.html", "《青山县农村人居环境整治提升实施方案》政策解读", D(2026, 3, 9))
    b.link("/zc/zcjd/j1.html", "/zc/zcwj/p1.html", "原文链接")
    b.link("/zc/zcwj/p1.html", "/zc/zcjd/j1.html", "《青山县农村人居环境整治提升实施方案》政策解读")
    # P2: 图解 matched by its title only; no links; published across 国庆 (the 10月10日 Saturday is a working day)
    policy("/zc/zcwj/p2.html", "青山县人民政府关于加强安全生产工作的意见", "青政发〔2026〕3号", D(2026, 9, 28))
    interp("/zc/zcjd/j2.html", "图解：青山县人民政府关于加强安全生产工作的意见", D(2026, 10, 12))
    # P3: 规范性文件 matched by 文号 in the interpretation's text; the link back only appears after JS rendering
    policy("/zc/gfxwj/p3.html", "青山县城镇老旧小区改造补助办法", "青政规〔2026〕1号", D(2026, 5, 6), col=gf)
    interp("/zc/zcjd/j3.html", "县住建局负责人就老旧小区改造补助答记者问", D(2026, 5, 8),
           body="近日，县政府印发了老旧小区改造补助办法（青政规〔2026〕1号）。记者：……",
           html='<html><body><video src="/media/j3.mp4" controls></video><p>近日……</p></body></html>')
    b.link("/zc/zcjd/j3.html", "/zc/gfxwj/p3.html", "青山县城镇老旧小区改造补助办法")
    b.link("/zc/gfxwj/p3.html", "/zc/zcjd/j3.html", "解读", rendered=True)
    # P4: not interpreted; its "下一篇" link to an interpretation is page furniture, not a pairing
    policy("/zc/zcwj/p4.html", "青山县2026年春耕生产扶持政策", "青政办发〔2026〕30号", D(2026, 4, 1))
    b.link("/zc/zcwj/p4.html", "/zc/zcjd/j1.html", "下一篇：《青山县农村人居环境整治提升实施方案》政策解读")
    # P5: last year's policy, outside the assessment period
    policy("/zc/zcwj/p5.html", "青山县2025年防汛工作方案", "青政办发〔2025〕8号", D(2025, 6, 1))
    # P6: the interpretation exists only as a 解读 link on the policy page (not in any list, not crawled)
    policy("/zc/zcwj/p6.html", "青山县促进消费十条措施", "青政发〔2026〕9号", D(2026, 6, 15))
    b.link("/zc/zcwj/p6.html", "/zc/zcjd/j6.html", "一图读懂《青山县促进消费十条措施》")
    return b


def run(b: EvidenceBuilder, **params) -> list[Finding]:
    return run_check_on_evidence("interpretation", b.build(), params)


def by_code(findings: list[Finding], code: str) -> dict[str, Finding]:
    return {f.subject: f for f in findings if f.code == code}


def test_missing_and_share() -> None:
    findings = run(platform())
    missing = by_code(findings, "interpretation.missing")
    assert {s: f.status for s, f in missing.items()} == {
        "/zc/zcwj/p1.html": "pass", "/zc/zcwj/p2.html": "pass", "/zc/gfxwj/p3.html": "pass",
        "/zc/zcwj/p4.html": "fail", "/zc/zcwj/p6.html": "pass"}  # p5 is outside the period
    assert "评估人员" in missing["/zc/zcwj/p4.html"].message
    share = by_code(findings, "interpretation.share")[""]
    assert share.status == "pass"
    assert (share.details["policies"], share.details["interpreted"], share.details["share"]) == (5, 4, 0.8)
    assert share.details["forms"] == {"文字": 1, "图解": 2, "视频": 1}
    n_interps = len({f.subject for f in findings if f.code == "interpretation.not_linked_to_policy"})
    assert share.details["interpretations"] == n_interps > 0


def test_pairing_methods_and_forms() -> None:
    missing = by_code(run(platform()), "interpretation.missing")
    paired = {s: [i["paired_by"] for i in f.details.get("interpretations", [])] for s, f in missing.items()}
    # the policy page's 解读 link is seen first (it is also how JS-only links are found)
    assert paired["/zc/zcwj/p1.html"] == ["policy_link"]
    assert paired["/zc/zcwj/p2.html"] == ["title"]
    assert paired["/zc/gfxwj/p3.html"] == ["policy_link"]  # the link only present after JS rendering
    assert paired["/zc/zcwj/p6.html"] == ["policy_link"]
    assert missing["/zc/zcwj/p2.html"].details["forms"] == ["图解"]
    assert missing["/zc/gfxwj/p3.html"].details["forms"] == ["视频"]


def test_doc_number_pairs_when_nothing_else_does() -> None:
    b = platform()
    b.links = [link for link in b.links if not link.from_url.endswith("/zc/zcjd/j3.html")
               and not link.to_url.endswith("/zc/zcjd/j3.html")]
    page_links(b, "/zc/zcjd/j3.html")
    missing = by_code(run(b), "interpretation.missing")
    assert missing["/zc/gfxwj/p3.html"].details["interpretations"][0]["paired_by"] == "doc_number"


def test_links_both_directions() -> None:
    findings = run(platform())
    to_policy = by_code(findings, "interpretation.not_linked_to_policy")
    assert to_policy["/zc/zcjd/j1.html"].status == "pass"
    assert to_policy["/zc/zcjd/j2.html"].status == "fail"
    assert to_policy["/zc/zcjd/j3.html"].status == "pass"
    assert to_policy["/zc/zcjd/j6.html"].status == "unverifiable"
    assert to_policy["/zc/zcjd/j6.html"].details["reason"] == "interpretation_page_not_fetched"
    assert to_policy["/zc/zcjd/j2.html"].details["form"] == "图解"
    back = by_code(findings, "interpretation.policy_not_linked_back")
    assert {s: f.status for s, f in back.items()} == {
        "/zc/zcwj/p1.html": "pass", "/zc/zcwj/p2.html": "fail", "/zc/gfxwj/p3.html": "pass",
        "/zc/zcwj/p6.html": "pass"}
    # the menu's 政策解读 entry never became an interpretation
    assert not any(f.subject == "/zc/zcjd/" for f in findings)


def test_late_counts_official_working_days() -> None:
    late = by_code(run(platform()), "interpretation.late")
    assert late["/zc/zcjd/j1.html"].status == "pass"
    assert late["/zc/zcjd/j1.html"].details["working_days"] == 2
    # 9月28日 -> 10月12日: 29, 30, 8, 9, 10 (调休 Saturday), 12 = 6 working days > 5; Mon–Fri would say 5
    j2 = late["/zc/zcjd/j2.html"]
    assert (j2.status, j2.details["working_days"]) == ("fail", 6)
    assert late["/zc/zcjd/j6.html"].status == "unverifiable"
    assert late["/zc/zcjd/j6.html"].details["reason"] == "date_unknown"


def test_late_limit_is_a_parameter() -> None:
    late = by_code(run(platform(), late_working_days=0), "interpretation.late")  # "same day" rubrics
    assert late["/zc/zcjd/j1.html"].status == "fail"
    late10 = by_code(run(platform(), late_working_days=10), "interpretation.late")
    assert late10["/zc/zcjd/j2.html"].status == "pass"


def test_unreadable_interpretation_list_makes_missing_unverifiable() -> None:
    findings = run(platform(jd_list_status="timeout", jd_item_count=None))
    p4 = by_code(findings, "interpretation.missing")["/zc/zcwj/p4.html"]
    assert (p4.status, p4.details["reason"]) == ("unverifiable", "interpretation_list_unreadable")
    assert not [f for f in findings if f.status == "fail" and f.code == "interpretation.missing"]


def test_outside_the_calendar_years_lateness_is_unverifiable() -> None:
    b = EvidenceBuilder(as_of=D(2031, 6, 1), assessment_year=2031)
    wj = b.column("政策文件", "/zcwj/")
    jd = b.column("政策解读", "/zcjd/")
    b.item(wj, "青山县数字乡村建设三年行动方案", "/zcwj/1.html", D(2031, 3, 2))
    b.document("/zcwj/1.html", kind="policy", title="青山县数字乡村建设三年行动方案", column=wj,
               publish_date=D(2031, 3, 2))
    b.item(jd, "《青山县数字乡村建设三年行动方案》解读", "/zcjd/1.html", D(2031, 3, 20))
    b.document("/zcjd/1.html", kind="interpretation", title="《青山县数字乡村建设三年行动方案》解读", column=jd,
               publish_date=D(2031, 3, 20))
    late = by_code(run(b), "interpretation.late")["/zcjd/1.html"]
    assert (late.status, late.details["reason"]) == ("unverifiable", "calendar_not_covered")


def test_ambiguous_title_containment_does_not_pair() -> None:
    b = EvidenceBuilder()
    wj = b.column("政策文件", "/zcwj/")
    jd = b.column("政策解读", "/zcjd/", item_count=1)
    for i, t in enumerate(["青山县农业产业化发展扶持办法（试行）", "青山县农业产业化发展扶持办法实施细则"]):
        b.item(wj, t, f"/zcwj/{i}.html", D(2026, 2, 2))
    b.item(jd, "青山县农业产业化发展扶持办法解读", "/zcjd/1.html", D(2026, 2, 3))
    missing = by_code(run(b), "interpretation.missing")
    assert {f.status for f in missing.values()} == {"fail"}


def test_page_without_any_recorded_link_is_unverifiable_not_a_fail() -> None:
    b = platform()
    b.links = [link for link in b.links if not link.from_url.endswith("/zc/zcjd/j2.html")
               and not link.from_url.endswith("/zc/zcwj/p2.html")]
    findings = run(b)
    assert by_code(findings, "interpretation.not_linked_to_policy")["/zc/zcjd/j2.html"].status == "unverifiable"
    assert by_code(findings, "interpretation.policy_not_linked_back")["/zc/zcwj/p2.html"].details["reason"] \
        == "no_links_recorded"


def test_no_policies_in_period_is_not_applicable() -> None:
    findings = run(EvidenceBuilder())
    assert [(f.code, f.status) for f in findings] == [("interpretation.share", "not_applicable")]


def test_sub_columns_of_a_policy_column_hold_policies_too() -> None:
    b = EvidenceBuilder()
    zc = b.column("政策文件", "/zcwj/")
    bbm = b.column("本部门文件", "/zcwj/bbm/", parent=zc)
    b.column("政策解读", "/zcwj/zcjd/", parent=zc, item_count=0)
    b.item(bbm, "青山县财政局关于印发《财政专项资金管理办法》的通知", "/zcwj/bbm/1.html", D(2026, 7, 1))
    missing = by_code(run(b), "interpretation.missing")
    assert missing["/zcwj/bbm/1.html"].status == "fail"
    assert missing["/zcwj/bbm/1.html"].details["column"] == "政策文件/本部门文件"
