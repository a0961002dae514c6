"""The page styles of real 政府信息公开 platforms the demo reproduces. Each lays a unit out (URLs), then
writes its pages:

- ``js-pager`` — TRS/Hanweb-style static ``.shtml`` pages; list pagination written at run time by
  ``createPageHTML(total, current, "index", "shtml")`` from a shared script (the HTML itself has no page links);
  a top menu and a left column tree.
- ``json-list`` — column tree held in ``var columnTree = [...]`` and drawn by a script; every column list is
  an empty ``<ul id="list">`` filled from ``/api/column/<id>/list?page=N&size=15``; 相关解读 links on policy
  pages come from ``/api/doc/<id>/related``.
- ``gbk`` — static pages in GBK bytes with ``<meta charset="gb2312">`` and plain 首页/上一页/1 2 3/下一页 links.
- ``static`` — static UTF-8 pages with numbered page links.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from html import escape

from govaudit.demo import pages
from govaudit.demo.model import Column, Document, Unit

PAGER_JS = """/* TRS page writer: createPageHTML(total pages, current index, file prefix, extension) */
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {
  if (_nPageCount == null || _nPageCount <= 1) { return; }
  var nCurrIndex = _nCurrIndex || 0;
  function name(i) { return i == 0 ? _sPageName + "." + _sPageExt : _sPageName + "_" + i + "." + _sPageExt; }
  var html = [];
  html.push(nCurrIndex == 0 ? "<span>首页</span>" : "<a href=\\"" + name(0) + "\\">首页</a>");
  if (nCurrIndex > 0) html.push("<a href=\\"" + name(nCurrIndex - 1) + "\\">上一页</a>");
  for (var i = 0; i < _nPageCount; i++) {
    html.push(i == nCurrIndex ? "<span>" + (i + 1) + "</span>" : "<a href=\\"" + name(i) + "\\">" + (i + 1) + "</a>");
  }
  if (nCurrIndex < _nPageCount - 1) html.push("<a href=\\"" + name(nCurrIndex + 1) + "\\">下一页</a>");
  html.push(nCurrIndex == _nPageCount - 1 ? "<span>尾页</span>" : "<a href=\\"" + name(_nPageCount - 1) + "\\">尾页</a>");
  document.write(html.join("&nbsp;"));
}
"""

TREE_JS = """(function () {
  var box = document.getElementById("tree");
  if (!box || !window.columnTree) return;
  function render(nodes) {
    var ul = document.createElement("ul");
    nodes.forEach(function (n) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = n.url; a.textContent = n.name; li.appendChild(a);
      if (n.children && n.children.length) li.appendChild(render(n.children));
      ul.appendChild(li);
    });
    return ul;
  }
  box.appendChild(render(window.columnTree));
})();
"""

# inline on every list page, after ``var colId = …;`` (as Hanweb-style pages carry their column id)
LIST_JS = """(function () {
  var ul = document.getElementById("list"), pager = document.getElementById("pager");
  if (!ul) return;
  var size = 15;
  function load(page) {
    fetch("/api/column/" + colId + "/list?page=" + page + "&size=" + size)
      .then(function (r) { return r.json(); })
      .then(function (d) {
        ul.innerHTML = "";
        d.data.forEach(function (it) {
          var li = document.createElement("li"), a = document.createElement("a"), s = document.createElement("span");
          a.href = it.url; a.textContent = it.title; a.target = "_blank"; s.textContent = it.date;
          li.appendChild(a); li.appendChild(s); ul.appendChild(li);
        });
        var pages = Math.max(1, Math.ceil(d.total / size));
        pager.innerHTML = "";
        for (var i = 1; i <= pages; i++) {
          var b = document.createElement("a");
          b.href = "javascript:void(0)"; b.textContent = i; b.setAttribute("data-page", i);
          b.onclick = function () { load(+this.getAttribute("data-page")); };
          pager.appendChild(b);
        }
        var info = document.createElement("span");
        info.textContent = " 共" + d.total + "条 " + pages + "页";
        pager.appendChild(info);
      });
  }
  load(1);
})();
"""

# inline on policy pages, after ``var docId = …;``
RELATED_JS = """(function () {
  var ul = document.getElementById("related");
  if (!ul) return;
  fetch("/api/doc/" + docId + "/related")
    .then(function (r) { return r.json(); })
    .then(function (d) {
      d.data.forEach(function (it) {
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = it.url; a.textContent = it.title; li.appendChild(a); ul.appendChild(li);
      });
    });
})();
"""

ROBOTS = "User-agent: *\nAllow: /\n"


class Style:
    """Base layout: subclasses give URLs, the platform page and list pages."""

    name = "static"
    root = "/xxgk"
    list_size = 15
    spaced_labels = False

    def __init__(self, unit: Unit) -> None:
        self.u = unit
        self.files: dict[str, str | bytes] = {}
        self.dates: dict[str, dt.date] = {}  # path -> date shown as Last-Modified
        self.list_pages: dict[str, int] = {}  # column path -> number of list pages
        self.api: dict[str, object] = {}

    # ------------------------------------------------------------------ layout
    @property
    def platform_path(self) -> str:
        return f"{self.root}/index.html"

    def column_url(self, col: Column) -> str:
        return f"{self.root}/{col.slug}/index.html"

    def doc_url(self, col: Column, d: Document) -> str:
        return f"{self.root}/{col.slug}/{d.date:%Y%m%d}/{d.seq + 3000}.html"

    def attachment_url(self, d: Document, seq: int, ext: str) -> str:
        return f"{self.root}/{d.column.slug}/{d.date:%Y%m%d}/W0{d.date:%Y%m%d}{d.seq:05d}{seq}.{ext}"

    def image_url(self, name: str) -> str:
        return f"{self.root}/images/{name}"

    def assign(self) -> None:
        for i, col in enumerate(self.u.all_columns()):
            col.col_id = 1601 + i
            col.url_path = self.column_url(col)
            for d in col.docs:
                d.url_path = self.doc_url(col, d)
                for a in d.attachments:
                    a.url_path = self.attachment_url(d, a.seq, a.ext)

    # ------------------------------------------------------------------ writing
    @property
    def charset(self) -> str:
        return "utf-8"

    def nav(self) -> str:
        first_news = next((c for c in self.u.all_columns() if c.name == "工作动态"), None)
        items = [("首页", "/"), ("政府信息公开", self.platform_path)]
        if first_news:
            items.append(("新闻动态", first_news.url_path))
        items += [("办事服务", "/bsfw/index.html"), ("互动交流", "/hdjl/index.html")]
        return "".join(pages.link(h, t) for t, h in items)

    def put(self, path: str, content: str | bytes, day: dt.date) -> None:
        if path in self.files:
            raise AssertionError(f"{self.u.site_id}: two pages at {path}")
        self.files[path] = content
        self.dates[path] = day

    def page(self, title: str, body: str, head: str = "", breadcrumb: str = "") -> str:
        return pages.frame(self.u, title, body, nav=self.nav(), charset=self.charset, head=head,
                           breadcrumb=breadcrumb)

    def build(self) -> dict[str, str | bytes]:
        newest = max((d.date for d in self.u.all_docs()), default=dt.date(2026, 11, 1))
        self.put("/index.html", self.home(), newest)
        self.put(self.platform_path, self.platform(), newest)
        self.put("/bsfw/index.html", pages.simple_page(self.u, "办事服务", "办事服务事项已统一进驻政务服务网，"
                                                       "请登录政务服务网办理。", self.nav(), self.charset), newest)
        self.put("/hdjl/index.html", pages.simple_page(self.u, "互动交流", "如有意见建议，请在工作日拨打办公室"
                                                       "电话，或来信寄至本单位办公室。", self.nav(), self.charset),
                 newest)
        self.put("/css/style.css", pages.CSS, dt.date(2025, 6, 1))
        self.put("/robots.txt", ROBOTS, dt.date(2025, 6, 1))
        for col in self.u.all_columns():
            if col.children:
                self.put(col.url_path, self.parent_page(col), max((d.date for d in col.all_docs()), default=newest))
            else:
                self.write_lists(col)
            for d in col.docs:
                self.put(d.url_path, self.doc_page(d), d.date)
        for name, png in self.u.images.items():
            self.put(self.image_url(name), png, dt.date(2026, 1, 1))
        return self.files

    def home(self) -> str:
        boxes = []
        for name in ("通知公告", "工作动态"):
            col = next((c for c in self.u.all_columns() if c.name == name), None)
            if col and col.docs:
                lis = "".join(pages.item_li(d, d.url_path) for d in col.docs[:5])
                boxes.append(f'<div class="box"><h3>{pages.link(col.url_path, name)}</h3><ul class="list">{lis}'
                             "</ul></div>")
        body = (f'<div class="entry">{pages.link(self.platform_path, "政府信息公开")}</div>' + "".join(boxes))
        return self.page(self.u.name, body)

    def tree_html(self) -> str:
        def ul(cols: list[Column]) -> str:
            lis = []
            for c in cols:
                sub = ul(c.children) if c.children else ""
                lis.append(f'<li class="l{c.level}">{pages.link(c.url_path, c.name)}{sub}</li>')
            return "<ul>" + "".join(lis) + "</ul>"
        return f'<div class="left-tree">{ul(self.u.columns)}</div>'

    def menu_html(self) -> str:
        return '<div class="xxgk-menu">' + "".join(pages.link(c.url_path, c.name) for c in self.u.columns) + "</div>"

    def platform(self) -> str:
        body = self.menu_html() + self.tree_html() + '<div class="main"><h2>政府信息公开</h2>' + \
            "<p>本平台按照政府信息公开标准目录设置栏目，请通过左侧栏目导航查阅。</p></div>"
        return self.page(f"{self.u.name}政府信息公开", body)

    def parent_page(self, col: Column) -> str:
        lis = "".join(f"<li>{pages.link(c.url_path, c.name)}</li>" for c in col.children)
        body = self.tree_html() + f'<div class="main"><h2>{escape(col.name)}</h2><ul class="sub-columns">{lis}</ul></div>'
        return self.page(col.name, body, breadcrumb=pages.crumbs(pages.column_crumbs(col, self.platform_path)))

    def chunks(self, col: Column) -> list[list[Document]]:
        n = max(1, math.ceil(len(col.docs) / self.list_size))
        return [col.docs[i * self.list_size:(i + 1) * self.list_size] for i in range(n)]

    def empty_html(self, col: Column) -> str:
        return f'<div class="no-data">{escape(col.empty_note)}</div>' if col.empty_note else ""

    def list_path(self, col: Column, i: int) -> str:
        return col.url_path if i == 0 else col.url_path.replace("index.html", f"index_{i + 1}.html")

    def write_lists(self, col: Column) -> None:
        chunks = self.chunks(col)
        self.list_pages[col.path] = len(chunks)
        for i, docs in enumerate(chunks):
            lis = "".join(pages.item_li(d, d.url_path) for d in docs)
            pager = self.pager(col, i, len(chunks))
            body = (self.tree_html() + f'<div class="main"><h2>{escape(col.name)}</h2><ul class="list">{lis}</ul>'
                    f"{self.empty_html(col)}{pager}</div>")
            day = docs[0].date if docs else dt.date(2026, 1, 5)
            self.put(self.list_path(col, i), self.page(col.name, body, breadcrumb=pages.crumbs(
                pages.column_crumbs(col, self.platform_path))), day)

    def pager(self, col: Column, i: int, n: int) -> str:
        if n <= 1:
            return ""
        links = [pages.link(self.list_path(col, k), str(k + 1)) if k != i else f"<span>{k + 1}</span>"
                 for k in range(n)]
        if i < n - 1:
            links.append(pages.link(self.list_path(col, i + 1), "下一页"))
        return f'<div class="page">{" ".join(links)}　共{len(col.docs)}条</div>'

    def related_html(self, d: Document) -> str | None:
        return None

    def doc_page(self, d: Document) -> str:
        image = self.image_url(d.image) if d.image else None
        body = pages.document_body(d, spaced_labels=self.spaced_labels, image_href=image,
                                   related_html=self.related_html(d))
        return self.page(d.title, body,
                         breadcrumb=pages.crumbs(pages.column_crumbs(d.column, self.platform_path)))


class StaticStyle(Style):
    name = "static"


class JsPagerStyle(Style):
    name = "js-pager"
    root = "/zwgk"
    list_size = 12
    spaced_labels = True

    @property
    def platform_path(self) -> str:
        return f"{self.root}/index.shtml"

    def column_url(self, col: Column) -> str:
        return f"{self.root}/{col.slug}/index.shtml"

    def doc_url(self, col: Column, d: Document) -> str:
        return f"{self.root}/{col.slug}/{d.date:%Y%m}/t{d.date:%Y%m%d}_{100000 + d.seq}.shtml"

    def attachment_url(self, d: Document, seq: int, ext: str) -> str:
        return f"{self.root}/{d.column.slug}/{d.date:%Y%m}/P0{d.date:%Y%m%d}{d.seq:06d}{seq:02d}.{ext}"

    def list_path(self, col: Column, i: int) -> str:
        return col.url_path if i == 0 else col.url_path.replace("index.shtml", f"index_{i}.shtml")

    def write_lists(self, col: Column) -> None:
        chunks = self.chunks(col)
        self.list_pages[col.path] = len(chunks)
        for i, docs in enumerate(chunks):
            # relative links, as TRS writes them ("./202611/t20261102_100123.shtml")
            lis = "".join(pages.item_li(d, "." + d.url_path[len(col.url_path) - len("/index.shtml"):])
                          for d in docs)
            body = (self.menu_html() + self.tree_html() + f'<div class="main"><h2>{escape(col.name)}</h2>'
                    f'<ul class="list">{lis}</ul>{self.empty_html(col)}<div class="page"><script>'
                    f'createPageHTML({len(chunks)}, {i}, "index", "shtml");</script></div></div>')
            day = docs[0].date if docs else dt.date(2026, 1, 5)
            self.put(self.list_path(col, i), self.page(col.name, body, head='<script src="/js/pager.js"></script>\n',
                                                       breadcrumb=pages.crumbs(pages.column_crumbs(
                                                           col, self.platform_path))), day)

    def build(self) -> dict[str, str | bytes]:
        self.put("/js/pager.js", PAGER_JS, dt.date(2025, 6, 1))
        return super().build()


class GbkStyle(Style):
    name = "gbk"
    root = "/zfxxgk"
    list_size = 10

    @property
    def charset(self) -> str:
        return "gb2312"

    def column_url(self, col: Column) -> str:
        return f"{self.root}/{col.slug}/list.html"

    def doc_url(self, col: Column, d: Document) -> str:
        return f"{self.root}/{col.slug}/content_{d.seq + 5000}.html"

    def attachment_url(self, d: Document, seq: int, ext: str) -> str:
        return f"/uploadfiles/{d.date:%Y%m}/{d.date:%Y%m%d}{d.seq:04d}{seq}.{ext}"

    def list_path(self, col: Column, i: int) -> str:
        return col.url_path if i == 0 else col.url_path.replace("list.html", f"list_{i + 1}.html")

    def pager(self, col: Column, i: int, n: int) -> str:
        if n <= 1:
            return f'<div class="page">共{len(col.docs)}条　共1页</div>'
        parts = [pages.link(self.list_path(col, 0), "首页")]
        if i > 0:
            parts.append(pages.link(self.list_path(col, i - 1), "上一页"))
        parts += [pages.link(self.list_path(col, k), f"[{k + 1}]") if k != i else f"<b>{k + 1}</b>" for k in range(n)]
        if i < n - 1:
            parts.append(pages.link(self.list_path(col, i + 1), "下一页"))
        parts.append(pages.link(self.list_path(col, n - 1), "尾页"))
        return f'<div class="page">{" ".join(parts)}　共{len(col.docs)}条　共{n}页</div>'

    def write_lists(self, col: Column) -> None:
        chunks = self.chunks(col)
        self.list_pages[col.path] = len(chunks)
        for i, docs in enumerate(chunks):
            lis = "".join(pages.item_li(d, d.url_path, date_fmt="[{}]") for d in docs)
            body = (self.tree_html() + f'<div class="main"><h2>{escape(col.name)}</h2><ul class="list">{lis}</ul>'
                    f"{self.empty_html(col)}{self.pager(col, i, len(chunks))}</div>")
            day = docs[0].date if docs else dt.date(2026, 1, 5)
            self.put(self.list_path(col, i), self.page(col.name, body, breadcrumb=pages.crumbs(
                pages.column_crumbs(col, self.platform_path))), day)

    def build(self) -> dict[str, str | bytes]:
        files = super().build()
        out: dict[str, str | bytes] = {}
        for path, content in files.items():
            # every text page is GBK bytes; encoding strictly catches a character outside GBK at generation
            out[path] = content.encode("gbk") if isinstance(content, str) and path.endswith(".html") else content
        self.files = out
        return out


class JsonListStyle(Style):
    name = "json-list"
    root = "/xxgk"

    def column_url(self, col: Column) -> str:
        return f"{self.root}/col/col{col.col_id}/index.html"

    def assign(self) -> None:
        for i, col in enumerate(self.u.all_columns()):
            col.col_id = 1601 + i
        super().assign()

    def doc_url(self, col: Column, d: Document) -> str:
        return f"{self.root}/art/{d.date.year}/{d.date.month}/{d.date.day}/art_{col.col_id}_{d.seq + 7000}.html"

    def attachment_url(self, d: Document, seq: int, ext: str) -> str:
        return f"{self.root}/attach/{d.date:%Y%m}/{d.seq + 7000}_{seq}.{ext}"

    def tree_var(self) -> str:
        def node(c: Column) -> dict:
            return {"id": c.col_id, "name": c.name, "url": c.url_path, "children": [node(x) for x in c.children]}
        return "var columnTree = " + json.dumps([node(c) for c in self.u.columns], ensure_ascii=False) + ";"

    def tree_html(self) -> str:
        return '<div class="left-tree" id="tree"></div>'

    def page(self, title: str, body: str, head: str = "", breadcrumb: str = "") -> str:
        head = f"<script>{self.tree_var()}</script>\n" + head
        body = body + '<script src="/js/tree.js"></script>'
        return super().page(title, body, head=head, breadcrumb=breadcrumb)

    def platform(self) -> str:
        body = self.tree_html() + '<div class="main"><h2>政府信息公开</h2><p>请通过左侧栏目导航查阅。</p></div>'
        return self.page(f"{self.u.name}政府信息公开", body)

    def write_lists(self, col: Column) -> None:
        self.list_pages[col.path] = max(1, math.ceil(len(col.docs) / 15))
        body = (self.tree_html() + f'<div class="main"><h2>{escape(col.name)}</h2>'
                f'<ul class="list" id="list" data-col="{col.col_id}"></ul>{self.empty_html(col)}'
                f'<div class="page" id="pager"></div></div>\n<script>\nvar colId = "{col.col_id}";\n{LIST_JS}</script>')
        day = col.docs[0].date if col.docs else dt.date(2026, 1, 5)
        self.put(col.url_path, self.page(col.name, body, breadcrumb=pages.crumbs(
            pages.column_crumbs(col, self.platform_path))), day)
        self.api.setdefault("columns", {})[str(col.col_id)] = [  # type: ignore[index]
            {"title": d.title, "url": d.url_path, "date": d.date.isoformat()} for d in col.docs]

    def related_html(self, d: Document) -> str | None:
        if d.kind != "policy":
            return None
        return (f'<div class="xgjd">相关解读：<ul id="related" data-doc="{d.seq + 7000}"></ul></div>\n'
                f'<script>\nvar docId = "{d.seq + 7000}";\n{RELATED_JS}</script>\n')

    def build(self) -> dict[str, str | bytes]:
        self.put("/js/tree.js", TREE_JS, dt.date(2025, 6, 1))
        related = {}
        for d in self.u.all_docs():
            if d.kind == "policy":
                shown = d.interpretations if d.links_to_interpretations else []
                related[str(d.seq + 7000)] = [{"title": i.title, "url": i.url_path} for i in shown]
        self.api["related"] = related
        return super().build()


STYLES: dict[str, type[Style]] = {s.name: s for s in (StaticStyle, JsPagerStyle, GbkStyle, JsonListStyle)}
