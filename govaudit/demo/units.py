"""The demo units of 青山县 and, for each, what is wrong on its platform on purpose.

Every defect is injected here and recorded in the same breath (``unit.defect``), so the ground truth is
complete by construction; everything else is built compliant: columns fresh for their kind (动态 within
days, 通知公告 and 政策 within six months, every other column within a few months except guide, rules and
reports), interpretations published the same day as their policy and linked both ways, guides of this
year with all their elements, reports on time with every identity holding. Dates are fixed around AS_OF.
"""

from __future__ import annotations

import datetime as dt

from govaudit.demo.builder import Builder
from govaudit.demo.guides import Office
from govaudit.demo.model import ASSESSMENT_YEAR, Document, Expectation, Unit


def D(month: int, day: int, year: int = 2026) -> dt.date:  # noqa: N802 - reads like a date literal
    return dt.date(year, month, day)


def _in_period(*docs: Document) -> None:
    """Injected interpretation defects must concern policies of the assessment year, or a check limited
    to the assessment period would be right to stay silent."""
    for d in docs:
        if d.date.year != ASSESSMENT_YEAR:
            raise AssertionError(f"{d.title} dated {d.date} is outside the assessment year")


def _interpret_all(b: Builder, policies: list[Document], col, skip: tuple[Document, ...] = (),
                   forms: dict[int, str] | None = None, **per_policy) -> dict[int, Document]:
    out = {}
    for i, p in enumerate(policies):
        if p in skip:
            continue
        kw = per_policy.get(f"p{i}", {})
        out[i] = b.interpret(p, col, form=(forms or {}).get(i, "text"), quote="title" if i % 2 else "topic",
                             **kw)
    return out


def county_gov() -> Unit:
    """青山县人民政府: TRS-style .shtml platform with createPageHTML pagination."""
    u = Unit("qs-gov", "青山县人民政府", "县政府", "county", None, "langfang-2020-county", "js-pager",
             "127.0.0.11")
    b = Builder(u, 11, "113611250143210011", "青山县人民政府办公室",
                Office("青山县人民政府", "青山县人民政府办公室（县政务公开办）", "青山县城关镇人民路1号县行政中心3楼",
                       "334500", "0793-5821001", "0793-5821002", "清江市人民政府办公室（市政务公开办）",
                       "0793-8201234"))
    zc = b.col("政策")
    zcwj, gfx, zcjd = b.col("政策文件", zc), b.col("规范性文件", zc), b.col("政策解读", zc)
    zn, zd, fd = b.col("政府信息公开指南"), b.col("政府信息公开制度"), b.col("法定主动公开内容")
    jgzn, tzgg, gzdt = b.col("机构职能", fd), b.col("通知公告", fd), b.col("工作动态", fd)
    czxx, ghjh, rsxx = b.col("财政信息", fd), b.col("规划计划", fd), b.col("人事信息", fd)
    zdxm, xzcf = b.col("重大建设项目", fd), b.col("行政处罚", fd)
    nb, bb = b.col("政府信息公开年报"), b.col("政府网站工作年度报表")

    pol = b.policies(zcwj, 8, D(11, 6), "青政办发", gap=(15, 45))
    rules = b.policies(gfx, 3, D(9, 18), "青政规", gap=(60, 120))
    _in_period(pol[1], pol[2])
    interps = _interpret_all(b, pol, zcjd, skip=(pol[2],), forms={4: "图解", 6: "视频"},
                             p1={"links_to_policy": False})
    _interpret_all(b, rules, zcjd)
    u.defect("interpretation", "interpretation.missing", pol[2], "2026年政策文件，无任何解读")
    u.defect("interpretation", "interpretation.not_linked_to_policy", interps[1],
             "解读页没有原文链接（政策页有相关解读链接）")
    b.pdf(pol[0], "主动公开", 0)
    b.pdf(pol[1], "主动公开", 2, font="cid")
    missing_label = b.pdf(pol[3])
    b.pdf(rules[0], "主动公开", 1)
    u.defect("pdf_label", "pdf_label.missing", missing_label, "正式文件PDF无公开属性标注")

    b.guide(zn, D(3, 16))
    b.systems(zd, 3, D(7, 15))
    b.infos(jgzn, 2, D(8, 20))
    notices = b.notices(tzgg, 18, D(11, 13))
    b.office_file(notices[2], "报名登记表.docx", "docx")
    news = b.news(gzdt, 90, D(11, 19), gap=(1, 3))
    dead = "/zwgk/gzdt/201912/t20191203_1001.shtml"
    news[5].extra_links.append(("2019年全县安全生产工作会议召开", dead))
    u.defect("site_health", "site_health.broken_link", dead, "工作动态正文中的相关链接指向已删除页面（404）")
    b.infos(czxx, 4, D(10, 16))
    b.infos(ghjh, 3, D(9, 10), gap=(30, 70))
    b.infos(rsxx, 4, D(10, 28))
    b.infos(zdxm, 4, D(10, 22))
    u.defect("columns", "columns.empty", xzcf.path, "栏目无任何信息，也无说明")

    b.annual_reports(nb, {2023: {"date": D(3, 15, 2024), "cells": "nbsp"},
                          2024: {"date": D(3, 20, 2025), "cells": "nbsp"},
                          2025: {"date": D(3, 18), "cells": "nbsp", "carry_shift": 1,
                                 "omit": ["存在的主要问题及改进情况"]}})
    u.defect("annual_report", "annual_report.table_inconsistent", "2025",
             "2025年报“上年结转”（自然人）比2024年报“结转下年度继续办理”多1件", match="prefix")
    u.defect("annual_report", "annual_report.section_missing", "2025/存在的主要问题及改进情况",
             "2025年报缺少“存在的主要问题及改进情况”部分（后续部分顺序前移）")
    b.website_reports(bb, {2024: D(1, 22, 2025), 2025: D(1, 20)})
    return u


