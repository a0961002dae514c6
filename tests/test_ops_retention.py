"""Retention: prune keeps the newest N runs whole — every blob they reference stays readable — and deletes
older runs' rows and the blobs only they used."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from sqlalchemy import func, select

from govaudit.cli import main
from storage import models as m
from storage import open_store
from storage.retention import BLOB_COLUMNS, prune

AS_OF = dt.date(2026, 11, 20)


def _make_run(store, night: int, shared: dict[str, str]) -> dict[str, str]:
    """One run of one site: a page whose body is the same every night (a shared blob), a page and a PDF
    that change every night, a screenshot and a finding's evidence file. Returns its blob shas."""
    blobs = {
        "home": shared["home"],
        "list": store.blobs.put(f"<html>list night {night}</html>".encode()),
        "pdf": store.blobs.put(f"%PDF-1.4 night {night}".encode()),
        "shot": store.blobs.put(f"PNG screenshot night {night}".encode()),
        "evidence": store.blobs.put(f"PNG page image night {night}".encode()),
    }
    with store.session() as s:
        if s.get(m.Site, "u1") is None:
            s.add(m.Site(site_id="u1", name="某县", unit_type="county", url="http://x/", rubric="r"))
            s.flush()
        prev = s.scalar(select(func.max(m.Run.id)))
        run = m.Run(kind="nightly", status="finished", as_of=AS_OF, assessment_year=2026, tool_version="t",
                    previous_run_id=prev)
        s.add(run)
        s.flush()
        s.add(m.RunSite(run_id=run.id, site_id="u1", name="某县", unit_type="county", url="http://x/",
                        status="scored"))
        home = m.Page(run_id=run.id, site_id="u1", url="http://x/", fetch_status="ok", sha256=blobs["home"])
        lst = m.Page(run_id=run.id, site_id="u1", url="http://x/list", fetch_status="ok", sha256=blobs["list"],
                     screenshot_sha256=blobs["shot"])
        s.add_all([home, lst])
        s.flush()
        top = m.Column(run_id=run.id, site_id="u1", name="法定主动公开内容")
        s.add(top)
        s.flush()
        col = m.Column(run_id=run.id, site_id="u1", name="财政信息", parent_id=top.id, level=2)
        s.add(col)
        s.flush()
        s.add(m.ColumnItem(run_id=run.id, site_id="u1", column_id=col.id, title="预算"))
        doc = m.Document(run_id=run.id, site_id="u1", page_id=lst.id, url="http://x/doc")
        s.add(doc)
        s.flush()
        s.add(m.Attachment(run_id=run.id, site_id="u1", document_id=doc.id, page_url="http://x/doc",
                           url="http://x/a.pdf", sha256=blobs["pdf"]))
        s.add(m.Link(run_id=run.id, site_id="u1", from_url="http://x/", to_url="http://x/list"))
        f = m.Finding(run_id=run.id, site_id="u1", check_id="pdf_label", check_version="1",
                      code="pdf_label.missing", status="fail", fingerprint=f"{night:040d}", message="缺少",
                      evidence_file=blobs["evidence"])
        s.add(f)
        s.flush()
        s.add(m.Score(run_id=run.id, site_id="u1", rubric_id="r", indicator_id="__total__", score=90.0,
                      basis=[f.id]))
        s.add(m.Dispute(site_id="u1", fingerprint=f.fingerprint, finding_id=f.id, reason="已更新"))
    return blobs


def _age_all_blobs(store, seconds: float = 7200) -> None:
    old = time.time() - seconds
    for sha in store.blobs.iter_shas():
        os.utime(store.blobs.path(sha), (old, old))


def _referenced(store) -> set[str]:
    with store.session() as s:
        return {v for col in BLOB_COLUMNS for v in s.scalars(select(col)) if v}


