"""A small loopback platform server and fixture sites for the crawler tests (no internet).

``FixtureServer`` serves a dict of path -> ``Resp`` on 127.0.0.1 with ETag / Last-Modified support, counts
the bytes it sends, and can misbehave on purpose (redirect loops, gzip bombs, WAF pages).
The platform built by ``qingshan_site`` uses the page styles real platforms use: a left tree with a span
heading, a column tree in a JS variable, createPageHTML pagination, a JSON-fed list, 下一页 links, an empty
column with 暂无信息, a column that opens a document, document pages with a metadata table, attachments,
解读 links and a broken link.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Resp:
    body: bytes = b""
    status: int = 200
    ctype: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # answers If-None-Match / If-Modified-Since with 304


class FixtureServer:
    def __init__(self, pages: dict[str, Resp | object], host: str = "127.0.0.1") -> None:
        self.pages = pages
        self.bytes_sent = 0
        self.requests: list[tuple[str, str]] = []
        self.user_agents: set[str] = set()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def _send(self, head_only: bool) -> None:
                with server.lock:
                    server.requests.append((self.command, self.path))
                    server.user_agents.add(self.headers.get("User-Agent", ""))
                resp = server.pages.get(self.path)
                if resp is None:
                    resp = server.pages.get(urlsplit(self.path).path)
                if callable(resp):
                    resp = resp(self)
                if resp is None:
                    resp = Resp(b"<html><body>404 not found</body></html>", status=404)
                body = resp.body
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                lm = formatdate(1_700_000_000, usegmt=True)
                status = resp.status
                inm = self.headers.get("If-None-Match")
                # RFC 9110: If-None-Match, when sent, decides; If-Modified-Since only without it
                fresh = inm == etag if inm is not None else self.headers.get("If-Modified-Since") == lm
                if resp.conditional and status == 200 and fresh:
                    status, body = 304, b""
                self.send_response(status)
                self.send_header("Content-Type", resp.ctype)
                if resp.conditional and resp.status == 200:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", lm)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head_only and body:
                    self.wfile.write(body)
                with server.lock:
                    server.bytes_sent += (0 if head_only else len(body)) + 200

            def do_GET(self):  # noqa: N802
                self._send(False)

            def do_HEAD(self):  # noqa: N802
                self._send(True)

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FixtureServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# the header and footer every real platform page carries (a few KB), so byte ratios are realistic
FOOTER = ('<div class="footer"><p>主办单位：青山县人民政府办公室　承办单位：青山县大数据中心</p>'
          + "<p>地址：青山县人民路1号　邮编：000000　联系电话：0000-0000000　网站标识码：0000000000</p>" * 40
          + "</div>")


def html(body: str, title: str = "", charset: str = "utf-8", head: str = "") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title>{head}</head>'
            f"<body>{body}{FOOTER}</body></html>")


def u8(text: str) -> Resp:
    return Resp(text.encode("utf-8"))


TREE = """<div class="xxgk-tree"><ul>
<li><a href="/xxgk/zn/index.html">政府信息公开指南</a></li>
<li><a href="/xxgk/zd/index.html">政府信息公开制度</a></li>
<li><span>法定主动公开内容</span><ul>
  <li><a href="/xxgk/jgzn/index.html">机构职能</a></li>
  <li><a href="/xxgk/czxx/index.html">财政信息</a></li>
  <li><a href="/xxgk/zcwj/index.shtml">政策文件</a></li>
</ul></li>
<li><a href="/xxgk/nb/index.html">政府信息公开年报</a></li>
</ul></div>"""

JS_TREE = """<script>var columnTree = [{name: '政策解读', url: '/xxgk/zcjd/index.html', children: []},
{name: "依申请公开", url: "javascript:;", children: [{name: '申请表下载', url: '/xxgk/ysq/index.html'}]}];</script>"""


def doc_page(title: str, date: dt.date, body: str, extra: str = "", doc_no: str = "") -> str:
    meta = f"""<table class="xxgk-meta">