def education_bureau() -> Unit:
    """青山县教育局: lists fed from a JSON API, column tree in a JavaScript variable."""
    u = Unit("qs-edu", "青山县教育局", "县教育局", "department", "A", "suizhou-2020-thirdparty-department",
             "json-list", "127.0.0.12")
    b = Builder(u, 12, "113611250143210020", "青山县教育局",
                Office("青山县教育局", "青山县教育局办公室", "青山县城关镇文教路8号", "334500", "0793-5822301",
                       "0793-5822302", "青山县人民政府办公室（县政务公开办）", "0793-5821000"))
    zc = b.col("政策")
    zcwj, gfx, zcjd = b.col("政策文件", zc), b.col("规范性文件", zc), b.col("政策解读", zc)
    zn, zd, fd = b.col("政府信息公开指南"), b.col("政府信息公开制度"), b.col("法定主动公开内容")
    jgzn, tzgg, gzdt = b.col("机构职能", fd), b.col("通知公告", fd), b.col("工作动态", fd)
    czxx, rsxx, ghjh = b.col("财政信息", fd), b.col("人事信息", fd), b.col("规划计划", fd)
    nb, bb = b.col("政府信息公开年度报告"), b.col("政府网站工作年度报表")

    pol = b.policies(zcwj, 6, D(11, 3), "青教发", gap=(20, 50))
    rules = b.policies(gfx, 2, D(8, 12), "青教规", gap=(90, 150))
    _in_period(pol[1], pol[3])
    interps = _interpret_all(b, pol, zcjd, skip=(pol[3],), forms={4: "图解"}, p1={"delay_workdays": 15})
    _interpret_all(b, rules, zcjd)
    u.defect("interpretation", "interpretation.late", interps[1], "解读晚于政策15个工作日发布（>5个工作日）")
    u.defect("interpretation", "interpretation.missing", pol[3], "2026年政策文件，无任何解读")
    conflict = b.pdf(pol[0], "不予公开", 0)
    u.defect("pdf_label", "pdf_label.conflict", conflict, "已在平台主动公开的文件，PDF标注（此件不予公开）")
    b.pdf(pol[2], "主动公开", 1)
    b.pdf(rules[0], "主动公开", 3)

    b.guide(zn, D(5, 10, 2024))
    u.defect("guide", "guide.outdated", "", "指南最近一次修订为2024年5月，早于考核年度")
    b.systems(zd, 3, D(6, 30))
    b.infos(jgzn, 1, D(8, 5))
    notices = b.notices(tzgg, 20, D(11, 10))
    dead = "/xxgk/art/2021/3/5/art_1605_88.html"
    notices[3].extra_links.append(("2021年春季学期开学工作通知", dead))
    u.errors[dead] = 500
    u.defect("site_health", "site_health.broken_link", dead, "通知正文中的链接，服务器返回500")
    b.news(gzdt, 35, D(11, 18))
    b.infos(czxx, 4, D(10, 20))
    b.infos(rsxx, 3, D(10, 30))
    b.infos(ghjh, 2, D(9, 1), gap=(60, 100))
    b.annual_reports(nb, {2024: {"date": D(1, 20, 2025)}, 2025: {"date": D(1, 22), "break_total": 1}})
    u.defect("annual_report", "annual_report.table_inconsistent", "2025",
             "2025年报申请情况表“（七）总计”（自然人）比各办理结果之和多1件", match="prefix")
    b.website_reports(bb, {2024: D(1, 23, 2025), 2025: D(1, 23)})
    return u


