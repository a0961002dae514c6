"""The ground-truth evaluator: how findings are scored against the demo platforms' truth."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from govaudit.demo.groundtruth import evaluate, subject_matches, summary_table

TRUTH = {
    "as_of": "2026-11-20",
    "assessment_year": 2026,
    "sites": {
        "a": {
            "defects": [
                {"check": "guide", "code": "guide.element_missing", "subject": "传真号码", "note": ""},
                {"check": "annual_report", "code": "annual_report.table_inconsistent", "subject": "2025",
                 "match": "prefix", "note": ""},
                {"check": "pdf_label", "code": "pdf_label.missing", "subject": "/x/1.pdf", "note": ""},
            ],
            "expect_status": [
                {"check": "pdf_label", "code": "pdf_label.unverifiable", "subject": "/x/scan.pdf",
                 "status": "unverifiable", "note": "image only"},
            ],
        },
        "b": {"defects": [{"check": "guide", "code": "guide.missing", "subject": "", "note": ""}],
              "expect_status": []},
    },
}


def f(site: str, code: str, subject: str, status: str = "fail") -> dict:
    return {"site_id": site, "check_id": code.split(".")[0], "code": code, "status": status, "subject": subject}


PERFECT = [
    f("a", "guide.element_missing", "传真号码"),
    f("a", "annual_report.table_inconsistent", "2025/applications.total_by_result"),
    f("a", "pdf_label.missing", "/x/1.pdf"),
    f("b", "guide.missing", ""),
]


def test_perfect_findings_score_one():
    result = evaluate(PERFECT + [f("a", "guide.element_present", "邮政编码", "pass")], TRUTH)
    for check, m in result.items():
        assert (m.precision, m.recall, m.fp, m.fn) == (1.0, 1.0, 0, 0), check
    assert result["guide"].tp == 2
    assert "guide" in summary_table(result)


def test_one_false_positive_lowers_precision_only():
    result = evaluate(PERFECT + [f("a", "guide.element_missing", "邮政编码")], TRUTH)
    g = result["guide"]
    assert (g.tp, g.fp, g.fn) == (2, 1, 0)
    assert g.precision == pytest.approx(2 / 3)
    assert g.recall == 1.0
    assert g.false_positives[0]["subject"] == "邮政编码"


def test_one_miss_lowers_recall_only():
    result = evaluate([x for x in PERFECT if x["site_id"] != "b"], TRUTH)
    g = result["guide"]
    assert (g.tp, g.fp, g.fn) == (1, 0, 1)
    assert g.recall == 0.5 and g.precision == 1.0
    assert g.misses == [{"site_id": "b", "check": "guide", "code": "guide.missing", "subject": "", "note": ""}]


def test_prefix_match_takes_any_identity_of_the_year_but_not_another_year():
    two = [f("a", "annual_report.table_inconsistent", "2025/applications.carry_over"),
           f("a", "annual_report.table_inconsistent", "2025/review.行政复议")]
    m = evaluate(two, TRUTH)["annual_report"]
    assert (m.tp, m.fp, m.fn, m.matched) == (1, 0, 0, 2)
    wrong_year = evaluate([f("a", "annual_report.table_inconsistent", "2024/applications.carry_over"),
                           f("a", "annual_report.table_inconsistent", "20251/x")], TRUTH)["annual_report"]
    assert (wrong_year.tp, wrong_year.fp, wrong_year.fn) == (0, 2, 1)
    assert subject_matches({"subject": "2025", "match": "prefix"}, "2025")
    assert not subject_matches({"subject": "2025"}, "2025/x")


def test_fail_on_an_expect_status_subject_is_a_false_positive_whatever_its_code():
    findings = PERFECT + [f("a", "pdf_label.unverifiable", "/x/scan.pdf", "unverifiable"),
                          f("a", "pdf_label.missing", "/x/scan.pdf")]
    m = evaluate(findings, TRUTH)["pdf_label"]
    assert (m.tp, m.fp, m.fn) == (1, 1, 0)
    assert "expected unverifiable" in m.false_positives[0]["why"]


def test_same_code_and_subject_on_another_site_does_not_match():
    m = evaluate([f("b", "pdf_label.missing", "/x/1.pdf")], TRUTH)["pdf_label"]
    assert (m.tp, m.fp, m.fn) == (0, 1, 1)


@dataclass
class Row:  # an ORM-like object: attributes instead of keys, check id derived from the code if absent
    site_id: str
    code: str
    status: str
    subject: str | None


def test_objects_and_missing_check_id_are_accepted_and_checks_filter():
    rows = [Row("b", "guide.missing", "fail", None)]
    result = evaluate(rows, TRUTH, checks=["guide", "columns"])
    assert set(result) == {"guide", "columns"}
    assert result["guide"].tp == 1 and result["guide"].fn == 1  # 传真号码 on site a still missed
    assert result["columns"].precision == 1.0 and result["columns"].recall == 1.0