<tr><td>索 引 号：</td><td>QS-{date:%Y%m%d}-01</td><td>发布机构：</td><td>青山县人民政府办公室</td></tr>
<tr><td>成文日期：</td><td>{date:%Y-%m-%d}</td><td>发布日期：</td><td>{date:%Y年%m月%d日}</td></tr>
<tr><td>文　　号：</td><td>{doc_no}</td><td>有效性：</td><td>有效</td></tr></table>"""
    return html(f'{meta}<h1 class="article-title">{title}</h1><div class="TRS_Editor"><p>{body}</p>{extra}</div>',
                title=title)


def qingshan_site(n_policies: int = 45, n_finance: int = 25, n_reports: int = 12) -> tuple[dict, dict]:
    """Pages of a fixture platform and what an assessor would find there (the truth)."""
    p: dict[str, Resp | object] = {}
    truth: dict = {"columns": {}, "attachments": set()}
    p["/"] = u8(html('<div class="top-nav"><a href="/">首页</a><a href="/xxgk/index.html">政府信息公开</a>'
                     '<a href="/hd/">政民互动</a></div><p>青山县人民政府门户网站</p>', "青山县人民政府"))
    p["/robots.txt"] = Resp(b"User-agent: *\nDisallow: /private/\n", ctype="text/plain")
    p["/xxgk/index.html"] = u8(html(
        TREE + '<div class="main"><a href="/xxgk/cal.html?date=2025-01-01">日历</a>'
        '<a href="/private/secret.html">内部</a><a href="/xxgk/missing.html">失效链接</a></div>',
        "青山县政府信息公开", head=JS_TREE))
    # a calendar trap: every day links the next one
    def calendar(handler):
        q = parse_qs(urlsplit(handler.path).query)
        d = dt.date.fromisoformat(q.get("date", ["2025-01-01"])[0])
        nxt = d + dt.timedelta(days=1)
        return u8(html(f'<div class="list"><a href="/xxgk/cal.html?date={nxt}">{nxt}</a></div>', "日历"))
    p["/xxgk/cal.html"] = calendar

    # 政府信息公开指南: the column link opens the guide itself
    p["/xxgk/zn/index.html"] = u8(doc_page("青山县人民政府信息公开指南", dt.date(2026, 2, 1),
                                           "一、主动公开。" * 40 + "办公地址：青山县人民路1号。传真号码：0000-1234567。"))
    truth["columns"]["政府信息公开指南"] = 1
    # 政府信息公开制度: plain list, one page, an undated heading row
    rows = "".join(f'<li><a href="/xxgk/zd/{i}.html">青山县政府信息公开制度{i}</a><span>2025-0{i}-10</span></li>'
                   for i in range(1, 4))
    p["/xxgk/zd/index.html"] = u8(html(f'<ul class="list">{rows}</ul>', "制度"))
    for i in range(1, 4):
        p[f"/xxgk/zd/{i}.html"] = u8(doc_page(f"青山县政府信息公开制度{i}", dt.date(2025, i, 10), "制度正文。" * 30))
    truth["columns"]["政府信息公开制度"] = 3
    # 机构职能: empty with a note
    p["/xxgk/jgzn/index.html"] = u8(html('<ul class="list"></ul><div class="empty">本栏目暂无信息</div>', "机构职能"))
    truth["columns"]["机构职能"] = 0
    # 财政信息: JSON-fed list, 10 per page
    p["/xxgk/czxx/index.html"] = u8(html(
        '<ul id="list" class="list"></ul>',
        "财政信息", head="<script>function load(page){fetch('/api/list?col=czxx&page=' + page + '')"
                        ".then(r=>r.json())}; load(1);</script>"))

    def finance_api(handler):
        q = parse_qs(urlsplit(handler.path).query)
        page = int(q.get("page", ["1"])[0])
        items = [{"title": f"2025年财政预算公开{i}", "url": f"/xxgk/czxx/{i}.html",
                  "pubDate": f"2025-{(i % 12) + 1:02d}-15"} for i in range(n_finance)]
        chunk = items[(page - 1) * 10: page * 10]
        return Resp(json.dumps({"total": n_finance, "data": chunk}, ensure_ascii=False).encode("utf-8"),
                    ctype="application/json; charset=utf-8")
    p["/api/list"] = finance_api
    for i in range(n_finance):
        p[f"/xxgk/czxx/{i}.html"] = u8(doc_page(f"2025年财政预算公开{i}", dt.date(2025, (i % 12) + 1, 15),
                                                "预算正文。" * 20))
    truth["columns"]["财政信息"] = n_finance
    # 政策文件: createPageHTML pagination, 20 per page; documents with attachments and 解读 links
    per = 20
    pages = (n_policies + per - 1) // per
    for pg in range(pages):
        start = pg * per
        rows = ""
        for i in range(start, min(n_policies, start + per)):
            d = dt.date(2026, 1, 1) - dt.timedelta(days=i * 3)
            rows += f'<li><a href="/xxgk/zcwj/{i}.shtml" title="青山县关于第{i}项工作的通知">青山县关于第{i}项工作的通知</a>' \
                    f'<span class="date">{d:%Y-%m-%d}</span></li>'
        name = "index.shtml" if pg == 0 else f"index_{pg}.shtml"
        p[f"/xxgk/zcwj/{name}"] = u8(html(
            f'<ul class="xxgk-list">{rows}</ul><div class="page"><script>createPageHTML({pages}, {pg}, "index", '
            f'"shtml");</script></div><div class="total">共{n_policies}条</div>', "政策文件"))
    for i in range(n_policies):
        d = dt.date(2026, 1, 1) - dt.timedelta(days=i * 3)
        extra = f'<p>附件：<a href="/files/zcwj-{i}.pdf">附件{i}.pdf</a></p>'
        truth["attachments"].add(f"/files/zcwj-{i}.pdf")
        p[f"/files/zcwj-{i}.pdf"] = Resp(b"%PDF-1.4\n% fixture attachment " + str(i).encode() + b"\n"
                                         + b"% padding\n" * 400 + b"%%EOF\n", ctype="application/pdf")
        if i == 0:
            extra += '<p><a href="/xxgk/zcjd/0.html">政策解读</a> <a href="/xxgk/gone.html">相关链接</a></p>'
        p[f"/xxgk/zcwj/{i}.shtml"] = u8(doc_page(f"青山县关于第{i}项工作的通知", d, "通知正文。" * 30, extra,
                                                 doc_no=f"青政发〔2025〕{i}号"))
    truth["columns"]["政策文件"] = n_policies
    # 政策解读 (from the JS tree)
    p["/xxgk/zcjd/index.html"] = u8(html('<ul class="list"><li><a href="/xxgk/zcjd/0.html">《青山县关于第0项工作的通知》'
                                         '解读</a><span>2026-01-02</span></li></ul>', "政策解读"))
    p["/xxgk/zcjd/0.html"] = u8(doc_page("《青山县关于第0项工作的通知》政策解读", dt.date(2026, 1, 2),
                                         "解读正文。" * 20, '<p><a href="/xxgk/zcwj/0.shtml">原文</a></p>'))
    truth["columns"]["政策解读"] = 1
    p["/xxgk/ysq/index.html"] = u8(html('<ul class="list"><li><a href="/files/apply.doc">依申请公开申请表</a>'
                                        '<span>2024-05-01</span></li></ul>', "申请表下载"))
    p["/files/apply.doc"] = Resp(b"\xd0\xcf\x11\xe0 fixture doc", ctype="application/msword")
    truth["columns"]["申请表下载"] = 1
    truth["attachments"].add("/files/apply.doc")
    # 年报: 下一页 links, 5 per page
    per = 5
    pages = (n_reports + per - 1) // per
    for pg in range(1, pages + 1):
        rows = "".join(f'<li><a href="/xxgk/nb/{y}.html">青山县{y}年政府信息公开工作年度报告</a>'
                       f'<span>{y + 1}-01-20</span></li>' for y in range(2025 - (pg - 1) * per,
                                                                           max(2025 - n_reports, 2025 - pg * per), -1))
        nav = f'<div class="pager"><a href="list_{pg + 1}.html">下一页</a></div>' if pg < pages else ""
        name = "index.html" if pg == 1 else f"list_{pg}.html"
        p[f"/xxgk/nb/{name}"] = u8(html(f'<ul class="list">{rows}</ul>{nav}', "年报"))
    for y in range(2025 - n_reports + 1, 2026):
        p[f"/xxgk/nb/{y}.html"] = u8(doc_page(f"青山县{y}年政府信息公开工作年度报告", dt.date(y + 1, 1, 20),
                                              "年度报告正文。" * 30))
    truth["columns"]["政府信息公开年报"] = n_reports
    return p, truth


def gbk_site() -> tuple[dict, dict]:
    """A GBK platform whose header says utf-8 while <meta> says gb2312 (a common mislabel)."""
    def gbk(text: str) -> Resp:
        return Resp(text.encode("gb18030"), ctype="text/html; charset=utf-8")
    p: dict[str, Resp | object] = {}
    p["/"] = gbk(html('<div class="nav"><ul><li><a href="/gk/zn.html">政府信息公开指南</a></li>'
                      '<li><a href="/gk/nb/">政府信息公开年报</a></li><li><a href="/gk/zcwj/">政策文件</a></li></ul>'
                      '</div><p>欢迎访问青山镇政务公开平台（镕、堃、喆）</p>', "青山镇政务公开", charset="gb2312"))
    p["/gk/zn.html"] = gbk(doc_page("青山镇政府信息公开指南", dt.date(2026, 3, 1), "镇政府指南正文，镕堃喆。" * 20)
                           .replace('charset="utf-8"', 'charset="gb2312"'))
    p["/gk/nb/"] = gbk(html('<ul class="list"><li><a href="/gk/nb/2025.html">青山镇2025年政府信息公开工作年度报告</a>'
                            '<span>2026-01-15</span></li></ul>', "年报", charset="gb2312"))
    p["/gk/nb/2025.html"] = gbk(doc_page("青山镇2025年政府信息公开工作年度报告", dt.date(2026, 1, 15), "报告正文。" * 30)
                                .replace('charset="utf-8"', 'charset="gb2312"'))
    rows = "".join(f'<li><a href="/gk/zcwj/{i}.html">关于镇村道路养护的通知（第{i}号）</a><span>2025-06-{i + 1:02d}</span></li>'
                   for i in range(6))
    p["/gk/zcwj/"] = gbk(html(f'<ul class="list">{rows}</ul>', "政策文件", charset="gb2312"))
    for i in range(6):
        p[f"/gk/zcwj/{i}.html"] = gbk(doc_page(f"关于镇村道路养护的通知（第{i}号）", dt.date(2025, 6, i + 1), "正文。" * 30)
                                      .replace('charset="utf-8"', 'charset="gb2312"'))
    truth = {"columns": {"政府信息公开指南": 1, "政府信息公开年报": 1, "政策文件": 6}, "attachments": set()}
    return p, truth


def hostile_pages(other_base: str) -> dict:
    """Pages that try to hurt the crawler: loops, bombs, offsite redirects, WAF challenges."""
    bomb = gzip.compress(b"<html>" + b" " * (40 * 1024 * 1024) + b"</html>", compresslevel=9)
    return {
        "/": u8(html('<div class="nav"><ul><li><a href="/gk/loop/index.html">政策文件</a></li>'
                     '<li><a href="/gk/bomb/index.html">政府信息公开年报</a></li>'
                     '<li><a href="/gk/away/index.html">政府信息公开指南</a></li>'
                     '<li><a href="/gk/waf/index.html">政府信息公开制度</a></li>'
                     '<li><a href="/gk/a/a/a/a/index.html">法定主动公开内容</a></li></ul></div>', "险恶平台")),
        "/gk/loop/index.html": Resp(status=302, headers={"Location": "/gk/loop/again.html"}, conditional=False),
        "/gk/loop/again.html": Resp(status=302, headers={"Location": "/gk/loop/index.html"}, conditional=False),
        "/gk/bomb/index.html": Resp(bomb, headers={"Content-Encoding": "gzip"}, conditional=False),
        "/gk/away/index.html": Resp(status=302, headers={"Location": f"{other_base}/elsewhere.html"},
                                    conditional=False),
        "/gk/waf/index.html": u8("<html><script>document.cookie='_waf_token=1';location.reload()</script>"
                                 "安全验证中</html>"),
    }


def new_store(tmp_path):
    from storage import open_store

    return open_store(f"sqlite:///{tmp_path / 'crawl.db'}", tmp_path / "blobs")


def make_run(store, sites: list[tuple[str, str, dict]], run_id: int | None = None,
             as_of: dt.date = dt.date(2026, 11, 20)) -> int:
    """Insert Site, Run and RunSite rows for a test crawl; returns the run id."""
    from storage import models as m

    with store.session() as s:
        for site_id, url, options in sites:
            if s.get(m.Site, site_id) is None:
                s.add(m.Site(site_id=site_id, name=f"{site_id} 单位", unit_type="county", url=url,
                             rubric="suizhou-2020-thirdparty-county", options=options))
        run = m.Run(kind="crawl", as_of=as_of, assessment_year=2026, tool_version="test")
        s.add(run)
        s.flush()
        for site_id, url, options in sites:
            s.add(m.RunSite(run_id=run.id, site_id=site_id, name=f"{site_id} 单位", unit_type="county",
                            url=url, rubric="suizhou-2020-thirdparty-county", options=options))
        return run.id


FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "GOVAUDIT_RETRY_BACKOFF": 0.05,
        "RETRY_TIMES": 1, "DOWNLOAD_TIMEOUT": 15, "GOVAUDIT_SCREENSHOTS": False, "GOVAUDIT_RENDER": "never",
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8}