def shiqiao_town() -> Unit:
    """石桥镇人民政府: GBK-encoded static site with plain page links."""
    u = Unit("qs-shiqiao", "青山县石桥镇人民政府", "石桥镇", "township", None, "changning-2020-township", "gbk",
             "127.0.0.13")
    b = Builder(u, 13, "113611250143210039", "石桥镇人民政府",
                Office("青山县石桥镇人民政府", "石桥镇党政综合办公室", "青山县石桥镇石桥街28号", "334512",
                       "0793-5861001", "0793-5861002", "青山县人民政府办公室（县政务公开办）", "0793-5821000"))
    zc = b.col("政策")
    zcwj, gfx, zcjd = b.col("政策文件", zc), b.col("规范性文件", zc), b.col("政策解读", zc)
    zn, zd, fd = b.col("政府信息公开指南"), b.col("政府信息公开制度"), b.col("法定主动公开内容")
    jgzn, tzgg, gzdt = b.col("机构职能", fd), b.col("通知公告", fd), b.col("工作动态", fd)
    czxx, ghjh = b.col("财政信息", fd), b.col("规划计划", fd)
    nb, bb = b.col("政府信息公开年报"), b.col("政府网站工作年度报表")

    pol = b.policies(zcwj, 5, D(10, 27), "石府发", gap=(25, 60))
    rules = b.policies(gfx, 1, D(7, 20), "石府规")
    _in_period(pol[1])
    pol[1].links_to_interpretations = False
    _interpret_all(b, pol, zcjd)
    _interpret_all(b, rules, zcjd)
    u.defect("interpretation", "interpretation.policy_not_linked_back", pol[1],
             "政策页无相关解读链接（解读页有原文链接）")
    b.pdf(pol[0], "主动公开", 0)
    missing_label = b.pdf(pol[2])
    u.defect("pdf_label", "pdf_label.missing", missing_label, "正式文件PDF无公开属性标注")

    b.guide(zn, D(2, 25), missing=frozenset({"传真号码", "信息处理费"}))
    u.defect("guide", "guide.element_missing", "传真号码", "指南未列传真号码")
    u.defect("guide", "guide.element_missing", "信息处理费", "指南未说明信息处理费")
    b.systems(zd, 2, D(5, 20))
    b.infos(jgzn, 1, D(8, 18))
    notices = b.notices(tzgg, 10, D(11, 12))
    notices[1].charset_header = "utf-8"  # header lies, <meta> says gb2312
    news = b.news(gzdt, 25, D(10, 9), gap=(2, 5))
    news[2].charset_header = ""  # header names no charset
    u.defect("columns", "columns.stale", gzdt.path, "工作动态最新一条为2026-10-09，超过2周未更新")
    b.infos(czxx, 3, D(10, 13))
    b.infos(ghjh, 2, D(9, 8), gap=(60, 100))
    b.annual_reports(nb, {2024: {"date": D(1, 17, 2025), "cells": "fullwidth", "equal_carry": True},
                          2025: {"date": D(1, 16), "copy": True}})
    u.defect("annual_report", "annual_report.copied", "2025", "2025年报全文照搬2024年报，仅改年份（数据相同）")
    b.website_reports(bb, {2024: D(1, 21, 2025), 2025: D(1, 21)})
    u.notes.append("GBK site: pages are GBK bytes with <meta charset=gb2312>; one page's header says utf-8, "
                   "another's names no charset")
    return u


