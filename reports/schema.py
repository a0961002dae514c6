"""Column lists of the report files and their schema version.

Columns never change silently: any change to a list here bumps ``SCHEMA_VERSION``, is described in
docs/data-dictionary.md, and tests/test_report_csv.py pins the headers so a change cannot slip through.
"""

from __future__ import annotations

from reports.cell_safety import Number

SCHEMA_VERSION = "1"

FINDINGS_COLUMNS: tuple[str, ...] = (
    "run_id", "site_id", "site_name", "unit_type", "check_id", "code", "status", "severity", "message",
    "url", "evidence", "evidence_file", "rubric_items", "first_seen_run", "detected_at", "schema_version",
    # appended after the agreed columns: what an auditor needs to dispute a finding from the spreadsheet
    # (`govaudit dispute FINDING_ID`, or an overrides file keyed on the fingerprint)
    "finding_id", "subject", "fingerprint", "dispute",
)

SCORES_COLUMNS: tuple[str, ...] = (
    "run_id", "site_id", "site_name", "unit_type", "rubric_id", "indicator_id", "path", "name", "mode",
    "max_points", "deducted", "bonus", "score", "basis", "explanation", "adjusted", "grade", "rank",
    "schema_version",
)

DISPUTES_COLUMNS: tuple[str, ...] = (
    "dispute_id", "site_id", "fingerprint", "finding_id", "check_id", "code", "subject", "reason", "author",
    "created_at", "active", "source", "schema_version",
)

ITEM_SEPARATOR = "; "  # between entries of a multi-valued cell (rubric_items, basis)


def fmt_points(value: float | None) -> Number:
    """Points as stored, for display: rounded to 4 places only to hide float noise (0.1+0.2), '' = none."""
    if value is None:
        return Number("")
    text = f"{round(float(value), 4):.4f}".rstrip("0").rstrip(".")
    return Number("0" if text in ("-0", "") else text)


def fmt_time(value) -> str:
    return value.replace(microsecond=0).isoformat(sep=" ") if value is not None else ""
