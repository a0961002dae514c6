"""Issue 2's "done when": the demo crawls for real, findings come from real crawling, and the stored evidence
lets `govaudit check` re-run a check without the network and give the same answer."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from govaudit.cli import main
from storage import models as m

pytestmark = pytest.mark.integration


def _count(store, model, run_id, **where) -> int:
    with store.session() as s:
        q = select(func.count()).select_from(model).where(model.run_id == run_id)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.scalar(q)


def test_demo_run_crawls_checks_and_scores_every_site(demo_run) -> None:
    store, run_id = demo_run.store, demo_run.run_id
    truth_sites = set(demo_run.truth["sites"])
    with store.session() as s:
        statuses = dict(s.execute(select(m.RunSite.site_id, m.RunSite.status)
                                  .where(m.RunSite.run_id == run_id)).all())
        run = s.get(m.Run, run_id)
    assert set(statuses) == truth_sites
    assert run.status == "finished"
    assert all(st == "scored" for st in statuses.values()), statuses
    assert _count(store, m.Page, run_id) > 100
    assert _count(store, m.Finding, run_id, status="fail") > 0
    assert _count(store, m.Finding, run_id, status="pass") > 0
    with store.session() as s:
        totals = s.scalars(select(m.Score).where(m.Score.run_id == run_id,
                                                 m.Score.indicator_id == "__total__")).all()
    assert {t.site_id for t in totals} == truth_sites


def test_check_reruns_offline_from_stored_evidence(demo_run, capsys, monkeypatch) -> None:
    """With every socket forbidden, the same check twice on the stored evidence gives identical findings."""
    import socket

    def no_network(*_a, **_k):
        raise AssertionError("a check tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    store, run_id = demo_run.store, demo_run.run_id
    site = next(iter(sorted(demo_run.truth["sites"])))
    args = ["--db", store.url, "--blobs", str(store.blobs.root), "check", "guide", "--site", site,
            "--run", str(run_id), "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert first == second and first
    with store.session() as s:
        stored = s.scalars(select(m.Finding).where(m.Finding.run_id == run_id, m.Finding.site_id == site,
                                                   m.Finding.check_id == "guide")).all()
    assert sorted((f.code, f.subject, f.status) for f in stored) == sorted(
        (f["code"], f["subject"], f["status"]) for f in first)


def test_refetch_reruns_one_check_on_a_fresh_fetch_and_gives_the_same_answer(demo_run, capsys) -> None:
    """`check --refetch` crawls only what the check needs into a new run with the same as-of date."""
    store, run_id = demo_run.store, demo_run.run_id
    base = ["--db", store.url, "--blobs", str(store.blobs.root), "check", "guide", "--site", "qs-sjj",
            "--run", str(run_id), "--json"]
    assert main(base) == 0
    stored = json.loads(capsys.readouterr().out)
    assert main([*base, "--refetch"]) == 0
    fresh = json.loads(capsys.readouterr().out)
    key = lambda fs: sorted((f["code"], f["subject"], f["status"]) for f in fs)  # noqa: E731
    assert key(fresh) == key(stored)
    with store.session() as s:
        run = s.scalars(select(m.Run).order_by(m.Run.id.desc())).first()
        base_run = s.get(m.Run, run_id)
        assert run.id != run_id and run.kind == "refetch" and run.status == "finished"
        assert (run.as_of, run.settings["scope"]) == (base_run.as_of, ["attachments", "documents", "lists", "menu"])
        assert _count(store, m.Page, run.id) < _count(store, m.Page, run_id)  # only what guide needs