def finance_bureau() -> Unit:
    """青山县财政局: plain static pages, mostly compliant (the clean baseline)."""
    u = Unit("qs-czj", "青山县财政局", "县财政局", "department", "B", "changning-2020-department", "static",
             "127.0.0.14")
    b = Builder(u, 14, "113611250143210047", "青山县财政局",
                Office("青山县财政局", "青山县财政局办公室", "青山县城关镇财政路6号", "334500", "0793-5823101",
                       "0793-5823102", "青山县人民政府办公室（县政务公开办）", "0793-5821000"))
    zc = b.col("政策文件")
    bbm, gfx, zcjd = b.col("本部门文件", zc), b.col("规范性文件", zc), b.col("政策解读", zc)
    zn, zd, fd = b.col("政府信息公开指南"), b.col("政府信息公开制度"), b.col("法定主动公开内容")
    jgzn, tzgg, gzdt = b.col("机构职能", fd), b.col("通知公告", fd), b.col("工作动态", fd)
    yjs, zfcg = b.col("财政预决算", fd), b.col("政府采购", fd)
    nb, bb = b.col("政府信息公开年报"), b.col("政府网站年度报表")

    pol = b.policies(bbm, 5, D(11, 9), "青财发", gap=(20, 50))
    rules = b.policies(gfx, 2, D(8, 26), "青财规", gap=(80, 140))
    _interpret_all(b, pol, zcjd, forms={3: "视频"})
    _interpret_all(b, rules, zcjd)
    b.pdf(pol[0], "主动公开", 0)
    b.office_file(pol[0], "专项资金申报表.docx", "docx")
    scanned = b.pdf(pol[1], "主动公开", 0, scanned=True)
    u.expectations.append(Expectation("pdf_label", "pdf_label.unverifiable", scanned, "unverifiable",
                                      "扫描件PDF无文字层：只能无法核验，不能判为缺失"))
    b.pdf(pol[2], "主动公开", 1)
    b.office_file(pol[2], f"{pol[2].extra['topic']}.ofd", "ofd")
    b.pdf(rules[0], "主动公开", 3)

    b.guide(zn, D(3, 5))
    b.systems(zd, 2, D(7, 8))
    b.infos(jgzn, 1, D(8, 12), kind_of="机构职能")
    b.notices(tzgg, 12, D(11, 6))
    news = b.news(gzdt, 20, D(11, 19))
    dead = "/xxgk/gzdt/20191011/9876.html"
    news[4].extra_links.append(("全县财政工作会议材料", dead))
    u.defect("site_health", "site_health.broken_link", dead, "工作动态正文中的链接指向不存在的页面（404）")
    b.infos(yjs, 4, D(10, 23))
    b.infos(zfcg, 3, D(10, 29))
    b.annual_reports(nb, {2024: {"date": D(1, 21, 2025), "cells": "jian"}, 2025: {"date": D(1, 23), "pdf": 1}})
    b.website_reports(bb, {2024: D(1, 24, 2025), 2025: D(1, 26)})
    return u


def liuxi_town() -> Unit:
    """柳溪乡人民政府: a neglected township platform (static pages)."""
    u = Unit("qs-liuxi", "青山县柳溪乡人民政府", "柳溪乡", "township", None, "changning-2020-township", "static",
             "127.0.0.15")
    b = Builder(u, 15, "113611250143210055", "柳溪乡人民政府",
                Office("青山县柳溪乡人民政府", "柳溪乡党政综合办公室", "青山县柳溪乡柳溪街1号", "334521",
                       "0793-5871001", "0793-5871002", "青山县人民政府办公室（县政务公开办）", "0793-5821000"))
    zc = b.col("政策")
    zcwj, zcjd = b.col("政策文件", zc), b.col("政策解读", zc)
    fd = b.col("法定主动公开内容")
    jgzn, tzgg, gzdt, czxx = b.col("机构职能", fd), b.col("通知公告", fd), b.col("工作动态", fd), b.col("财政信息", fd)
    nb, bb = b.col("政府信息公开年度报告"), b.col("政府网站工作年度报表")
    for name in ("政府信息公开指南", "政府信息公开制度"):
        u.defect("columns", "columns.required_missing", name, "平台没有该一级栏目")
    u.defect("guide", "guide.missing", "", "平台上找不到政府信息公开指南")

    pol = b.policies(zcwj, 4, D(10, 15), "柳府发", gap=(30, 70))
    _interpret_all(b, pol, zcjd)
    b.pdf(pol[0], "主动公开", 0)
    b.infos(jgzn, 1, D(8, 3), kind_of="机构职能")
    b.notices(tzgg, 6, D(3, 12), gap=(10, 30))
    u.defect("columns", "columns.stale", tzgg.path, "通知公告最新一条为2026-03-12，超过6个月未更新")
    news = b.news(gzdt, 18, D(11, 17))
    news[6].spam = True
    u.defect("site_health", "site_health.spam_injected", news[6], "页面被植入隐藏的博彩文字和大量空标签")
    b.infos(czxx, 2, D(9, 25))
    b.annual_reports(nb, {2023: {"date": D(1, 19, 2024)}, 2024: {"date": D(1, 20, 2025)}})
    u.defect("annual_report", "annual_report.missing", "2025", "年报栏目只有2023、2024年报告，没有2025年报告")
    b.website_reports(bb, {2024: D(1, 22, 2025), 2025: D(1, 22)})
    return u


