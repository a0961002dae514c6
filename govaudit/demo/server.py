"""Serve the generated demo platforms on loopback: one ``ThreadingHTTPServer`` per unit, each on its own
address (127.0.0.11, 127.0.0.12, …) so every unit is a distinct host, as real platforms are.

What a crawler meets here is what it meets on real platforms: Content-Type with the page's charset (and, on
the GBK site, one header that lies and one that names none), ETag and Last-Modified with 304 answers to
If-None-Match / If-Modified-Since (nightly recrawls depend on it), 404 for missing files, a real 500 for
one injected broken link, the JSON endpoints of the JSON-fed site, and a robots.txt allowing all. A 7th unit
in the sites file points at an address where nothing listens.

    python -m govaudit.demo.server --workdir DIR --port P    # serve in the foreground
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import email.utils
import errno
import hashlib
import io
import json
import signal
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from govaudit.demo.generator import API_DIR, SERVE_FILE, TRUTH_FILE, Generated, generate
from govaudit.demo.model import AS_OF

SITES_CSV = "sites.csv"
CONTENT_TYPES = {
    ".html": "text/html", ".shtml": "text/html", ".htm": "text/html", ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8", ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8", ".pdf": "application/pdf", ".png": "image/png",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".ofd": "application/ofd",
}


def http_date(value: dt.datetime) -> str:
    return email.utils.format_datetime(value.replace(tzinfo=dt.UTC), usegmt=True)


class SiteState:
    """The files of one site and how to serve them; shared by its handler threads."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        conf = json.loads((root / SERVE_FILE).read_text(encoding="utf-8"))
        self.site_id: str = conf["site_id"]
        self.encoding: str = conf["encoding"]
        self.errors: dict[str, int] = conf["errors"]
        self.content_types: dict[str, str] = conf["content_types"]
        # 09:00 Beijing time of the page's date; never the wall clock
        self.modified: dict[str, dt.datetime] = {
            p: dt.datetime.fromisoformat(d) + dt.timedelta(hours=1) for p, d in conf["dates"].items()}
        self.api: dict[str, Any] = {}
        api_dir = root / API_DIR
        if api_dir.is_dir():
            for f in sorted(api_dir.glob("*.json")):
                self.api[f.stem] = json.loads(f.read_text(encoding="utf-8"))
        self.lock = threading.Lock()
        self._etags: dict[str, tuple[int, int, str]] = {}
        self.mutations = 0

    def file_for(self, path: str) -> Path | None:
        if path.endswith("/"):
            path += "index.html"
        parts = [p for p in path.split("/") if p]
        if any(p.startswith((".", "_")) for p in parts):  # never serve _serve.json, _api/, dotfiles
            return None
        target = (self.root / "/".join(parts)).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            return None
        return target

    def etag(self, target: Path) -> str:
        st = target.stat()
        key = str(target)
        with self.lock:
            cached = self._etags.get(key)
            if cached and cached[0] == st.st_mtime_ns and cached[1] == st.st_size:
                return cached[2]
        tag = '"' + hashlib.sha1(target.read_bytes()).hexdigest()[:20] + '"'
        with self.lock:
            self._etags[key] = (st.st_mtime_ns, st.st_size, tag)
        return tag

    def content_type(self, path: str, target: Path) -> str:
        if path in self.content_types:
            return self.content_types[path]
        ctype = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
        return f"{ctype}; charset={self.encoding}" if ctype == "text/html" else ctype

    def last_modified(self, path: str) -> dt.datetime:
        with self.lock:
            return self.modified.get(path, dt.datetime.combine(AS_OF, dt.time(1)))

    def mutate(self, path: str, data: bytes) -> None:
        """Replace one page; its ETag changes with its bytes and Last-Modified moves after every date served."""
        target_path = path if not path.endswith("/") else path + "index.html"
        parts = [p for p in target_path.split("/") if p]
        if not parts or any(p.startswith((".", "_")) or p == ".." for p in parts):
            raise ValueError(f"cannot mutate {path!r}")
        target = self.root / "/".join(parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            target.write_bytes(data)
            self.mutations += 1
            self.modified[target_path] = dt.datetime.combine(AS_OF, dt.time(4)) + dt.timedelta(
                minutes=self.mutations)
            self._etags.pop(str(target.resolve()), None)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = False  # stop() joins the handler threads: nothing is left running
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: SiteState) -> None:
        self.state = state
        super().__init__(address, DemoHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client hanging up mid-response (crawler timeouts, browsers cancelling) is not worth a traceback
        # on stderr; the client sees its own error
        return


class DemoHandler(BaseHTTPRequestHandler):
    server: SiteServer
    protocol_version = "HTTP/1.0"  # one request per connection: handler threads end with their response
    timeout = 5  # a client that connects and says nothing does not hold a thread (or stop()) for long
    def version_string(self) -> str:
        return "nginx"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: no stderr spam
        return

    def do_HEAD(self) -> None:  # noqa: N802
        self.handle_request(send_body=False)

    def do_GET(self) -> None:  # noqa: N802
        self.handle_request(send_body=True)

    # ------------------------------------------------------------------------------------------------
    def handle_request(self, send_body: bool) -> None:
        st = self.server.state
        try:
            parts = urlsplit(self.path)
            path = unquote(parts.path) or "/"
        except ValueError:
            self.send_text(HTTPStatus.BAD_REQUEST, "bad request", send_body)
            return
        if path in st.errors:
            self.send_text(HTTPStatus(st.errors[path]), "服务器内部错误", send_body)
            return
        if path.startswith("/api/") and st.api:
            self.handle_api(path, parts.query, send_body)
            return
        if path == "/":
            path = "/index.html"
        target = st.file_for(path)
        if target is None:
            self.send_text(HTTPStatus.NOT_FOUND, "您访问的页面不存在", send_body)
            return
        etag = st.etag(target)
        modified = st.last_modified(path)
        if self.not_modified(etag, modified):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", http_date(modified))
            self.end_headers()
            return
        body = target.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", st.content_type(path, target))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", http_date(modified))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def not_modified(self, etag: str, modified: dt.datetime) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            return modified.replace(tzinfo=dt.UTC) <= since
        return False

    def handle_api(self, path: str, query: str, send_body: bool) -> None:
        st = self.server.state
        parts = [p for p in path.split("/") if p]
        q = parse_qs(query)
        if len(parts) == 4 and parts[1] == "column" and parts[3] == "list":
            items = st.api.get("columns", {}).get(parts[2])
            if items is None:
                self.send_json(HTTPStatus.NOT_FOUND, {"error": "no such column"}, send_body)
                return
            try:
                page = int(q.get("page", ["1"])[0])
                size = int(q.get("size", ["15"])[0])
            except ValueError:
                self.send_json(HTTPStatus.BAD_REQUEST, {"error": "page and size must be integers"}, send_body)
                return
            page, size = max(page, 1), min(max(size, 1), 50)
            data = items[(page - 1) * size:page * size]
            self.send_json(HTTPStatus.OK, {"total": len(items), "page": page, "size": size, "data": data},
                           send_body)
            return
        if len(parts) == 4 and parts[1] == "doc" and parts[3] == "related":
            related = st.api.get("related", {}).get(parts[2])
            if related is None:
                self.send_json(HTTPStatus.NOT_FOUND, {"error": "no such document"}, send_body)
                return
            self.send_json(HTTPStatus.OK, {"data": related}, send_body)
            return
        self.send_json(HTTPStatus.NOT_FOUND, {"error": "no such endpoint"}, send_body)

    def send_json(self, status: HTTPStatus, obj: Any, send_body: bool) -> None:
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        if status == HTTPStatus.OK and self.headers.get("If-None-Match") in (etag, "*"):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if status == HTTPStatus.OK:
            self.send_header("ETag", etag)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def send_text(self, status: HTTPStatus, text: str, send_body: bool) -> None:
        enc = self.server.state.encoding
        body = (f'<!DOCTYPE html><html><head><meta charset="{"gb2312" if enc == "gbk" else "utf-8"}">'
                f"<title>{status.value}</title></head><body><h1>{status.value}</h1><p>{text}</p></body></html>"
                ).encode(enc)
        self.send_response(status)
        self.send_header("Content-Type", f"text/html; charset={enc}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


def _refuses(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        try:
            s.connect((address, port))
        except OSError:
            return True
    return False


class DemoPlatforms:
    """Generate the demo platforms into ``workdir`` and serve them on loopback.

    ``port=0`` gives every site an ephemeral port; a fixed port is used on every site's own address.
    Usable as a context manager or through ``start()`` / ``stop()``."""

    def __init__(self, workdir: str | Path, port: int = 0) -> None:
        self.workdir = Path(workdir)
        self.port = port
        self.generated: Generated | None = None
        self.ground_truth: dict[str, Any] = {}
        self.urls: dict[str, str] = {}
        self.sites_file = self.workdir / SITES_CSV
        self._servers: dict[str, SiteServer] = {}
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> DemoPlatforms:
        if self._servers:
            return self
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.generated = generate(self.workdir)
        self.ground_truth = self.generated.truth
        try:
            for unit in self.generated.units:
                if unit.reachable:
                    self._serve(unit.site_id, unit.address)
            for unit in self.generated.units:
                if not unit.reachable:
                    self.urls[unit.site_id] = self._dead_url(unit.address)
        except BaseException:
            self.stop()
            raise
        self._write_sites_file()
        return self

    def _serve(self, site_id: str, address: str) -> None:
        assert self.generated is not None
        state = SiteState(self.generated.site_root(site_id))
        try:
            server = SiteServer((address, self.port), state)
        except OSError as exc:
            if exc.errno != errno.EADDRNOTAVAIL:
                raise
            # a system without the whole 127/8 on loopback: fall back to 127.0.0.1, one port per site
            address = "127.0.0.1"
            server = SiteServer((address, self.port + len(self._servers) if self.port else 0), state)
        port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                  name=f"demo-{site_id}", daemon=True)
        thread.start()
        self._servers[site_id] = server
        self._threads.append(thread)
        self.urls[site_id] = f"http://{address}:{port}/"

    def _dead_url(self, address: str) -> str:
        """An address and port where nothing listens. The port is one of our own sites' ports: while our
        site holds it on its address, nobody can hold it on every address (0.0.0.0), so only a server bound
        to exactly this address could answer — checked, and another address tried if one does."""
        port = next(iter(self._servers.values())).server_address[1] if self._servers else (self.port or 9)
        host, last = address.rsplit(".", 1)
        for n in range(int(last), 255):
            candidate = f"{host}.{n}"
            if candidate not in {s.server_address[0] for s in self._servers.values()} and _refuses(candidate, port):
                return f"http://{candidate}:{port}/"
        raise RuntimeError("no loopback address without a listener for the unreachable unit")

    def _write_sites_file(self) -> None:
        assert self.generated is not None
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["site_id", "name", "unit_type", "url", "rubric", "category", "render", "has_website"])
        for u in self.generated.units:
            w.writerow([u.site_id, u.name, u.unit_type, self.urls[u.site_id], u.rubric, u.category or "",
                        u.render, "是" if u.has_website else "否"])
        self.sites_file.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))

    def stop(self) -> None:
        # shut the servers down side by side: each shutdown() waits for its loop's next poll
        stoppers = [threading.Thread(target=s.shutdown) for s in self._servers.values()]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()
        for server in self._servers.values():
            server.server_close()
        for t in self._threads:
            t.join(timeout=10)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> DemoPlatforms:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ for diff / nightly tests
    def mutate(self, site_id: str, path: str, new_bytes: bytes) -> None:
        """Change one page in place (ETag and Last-Modified follow)."""
        server = self._servers.get(site_id)
        if server is None:
            raise KeyError(f"no running demo site {site_id!r}")
        server.state.mutate(path, new_bytes)

    @property
    def truth_file(self) -> Path:
        return self.workdir / TRUTH_FILE


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m govaudit.demo.server",
                                 description="Generate and serve the bundled demo platforms on loopback.")
    ap.add_argument("--workdir", required=True, type=Path, help="directory for the generated sites")
    ap.add_argument("--port", type=int, default=0, help="port on every site's address (0: ephemeral ports)")
    args = ap.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with DemoPlatforms(args.workdir, args.port) as demo:
        for site_id, url in demo.urls.items():
            print(f"{site_id:12} {url}")
        print(f"sites file:   {demo.sites_file}\nground truth: {demo.truth_file}\n(Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
