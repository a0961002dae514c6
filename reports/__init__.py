"""Reports for auditors, read only from what is stored: findings.csv (run and per site), scores.csv,
disputes.csv, an XLSX workbook and a static HTML report with evidence; plus run history (``reports.diff``)
and disputes (``reports.disputes``). A report never recomputes a score.

Layout of ``out_dir``::

    findings.csv  scores.csv  disputes.csv  report.xlsx  index.html  manifest.json
    sites/<site>/findings.csv   sites/<site>/index.html
    evidence/<sha256>.<ext>     (copied from the blob store; PDF pages rendered as PNG)
    assets/report.js  assets/report.css

Columns are described in docs/data-dictionary.md.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from storage import Store

FORMATS = frozenset({"csv", "html", "xlsx"})

__all__ = ["FORMATS", "write_reports"]


def write_reports(store: Store, run_id: int, out_dir: Path,
                  formats: Iterable[str] = frozenset({"csv", "html", "xlsx"})) -> dict[str, Path]:
    """Write the run's reports into ``out_dir``; returns {"csv" (findings.csv), "scores_csv", "disputes_csv",
    "sites_dir", "xlsx", "html" (index.html), "manifest"} -> path, for the formats asked."""
    from reports.csv_files import write_disputes_csv, write_findings_csvs, write_scores_csv
    from reports.diff import since_last_run
    from reports.evidence_files import EvidenceExporter
    from reports.html_report import write_html
    from reports.loader import load_report_data
    from reports.schema import SCHEMA_VERSION
    from reports.self_check import self_check
    from reports.xlsx_workbook import write_xlsx

    wanted = {formats.strip().lower()} if isinstance(formats, str) else {f.strip().lower() for f in formats}
    unknown = wanted - FORMATS
    if unknown or not wanted:
        raise ValueError(f"unknown report format(s) {sorted(unknown)}; choose from {sorted(FORMATS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_report_data(store, run_id)
    exporter = EvidenceExporter(store.blobs, out_dir)
    out: dict[str, Path] = {}

    if "csv" in wanted:
        per_file = write_findings_csvs(data, out_dir, exporter)
        out["csv"] = per_file["findings_csv"]
        out["sites_dir"] = out_dir / "sites"
        out["scores_csv"] = write_scores_csv(data, out_dir)
        out["disputes_csv"] = write_disputes_csv(data, out_dir)
    if "xlsx" in wanted:
        out["xlsx"] = write_xlsx(data, out_dir / "report.xlsx", exporter)
    # copies each evidence file once (writers share the exporter); the self-check counts what was missing
    missing = sum(1 for f in data.findings if (ev := exporter.copy(f.evidence_blob)) is not None and ev.missing)
    warnings = self_check(data, missing_evidence=missing)
    if "html" in wanted:
        out["html"] = write_html(data, out_dir, exporter, since=since_last_run(store, run_id), warnings=warnings)

    manifest = {
        "run_id": run_id,
        "schema_version": SCHEMA_VERSION,
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "as_of": data.run.as_of.isoformat(),
        "assessment_year": data.run.assessment_year,
        "files": {k: str(p.relative_to(out_dir)) for k, p in out.items()},
        "counts": {
            "sites": len(data.sites),
            "findings": len(data.findings),
            "findings_by_status": dict(Counter(f.status for f in data.findings)),
            "score_rows": len(data.scores),
            "disputes_active": sum(1 for d in data.disputes if d.active),
        },
        "self_check": warnings,
    }
    out["manifest"] = out_dir / "manifest.json"
    out["manifest"].write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return out