def audit_bureau() -> Unit:
    """青山县审计局: no website of its own (exempt from 政府网站工作年度报表); 2019-template reports."""
    u = Unit("qs-sjj", "青山县审计局", "县审计局", "department", "B", "baohe-2021-department", "static",
             "127.0.0.16", has_website=False)
    b = Builder(u, 16, "113611250143210063", "青山县审计局",
                Office("青山县审计局", "青山县审计局办公室", "青山县城关镇人民路1号县行政中心5楼", "334500",
                       "0793-5824101", "0793-5824102", "青山县人民政府办公室（县政务公开办）", "0793-5821000"))
    zc = b.col("政策")
    zcwj, gfx, zcjd = b.col("政策文件", zc), b.col("规范性文件", zc), b.col("政策解读", zc)
    zn, zd, fd = b.col("政府信息公开指南"), b.col("政府信息公开制度"), b.col("法定主动公开内容")
    jgzn, tzgg, gzdt, czxx = b.col("机构职能", fd), b.col("通知公告", fd), b.col("工作动态", fd), b.col("财政信息", fd)
    sf = b.col("行政事业性收费", fd, note="本单位无此类信息")
    nb = b.col("政府信息公开年报")

    pol = b.policies(zcwj, 3, D(10, 21), "青审发", gap=(30, 60))
    rules = b.policies(gfx, 1, D(7, 28), "青审规")
    _interpret_all(b, pol, zcjd)
    _interpret_all(b, rules, zcjd)
    b.pdf(pol[0], "主动公开", 0)
    b.pdf(pol[1], "主动公开", 1)
    b.guide(zn, D(2, 27), missing=frozenset({"邮政编码"}))
    u.defect("guide", "guide.element_missing", "邮政编码", "指南未列邮政编码")
    b.systems(zd, 2, D(6, 12))
    b.infos(jgzn, 1, D(8, 26), kind_of="机构职能")
    b.notices(tzgg, 8, D(11, 4))
    b.news(gzdt, 15, D(11, 16))
    b.infos(czxx, 3, D(10, 9))
    u.defect("columns", "columns.empty_with_note", sf.path, "栏目无信息，只显示“本单位无此类信息”")
    b.annual_reports(nb, {2024: {"date": D(1, 24, 2025), "template": "2019"},
                          2025: {"date": D(2, 26), "template": "2019"}})
    u.defect("annual_report", "annual_report.late", "2025", "部门年报应于1月31日前公布，实际2026-02-26发布")
    u.notes.append("has_website=否: exempt from 政府网站工作年度报表 (no such column, not a defect)")
    return u


def agriculture_bureau() -> Unit:
    """青山县农业农村局: listed in the sites file, but nothing answers at its address."""
    u = Unit("qs-nyj", "青山县农业农村局", "县农业农村局", "department", "A", "suizhou-2020-work-department",
             "static", "127.0.0.17", reachable=False)
    u.defect("site_health", "site_health.unreachable", "", "地址上没有任何服务在监听（连接被拒绝）")
    return u


def all_units() -> list[Unit]:
    return [county_gov(), education_bureau(), shiqiao_town(), finance_bureau(), liuxi_town(), audit_bureau(),
            agriculture_bureau()]
