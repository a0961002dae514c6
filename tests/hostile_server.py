"""A misbehaving disclosure platform on loopback, for the hostile-input suite (tests/test_hostile_inputs.py).

Everything hostile is produced lazily: the 1 GB gzip bomb is a few hundred deflate blocks of zeros repeated
(about 1 MB on the wire), the 200 MB PDF is a generator that stops as soon as the client hangs up, and the
10,000-page PDF shares one content stream between its pages (about 1.6 MB). Nothing large is ever held in
memory or written to disk by the server.

``HostileServer`` serves a route table (path -> handler) on one loopback address, one request per connection
(HTTP/1.0 semantics, so a handler may cut a connection or stream without a length), and records every request
it received. ``hostile_platform`` builds the routes of one unit whose menu leads into every trap, together
with what the crawler should record for each; ``clean_platform`` builds a small well-behaved unit whose pages
must come out complete when crawled in the same run.
"""

from __future__ import annotations

import datetime as dt
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

Handler = Callable[["HostileHandler"], None]

# -- building blocks ---------------------------------------------------------------------------------------


def html(body: str, title: str = "", charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<!DOCTYPE html><html><head>{meta}<title>{title}</title></head><body>{body}</body></html>"


def doc_page(title: str, date: dt.date, body: str, extra: str = "", doc_no: str = "",
             charset: str | None = "utf-8", page_title: str | None = None) -> str:
    """A document page in the style of real platforms: metadata table, title, body, attachments."""
    meta = (f'<table class="xxgk-meta"><tr><td>索 引 号：</td><td>EX-{date:%Y%m%d}</td><td>发布机构：</td>'
            f"<td>青山县人民政府办公室</td></tr><tr><td>成文日期：</td><td>{date:%Y-%m-%d}</td><td>发布日期：</td>"
            f"<td>{date:%Y年%m月%d日}</td></tr><tr><td>文　　号：</td><td>{doc_no}</td><td>有效性：</td>"
            "<td>有效</td></tr></table>")
    return html(f'{meta}<h1 class="article-title">{title}</h1><div class="TRS_Editor"><p>{body}</p>{extra}</div>',
                title=page_title if page_title is not None else title, charset=charset)


def list_page(entries: list[tuple[str, str, dt.date]], title: str, pager: str = "",
              charset: str | None = "utf-8", raw_titles: bool = False) -> str:
    """A column list; ``raw_titles`` puts the titles into the markup unescaped (they hold HTML on purpose)."""
    rows = "".join(f'<li><a href="{u}" title="{escape(t, quote=True)}">{t if raw_titles else escape(t)}</a>'
                   f"<span>{d:%Y-%m-%d}</span></li>" for u, t, d in entries)
    return html(f'<ul class="list">{rows}</ul>{pager}', title, charset=charset)


def nav(columns: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="{u}">{n}</a></li>' for n, u in columns)
    return f'<div class="nav"><ul>{items}</ul></div>'


def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF from raw object bodies (object n is ``objects[n-1]``), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


_TEXT = b"BT /F1 12 Tf 72 720 Td (hostile) Tj ET"
_STREAM = b"<< /Length %d >>\nstream\n" % len(_TEXT) + _TEXT + b"\nendstream"
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def pdf_page_tree_cycle() -> bytes:
    """The page tree lists itself among its own kids (and is its own parent)."""
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                      b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 /Parent 2 0 R >>",
                      b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                      b"/Resources << /Font << /F1 5 0 R >> >> >>", _STREAM, _FONT])


def pdf_reference_cycle() -> bytes:
    """The page's /Resources is object 6, which is a reference to 7, which refers back to 6."""
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                      b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources 6 0 R >>",
                      _STREAM, _FONT, b"7 0 R", b"6 0 R"])


