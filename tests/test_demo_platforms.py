"""The bundled demo platforms: deterministic generation, a server that behaves like real platforms, and a
ground truth that is complete (every defect listed really is one; what is not listed really is compliant)."""

from __future__ import annotations

import datetime as dt
import difflib
import email.utils
import hashlib
import io
import json
import re
import socket
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pdfplumber
import pytest

from govaudit.demo import AS_OF, DemoPlatforms
from govaudit.demo.annual_report import RESULT_ROWS_2019, RESULT_ROWS_2021
from govaudit.demo.generator import generate
from govaudit.demo.guides import TRACES
from govaudit.demo.model import workdays_between
from govaudit.sites import load_sites

CODES_REQUIRED = {
    "columns.required_missing", "columns.empty", "columns.empty_with_note", "columns.stale", "guide.missing",
    "guide.element_missing", "guide.outdated", "annual_report.missing", "annual_report.late",
    "annual_report.section_missing", "annual_report.table_inconsistent", "annual_report.copied",
    "interpretation.missing", "interpretation.not_linked_to_policy", "interpretation.policy_not_linked_back",
    "interpretation.late", "pdf_label.missing", "pdf_label.conflict", "site_health.unreachable",
    "site_health.broken_link", "site_health.spam_injected",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with DemoPlatforms(tmp_path_factory.mktemp("demo")) as d:
        yield d


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read()


def base(demo, site_id: str) -> str:
    return demo.urls[site_id].rstrip("/")


def sites(demo):
    return [(sid, s) for sid, s in demo.ground_truth["sites"].items() if s["reachable"]]


# ------------------------------------------------------------------------------------------ generation

def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_generation_is_deterministic(tmp_path, demo):
    again = generate(tmp_path)
    # byte for byte what the running demo generated (its sites file aside, which carries the ports)
    served = {k: v for k, v in tree_digest(demo.workdir).items() if k != "sites.csv"}
    assert served == tree_digest(tmp_path)
    assert len(served) > 500
    assert again.truth == demo.ground_truth


def test_truth_file_and_sites_file_describe_the_same_units(demo):
    on_disk = json.loads((demo.workdir / "ground_truth.json").read_text(encoding="utf-8"))
    assert on_disk == demo.ground_truth
    assert on_disk["as_of"] == AS_OF.isoformat() == "2026-11-20"
    assert demo.sites_file.read_bytes().startswith(b"\xef\xbb\xbf")
    specs = load_sites(demo.sites_file)
    assert [s.site_id for s in specs] == list(on_disk["sites"])
    assert {s.unit_type for s in specs} == {"county", "department", "township"}
    assert sum(1 for s in on_disk["sites"].values() if s["reachable"]) >= 6
    assert len({s["style"] for s in on_disk["sites"].values() if s["reachable"]}) >= 3
    by_id = {s.site_id: s for s in specs}
    assert by_id["qs-sjj"].options["has_website"] is False
    hosts = {urlsplit(s.url).hostname for s in specs}
    assert len(hosts) == len(specs), "every unit is its own host"
    pages = sum(len(s["items"]) for s in on_disk["sites"].values())
    assert 300 <= pages <= 700, "a few hundred pages overall"


def test_every_required_code_is_injected_and_compliant_cases_remain(demo):
    truth = demo.ground_truth["sites"]
    codes = {d["code"] for s in truth.values() for d in s["defects"]}
    assert codes >= CODES_REQUIRED
    labelled = [a for s in truth.values() for a in s["attachments"] if a["label"] == "主动公开"]
    assert len(labelled) >= 5
    assert any(a["scanned"] for s in truth.values() for a in s["attachments"])
    assert {a["ext"] for s in truth.values() for a in s["attachments"]} >= {"pdf", "docx", "ofd"}
    expect = [e for s in truth.values() for e in s["expect_status"]]
    assert expect and all(e["status"] == "unverifiable" for e in expect)
    clean = [sid for sid, s in truth.items() if s["reachable"] and
             not {d["check"] for d in s["defects"]} & {"guide", "annual_report", "interpretation", "pdf_label"}]
    assert clean, "at least one unit is compliant for the content checks"


def test_url_subjects_point_at_pages_of_the_truth(demo):
    for _sid, s in sites(demo):
        items = {i["url_path"] for i in s["items"]}
        attachments = {a["url_path"] for a in s["attachments"]}
        for d in s["defects"]:
            if d["code"].startswith(("interpretation.", "site_health.spam")):
                assert d["subject"] in items, d
            elif d["code"].startswith("pdf_label."):
                assert d["subject"] in attachments, d
            elif d["code"].startswith("columns.") and d["code"] != "columns.required_missing":
                assert d["subject"] in {c["path"] for c in s["columns"]}, d


# ------------------------------------------------------------------------------------------ serving

def test_every_truth_url_answers_200(demo):
    checked = 0
    for sid, s in sites(demo):
        urls = ["/", s["platform_path"], "/robots.txt"] + [c["url_path"] for c in s["columns"]]
        urls += [i["url_path"] for i in s["items"]] + [a["url_path"] for a in s["attachments"]]
        for path in urls:
            status, headers, body = get(base(demo, sid) + path)
            assert status == 200, (sid, path, status)
            assert body
            checked += 1
    assert checked > 500


def test_content_types_and_robots(demo):
    status, headers, body = get(base(demo, "qs-gov") + "/robots.txt")
    assert status == 200 and b"Allow: /" in body and b"Disallow: /" not in body
    att = demo.ground_truth["sites"]["qs-czj"]["attachments"]
    pdf = next(a for a in att if a["ext"] == "pdf")
    assert get(base(demo, "qs-czj") + pdf["url_path"])[1]["Content-Type"] == "application/pdf"
    assert get(base(demo, "qs-gov") + "/")[1]["Content-Type"] == "text/html; charset=utf-8"
    assert get(base(demo, "qs-shiqiao") + "/")[1]["Content-Type"] == "text/html; charset=gbk"


def test_conditional_requests_answer_304_and_mutations_change_validators(demo):
    url = base(demo, "qs-czj") + "/xxgk/index.html"
    status, headers, _ = get(url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert get(url, {"If-None-Match": etag})[0] == 304
    assert get(url, {"If-Modified-Since": modified})[0] == 304
    earlier = email.utils.format_datetime(email.utils.parsedate_to_datetime(modified) - dt.timedelta(days=1),
                                          usegmt=True)
    assert get(url, {"If-Modified-Since": earlier})[0] == 200
    assert get(url, {"If-None-Match": '"other"', "If-Modified-Since": modified})[0] == 200  # ETag wins

    page = "/hdjl/index.html"
    status, headers, body = get(base(demo, "qs-czj") + page)
    demo.mutate("qs-czj", page, body.replace("互动交流".encode(), "互动交流（已更新）".encode()))
    status2, headers2, body2 = get(base(demo, "qs-czj") + page, {"If-None-Match": headers["ETag"]})
    assert status2 == 200 and "已更新" in body2.decode()
    assert headers2["ETag"] != headers["ETag"]
    assert email.utils.parsedate_to_datetime(headers2["Last-Modified"]) > email.utils.parsedate_to_datetime(
        headers["Last-Modified"])
    assert get(base(demo, "qs-czj") + page, {"If-Modified-Since": headers["Last-Modified"]})[0] == 200
    assert get(base(demo, "qs-czj") + page, {"If-None-Match": headers2["ETag"]})[0] == 304


def test_missing_pages_404_and_injected_errors(demo):
    assert get(base(demo, "qs-gov") + "/no/such/page.shtml")[0] == 404
    assert get(base(demo, "qs-gov") + "/_serve.json")[0] == 404
    assert get(base(demo, "qs-gov") + "/../../etc/passwd")[0] == 404
    for sid, s in sites(demo):
        for d in s["defects"]:
            if d["code"] == "site_health.broken_link":
                want = s["http_errors"].get(d["subject"], 404)
                assert get(base(demo, sid) + d["subject"])[0] == want
    assert 500 in demo.ground_truth["sites"]["qs-edu"]["http_errors"].values()


def test_gbk_site_is_gbk_bytes_and_one_header_lies(demo):
    s = demo.ground_truth["sites"]["qs-shiqiao"]
    status, headers, body = get(base(demo, "qs-shiqiao") + s["columns"][0]["url_path"])
    assert b'<meta charset="gb2312">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "政策" in body.decode("gbk")
    lies = s["charset_mislabelled"]
    assert {x["header"] for x in lies} == {"text/html; charset=utf-8", "text/html"}
    for x in lies:
        status, headers, body = get(base(demo, "qs-shiqiao") + x["url_path"])
        assert headers["Content-Type"] == x["header"]
        assert b'charset="gb2312"' in body
        title = next(i["title"] for i in s["items"] if i["url_path"] == x["url_path"])
        assert title in body.decode("gbk")


def test_json_endpoint_pages_add_up_to_the_truth(demo):
    s = demo.ground_truth["sites"]["qs-edu"]
    by_column: dict[str, list[dict]] = {}
    for i in s["items"]:
        by_column.setdefault(i["column"], []).append(i)
    for col in s["columns"]:
        if col["has_children"]:
            continue
        status, _, html = get(base(demo, "qs-edu") + col["url_path"])
        assert b'<ul class="list" id="list"' in html and b"<li>" not in html.split(b'id="list"')[1][:200]
        seen, page, total = [], 1, None
        while True:
            status, _, body = get(base(demo, "qs-edu") + f"/api/column/{col['col_id']}/list?page={page}&size=15")
            assert status == 200
            data = json.loads(body)
            total = data["total"]
            if not data["data"]:
                break
            seen += data["data"]
            page += 1
        assert total == col["items"] == len(seen) == len(by_column.get(col["path"], []))
        assert [x["url"] for x in seen] == [i["url_path"] for i in by_column.get(col["path"], [])]
    assert get(base(demo, "qs-edu") + "/api/column/1602/list?page=x")[0] == 400
    assert get(base(demo, "qs-edu") + "/api/column/99999/list")[0] == 404
    # the column tree lives in a JavaScript variable, the 相关解读 links come from /api/doc/<id>/related
    assert b"var columnTree = [" in get(base(demo, "qs-edu") + s["platform_path"])[2]
    policy = next(i for i in s["items"] if i["kind"] == "policy" and
                  any(j.get("interprets") == i["url_path"] for j in s["items"]))
    html = get(base(demo, "qs-edu") + policy["url_path"])[2].decode()
    doc_id = re.search(r'id="related" data-doc="(\d+)"', html).group(1)
    related = json.loads(get(base(demo, "qs-edu") + f"/api/doc/{doc_id}/related")[2])["data"]
    assert [r["url"] for r in related] == [j["url_path"] for j in s["items"] if j.get("interprets") ==
                                           policy["url_path"]]


def test_js_pager_pages_exist_for_every_createpagehtml_call(demo):
    s = demo.ground_truth["sites"]["qs-gov"]
    gzdt = next(c for c in s["columns"] if c["name"] == "工作动态")
    assert gzdt["list_pages"] == 8
    html = get(base(demo, "qs-gov") + gzdt["url_path"])[2].decode()
    assert 'createPageHTML(8, 0, "index", "shtml");' in html
    assert "index_1.shtml" not in html.replace('src="/js/pager.js"', "")  # links only appear at run time
    listed = 0
    for k in range(8):
        path = gzdt["url_path"] if k == 0 else gzdt["url_path"].replace("index.shtml", f"index_{k}.shtml")
        status, _, body = get(base(demo, "qs-gov") + path)
        assert status == 200 and f'createPageHTML(8, {k}, "index", "shtml");' in body.decode()
        listed += body.decode().count('<li><a href="./')
    assert listed == gzdt["items"]
    assert get(base(demo, "qs-gov") + gzdt["url_path"].replace("index.shtml", "index_8.shtml"))[0] == 404


def test_unreachable_unit_refuses_connections(demo):
    parts = urlsplit(demo.urls["qs-nyj"])
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.settimeout(3)
        sock.connect((parts.hostname, parts.port))
    assert demo.ground_truth["sites"]["qs-nyj"]["defects"][0]["code"] == "site_health.unreachable"


def test_servers_stop_cleanly(tmp_path):
    before = set(threading.enumerate())
    demo = DemoPlatforms(tmp_path).start()
    url = demo.urls["qs-liuxi"]
    assert get(url)[0] == 200
    demo.stop()
    assert not [t for t in threading.enumerate() if t not in before and t.is_alive()]
    parts = urlsplit(url)
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect((parts.hostname, parts.port))


# ------------------------------------------------------------------------------------------ completeness

class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith(("javascript:", "#")):
                self.refs.append(value)


def test_only_the_listed_links_are_broken(demo):
    """Every internal link and resource in the static pages resolves, except the injected broken links."""
    for sid, s in sites(demo):
        root = demo.workdir / "sites" / sid
        site_base = base(demo, sid)
        broken: set[str] = set()
        for f in root.rglob("*.*htm*"):
            page = "/" + str(f.relative_to(root))
            parser = Links()
            parser.feed(f.read_bytes().decode(s["encoding"]))
            for ref in parser.refs:
                target = urlsplit(urljoin(site_base + page, ref))
                if f"{target.scheme}://{target.netloc}/" != demo.urls[sid]:
                    continue  # external (中国政府网, the video host)
                path = target.path
                ok = (root / path.lstrip("/")).is_file() or (path == "/") or path.startswith("/api/")
                if not ok or path in s["http_errors"]:
                    broken.add(path)
        listed = {d["subject"] for d in s["defects"] if d["code"] == "site_health.broken_link"}
        assert broken == listed, sid


def test_staleness_of_every_column_is_as_the_truth_says(demo):
    periods = {"工作动态": 14, "通知公告": 183, "政策文件": 183, "规范性文件": 183, "本部门文件": 183,
               "政策解读": 183, "规划计划": 365, "人事信息": 365}
    for _sid, s in sites(demo):
        stale = {d["subject"] for d in s["defects"] if d["code"] == "columns.stale"}
        empty = {d["subject"]: d["code"] for d in s["defects"] if d["code"].startswith("columns.empty")}
        for c in s["columns"]:
            if not c["has_children"]:
                assert (c["items"] == 0) == (c["path"] in empty), c
                assert (empty.get(c["path"]) == "columns.empty_with_note") == bool(c["empty_note"]), c
            if c["has_children"] or not c["newest"]:
                continue
            age = (AS_OF - dt.date.fromisoformat(c["newest"])).days
            limit = periods.get(c["name"])
            if c["path"] in stale:
                assert limit is not None and age > limit, c
            elif c["parent"] == "法定主动公开内容":
                assert age <= min(limit or 125, 125), c
            elif limit:
                assert age <= limit, c


def test_interpretations_are_timely_unless_listed(demo):
    for _sid, s in sites(demo):
        late = {d["subject"] for d in s["defects"] if d["code"] == "interpretation.late"}
        missing = {d["subject"] for d in s["defects"] if d["code"] == "interpretation.missing"}
        dates = {i["url_path"]: dt.date.fromisoformat(i["date"]) for i in s["items"]}
        interpreted = {i["interprets"] for i in s["items"] if "interprets" in i}
        for i in s["items"]:
            if "interprets" in i:
                gap = workdays_between(dates[i["interprets"]], dates[i["url_path"]])
                assert (gap > 5) if i["url_path"] in late else (gap == 0), i
            if i["kind"] == "policy":
                assert (i["url_path"] not in interpreted) == (i["url_path"] in missing), i


def test_guides_lack_exactly_the_listed_elements(demo):
    for sid, s in sites(demo):
        guide = next((i for i in s["items"] if i["kind"] == "guide"), None)
        codes = {d["code"] for d in s["defects"]}
        if guide is None:
            assert "guide.missing" in codes
            continue
        text = get(base(demo, sid) + guide["url_path"])[2].decode(s["encoding"])
        missing = {d["subject"] for d in s["defects"] if d["code"] == "guide.element_missing"}
        for element, traces in TRACES.items():
            present = any(t in text for t in traces)
            assert present != (element in missing), (sid, element)
        for word in ("机构名称", "办公地址", "办公时间", "联系电话", "公开时限", "公开方式", "信息查询方式", "投诉"):
            assert word in text, (sid, word)
        assert (dt.date.fromisoformat(guide["date"]).year < 2026) == ("guide.outdated" in codes)


def test_pdf_labels_are_as_the_truth_says(demo):
    for sid, s in sites(demo):
        for a in s["attachments"]:
            if a["ext"] != "pdf":
                continue
            body = get(base(demo, sid) + a["url_path"])[2]
            with pdfplumber.open(io.BytesIO(body)) as pdf:
                last = pdf.pages[-1].extract_text() or ""
                everything = "".join(p.extract_text() or "" for p in pdf.pages)
            if a["scanned"]:
                assert everything.strip() == "", "an image-only PDF has no text layer"
            elif a["label"] is None:
                assert not re.search(r"此件|公开方式|公开属性", everything), a
            else:
                assert a["label_text"] in last, a
                assert last.rstrip().endswith(a["label_text"]), "label in the 附注 position, after the date"


def test_annual_report_figures_hold_except_where_injected(demo):
    for unit in demo.generated.units:
        broken = {d.subject for d in unit.defects if d.code == "annual_report.table_inconsistent"}
        reports = {d.year - 1: d.extra["report"] for d in unit.all_docs() if d.kind == "annual_report"}
        for year, r in reports.items():
            n = r.numbers
            rows = RESULT_ROWS_2021 if r.template == "2021" else RESULT_ROWS_2019
            assert set(n.results) == {k for k, _, _ in rows}
            own_ok = all(n.new[c] + n.carry_in[c] == n.result_total(c) + n.carry_out[c] and
                         n.result_total(c) == sum(v[c] for v in n.results.values()) for c in range(6))
            carry_ok = year - 1 not in reports or reports[year - 1].numbers.carry_out == n.carry_in
            assert (own_ok and carry_ok) == (str(year) not in broken), (unit.site_id, year)


def test_only_the_copied_report_repeats_last_year(demo):
    for unit in demo.generated.units:
        reports = {d.year - 1: d.extra["report"] for d in unit.all_docs() if d.kind == "annual_report"}
        copied = any(d.code == "annual_report.copied" for d in unit.defects)
        if 2025 in reports and 2024 in reports:
            ratio = difflib.SequenceMatcher(None, reports[2024].text(), reports[2025].text()).ratio()
            assert (ratio > 0.95) if copied else (ratio < 0.6), (unit.site_id, ratio)


def test_bad_requests_cost_nothing_and_stay_quiet(demo, capfd):
    parts = urlsplit(demo.urls["qs-sjj"])
    for raw in (b"GARBAGE\r\n\r\n", b"GET /%ZZ%00 HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01"):
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
            sock.sendall(raw)
            # half-close: the server sees EOF at once instead of waiting out its read timeout for the rest of
            # a request line that never comes (the TLS fragment has no newline)
            sock.shutdown(socket.SHUT_WR)
            sock.recv(4096)
    assert get(demo.urls["qs-sjj"] + "robots.txt")[0] == 200
    assert get(demo.urls["qs-sjj"] + "robots.txt?x=%E4")[0] == 200
    out, err = capfd.readouterr()
    assert err == ""
