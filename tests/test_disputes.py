"""Disputes: kept on record with reason and date, keyed on site + fingerprint, from the CLI or an
overrides file under version control; reports show them and the adjusted scores."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from checks.base import fingerprint
from reports import write_reports
from reports.disputes import OverridesError, dispute, list_disputes, load_overrides, withdraw
from tests.test_report_fixtures import ReportDB


@pytest.fixture
def db(tmp_path):
    db = ReportDB(tmp_path)
    db.site("qs", "青山县人民政府")
    db.site("ls", "绿水县人民政府")
    db.run_id = db.run()
    db.run_site(db.run_id, "qs")
    db.run_site(db.run_id, "ls")
    db.fax = db.finding(db.run_id, "qs", "guide.element_missing", subject="传真号码", message="指南缺少传真号码")
    db.guide_qs = db.finding(db.run_id, "qs", "guide.missing")
    db.guide_ls = db.finding(db.run_id, "ls", "guide.missing")
    return db


FAX_FP = fingerprint("guide", "guide.element_missing", "传真号码")


def test_dispute_is_recorded_with_reason_date_and_identity(db):
    d = dispute(db.store, db.fax, "  指南第2页列有传真号码  ", author="张三")
    assert (d.site_id, d.fingerprint, d.finding_id) == ("qs", FAX_FP, db.fax)
    assert d.reason == "指南第2页列有传真号码" and d.author == "张三" and d.active and d.source == "cli"
    assert isinstance(d.created_at, dt.datetime)
    assert (d.check_id, d.code, d.subject) == ("guide", "guide.element_missing", "传真号码")
    again = dispute(db.store, db.fax, "指南第2页列有传真号码")
    assert again.id == d.id  # the same dispute twice is one dispute
    other = dispute(db.store, db.fax, "另一个理由")
    assert other.id != d.id
    assert [x.id for x in list_disputes(db.store)] == [d.id, other.id]


def test_bad_dispute_requests_are_refused(db):
    with pytest.raises(ValueError, match="reason"):
        dispute(db.store, db.fax, "   ")
    with pytest.raises(LookupError):
        dispute(db.store, 99999, "理由")


def test_withdrawn_dispute_stays_on_record(db):
    d = dispute(db.store, db.fax, "理由")
    w = withdraw(db.store, d.id)
    assert not w.active
    assert [x.active for x in list_disputes(db.store)] == [False]
    assert list_disputes(db.store, active_only=True) == []
    with pytest.raises(LookupError):
        withdraw(db.store, 12345)


def test_overrides_yaml_by_code_subject_and_by_fingerprint(db, tmp_path):
    f = tmp_path / "overrides.yaml"
    f.write_text(
        "disputes:\n"
        "  - site_id: qs\n"
        "    code: guide.element_missing\n"
        "    subject: 传真号码\n"
        "    reason: 指南第2页列有传真号码\n"
        "    author: 李四\n"
        f"  - site_id: ls\n"
        f"    fingerprint: {fingerprint('guide', 'guide.missing', '')}\n"
        "    reason: 指南在办事指南栏目下\n", encoding="utf-8")
    r = load_overrides(db.store, f)
    assert r.ok and r.errors == [] and r.warnings == []
    assert sorted((d.site_id, d.code) for d in r.added) == [("ls", "guide.missing"), ("qs", "guide.element_missing")]
    assert all(d.source == "overrides_file" for d in r.added)
    fax = next(d for d in r.added if d.site_id == "qs")
    assert fax.finding_id == db.fax and fax.author == "李四"
    # loading the same file again changes nothing
    r2 = load_overrides(db.store, f)
    assert r2.added == [] and r2.withdrawn == [] and len(r2.unchanged) == 2
    assert len(list_disputes(db.store, active_only=True)) == 2


def test_removing_an_entry_withdraws_its_dispute_and_editing_keeps_history(db, tmp_path):
    f = tmp_path / "o.yaml"
    f.write_text("- {site_id: qs, code: guide.missing, reason: 旧理由}\n"
                 "- {site_id: ls, code: guide.missing, reason: 理由}\n", encoding="utf-8")
    load_overrides(db.store, f)
    f.write_text("- {site_id: qs, code: guide.missing, reason: 新理由}\n", encoding="utf-8")
    r = load_overrides(db.store, f)
    assert [d.reason for d in r.added] == ["新理由"]
    assert sorted(d.reason + d.site_id for d in r.withdrawn) == ["旧理由qs", "理由ls"]
    everything = list_disputes(db.store)
    assert len(everything) == 3 and [d.reason for d in everything if d.active] == ["新理由"]
    # a CLI dispute is not the file's to withdraw
    cli = dispute(db.store, db.fax, "人工复核")
    f.write_text("[]\n", encoding="utf-8")
    load_overrides(db.store, f)
    assert [d.id for d in list_disputes(db.store, active_only=True)] == [cli.id]


def test_bad_entries_are_reported_with_file_and_line_and_block_withdrawal(db, tmp_path):
    f = tmp_path / "o.yaml"
    f.write_text("- {site_id: qs, code: guide.missing, reason: 理由}\n", encoding="utf-8")
    load_overrides(db.store, f)
    f.write_text(
        "- {site_id: nosuch, code: guide.missing, reason: x}\n"      # line 1: unknown site
        "- {site_id: qs, code: guide.missing}\n"                     # line 2: no reason
        "- {site_id: qs, fingerprint: xyz, reason: x}\n"             # line 3: bad fingerprint
        f"- {{fingerprint: {fingerprint('guide', 'guide.missing', '')}, reason: x}}\n"  # 4: ambiguous site
        "- just text\n"                                              # line 5: not a mapping
        "- {site_id: ls, reason: x}\n"                               # line 6: names no finding
        "- {site_id: qs, code: guide.element_missing, subject: 传真号码, reason: 好}\n"  # line 7: fine
        "- {site_id: qs, code: guide.element_missing, subject: 传真号码, reason: 重复}\n",  # 8: twice
        encoding="utf-8")
    r = load_overrides(db.store, f)
    assert not r.ok
    lines = sorted(int(e.split(":")[1]) for e in r.errors)
    assert lines == [1, 2, 3, 4, 5, 6, 8]
    assert all(e.startswith(str(f)) for e in r.errors)
    assert any("unknown site_id 'nosuch'" in e for e in r.errors)
    assert any("found in ls, qs" in e for e in r.errors)
    assert [d.code for d in r.added] == ["guide.element_missing"]
    # the file had errors, so the earlier file dispute of qs/guide.missing is not withdrawn
    assert r.withdrawn == []
    assert any(d.code == "guide.missing" and d.active for d in list_disputes(db.store))


def test_unmatched_override_is_kept_with_a_warning(db, tmp_path):
    f = tmp_path / "o.yaml"
    f.write_text("- {site_id: qs, code: guide.element_missing, subject: 传真号, reason: 笔误}\n", encoding="utf-8")
    r = load_overrides(db.store, f)
    assert r.ok and len(r.added) == 1 and r.added[0].finding_id is None
    assert "no stored finding" in r.warnings[0]


def test_overrides_csv_in_gbk_from_excel(db, tmp_path):
    f = tmp_path / "overrides.csv"
    with f.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["site_id", "code", "subject", "reason", "author"])
        w.writerow(["qs", "guide.element_missing", "传真号码", "指南第2页列有传真号码", "王五"])
        w.writerow(["", "", "", "", ""])
        w.writerow(["ls", "guide.missing", "", "", ""])
    r = load_overrides(db.store, f)
    assert [d.reason for d in r.added] == ["指南第2页列有传真号码"]
    assert len(r.errors) == 1 and r.errors[0].startswith(f"{f}:4")


def test_unreadable_overrides_files_raise_a_clear_error(db, tmp_path):
    with pytest.raises(OverridesError, match="cannot read"):
        load_overrides(db.store, tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("disputes: [unclosed\n", encoding="utf-8")
    with pytest.raises(OverridesError, match="not valid YAML"):
        load_overrides(db.store, bad)
    shape = tmp_path / "shape.yaml"
    shape.write_text("foo: bar\n", encoding="utf-8")
    with pytest.raises(OverridesError, match="disputes"):
        load_overrides(db.store, shape)
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert load_overrides(db.store, empty).ok


def test_reports_show_disputes_and_keep_the_finding(db, tmp_path):
    d = dispute(db.store, db.fax, "=指南第2页列有传真号码", author="张三")
    # what the rubric engine writes after re-scoring: the disputed finding left out, scores adjusted
    db.score(db.run_id, "qs", "r", "7", max_points=5, score=5, basis=[], adjusted=True, name="指南")
    db.score(db.run_id, "qs", "r", "__total__", max_points=100, score=100, grade="优秀", rank=1, adjusted=True)
    out = write_reports(db.store, db.run_id, tmp_path / "out", formats={"csv"})
    with out["csv"].open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["finding_id"]: r for r in csv.DictReader(fh)}
    assert rows[str(db.fax)]["status"] == "fail"  # stays on record
    assert rows[str(db.fax)]["dispute"].endswith("=指南第2页列有传真号码")
    assert rows[str(db.guide_qs)]["dispute"] == ""
    with out["disputes_csv"].open(encoding="utf-8-sig", newline="") as fh:
        drows = list(csv.DictReader(fh))
    assert len(drows) == 1
    assert drows[0]["dispute_id"] == str(d.id) and drows[0]["reason"] == "'=指南第2页列有传真号码"
    assert drows[0]["active"] == "yes" and drows[0]["code"] == "guide.element_missing"
    with out["scores_csv"].open(encoding="utf-8-sig", newline="") as fh:
        srows = list(csv.DictReader(fh))
    assert {r["adjusted"] for r in srows} == {"yes"}