def pdf_many_pages(n: int = 10_000, fanout: int = 100) -> bytes:
    """``n`` pages in a two-level page tree, all drawing one shared content stream (small file, huge tree)."""
    nodes = (n + fanout - 1) // fanout
    first_node, first_page = 5, 5 + nodes
    objs: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: ("<< /Type /Pages /Kids [" + " ".join(f"{first_node + i} 0 R" for i in range(nodes))
            + f"] /Count {n} >>").encode(),
        3: _STREAM, 4: _FONT}
    for i in range(nodes):
        kids = range(first_page + i * fanout, first_page + min(n, (i + 1) * fanout))
        objs[first_node + i] = ("<< /Type /Pages /Parent 2 0 R /Kids [" + " ".join(f"{k} 0 R" for k in kids)
                                + f"] /Count {len(kids)} >>").encode()
        for k in kids:
            objs[k] = (f"<< /Type /Page /Parent {first_node + i} 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
                       "/Resources << /Font << /F1 4 0 R >> >> >>").encode()
    return build_pdf([objs[i] for i in range(1, len(objs) + 1)])


def pdf_encrypted() -> bytes:
    """A real PDF (CJK text, a public-attribute label) that needs a user password to open."""
    import io

    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=pdfencrypt.StandardEncryption("user-secret", "owner-secret", strength=128))
    c.drawString(72, 720, "(此件公开发布)")
    c.showPage()
    c.save()
    return buf.getvalue()


def gzip_bomb_chunks(total: int = 1 << 30, chunk: int = 1 << 20) -> Iterator[bytes]:
    """A gzip stream that inflates to ``total`` zero bytes, produced chunk by chunk (~1 KB per MB).

    After a full flush the deflate state is reset, so every later chunk of zeros compresses to the same
    bytes: they are computed once and repeated. The trailer's CRC is only computed if a client reads that
    far (ours must not)."""
    zeros = bytes(chunk)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip header
    yield c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    steady = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    n = total // chunk
    for _ in range(n - 1):
        yield steady
    yield b"\x03\x00" + struct.pack("<II", crc32_of_zeros(total), total & 0xFFFFFFFF)  # final block, trailer


def crc32_of_zeros(length: int) -> int:
    """CRC-32 of ``length`` zero bytes without reading them: feed zeros through the CRC's GF(2) operator
    by repeated squaring (zlib's crc32_combine method), so a 1 GB trailer costs microseconds."""
    def times(mat: list[int], vec: int) -> int:
        out, i = 0, 0
        while vec:
            if vec & 1:
                out ^= mat[i]
            vec >>= 1
            i += 1
        return out

    def square(mat: list[int]) -> list[int]:
        return [times(mat, mat[n]) for n in range(32)]

    # pre- and post-conditioning (~) make the CRC of zeros the zero-operator applied to 0xFFFFFFFF
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # operator for one zero bit
    even = square(odd)  # two zero bits
    odd = square(even)  # four zero bits
    crc, n = 0xFFFFFFFF, length
    while n:
        even = square(odd)  # first pass: one zero byte
        if n & 1:
            crc = times(even, crc)
        n >>= 1
        if not n:
            break
        odd = square(even)
        if n & 1:
            crc = times(odd, crc)
        n >>= 1
    return crc ^ 0xFFFFFFFF


# -- the server --------------------------------------------------------------------------------------------


class HostileHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: streams may end by closing

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
        return

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch()

    def _dispatch(self) -> None:
        owner = self.server.owner
        path = urlsplit(self.path).path
        with owner.lock:
            owner.requests.append((self.command, self.path))
        handler = owner.routes.get(self.path) or owner.routes.get(path)
        try:
            if handler is None:
                self.send_bytes(html("<p>页面不存在</p>", "404").encode(), status=404)
            else:
                handler(self)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            pass  # the crawler hung up on us: exactly what a size limit or a timeout should do

    # helpers for route handlers
    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def send_bytes(self, body: bytes, ctype: str = "text/html; charset=utf-8", status: int = 200,
                   headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
            self.server.owner.count(len(body))

    def redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def stream(self, chunks: Iterator[bytes], ctype: str, length: int | None = None,
               headers: dict[str, str] | None = None, pause: float = 0.0) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        deadline = time.monotonic() + self.server.owner.max_stream_seconds
        for part in chunks:
            if self.server.owner.stopping.is_set() or time.monotonic() > deadline:
                return
            self.wfile.write(part)
            self.server.owner.count(len(part))
            if pause:
                time.sleep(pause)

    def reset_after(self, head: bytes, announced: int, ctype: str = "text/html; charset=utf-8") -> None:
        """Announce ``announced`` bytes, send ``head``, then abort the connection with a TCP RST."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(announced))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(head)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HostileServer


class HostileServer:
    """Serve ``routes`` on ``host`` (port chosen by the OS) in a background thread; a context manager."""

    def __init__(self, routes: dict[str, Handler] | None = None, host: str = "127.0.0.1",
                 max_stream_seconds: float = 60.0) -> None:
        self.routes: dict[str, Handler] = dict(routes or {})
        self.requests: list[tuple[str, str]] = []
        self.bytes_sent = 0
        self.max_stream_seconds = max_stream_seconds  # a stream nobody stops still ends
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd = _Server((host, 0), HostileHandler)
        self.httpd.owner = self
        self.host = host
        self.port = self.httpd.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"hostile-{host}", daemon=True)

    def count(self, n: int) -> None:
        with self.lock:
            self.bytes_sent += n

    def paths_requested(self) -> set[str]:
        with self.lock:
            return {urlsplit(p).path for _m, p in self.requests}

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the two units -----------------------------------------------------------------------------------------

SCRIPT_TITLE = "<script>alert('标题')</script>关于<b>加强</b>管理的通知"
SCRIPT_LINK = '<img src=x onerror="alert(1)">关于<script>document.write(1)</script>开展检查的通知'


@dataclass
class Expectation:
    """What the crawler should record for one URL of the hostile unit."""

    path: str
    statuses: frozenset[str]  # acceptable pages.fetch_status values
    why: str
    pdf_reasons: frozenset[str] = frozenset()  # for attachments: acceptable pdf_label unverifiable reasons


@dataclass
class Platform:
    routes: dict[str, Handler]
    expect: list[Expectation] = field(default_factory=list)
    pages: set[str] = field(default_factory=set)  # every path a complete crawl must store with status ok


def _static(body: bytes, ctype: str = "text/html; charset=utf-8") -> Handler:
    return lambda h: h.send_bytes(body, ctype)


def hostile_platform(offsite_base: str, private_url: str = "http://10.23.45.67/xxgk/index.html") -> Platform:
    """One unit whose columns, documents and attachments each hit a different trap."""
    d = dt.date(2026, 6, 1)
    r: dict[str, Handler] = {}
    ex: list[Expectation] = []

    columns = [("政府信息公开指南", "/gk/zn.html"), ("政府信息公开制度", "/gk/zd/index.html"),
               ("政策文件", "/gk/zcwj/index.html"), ("政府信息公开年报", "/gk/nb/index.html"),
               ("工作动态", "/gk/rili/list.html?date=2026-01-01"), ("机构职能", "/gk/away.html"),
               ("财政信息", "/gk/inner.html"), ("人事信息", "/gk/bomb.html"), ("规划信息", "/gk/drip.html"),
               ("统计信息", "/gk/reset.html"), ("公示公告", "/gk/gbk-lie.html"), ("通知公告", "/gk/gbk-bare.html"),
               ("重点领域", "/gk/garbage.html"), ("政策解读", "/gk/redir/0.html")]
    r["/"] = _static(html(nav(columns) + "<p>青山县险恶镇政务公开平台</p>", "青山县险恶镇政务公开").encode())
    r["/robots.txt"] = _static(b"User-agent: *\nAllow: /\n", "text/plain")

    # malformed and truncated HTML: unclosed tags, a stray </td>, cut off inside an attribute
    r["/gk/zn.html"] = _static(
        ('<html><head><meta charset="utf-8"><title>险恶镇政府信息公开指南</title><body><div><table><tr><td>'
         "办公地址：青山县人民路1号</td></td></tr><p>一、主动公开<p>二、依申请公开" + "<div><span>指南正文" * 200
         + '<a href="/gk/zn2.html" class="x').encode())
    ex.append(Expectation("/gk/zn.html", frozenset({"ok"}), "malformed/truncated HTML is still a page"))

    # the 制度 list: one document whose <title>/<h1> and list link text carry HTML and script
    r["/gk/zd/index.html"] = _static(list_page([("/gk/zd/1.html", SCRIPT_LINK, d)], "制度", raw_titles=True).encode())
    r["/gk/zd/1.html"] = _static(doc_page("险恶镇信息公开制度", d, "制度正文。" * 40,
                                          page_title=SCRIPT_TITLE.replace("</script>", "&lt;/script&gt;")).encode())
    ex.append(Expectation("/gk/zd/1.html", frozenset({"ok"}), "titles holding HTML are text"))

    # 政策文件: one formal document per hostile PDF (the pdf_label sample takes each document's main PDF)
    pdfs: list[tuple[str, str, Handler, frozenset[str], frozenset[str]]] = []
    big = 200 * 1024 * 1024
    filler = b"%PDF-1.4\n" + b"0" * (1 << 20)

    def big_pdf(h: HostileHandler, with_length: bool) -> None:
        def chunks() -> Iterator[bytes]:
            sent = 0
            while sent < big:
                part = filler[: min(len(filler), big - sent)]
                sent += len(part)
                yield part
        h.stream(chunks(), "application/pdf", length=big if with_length else None)

    pdfs.append(("big.pdf", "200 MB PDF with Content-Length", lambda h: big_pdf(h, True),
                 frozenset({"too_large"}), frozenset({"not_downloaded"})))
    pdfs.append(("big-stream.pdf", "200 MB PDF without Content-Length", lambda h: big_pdf(h, False),
                 frozenset({"too_large"}), frozenset({"not_downloaded"})))
    pdfs.append(("tree-cycle.pdf", "page tree that contains itself", _static(pdf_page_tree_cycle(), "application/pdf"),
                 frozenset({"ok"}), frozenset({"last_page_no_text", "corrupt", "timeout", "extractor_error",
                                               "unreadable_text", "no_text_layer"})))
    pdfs.append(("ref-cycle.pdf", "indirect objects referring to each other", _static(pdf_reference_cycle(),
                                                                                       "application/pdf"),
                 frozenset({"ok"}), frozenset({"timeout", "corrupt", "extractor_error", "no_text_layer",
                                               "unreadable_text", "last_page_no_text"})))
    pdfs.append(("tenk.pdf", "10,000 pages sharing one content stream", _static(pdf_many_pages(), "application/pdf"),
                 frozenset({"ok"}), frozenset({"too_many_pages"})))
    pdfs.append(("encrypted.pdf", "needs a user password", _static(pdf_encrypted(), "application/pdf"),
                 frozenset({"ok"}), frozenset({"encrypted"})))
    pdfs.append(("fake.pdf", "an HTML error page served as application/pdf",
                 _static(html("<h1>系统繁忙，请稍后再试</h1>", "错误").encode(), "application/pdf"),
                 frozenset({"ok"}), frozenset({"not_pdf"})))
    pdfs.append(("cut.pdf", "connection reset in the middle of the PDF",
                 lambda h: h.reset_after(b"%PDF-1.4\n" + b"1" * 4000, 500_000, "application/pdf"),
                 frozenset({"connection_lost"}), frozenset({"not_downloaded"})))
    entries = []
    for i, (name, why, handler, statuses, reasons) in enumerate(pdfs):
        day = d - dt.timedelta(days=i)
        doc = f"/gk/zcwj/{i}.html"
        # the fake PDF's document carries markup in its title (escaped in the source, so after parsing it is
        # literal "<script>" text that reaches the pdf_label finding's message and the reports)
        title = escape(SCRIPT_TITLE) if name == "fake.pdf" else f"险恶镇关于第{i}项工作的通知"
        entries.append((doc, f"险恶镇关于第{i}项工作的通知", day))
        r[doc] = _static(doc_page(title, day, "通知正文。" * 30,
                                  f'<p>附件：<a href="/files/{name}">{name}</a></p>',
                                  doc_no=f"险政发〔2026〕{i}号").encode())
        r[f"/files/{name}"] = handler
        ex.append(Expectation(f"/files/{name}", statuses, why, reasons))
    r["/gk/zcwj/index.html"] = _static(list_page(entries, "政策文件").encode())

    # 年报: an ordinary list (the hostile unit still has honest pages)
    r["/gk/nb/index.html"] = _static(list_page([("/gk/nb/2025.html", "险恶镇2025年政府信息公开工作年度报告",
                                                 dt.date(2026, 1, 20))], "年报").encode())
    r["/gk/nb/2025.html"] = _static(doc_page("险恶镇2025年政府信息公开工作年度报告", dt.date(2026, 1, 20),
                                             "年度报告正文。" * 30).encode())
    ex.append(Expectation("/gk/nb/2025.html", frozenset({"ok"}), "honest page beside the traps"))

    # an endless calendar: every day's list has a 下一页 link to the next day, for ever
    def calendar(h: HostileHandler) -> None:
        try:
            day = dt.date.fromisoformat(h.query.get("date", ["2026-01-01"])[0])
        except ValueError:
            day = dt.date(2026, 1, 1)
        nxt = day + dt.timedelta(days=1)
        body = list_page([("/gk/nb/2025.html", f"{day:%Y年%m月%d日}工作动态", day)], "工作动态",
                         pager=f'<div class="pager"><a href="/gk/rili/list.html?date={nxt}">下一页</a></div>')
        h.send_bytes(body.encode())
    r["/gk/rili/list.html"] = calendar
    ex.append(Expectation("/gk/rili/list.html", frozenset({"trap_suppressed"}), "endless calendar"))

    # endless redirect chain: /gk/redir/N -> /gk/redir/N+1
    def chain(h: HostileHandler) -> None:
        n = int(urlsplit(h.path).path.rsplit("/", 1)[1].split(".")[0] or 0)
        h.redirect(f"/gk/redir/{n + 1}.html")
    for n in range(0, 200):
        r[f"/gk/redir/{n}.html"] = chain
    ex.append(Expectation("/gk/redir/0.html", frozenset({"redirect_loop"}), "endless redirect chain"))

    r["/gk/away.html"] = lambda h: h.redirect(f"{offsite_base}/offsite-target.html")
    ex.append(Expectation("/gk/away.html", frozenset({"redirect_offsite"}), "redirect to another host"))
    r["/gk/inner.html"] = lambda h: h.redirect(private_url)
    ex.append(Expectation("/gk/inner.html", frozenset({"redirect_offsite"}), "redirect to a private address"))

    r["/gk/bomb.html"] = lambda h: h.stream(gzip_bomb_chunks(), "text/html; charset=utf-8",
                                            headers={"Content-Encoding": "gzip"})
    ex.append(Expectation("/gk/bomb.html", frozenset({"too_large"}), "1 GB gzip bomb"))

    def drip(h: HostileHandler) -> None:
        h.stream((b"<" if i == 0 else b" " for i in range(100_000)), "text/html; charset=utf-8", pause=0.4)
    r["/gk/drip.html"] = drip
    ex.append(Expectation("/gk/drip.html", frozenset({"timeout"}), "slow drip"))

    r["/gk/reset.html"] = lambda h: h.reset_after(html("<ul class='list'>" + "<li>条目</li>" * 200).encode()[:3000],
                                                  200_000)
    ex.append(Expectation("/gk/reset.html", frozenset({"connection_lost"}), "connection reset mid-body"))

    # charsets: GBK bytes under a header that says utf-8 (and no meta), and GBK with no label at all
    gbk_rows = [("/gk/gs/1.html", "关于镕堃喆同志任职的公示", d)]
    r["/gk/gbk-lie.html"] = _static(list_page(gbk_rows, "公示公告", charset=None).encode("gb18030"),
                                    "text/html; charset=utf-8")
    r["/gk/gbk-bare.html"] = _static(list_page([("/gk/tz/1.html", "关于停水的通知", d)], "通知公告",
                                               charset=None).encode("gb18030"), "text/html")
    for path, title in (("/gk/gs/1.html", "关于镕堃喆同志任职的公示"), ("/gk/tz/1.html", "关于停水的通知")):
        r[path] = _static(doc_page(title, d, "正文。" * 30, charset=None).encode("gb18030"), "text/html")
        ex.append(Expectation(path, frozenset({"ok"}), "GBK document without a charset label"))
    ex.append(Expectation("/gk/gbk-lie.html", frozenset({"ok"}), "GBK list labelled utf-8"))
    ex.append(Expectation("/gk/gbk-bare.html", frozenset({"ok"}), "GBK list without a label"))

    # bytes that are no text in any encoding, served as text/html
    garbage = bytes((i * 7919 + 13) % 256 for i in range(20_000))
    r["/gk/garbage.html"] = _static(b"<html>" + garbage.replace(b"<", b"\x81").replace(b">", b"\x81"),
                                    "text/html; charset=utf-8")
    ex.append(Expectation("/gk/garbage.html", frozenset({"decode_error"}), "undecodable bytes"))
    return Platform(routes=r, expect=ex)


def clean_platform(n_columns: int = 3, per_column: int = 4) -> Platform:
    """A small, well-behaved unit: a menu, lists, documents and one small PDF per document."""
    from tests.evidence_factory import make_pdf

    names = ["政府信息公开指南", "政策文件", "政府信息公开年报", "政府信息公开制度", "财政信息"][:n_columns]
    r: dict[str, Handler] = {}
    pages: set[str] = {"/"}
    cols = [(n, f"/c{i}/index.html") for i, n in enumerate(names)]
    r["/"] = _static(html(nav(cols) + "<p>青山县安宁镇政务公开</p>", "青山县安宁镇政务公开").encode())
    pdf = make_pdf(["安宁镇关于开展工作的通知", "2026年5月1日", "（此件公开发布）"])
    for i, (name, url) in enumerate(cols):
        entries = []
        for j in range(per_column):
            day = dt.date(2026, 5, 1) - dt.timedelta(days=10 * j + i)
            doc = f"/c{i}/{j}.html"
            entries.append((doc, f"安宁镇{name}第{j}号", day))
            r[doc] = _static(doc_page(f"安宁镇{name}第{j}号", day, "正文内容。" * 30,
                                      f'<p>附件：<a href="/c{i}/f{j}.pdf">附件.pdf</a></p>',
                                      doc_no=f"安政发〔2026〕{i}{j}号").encode())
            r[f"/c{i}/f{j}.pdf"] = _static(pdf, "application/pdf")
            pages |= {doc, f"/c{i}/f{j}.pdf"}
        r[url] = _static(list_page(entries, name).encode())
        pages.add(url)
    r["/robots.txt"] = _static(b"User-agent: *\nAllow: /\n", "text/plain")
    return Platform(routes=r, pages=pages)


# -- measured crawl in a child of our own ------------------------------------------------------------------


def crawl_measured(db: str, blobs: str, run_id: int, overrides: dict) -> dict:
    """Crawl a run and report the crawl child's peak RSS. Called in a process of its own (``main``) so the
    only children ``RUSAGE_CHILDREN`` sees are the crawler's, not whatever the test session spawned before."""
    import resource

    from crawler.runner import crawl_run
    from storage import open_store

    store = open_store(db, blobs, upgrade=False)
    started = time.monotonic()
    statuses = crawl_run(store, run_id, overrides=overrides)
    return {"statuses": statuses, "seconds": round(time.monotonic() - started, 2),
            # ru_maxrss is in KiB on Linux
            "child_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "self_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str]) -> int:
    import json

    db, blobs, run_id, overrides = argv
    print(json.dumps(crawl_measured(db, blobs, int(run_id), json.loads(overrides))))
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