def _exercise_prune(store) -> None:
    shared = {"home": store.blobs.put(b"<html>home, unchanged every night</html>")}
    nights = [_make_run(store, n, shared) for n in range(4)]
    stray = store.blobs.put(b"a blob no row ever referenced")
    _age_all_blobs(store)
    fresh = store.blobs.put(b"written a moment ago by a crawl elsewhere")  # too young to judge

    dry = prune(store, 2, dry_run=True)
    assert dry.deleted_runs == [1, 2] and dry.blobs_deleted == 2 * 4 + 1
    assert all(store.blobs.exists(sha) for night in nights for sha in night.values())  # dry run deletes nothing

    report = prune(store, 2)
    assert report.kept_runs == [3, 4] and report.deleted_runs == [1, 2]
    # every blob of a kept run is still there and readable, including the one shared with deleted runs
    for night in nights[2:]:
        for sha in night.values():
            assert store.blobs.get(sha)
    assert _referenced(store) <= set(store.blobs.iter_shas())
    # blobs only the deleted runs used are gone; an unreferenced old blob too; a fresh one stays
    for night in nights[:2]:
        for name, sha in night.items():
            assert store.blobs.exists(sha) == (name == "home"), name
    assert not store.blobs.exists(stray)
    assert store.blobs.exists(fresh) and report.blobs_too_young == 1
    assert report.blobs_deleted == 2 * 4 + 1

    with store.session() as s:
        assert sorted(s.scalars(select(m.Run.id))) == [3, 4]
        for model in (m.Page, m.Column, m.ColumnItem, m.Document, m.Attachment, m.Link, m.Finding, m.Score,
                      m.RunSite):
            assert set(s.scalars(select(model.run_id))) == {3, 4}, model.__tablename__
        assert s.get(m.Run, 3).previous_run_id is None  # pointed at a deleted run
        assert s.get(m.Run, 4).previous_run_id == 3
        disputes = s.scalars(select(m.Dispute)).all()
        assert len(disputes) == 4  # disputes follow fingerprints: kept, detached from deleted findings
        assert sum(d.finding_id is None for d in disputes) == 2
        assert s.get(m.Site, "u1") is not None

    again = prune(store, 2, min_age=0)  # idempotent; now the fresh unreferenced blob goes too
    assert again.deleted_runs == [] and again.blobs_deleted == 1 and not store.blobs.exists(fresh)


def test_prune_keeps_every_blob_of_kept_runs_sqlite(store) -> None:
    _exercise_prune(store)


@pytest.mark.services
def test_prune_keeps_every_blob_of_kept_runs_postgresql(pg_url, tmp_path) -> None:
    store = open_store(pg_url, tmp_path / "blobs")
    try:
        _exercise_prune(store)
    finally:
        store.engine.dispose()


def test_prune_refuses_to_keep_nothing(store) -> None:
    with pytest.raises(ValueError):
        prune(store, 0)


def test_prune_command_and_setting(tmp_path, capsys, monkeypatch) -> None:
    db, blobs = f"sqlite:///{tmp_path / 'g.db'}", tmp_path / "blobs"
    store = open_store(db, blobs)
    shared = {"home": store.blobs.put(b"home")}
    for n in range(3):
        _make_run(store, n, shared)
    _age_all_blobs(store)
    monkeypatch.delenv("GOVAUDIT_KEEP_RUNS", raising=False)
    assert main(["--db", db, "--blobs", str(blobs), "prune"]) == 2  # no setting: nothing is pruned by default
    monkeypatch.setenv("GOVAUDIT_KEEP_RUNS", "1")
    assert main(["--db", db, "--blobs", str(blobs), "prune", "--dry-run"]) == 0
    assert "would delete run(s) 1, 2" in capsys.readouterr().out
    assert main(["--db", db, "--blobs", str(blobs), "prune"]) == 0
    assert "deleted run(s) 1, 2" in capsys.readouterr().out
    with store.session() as s:
        assert list(s.scalars(select(m.Run.id))) == [3]
    monkeypatch.setenv("GOVAUDIT_KEEP_RUNS", "many")
    assert main(["--db", db, "--blobs", str(blobs), "prune"]) == 2
    assert "whole number" in capsys.readouterr().err
