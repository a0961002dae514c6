"""The assessor's list of units (sites file): CSV with header ``site_id,name,unit_type,url,rubric``.

Optional columns: ``category`` (A/B), ``render`` (auto/never/always), ``hosts`` (extra allowed hosts,
separated by ``;``), ``has_website`` (for departments: 否/no exempts 政府网站工作年度报表).
Accepts UTF-8 with or without BOM and GBK/GB18030 as exported by Excel. Every bad row is reported with
its line number; nothing is half-loaded.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REQUIRED = ("site_id", "name", "unit_type", "url", "rubric")
OPTIONAL = ("category", "render", "hosts", "has_website")

UNIT_TYPES = {
    "county": "county", "县": "county", "县区": "county", "县市区": "county", "区": "county",
    "县级政府": "county", "district": "county",
    "city": "city", "市": "city", "市级政府": "city",
    "department": "department", "部门": "department", "县直部门": "department", "区直部门": "department",
    "市直部门": "department",
    "township": "township", "乡镇": "township", "街道": "township", "街镇": "township", "乡": "township",
    "镇": "township",
}
_SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class SitesFileError(ValueError):
    """Raised with every problem found, each naming its line."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class SiteSpec:
    site_id: str
    name: str
    unit_type: str
    url: str
    rubric: str
    category: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


def decode_bytes(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")  # Excel on a Chinese Windows saves CSV as GBK (a subset of GB18030)


def parse_sites(text: str, path: str = "<sites>") -> list[SiteSpec]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise SitesFileError(path, ["line 1: the file is empty"]) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SitesFileError(path, [f"line 1: header lacks column(s) {', '.join(missing)}"
                                    f" (expected {','.join(REQUIRED)})"])
    problems: list[str] = []
    out: list[SiteSpec] = []
    seen: dict[str, int] = {}
    for lineno, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(f"line {lineno}: {len(row)} fields, header has {len(header)}")
            continue
        rec = {h: cell.strip() for h, cell in zip(header, row, strict=True)}
        errs: list[str] = []
        if not _SITE_ID.match(rec["site_id"]):
            errs.append(f"site_id {rec['site_id']!r} must be letters, digits, '_', '-', '.' (max 64)")
        elif rec["site_id"] in seen:
            errs.append(f"site_id {rec['site_id']!r} repeats line {seen[rec['site_id']]}")
        if not rec["name"]:
            errs.append("name is empty")
        unit_type = UNIT_TYPES.get(rec["unit_type"].lower(), UNIT_TYPES.get(rec["unit_type"]))
        if unit_type is None:
            errs.append(f"unit_type {rec['unit_type']!r} unknown (county, city, department, township)")
        try:
            parts = urlsplit(rec["url"])
            url_ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:  # e.g. an unclosed IPv6 bracket: a bad row, not a crash
            url_ok = False
        if not url_ok:
            errs.append(f"url {rec['url']!r} is not an http(s) URL")
        if not rec["rubric"]:
            errs.append("rubric is empty")
        category = rec.get("category") or None
        if category and category.upper() not in ("A", "B"):
            errs.append(f"category {category!r} must be A or B")
        render = (rec.get("render") or "auto").lower()
        if render not in ("auto", "never", "always"):
            errs.append(f"render {render!r} must be auto, never or always")
        if errs:
            problems.extend(f"line {lineno}: {e}" for e in errs)
            continue
        seen[rec["site_id"]] = lineno
        options: dict[str, Any] = {"render": render}
        if rec.get("hosts"):
            options["hosts"] = [h.strip().lower() for h in rec["hosts"].split(";") if h.strip()]
        if rec.get("has_website"):
            options["has_website"] = rec["has_website"].lower() not in ("否", "no", "false", "0", "n")
        out.append(SiteSpec(site_id=rec["site_id"], name=rec["name"], unit_type=unit_type, url=rec["url"],
                            rubric=rec["rubric"], category=category.upper() if category else None,
                            options=options))
    if problems:
        raise SitesFileError(path, problems)
    if not out:
        raise SitesFileError(path, ["no sites listed"])
    return out


def load_sites(path: str | Path) -> list[SiteSpec]:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SitesFileError(str(p), [f"cannot read: {exc.strerror}"]) from None
    try:
        text = decode_bytes(raw)
    except UnicodeDecodeError:  # neither UTF-8 nor GB18030: say where, instead of a traceback
        # the first byte that is not UTF-8 is where an assessor's editor went wrong (GB18030's own failure
        # point is usually earlier, in perfectly good UTF-8 Chinese)
        try:
            raw.decode("utf-8")
            start = 0
        except UnicodeDecodeError as exc:
            start = exc.start
        line = raw[:start].count(b"\n") + 1
        raise SitesFileError(str(p), [f"line {line}: neither UTF-8 nor GBK/GB18030 text; "
                                      "save the file as UTF-8"]) from None
    return parse_sites(text, str(p))
