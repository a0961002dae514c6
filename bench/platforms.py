"""Generated disclosure platforms for the throughput benchmarks, served on loopback with simulated latency.

``units`` platforms of about ``pages`` pages each (1 platform page, 6 column lists of 20 entries per page
with 下一页 pagers, document pages with a metadata table, and 10 PDFs per unit — the pdf_label sample).
Pages are generated from their path on request (nothing on disk), carry a stable ETag and Last-Modified, and
answer 304 to a conditional request, as real platforms do. One asyncio server process listens on one port
per unit on 127.0.0.1; each response waits ``latency`` seconds without using CPU (``asyncio.sleep``) so the
crawl sees network-like latency, and keep-alive connections are honoured.

    python bench/platforms.py --units 200 --pages 200 --latency 0.02   # prints one JSON line, then serves
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from email.utils import formatdate
from functools import cache
from html import escape
from pathlib import Path

COLUMNS = ["政府信息公开指南", "政府信息公开制度", "政策文件", "政府信息公开年报", "财政信息", "机构职能"]
PER_LIST_PAGE = 20
PDFS_PER_UNIT = 10
BROKEN_PER_UNIT = 2  # dead internal links per unit (for the broken-link benchmark)
LAST_MODIFIED = formatdate(1_780_000_000, usegmt=True)


@dataclass(frozen=True)
class Shape:
    """How many documents each column lists so a unit has about ``pages`` pages in all."""

    pages: int

    @property
    def docs_per_column(self) -> int:
        # pages = 1 platform + lists + docs + pdfs; lists ≈ docs / 20 per column
        budget = self.pages - 1 - PDFS_PER_UNIT
        per = max(1, round(budget / len(COLUMNS) / (1 + 1 / PER_LIST_PAGE)))
        return per

    @property
    def list_pages(self) -> int:
        return -(-self.docs_per_column // PER_LIST_PAGE)

    @property
    def total(self) -> int:
        return 1 + len(COLUMNS) * (self.list_pages + self.docs_per_column) + self.pdfs

    @property
    def pdfs(self) -> int:
        return min(PDFS_PER_UNIT, self.docs_per_column)  # the first documents of 政策文件 carry one each


def _html(body: str, title: str) -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f"<body>{body}</body></html>").encode()


def _date(unit: int, col: int, j: int) -> dt.date:
    return dt.date(2026, 10, 31) - dt.timedelta(days=(j * 3 + col + unit) % 700)


@cache
def _pdf(labelled: bool) -> bytes:
    """A one-page formal document in Chinese, with or without the 公开属性 label (CID font: small, no file)."""
    import io

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 14)
    c.drawString(72, 760, "青山县人民政府关于印发工作方案的通知")
    for k in range(20):
        c.drawString(72, 720 - k * 22, f"第{k + 1}条 各乡镇人民政府、县直各部门要按照本方案认真组织实施，确保落实。")
    c.drawString(360, 230, "青山县人民政府")
    c.drawString(360, 208, "2026年5月1日")
    if labelled:
        c.drawString(72, 186, "（此件公开发布）")
    c.showPage()
    c.save()
    return buf.getvalue()


def page(unit: int, path: str, shape: Shape) -> tuple[bytes, str] | None:
    """Body and content type of ``path`` on unit ``unit``; None for a 404."""
    n = shape.docs_per_column
    if path in ("/", "/index.html"):
        menu = "".join(f'<li><a href="/c{i}/index.html">{name}</a></li>' for i, name in enumerate(COLUMNS))
        dead = "".join(f'<a href="/gone/{k}.html">旧栏目{k}</a>' for k in range(BROKEN_PER_UNIT))
        return _html(f'<div class="nav"><ul>{menu}</ul></div><div class="foot">{dead}</div>'
                     f"<p>第{unit}号单位政务公开平台</p>", f"第{unit}号单位政务公开"), "text/html; charset=utf-8"
    if path == "/robots.txt":
        return b"User-agent: *\nAllow: /\n", "text/plain"
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "files" and parts[1].endswith(".pdf"):
        k = parts[1][:-4]
        if k.isdigit() and int(k) < PDFS_PER_UNIT:
            return _pdf(labelled=(unit + int(k)) % 5 != 0), "application/pdf"
        return None
    if len(parts) != 2 or not parts[0].startswith("c") or not parts[0][1:].isdigit():
        return None
    col = int(parts[0][1:])
    if col >= len(COLUMNS):
        return None
    name = COLUMNS[col]
    leaf = parts[1]
    if leaf.startswith("index") and leaf.endswith(".html"):
        suffix = leaf[len("index"):-len(".html")]
        pg = int(suffix[1:]) if suffix.startswith("_") and suffix[1:].isdigit() else 0 if not suffix else -1
        if not 0 <= pg < shape.list_pages:
            return None
        start = pg * PER_LIST_PAGE
        rows = "".join(f'<li><a href="/c{col}/{j}.html">第{unit}号单位{name}第{j}号</a>'
                       f"<span>{_date(unit, col, j):%Y-%m-%d}</span></li>"
                       for j in range(start, min(n, start + PER_LIST_PAGE)))
        pager = (f'<div class="pager"><a href="/c{col}/index_{pg + 1}.html">下一页</a></div>'
                 if pg + 1 < shape.list_pages else "")
        return _html(f'<ul class="list">{rows}</ul>{pager}<div class="total">共{n}条</div>', name), \
            "text/html; charset=utf-8"
    if leaf.endswith(".html") and leaf[:-5].isdigit() and int(leaf[:-5]) < n:
        j = int(leaf[:-5])
        d = _date(unit, col, j)
        title = f"第{unit}号单位{name}第{j}号"
        attach = (f'<p>附件：<a href="/files/{j}.pdf">{title}.pdf</a></p>'
                  if name == "政策文件" and j < PDFS_PER_UNIT else "")
        meta = (f'<table class="xxgk-meta"><tr><td>索 引 号：</td><td>B{unit}-{col}-{j}</td><td>发布机构：</td>'
                f"<td>第{unit}号单位</td></tr><tr><td>成文日期：</td><td>{d:%Y-%m-%d}</td><td>发布日期：</td>"
                f"<td>{d:%Y年%m月%d日}</td></tr><tr><td>文　　号：</td><td>青政发〔{d.year}〕{j}号</td>"
                "<td>有效性：</td><td>有效</td></tr></table>")
        body = "".join(f"<p>第{k}段 各乡镇人民政府、县直各部门要按照本通知要求认真组织实施。</p>" for k in range(12))
        return _html(f'{meta}<h1 class="article-title">{title}</h1><div class="TRS_Editor">{body}{attach}</div>',
                     title), "text/html; charset=utf-8"
    return None


def expected_urls(base: str, shape: Shape) -> set[str]:
    """Every page of one unit a complete crawl fetches (what both crawlers must reach)."""
    out = {base + "/"}
    for col in range(len(COLUMNS)):
        out.add(f"{base}/c{col}/index.html")
        out |= {f"{base}/c{col}/index_{pg}.html" for pg in range(1, shape.list_pages)}
        out |= {f"{base}/c{col}/{j}.html" for j in range(shape.docs_per_column)}
    out |= {f"{base}/files/{k}.pdf" for k in range(shape.pdfs)}
    return out


def broken_urls(base: str) -> set[str]:
    return {f"{base}/gone/{k}.html" for k in range(BROKEN_PER_UNIT)}


# -- the server --------------------------------------------------------------------------------------------


class Server:
    def __init__(self, units: int, shape: Shape, latency: float) -> None:
        self.units, self.shape, self.latency = units, shape, latency
        self.ports: list[int] = []
        self.requests = 0
        self.bytes_sent = 0

    async def handle(self, unit: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = (lines[0].split(" ") + ["", ""])[:3]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                path = target.split("?", 1)[0]
                self.requests += 1
                if self.latency:
                    await asyncio.sleep(self.latency)
                got = page(unit, path, self.shape)
                etag = '"' + hashlib.sha1(f"{unit}{path}".encode()).hexdigest()[:16] + '"'
                if got is None:
                    status, body, ctype, extra = "404 Not Found", _html("<p>页面不存在</p>", "404"), \
                        "text/html; charset=utf-8", ""
                elif headers.get("if-none-match") == etag or headers.get("if-modified-since") == LAST_MODIFIED:
                    status, body, ctype, extra = "304 Not Modified", b"", "", f"ETag: {etag}\r\n"
                else:
                    body, ctype = got
                    status, extra = "200 OK", f"ETag: {etag}\r\nLast-Modified: {LAST_MODIFIED}\r\n"
                close = headers.get("connection", "").lower() == "close"
                send = body if method != "HEAD" and status != "304 Not Modified" else b""
                # "LinkChecker:" lets LinkChecker lift its 10 requests/s per host politeness cap, as our own
                # crawl runs without its download delay here (see bench/linkcheck_bench.py)
                out = (f"HTTP/1.1 {status}\r\nServer: bench\r\nLinkChecker: bench\r\n{extra}"
                       + (f"Content-Type: {ctype}\r\n" if ctype else "")
                       + (f"Content-Length: {len(body)}\r\n" if status != "304 Not Modified" else "")
                       + ("Connection: close\r\n" if close else "") + "\r\n").encode() + send
                writer.write(out)
                self.bytes_sent += len(out)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def serve(self, ready: asyncio.Future | None = None) -> None:
        servers = []
        for unit in range(self.units):
            srv = await asyncio.start_server(lambda r, w, u=unit: self.handle(u, r, w), "127.0.0.1", 0,
                                             backlog=256)
            self.ports.append(srv.sockets[0].getsockname()[1])
            servers.append(srv)
        print(json.dumps({"ports": self.ports, "pages_per_unit": self.shape.total,
                          "docs_per_column": self.shape.docs_per_column}), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        for s in servers:
            s.close()


class ServedPlatforms:
    """Run the server in a process of its own (its CPU is not the crawler's) and stop it on exit."""

    def __init__(self, units: int, pages: int, latency: float) -> None:
        self.units, self.shape, self.latency = units, Shape(pages), latency
        self.proc: subprocess.Popen | None = None
        self.bases: list[str] = []

    def __enter__(self) -> ServedPlatforms:
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--units", str(self.units),
                                      "--pages", str(self.shape.pages), "--latency", str(self.latency)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.bases = [f"http://127.0.0.1:{p}" for p in info["ports"]]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.02)
    args = ap.parse_args(argv)
    asyncio.run(Server(args.units, Shape(args.pages), args.latency).serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
