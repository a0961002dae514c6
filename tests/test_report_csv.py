"""findings.csv, scores.csv and disputes.csv: stable columns, Chinese in Excel, formula injection."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from reports import write_reports
from reports.cell_safety import csv_cell, safe_name
from reports.loader import basis_finding_ids
from reports.schema import DISPUTES_COLUMNS, FINDINGS_COLUMNS, SCHEMA_VERSION, SCORES_COLUMNS, fmt_points
from tests.test_report_fixtures import RUBRIC, ReportDB, scenario

# Pinned on purpose: changing a column means bumping SCHEMA_VERSION and the data dictionary, then this.
PINNED_FINDINGS = [
    "run_id", "site_id", "site_name", "unit_type", "check_id", "code", "status", "severity", "message",
    "url", "evidence", "evidence_file", "rubric_items", "first_seen_run", "detected_at", "schema_version",
    "finding_id", "subject", "fingerprint", "dispute",
]
PINNED_SCORES = [
    "run_id", "site_id", "site_name", "unit_type", "rubric_id", "indicator_id", "path", "name", "mode",
    "max_points", "deducted", "bonus", "score", "basis", "explanation", "adjusted", "grade", "rank",
    "schema_version",
]


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM to show Chinese"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("csv")
    sc = scenario(tmp)
    out = write_reports(sc.db.store, sc.run2, tmp / "out", formats={"csv"})
    return sc, out


def test_headers_are_pinned_and_versioned(written):
    _, out = written
    assert list(FINDINGS_COLUMNS) == PINNED_FINDINGS
    assert list(SCORES_COLUMNS) == PINNED_SCORES
    assert SCHEMA_VERSION == "1"
    header, rows = read_csv(out["csv"])
    assert header == PINNED_FINDINGS
    assert {r["schema_version"] for r in rows} == {SCHEMA_VERSION}
    header, _ = read_csv(out["scores_csv"])
    assert header == PINNED_SCORES
    header, _ = read_csv(out["disputes_csv"])
    assert header == list(DISPUTES_COLUMNS)


def test_data_dictionary_describes_every_column():
    text = (Path(__file__).parents[1] / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert f"schema version {SCHEMA_VERSION}" in text.lower()
    for col in (*FINDINGS_COLUMNS, *SCORES_COLUMNS, *DISPUTES_COLUMNS):
        assert f"`{col}`" in text, f"data dictionary lacks column {col}"


def test_one_row_per_finding_passes_included_with_chinese(written):
    sc, out = written
    _, rows = read_csv(out["csv"])
    assert len(rows) == 9  # every finding of run 2, whatever its status
    assert {r["status"] for r in rows} == {"fail", "pass", "unverifiable"}
    fax = next(r for r in rows if r["finding_id"] == str(sc.ids["fax"]))
    assert fax["site_name"] == "青山镇人民政府"
    assert fax["message"] == "指南缺少传真号码"
    assert fax["unit_type"] == "township"
    assert fax["subject"] == "传真号码"
    assert fax["detected_at"] == "2026-11-20 08:30:00"


def test_per_site_files_partition_the_run_file(written):
    sc, out = written
    _, all_rows = read_csv(out["csv"])
    total = 0
    for site in ("qingshan", "lushui", "hefeng"):
        _, rows = read_csv(out["sites_dir"] / site / "findings.csv")
        assert {r["site_id"] for r in rows} <= {site}
        total += len(rows)
    assert total == len(all_rows)
    # a unit without findings still gets its file (header only), so a missing file always means trouble
    _, hefeng = read_csv(out["sites_dir"] / "hefeng" / "findings.csv")
    assert hefeng == []


def test_rubric_items_come_from_the_scores_basis(written):
    sc, out = written
    _, rows = read_csv(out["csv"])
    by_id = {int(r["finding_id"]): r for r in rows}
    assert by_id[sc.ids["fax"]]["rubric_items"] == f"{RUBRIC}:2.1 公开指南 / 要素齐全"
    assert by_id[sc.ids["pdf"]]["rubric_items"] == f"{RUBRIC}:3.2 公开属性 / PDF标注"
    assert by_id[sc.ids["phone"]]["rubric_items"] == ""  # a pass no indicator consumed


def test_first_seen_run_looks_back_across_runs(written):
    sc, out = written
    _, rows = read_csv(out["csv"])
    by_id = {int(r["finding_id"]): r for r in rows}
    assert by_id[sc.ids["fax"]]["first_seen_run"] == str(sc.run1)  # already failing in run 1
    assert by_id[sc.ids["hours"]]["first_seen_run"] == str(sc.run2)  # new in run 2


def test_formula_injection_is_neutralised(written):
    sc, out = written
    _, rows = read_csv(out["csv"])
    hours = next(r for r in rows if r["finding_id"] == str(sc.ids["hours"]))
    assert hours["evidence"].startswith("'=HYPERLINK(")
    for value in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"):
        assert csv_cell(value) == "'" + value
    assert csv_cell("政策") == "政策"
    assert csv_cell(3) == 3
    # numbers we formatted are not crawled text: a negative stays a number for the spreadsheet
    assert csv_cell(fmt_points(-0.5)) == "-0.5"


def test_evidence_files_are_copied_next_to_the_csv(written):
    sc, out = written
    _, rows = read_csv(out["csv"])
    by_id = {int(r["finding_id"]): r for r in rows}
    pdf = by_id[sc.ids["pdf"]]["evidence_file"]
    assert pdf == f"evidence/{sc.shas['pdf']}.pdf"
    root = out["csv"].parent
    assert (root / pdf).read_bytes() == sc.db.store.blobs.get(sc.shas["pdf"])
    # no own evidence file: the screenshot of the finding's page stands in
    assert by_id[sc.ids["fax"]]["evidence_file"] == f"evidence/{sc.shas['shot']}.png"
    assert by_id[sc.ids["scan"]]["evidence_file"] == ""


def test_scores_csv_shows_stored_values_never_recomputed(written):
    sc, out = written
    _, rows = read_csv(out["scores_csv"])
    q = [r for r in rows if r["site_id"] == "qingshan"]
    assert [r["indicator_id"] for r in q] == ["2.1", "3.2", "9.1", "__total__"]
    total = q[-1]
    # the stored total (87) is shown although 100 - (1 + 0.5) would give 98.5: a report never recomputes
    assert (total["score"], total["grade"], total["rank"]) == ("87", "良好", "2")
    assert q[0]["basis"] == f"{sc.ids['fax']}; {sc.ids['hours']}"
    assert q[0]["deducted"] == "1" and q[0]["max_points"] == "5" and q[0]["mode"] == "automated"
    manual = q[2]
    assert manual["mode"] == "manual" and manual["score"] == ""
    # units ranked: lushui (rank 1) before qingshan (rank 2)
    assert [r["site_id"] for r in rows if r["indicator_id"] == "__total__"] == ["lushui", "qingshan"]


def test_manifest_counts_and_self_check(written):
    _, out = written
    manifest = json.loads(out["manifest"].read_text(encoding="utf-8"))
    assert manifest["counts"]["findings"] == 9
    assert manifest["counts"]["sites"] == 3
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert any("和丰镇人民政府" in w and "没有任何检查结果" in w for w in manifest["self_check"])


def test_missing_blob_and_odd_rows_do_not_crash(tmp_path):
    db = ReportDB(tmp_path)
    db.site("odd/../id 单位", "奇怪单位")
    run = db.run()
    db.run_site(run, "odd/../id 单位")
    gone = "ab" * 32
    db.finding(run, "odd/../id 单位", "guide.missing", evidence_file=gone, details=["not", "a", "dict"])
    db.finding(run, "odd/../id 单位", "guide.outdated", evidence_file="not-a-sha")
    db.finding(run, "odd/../id 单位", "guide.element_present", status="pass", subject="x")
    db.score(run, "odd/../id 单位", "r", "1", max_points=5, score=5,
             basis=[{"finding_id": 1}, "2", None, True, {"x": 1}, 1.5])
    out = write_reports(db.store, run, tmp_path / "out", formats={"csv"})
    _, rows = read_csv(out["csv"])
    cells = {r["code"]: r["evidence_file"] for r in rows}
    assert cells["guide.missing"] == f"missing:{gone}"
    assert cells["guide.outdated"] == "missing:not-a-sha"
    site_dir = out["sites_dir"] / safe_name("odd/../id 单位")
    assert site_dir.parent == out["sites_dir"]  # no path escape from an odd site id
    assert (site_dir / "findings.csv").exists()
    assert basis_finding_ids([{"finding_id": 1}, "2", None, True, {"x": 1}, 1.5]) == (1, 2)


def test_unknown_format_is_refused(tmp_path):
    db = ReportDB(tmp_path)
    run = db.run()
    with pytest.raises(ValueError, match="pdf"):
        write_reports(db.store, run, tmp_path / "out", formats={"pdf"})
    with pytest.raises(LookupError):
        write_reports(db.store, run + 99, tmp_path / "out", formats={"csv"})
    assert set(write_reports(db.store, run, tmp_path / "one", formats="csv")) >= {"csv", "scores_csv"}


def test_safe_name_keeps_plain_ids_and_separates_odd_ones():
    assert safe_name("qingshan-01") == "qingshan-01"
    a, b = safe_name("青山"), safe_name("绿水")
    assert a != b and "/" not in a and ".." not in safe_name("../..")
