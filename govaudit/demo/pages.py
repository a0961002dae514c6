"""HTML pieces every demo platform shares: the page frame, the document page with its metadata table,
attachment and interpretation links, and the hijack (spam) block. The page styles in ``styles.py`` differ in
URLs, menus and list pagination, not in these."""

from __future__ import annotations

import random
from html import escape

from govaudit.demo.content import words
from govaudit.demo.model import Column, Document, Unit

CSS = """body{font-family:"Microsoft YaHei",SimSun,sans-serif;margin:0;background:#f4f4f4}
.header{background:#b71c1c;color:#fff;padding:18px 40px;font-size:26px}
.nav{background:#8e1515}.nav a{color:#fff;display:inline-block;padding:10px 18px;text-decoration:none}
.wrap{width:1100px;margin:0 auto;background:#fff;padding:16px;overflow:hidden}
.left-tree{float:left;width:230px}.main{float:right;width:840px}
.list li{list-style:none;border-bottom:1px dashed #ddd;padding:6px 0}.list li span{float:right;color:#888}
.xxgk-meta{border-collapse:collapse;width:100%;margin:10px 0}.xxgk-meta td,.xxgk-meta th{border:1px solid #ccc;padding:6px}
.report-table td{text-align:center}.footer{text-align:center;color:#666;padding:20px;font-size:13px}
.no-data{color:#999;padding:30px;text-align:center}.page{text-align:center;margin:12px}.page a,.page span{margin:0 4px}
.xxgk-menu a{display:inline-block;margin:0 14px 8px 0}
"""


def frame(unit: Unit, title: str, body: str, *, nav: str, charset: str, head: str = "",
          breadcrumb: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n"
        f'<meta charset="{charset}">\n<meta http-equiv="X-UA-Compatible" content="IE=edge">\n'
        f"<title>{escape(title)}</title>\n<link rel=\"stylesheet\" href=\"/css/style.css\">\n{head}</head>\n"
        f"<body>\n<div class=\"header\">{escape(unit.name)}</div>\n<div class=\"nav\">{nav}</div>\n"
        f"<div class=\"wrap\">{breadcrumb}{body}</div>\n"
        f"<div class=\"footer\">主办：{escape(unit.name)}　承办：{escape(unit.name)}办公室　"
        "网站标识码：3611250001　赣ICP备12001234号<br>"
        '<a href="https://www.gov.cn/" target="_blank">中国政府网</a></div>\n</body>\n</html>\n'
    )


def link(href: str, text: str, blank: bool = False) -> str:
    target = ' target="_blank"' if blank else ""
    return f'<a href="{escape(href)}"{target}>{escape(text)}</a>'


def crumbs(parts: list[tuple[str, str | None]]) -> str:
    out = []
    for text, href in parts:
        out.append(link(href, text) if href else escape(text))
    return '<div class="crumbs">当前位置：' + " &gt; ".join(out) + "</div>\n"


def column_crumbs(col: Column, platform_href: str) -> list[tuple[str, str | None]]:
    chain: list[Column] = []
    c: Column | None = col
    while c is not None:
        chain.insert(0, c)
        c = c.parent
    return [("首页", "/"), ("政府信息公开", platform_href), *((x.name, x.url_path) for x in chain)]


def meta_table(d: Document, spaced_labels: bool) -> str:
    """The 信息公开 metadata table; TRS-style sites pad labels with full-width spaces (文　　号)."""
    def lab(plain: str, spaced: str) -> str:
        return spaced if spaced_labels else plain

    rows = [
        (lab("索引号", "索 引 号"), d.index_no, "发布机构", d.publisher),
        ("成文日期", d.written.isoformat() if d.written else "", "发布日期", d.date.isoformat()),
        (lab("文号", "文　　号"), d.doc_no or "", "公开方式", d.mode),
    ]
    if d.validity:
        rows.append((lab("有效性", "有 效 性"), d.validity, "主题分类", "综合政务"))
    html = ['<table class="xxgk-meta">']
    for a, av, b, bv in rows:
        html.append(f"<tr><th>{a}：</th><td>{escape(av)}</td><th>{b}：</th><td>{escape(bv)}</td></tr>")
    html.append(f'<tr><th>{lab("名称", "名　　称")}：</th><td colspan="3">{escape(d.title)}</td></tr></table>')
    return "\n".join(html) + "\n"


