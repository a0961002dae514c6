"""The store lock: one run at a time per store, the second refused with exit 5 naming the holder, and a
killed holder (kill -9) frees it — on SQLite (fcntl) and PostgreSQL (advisory lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from govaudit import EXIT_LOCKED
from govaudit.cli import main
from govaudit.lock import StoreLock, StoreLocked
from storage import open_store

ROOT = Path(__file__).resolve().parents[1]

SITES = "site_id,name,unit_type,url,rubric\nu1,某县人民政府,county,http://127.0.0.1:9/,changning-2020-township\n"

HOLDER = textwrap.dedent("""
    import sys, time
    from storage import open_store
    from govaudit.lock import StoreLock
    store = open_store(sys.argv[1], sys.argv[2])
    lock = StoreLock(store, purpose=sys.argv[3], shared=sys.argv[4] == "shared").acquire()
    lock.set_run(int(sys.argv[5]))
    print("held", flush=True)
    time.sleep(600)
""")


def _start_holder(db: str, blobs: Path, purpose: str = "nightly", shared: bool = False,
                  run_id: int = 77) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, db, str(blobs), purpose,
                             "shared" if shared else "exclusive", str(run_id)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # blocks until the child holds the lock (or dies)
    assert line.strip() == "held", f"holder did not start (exit {proc.poll()})"
    return proc


def _kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _exercise(db: str, tmp_path: Path, capsys) -> None:
    blobs = tmp_path / "blobs"
    store = open_store(db, blobs)
    sites = tmp_path / "units.csv"
    sites.write_text(SITES, encoding="utf-8")
    holder = _start_holder(db, blobs)
    try:
        with pytest.raises(StoreLocked) as exc:
            StoreLock(store, purpose="crawl").acquire()
        [who] = exc.value.holders
        assert (who.pid, who.run_id, who.purpose) == (holder.pid, 77, "nightly")
        # the CLI refuses before creating a run: exit 5 and a message naming pid, host and run
        code = main(["--db", db, "--blobs", str(blobs), "crawl", "--sites", str(sites), "--nightly"])
        err = capsys.readouterr().err
        assert code == EXIT_LOCKED
        assert f"pid {holder.pid}" in err and "run 77" in err and os.uname().nodename in err
        assert main(["--db", db, "--blobs", str(blobs), "prune", "--keep-runs", "1"]) == EXIT_LOCKED
        assert main(["--db", db, "--blobs", str(blobs), "runs"]) == 0
        assert "no runs yet" in capsys.readouterr().out
    finally:
        _kill9(holder)
    # kill -9 released it: no stale lock to clean
    with StoreLock(store, purpose="crawl") as lock:
        assert lock.held
    store.engine.dispose()


def test_sqlite_lock_refuses_second_run_and_is_freed_by_kill9(tmp_path, capsys) -> None:
    _exercise(f"sqlite:///{tmp_path / 'g.db'}", tmp_path, capsys)


@pytest.mark.services
def test_postgresql_lock_refuses_second_run_and_is_freed_by_kill9(pg_url, tmp_path, capsys) -> None:
    _exercise(pg_url, tmp_path, capsys)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def test_workers_share_the_lock_but_exclude_a_crawl(backend, tmp_path, request) -> None:
    db = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'g.db'}"
    store = open_store(db, tmp_path / "blobs")
    worker = _start_holder(db, tmp_path / "blobs", purpose="worker", shared=True, run_id=5)
    try:
        with StoreLock(store, purpose="worker", shared=True):  # a second worker is welcome
            pass
        with pytest.raises(StoreLocked) as exc:
            StoreLock(store, purpose="crawl").acquire()
        assert "worker" in str(exc.value)
    finally:
        _kill9(worker)
    crawl = StoreLock(store, purpose="crawl").acquire()
    try:
        with pytest.raises(StoreLocked):
            StoreLock(store, purpose="worker", shared=True).acquire()
    finally:
        crawl.release()
    store.engine.dispose()


def test_sqlite_holder_description_is_cleared_on_release(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}", tmp_path / "blobs")
    with StoreLock(store, purpose="nightly", run_id=3):
        assert '"run_id": 3' in (tmp_path / "g.db.lock").read_text()
    assert (tmp_path / "g.db.lock").read_text() == ""
