"""Shared fixtures. The crawled demo run is made once per test session and shared by integration tests."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

IN_CI = bool(os.environ.get("CI"))


def need_service(name: str, reason: str) -> None:
    """Outside CI a missing service skips the test with its reason; in CI it fails (CI must have it)."""
    if IN_CI:
        pytest.fail(f"{name} is required in CI: {reason}")
    pytest.skip(f"{name} not available: {reason}")


@pytest.fixture
def store(tmp_path: Path):
    from storage import open_store

    return open_store(f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "blobs")


def _pg_admin_url() -> str:
    return os.environ.get("GOVAUDIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    try:
        import psycopg
    except ImportError:
        need_service("psycopg", "the psycopg package is not installed")
    admin = _pg_admin_url().replace("postgresql+psycopg://", "postgresql://")
    name = f"govaudit_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        need_service("PostgreSQL", f"cannot connect to 127.0.0.1:5432 ({exc})")
    base = _pg_admin_url().rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> str:
    try:
        import redis
    except ImportError:
        need_service("redis", "the redis package is not installed")
    url = os.environ.get("GOVAUDIT_TEST_REDIS", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        need_service("Redis", f"cannot connect to 127.0.0.1:6379 ({exc})")
    return url


@dataclass
class DemoRun:
    store: Any
    run_id: int
    demo: Any  # govaudit.demo.DemoPlatforms (still serving while the session lasts)
    workdir: Path
    result: Any

    @property
    def truth(self) -> dict:
        return self.demo.ground_truth


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Iterator[DemoRun]:
    """The bundled demo platforms, served on loopback and crawled + checked + scored once per session."""
    from govaudit.demo import AS_OF, ASSESSMENT_YEAR, DemoPlatforms
    from govaudit.demo_run import DEMO_CRAWL_OVERRIDES
    from govaudit.pipeline import create_run, execute_run
    from govaudit.sites import load_sites
    from storage import open_store

    workdir = tmp_path_factory.mktemp("demo")
    demo = DemoPlatforms(workdir / "platforms")
    demo.start()
    try:
        store = open_store(f"sqlite:///{workdir / 'govaudit.db'}", workdir / "blobs")
        run_id = create_run(store, load_sites(demo.sites_file), as_of=AS_OF, assessment_year=ASSESSMENT_YEAR,
                            kind="demo", settings={"crawl_settings": DEMO_CRAWL_OVERRIDES})
        result = execute_run(store, run_id, log_file=workdir / "crawl.log")
        yield DemoRun(store=store, run_id=run_id, demo=demo, workdir=workdir, result=result)
    finally:
        demo.stop()
        shutil.rmtree(workdir / "platforms", ignore_errors=True)