def spam_block(seed: int) -> str:
    """Hijacked content as on ../shared/rubric-sources/datong-2020-assessment-scheme.txt: gambling phrases in
    a hidden block and a flood of empty tags with random ids."""
    rng = random.Random(seed)
    w = words()["spam"]
    tags = []
    for _ in range(240):
        tag = rng.choice(w["tags"])
        ident = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(5))
        tags.append(f'<{tag} id="{ident}"></{tag}>')
    hidden = "".join(f'<a href="http://www.{i}bet-{rng.randint(100, 999)}.com/">{escape(p)}</a>'
                     for i, p in enumerate(w["phrases"]))
    return (f'<div style="display:none;position:absolute;left:-9999px">{hidden}</div>\n'
            + "\n".join("".join(tags[i:i + 8]) for i in range(0, len(tags), 8)) + "\n")


def document_body(d: Document, *, spaced_labels: bool, image_href: str | None,
                  related_html: str | None) -> str:
    """The content area of a document page. ``related_html`` replaces the static 相关解读 links (the
    JSON-fed style fills them in at run time)."""
    parts: list[str] = []
    if d.spam:
        parts.append(spam_block(d.seq))
    if d.kind == "news":
        parts.append(f'<h1 class="title">{escape(d.title)}</h1>\n<div class="info">发布日期：{d.date.isoformat()}'
                     f"　来源：{escape(d.publisher)}</div>\n")
    else:
        parts.append(meta_table(d, spaced_labels))
        parts.append(f'<h1 class="title">{escape(d.title)}</h1>\n')
    if d.doc_no:
        parts.append(f'<p class="docno" style="text-align:center">{escape(d.doc_no)}</p>\n')
    parts.append('<div class="content" id="zoom">\n')
    parts += [f"<p>{escape(p)}</p>\n" for p in d.paragraphs]
    parts += [b + "\n" for b in d.html_blocks]
    if image_href and d.form == "视频":
        parts.append(f'<video controls width="640" poster="{escape(image_href)}" '
                     f'src="https://v.qingshan-rm.cn/jd/{d.seq}.mp4"></video>\n')
    elif image_href:
        parts.append(f'<p style="text-align:center"><img src="{escape(image_href)}" alt="{escape(d.title)}">'
                     "</p>\n")
    parts.append("</div>\n")
    if d.attachments:
        parts.append('<div class="attach">附件：<ul>\n')
        for i, a in enumerate(d.attachments, 1):
            parts.append(f"<li>{link(a.url_path, f'{i}.{a.name}')}</li>\n")
        parts.append("</ul></div>\n")
    if d.interprets is not None and d.links_to_policy:
        parts.append(f'<div class="yuanwen">原文链接：{link(d.interprets.url_path, d.interprets.title)}</div>\n')
    if related_html is not None:
        parts.append(related_html)
    elif d.interpretations and d.links_to_interpretations:
        items = "".join(f"<li>{link(i.url_path, i.title)}</li>" for i in d.interpretations)
        parts.append(f'<div class="xgjd">相关解读：<ul>{items}</ul></div>\n')
    for text, href in d.extra_links:
        parts.append(f'<div class="xglj">相关链接：{link(href, text)}</div>\n')
    return "".join(parts)


def item_li(d: Document, href: str, date_fmt: str = "{}") -> str:
    return f"<li>{link(href, d.title, blank=True)}<span>{date_fmt.format(d.date.isoformat())}</span></li>"


def simple_page(unit: Unit, title: str, text: str, nav: str, charset: str) -> str:
    return frame(unit, title, f"<h2>{escape(title)}</h2><p>{escape(text)}</p>", nav=nav, charset=charset)
