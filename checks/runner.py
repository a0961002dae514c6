"""Run checks on stored evidence and store their findings (replacing that check's earlier findings for
the same run and site, so a re-run or a resumed run never duplicates anything)."""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete

from checks import get_check, registry
from checks.base import CheckContext, Finding
from storage import Store
from storage import models as m
from storage.evidence import SiteEvidence, load_evidence


def run_check_on_evidence(check_id: str, evidence: SiteEvidence,
                          params: dict[str, Any] | None = None) -> list[Finding]:
    """Pure: evidence in, findings out. A crashing check yields one `unverifiable` finding, not a crash.

    Without explicit ``params`` the check uses those its site's rubric set when the run was created
    (snapshotted in the run, so a re-run later judges with the same numbers)."""
    spec = get_check(check_id)
    if params is None:
        params = (evidence.site.options.get("check_params") or {}).get(check_id)
    try:
        findings = list(spec.run(CheckContext(evidence=evidence, params=dict(params or {}))))
    except Exception as exc:  # a bug in one check must not cost the run
        return [Finding(code=f"{check_id}.error", status="unverifiable",
                        message=f"检查程序出错，无法核验：{type(exc).__name__}: {exc}",
                        subject="__error__", severity="info",
                        details={"reason": "check_error", "traceback": traceback.format_exc(limit=8)})]
    for f in findings:
        if not (f.code.startswith(check_id + ".") and (f.code in spec.codes or f.code == f"{check_id}.error")):
            raise ValueError(f"check {check_id} emitted undeclared code {f.code!r}")
    return findings


def store_findings(store: Store, run_id: int, site_id: str, check_id: str,
                   findings: Iterable[Finding]) -> list[int]:
    spec = get_check(check_id)
    rows: list[m.Finding] = []
    seen: set[str] = set()
    with store.session() as s:
        s.execute(delete(m.Finding).where(m.Finding.run_id == run_id, m.Finding.site_id == site_id,
                                          m.Finding.check_id == check_id))
        for f in findings:
            fp = f.fingerprint(check_id)
            if fp in seen:  # same code + subject twice: keep the first, it carries the evidence
                continue
            seen.add(fp)
            row = m.Finding(run_id=run_id, site_id=site_id, check_id=check_id, check_version=spec.version,
                            code=f.code, status=f.status, severity=f.severity, subject=f.subject,
                            fingerprint=fp, message=f.message, url=f.url, evidence=f.evidence,
                            evidence_file=f.evidence_file, evidence_page=f.evidence_page,
                            details=f.details)
            rows.append(row)
        s.add_all(rows)
        s.flush()  # once, for the ids
        return [row.id for row in rows]


def run_checks(store: Store, run_id: int, site_id: str, check_ids: Iterable[str] | None = None,
               params: dict[str, dict[str, Any]] | None = None) -> dict[str, list[Finding]]:
    """Load the site's evidence once, run the checks, store their findings. Returns findings by check."""
    with store.session() as s:
        evidence = load_evidence(s, run_id, site_id, read_blob=store.blobs.get)
    out: dict[str, list[Finding]] = {}
    for cid in (list(check_ids) if check_ids else sorted(registry())):
        findings = run_check_on_evidence(cid, evidence, (params or {}).get(cid))
        store_findings(store, run_id, site_id, cid, findings)
        out[cid] = findings
    return out
