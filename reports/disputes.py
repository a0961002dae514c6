"""Disputes: an auditor says a finding is wrong; it stays on record and is left out of scoring.

A dispute is keyed on site + fingerprint (``storage.models.Dispute``), so it follows the finding into later
runs. Nothing is deleted: withdrawing a dispute only marks it inactive. The rubric engine skips findings
with an active dispute and marks the scores it recomputes ``adjusted``; after a dispute the CLI re-runs
``rubric_map.engine.score_run`` and the reports show the adjusted score.

Two ways in: ``dispute(store, finding_id, reason)`` (``govaudit dispute``), and ``load_overrides(store,
path)``: a YAML or CSV file kept under version control, one entry per disputed finding, naming it by
``site_id`` + ``fingerprint`` or by ``site_id`` + ``code`` + ``subject``, with a ``reason``::

    disputes:
      - site_id: qingshan
        code: guide.element_missing
        subject: 传真号码
        reason: 指南第2页列有传真号码，检查未识别
        author: 张三
      - site_id: qingshan
        fingerprint: 0f3c...   # 40 hex digits, as in findings.csv
        reason: ...

The file is the truth for the disputes it created: loading it again adds nothing new, and an entry removed
from the file withdraws its dispute (only when the whole file loaded without errors).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from checks.base import fingerprint as make_fingerprint
from storage import Store
from storage import models as m

SOURCE_CLI = "cli"
SOURCE_FILE = "overrides_file"
_FP = re.compile(r"^[0-9a-f]{40}$")


class OverridesError(ValueError):
    """The overrides file as a whole cannot be read (missing, not YAML/CSV, wrong shape)."""


@dataclass(frozen=True)
class DisputeRecord:
    id: int
    site_id: str
    fingerprint: str
    finding_id: int | None
    reason: str
    author: str | None
    created_at: dt.datetime | None
    active: bool
    source: str
    # what the disputed finding is, from its newest stored row (empty when it was never seen)
    check_id: str = ""
    code: str = ""
    subject: str = ""


@dataclass
class OverridesResult:
    added: list[DisputeRecord] = field(default_factory=list)
    unchanged: list[DisputeRecord] = field(default_factory=list)
    withdrawn: list[DisputeRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # entries not applied, each naming file and line
    warnings: list[str] = field(default_factory=list)  # applied, but no stored finding matches (typo?)

    @property
    def ok(self) -> bool:
        return not self.errors


def _record(s: Session, d: m.Dispute) -> DisputeRecord:
    f = s.get(m.Finding, d.finding_id) if d.finding_id is not None else None
    if f is None:
        f = _newest_finding(s, d.site_id, d.fingerprint)
    return DisputeRecord(id=d.id, site_id=d.site_id, fingerprint=d.fingerprint, finding_id=d.finding_id,
                         reason=d.reason, author=d.author, created_at=d.created_at, active=bool(d.active),
                         source=d.source, check_id=f.check_id if f else "", code=f.code if f else "",
                         subject=(f.subject or "") if f else "")


def _newest_finding(s: Session, site_id: str, fp: str) -> m.Finding | None:
    q = (select(m.Finding).where(m.Finding.site_id == site_id, m.Finding.fingerprint == fp)
         .order_by(m.Finding.run_id.desc(), m.Finding.id.desc()).limit(1))
    return s.scalars(q).first()


def _clean_reason(reason: object) -> str:
    text = str(reason).strip() if reason is not None else ""
    if not text:
        raise ValueError("a dispute needs a reason")
    return text


def dispute(store: Store, finding_id: int, reason: str, author: str | None = None) -> DisputeRecord:
    """Dispute one stored finding. Disputing it again with the same reason returns the existing dispute."""
    text = _clean_reason(reason)
    with store.session() as s:
        f = s.get(m.Finding, finding_id)
        if f is None:
            raise LookupError(f"no finding {finding_id}")
        same = s.scalars(select(m.Dispute).where(
            m.Dispute.site_id == f.site_id, m.Dispute.fingerprint == f.fingerprint,
            m.Dispute.active.is_(True), m.Dispute.reason == text)).first()
        if same is not None:
            return _record(s, same)
        d = m.Dispute(site_id=f.site_id, fingerprint=f.fingerprint, finding_id=f.id, reason=text,
                      author=(author or None), source=SOURCE_CLI, active=True)
        s.add(d)
        s.flush()
        return _record(s, d)


def withdraw(store: Store, dispute_id: int) -> DisputeRecord:
    """Withdraw a dispute: it stays on record, inactive, and the finding counts again at the next scoring."""
    with store.session() as s:
        d = s.get(m.Dispute, dispute_id)
        if d is None:
            raise LookupError(f"no dispute {dispute_id}")
        d.active = False
        s.flush()
        return _record(s, d)


def list_disputes(store: Store, *, site_ids: list[str] | None = None,
                  active_only: bool = False) -> list[DisputeRecord]:
    with store.session() as s:
        q = select(m.Dispute).order_by(m.Dispute.site_id, m.Dispute.created_at, m.Dispute.id)
        if site_ids is not None:
            q = q.where(m.Dispute.site_id.in_(site_ids))
        if active_only:
            q = q.where(m.Dispute.active.is_(True))
        return [_record(s, d) for d in s.scalars(q)]


# --- the overrides file -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Entry:
    line: int
    values: dict[str, Any]


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OverridesError(f"{path}: cannot read: {exc}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # saved from Excel on a Chinese Windows
            return raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise OverridesError(f"{path}: neither UTF-8 nor GBK text") from exc


def _yaml_entries(path: Path, text: str) -> list[_Entry]:
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise OverridesError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return []
    if isinstance(data, dict):
        if "disputes" not in data:
            raise OverridesError(f"{path}: expected a list, or a mapping with a 'disputes' list")
        data = data["disputes"] or []
        node = next((v for k, v in node.value if k.value == "disputes"), None)
    if not isinstance(data, list):
        raise OverridesError(f"{path}: 'disputes' must be a list")
    lines = [item.start_mark.line + 1 for item in node.value] if node is not None and isinstance(
        node.value, list) else [0] * len(data)
    return [_Entry(line=ln, values=v if isinstance(v, dict) else {"__bad__": v})
            for ln, v in zip(lines, data, strict=False)]


def _csv_entries(text: str) -> list[_Entry]:
    reader = csv.DictReader(io.StringIO(text))
    out = []
    for row in reader:
        values = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if any(values.values()):
            out.append(_Entry(line=reader.line_num, values=values))
    return out


def read_overrides(path: str | Path) -> list[_Entry]:
    p = Path(path)
    text = _read_text(p)
    if p.suffix.lower() in {".csv", ".tsv"}:
        return _csv_entries(text)
    return _yaml_entries(p, text)


def _entry_key(s: Session, e: _Entry, where: str) -> tuple[str, str]:
    """(site_id, fingerprint) named by one entry; ValueError with a message naming the entry otherwise."""
    v = e.values
    if "__bad__" in v:
        raise ValueError(f"{where}: an entry must be a mapping, got {v['__bad__']!r}")
    site_id = str(v.get("site_id") or "").strip()
    fp = str(v.get("fingerprint") or "").strip().lower()
    code = str(v.get("code") or "").strip()
    if fp:
        if not _FP.match(fp):
            raise ValueError(f"{where}: fingerprint must be 40 hex digits, got {fp!r}")
        if not site_id:
            # a fingerprint does not contain the site (guide.missing is the same everywhere): infer the site
            # only when exactly one site ever had it
            sites = sorted(set(s.scalars(select(m.Finding.site_id).where(m.Finding.fingerprint == fp))))
            if len(sites) != 1:
                raise ValueError(f"{where}: fingerprint {fp} needs a site_id "
                                 f"({'no stored finding has it' if not sites else 'found in ' + ', '.join(sites)})")
            site_id = sites[0]
    elif code:
        if not site_id:
            raise ValueError(f"{where}: site_id is required with code/subject")
        check_id = str(v.get("check_id") or code.split(".", 1)[0]).strip()
        subject = "" if v.get("subject") is None else str(v.get("subject"))
        fp = make_fingerprint(check_id, code, subject)
    else:
        raise ValueError(f"{where}: name the finding by fingerprint, or by code and subject")
    if s.get(m.Site, site_id) is None:
        raise ValueError(f"{where}: unknown site_id {site_id!r}")
    return site_id, fp


def load_overrides(store: Store, path: str | Path, *, sync: bool = True) -> OverridesResult:
    """Apply an overrides file. Bad entries are reported in ``errors`` (naming file and line) and skipped;
    the good ones are applied. With ``sync``, file disputes no longer in the file are withdrawn — unless
    some entry had an error (its dispute might be one of them)."""
    entries = read_overrides(path)
    result = OverridesResult()
    with store.session() as s:
        wanted: set[tuple[str, str]] = set()
        for e in entries:
            where = f"{path}:{e.line}" if e.line else str(path)
            try:
                key = _entry_key(s, e, where)
                reason = _clean_reason(e.values.get("reason"))
            except ValueError as exc:
                msg = str(exc)
                result.errors.append(msg if msg.startswith(where) else f"{where}: {msg}")
                continue
            if key in wanted:
                result.errors.append(f"{where}: the same finding is listed twice; the first entry counts")
                continue
            wanted.add(key)
            author = str(e.values.get("author") or "").strip() or None
            site_id, fp = key
            current = s.scalars(select(m.Dispute).where(
                m.Dispute.site_id == site_id, m.Dispute.fingerprint == fp, m.Dispute.active.is_(True),
                m.Dispute.source == SOURCE_FILE)).all()
            if any(d.reason == reason for d in current):
                result.unchanged.extend(_record(s, d) for d in current if d.reason == reason)
                continue
            for d in current:  # the reason was edited in the file: keep the old one on record, inactive
                d.active = False
                result.withdrawn.append(_record(s, d))
            finding = _newest_finding(s, site_id, fp)
            if finding is None:
                result.warnings.append(f"{where}: no stored finding of site {site_id} matches; "
                                       "the dispute is kept for future runs")
            d = m.Dispute(site_id=site_id, fingerprint=fp, finding_id=finding.id if finding else None,
                          reason=reason, author=author, source=SOURCE_FILE, active=True)
            s.add(d)
            s.flush()
            result.added.append(_record(s, d))
        if sync and not result.errors:
            stale = s.scalars(select(m.Dispute).where(m.Dispute.source == SOURCE_FILE,
                                                      m.Dispute.active.is_(True))).all()
            for d in stale:
                if (d.site_id, d.fingerprint) not in wanted:
                    d.active = False
                    result.withdrawn.append(_record(s, d))
        s.flush()
    return result
