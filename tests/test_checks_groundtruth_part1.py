"""Checks part 1 (`columns`, `guide`, `annual_report`) measured against the demo platforms' ground truth.

Uses the session's crawled demo run (tests/conftest.py `demo_run`: the platforms are served on loopback,
crawled, checked and scored once for the whole test session) and reads the findings the pipeline stored.
Precision must be 1.0 (a false deduction harms a real agency) and recall at least 0.95.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from govaudit.demo.groundtruth import evaluate, summary_table
from storage import models as m

pytestmark = pytest.mark.integration

CHECKS = ("columns", "guide", "annual_report")


def _stored_findings(demo_run) -> list[dict]:
    with demo_run.store.session() as s:
        rows = s.scalars(select(m.Finding).where(m.Finding.run_id == demo_run.run_id,
                                                 m.Finding.check_id.in_(CHECKS))).all()
        return [{"site_id": f.site_id, "check_id": f.check_id, "code": f.code, "status": f.status,
                 "subject": f.subject, "message": f.message, "evidence": f.evidence} for f in rows]


def test_precision_and_recall_on_the_demo_ground_truth(demo_run) -> None:
    findings = _stored_findings(demo_run)
    result = evaluate(findings, demo_run.truth, CHECKS)
    report = summary_table(result)
    for check in CHECKS:
        metrics = result[check]
        assert metrics.tp + metrics.fn > 0, f"the demo injects no {check} defect: nothing is measured"
        assert metrics.precision == 1.0, f"{report}\nfalse positives: {metrics.false_positives}"
        assert metrics.recall >= 0.95, f"{report}\nmissed: {metrics.misses}"


def test_expected_statuses_and_evidence(demo_run) -> None:
    findings = _stored_findings(demo_run)
    by_key = {(f["site_id"], f["check_id"], f["subject"]): f for f in findings}
    for site_id, site in demo_run.truth["sites"].items():
        for exp in site.get("expect_status", []):
            if exp.get("check") not in CHECKS:
                continue
            got = [f for f in findings if (f["site_id"], f["check_id"], f["subject"]) ==
                   (site_id, exp["check"], exp["subject"]) and (not exp.get("code") or f["code"] == exp["code"])]
            assert got and all(f["status"] == exp["status"] for f in got), (site_id, exp, got)
    # every failing finding says what it is about and quotes its evidence
    for f in findings:
        if f["status"] == "fail":
            assert f["message"] and f["evidence"], f
    assert by_key  # findings were stored for these checks
