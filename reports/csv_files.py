"""findings.csv (whole run and one per site), scores.csv and disputes.csv.

UTF-8 with BOM so Excel opens the Chinese correctly; every string cell goes through the formula-injection
guard because messages, URLs and snippets come from crawled pages.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from reports.cell_safety import csv_cell, safe_name
from reports.evidence_files import EvidenceExporter
from reports.records import FindingRow, ReportData, ScoreRow
from reports.schema import (
    DISPUTES_COLUMNS,
    FINDINGS_COLUMNS,
    ITEM_SEPARATOR,
    SCHEMA_VERSION,
    SCORES_COLUMNS,
    fmt_points,
    fmt_time,
)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    # newline="" lets the csv module write \r\n itself, which Excel expects
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow([csv_cell(v) for v in row])
            n += 1
    return n


def evidence_file_cell(f: FindingRow, exporter: EvidenceExporter) -> str:
    ev = exporter.copy(f.evidence_blob)
    if ev is None:
        return ""
    return ev.rel_path if ev.rel_path else f"missing:{ev.sha256}"


def dispute_cell(f: FindingRow) -> str:
    if f.dispute is None:
        return ""
    return f"{fmt_time(f.dispute.created_at)} {f.dispute.reason}".strip()


def finding_values(data: ReportData, f: FindingRow, exporter: EvidenceExporter) -> list[object]:
    site = data.site(f.site_id)
    values: dict[str, object] = {
        "run_id": f.run_id,
        "site_id": f.site_id,
        "site_name": site.name if site else "",
        "unit_type": site.unit_type if site else "",
        "check_id": f.check_id,
        "code": f.code,
        "status": f.status,
        "severity": f.severity,
        "message": f.message,
        "url": f.url or "",
        "evidence": f.evidence or "",
        "evidence_file": evidence_file_cell(f, exporter),
        "rubric_items": ITEM_SEPARATOR.join(f.rubric_items),
        "first_seen_run": f.first_seen_run if f.first_seen_run is not None else "",
        "detected_at": fmt_time(f.created_at),
        "schema_version": SCHEMA_VERSION,
        "finding_id": f.id,
        "subject": f.subject,
        "fingerprint": f.fingerprint,
        "dispute": dispute_cell(f),
    }
    return [values[c] for c in FINDINGS_COLUMNS]


def write_findings_csvs(data: ReportData, out_dir: Path, exporter: EvidenceExporter) -> dict[str, Path]:
    """``findings.csv`` for the run and ``sites/<site>/findings.csv`` for every site of the run (a site with
    no findings still gets its file, header only, so a missing file always means a problem)."""
    rows = {f.id: finding_values(data, f, exporter) for f in data.findings}
    out: dict[str, Path] = {"findings_csv": out_dir / "findings.csv"}
    write_csv(out["findings_csv"], FINDINGS_COLUMNS, (rows[f.id] for f in data.findings))
    site_ids = [s.site_id for s in data.sites]
    site_ids += sorted({f.site_id for f in data.findings} - set(site_ids))
    for site_id in site_ids:
        path = out_dir / "sites" / safe_name(site_id) / "findings.csv"
        write_csv(path, FINDINGS_COLUMNS, (rows[f.id] for f in data.findings_of(site_id)))
        out[f"findings_csv:{site_id}"] = path
    return out


def ordered_scores(data: ReportData) -> list[ScoreRow]:
    """Sites in ranking order, each rubric's indicators in the engine's order with the total row last."""
    order: list[str] = []
    for t in data.totals():
        if t.site_id not in order:
            order.append(t.site_id)
    order += sorted({s.site_id for s in data.scores} - set(order))
    pos = {sid: i for i, sid in enumerate(order)}
    return sorted(data.scores, key=lambda r: (pos[r.site_id], r.rubric_id, r.is_total, r.id))


def score_values(data: ReportData, r: ScoreRow) -> list[object]:
    site = data.site(r.site_id)
    values: dict[str, object] = {
        "run_id": data.run.id,
        "site_id": r.site_id,
        "site_name": site.name if site else "",
        "unit_type": site.unit_type if site else "",
        "rubric_id": r.rubric_id,
        "indicator_id": r.indicator_id,
        "path": r.path,
        "name": r.name,
        "mode": r.mode,
        "max_points": fmt_points(r.max_points),
        "deducted": fmt_points(r.deducted),
        "bonus": fmt_points(r.bonus),
        "score": fmt_points(r.score),
        "basis": ITEM_SEPARATOR.join(str(i) for i in r.basis),
        "explanation": r.explanation or "",
        "adjusted": "yes" if r.adjusted else "",
        "grade": r.grade or "",
        "rank": r.rank if r.rank is not None else "",
        "schema_version": SCHEMA_VERSION,
    }
    return [values[c] for c in SCORES_COLUMNS]


def write_scores_csv(data: ReportData, out_dir: Path) -> Path:
    path = out_dir / "scores.csv"
    write_csv(path, SCORES_COLUMNS, (score_values(data, r) for r in ordered_scores(data)))
    return path


def write_disputes_csv(data: ReportData, out_dir: Path) -> Path:
    """Every dispute of the run's sites, withdrawn ones included: disputes stay on record."""
    path = out_dir / "disputes.csv"
    rows = ([d.id, d.site_id, d.fingerprint, d.finding_id if d.finding_id is not None else "", d.check_id,
             d.code, d.subject, d.reason, d.author or "", fmt_time(d.created_at), "yes" if d.active else "no",
             d.source, SCHEMA_VERSION] for d in data.disputes)
    write_csv(path, DISPUTES_COLUMNS, rows)
    return path
