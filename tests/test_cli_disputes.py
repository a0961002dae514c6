"""`govaudit dispute` end to end on a scored run: the score changes, the finding stays on record."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from checks.base import fingerprint
from govaudit.cli import main
from govaudit.pipeline import create_run
from govaudit.sites import SiteSpec
from rubric_map.engine import score_run
from storage import models as m


def _scored_run(store) -> tuple[int, int]:
    site = SiteSpec(site_id="czj", name="青山县财政局", unit_type="department", url="http://127.0.0.14/",
                    rubric="changning-2020-department", category="B")
    run_id = create_run(store, [site], as_of=dt.date(2026, 11, 20))
    rows = [("guide", "guide.present", "pass", ""), ("guide", "guide.element_missing", "fail", "传真号码"),
            ("columns", "columns.present", "pass", "政策")]
    with store.session() as s:
        for check, code, status, subject in rows:
            s.add(m.Finding(run_id=run_id, site_id="czj", check_id=check, check_version="1", code=code,
                            status=status, subject=subject, fingerprint=fingerprint(check, code, subject),
                            message=f"{code} {subject}"))
        s.flush()
        fid = s.scalar(select(m.Finding.id).where(m.Finding.code == "guide.element_missing"))
    score_run(store, run_id, ["czj"])
    return run_id, fid


def _total(store, run_id: int) -> m.Score:
    with store.session() as s:
        return s.scalar(select(m.Score).where(m.Score.run_id == run_id, m.Score.indicator_id == "__total__"))


def test_dispute_withdraw_and_overrides_file_rescore(store, tmp_path, capsys) -> None:
    run_id, fid = _scored_run(store)
    db = ["--db", store.url, "--blobs", str(store.blobs.root)]
    before = _total(store, run_id).score

    assert main([*db, "dispute", str(fid), "--reason", "指南第三节已列明传真号码"]) == 0
    out = capsys.readouterr().out
    after = _total(store, run_id)
    assert after.score == before + 0.5 and after.adjusted
    assert "→" in out

    assert main([*db, "disputes"]) == 0
    assert "指南第三节已列明传真号码" in capsys.readouterr().out
    with store.session() as s:
        dispute_id = s.scalar(select(m.Dispute.id))
        assert s.get(m.Finding, fid) is not None  # the finding stays on record

    assert main([*db, "dispute", "--withdraw", str(dispute_id)]) == 0
    assert _total(store, run_id).score == before

    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("- site_id: czj\n  code: guide.element_missing\n  subject: 传真号码\n"
                         "  reason: 经核实已公开\n", encoding="utf-8")
    assert main([*db, "dispute", "--overrides", str(overrides)]) == 0
    assert _total(store, run_id).score == before + 0.5
    overrides.write_text("[]\n", encoding="utf-8")  # entry removed from the file: withdrawn
    assert main([*db, "dispute", "--overrides", str(overrides)]) == 0
    assert _total(store, run_id).score == before


def test_dispute_needs_a_reason(store, capsys) -> None:
    _, fid = _scored_run(store)
    assert main(["--db", store.url, "dispute", str(fid)]) == 2
    assert "usage" in capsys.readouterr().err
