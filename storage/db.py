"""Opening the store: database engine (SQLite by default, any SQLAlchemy URL) + blob store + migrations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.blobs import BlobStore

DEFAULT_DB = "sqlite:///govaudit.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def resolve_db_url(db: str | None = None) -> str:
    url = db or os.environ.get("GOVAUDIT_DB") or DEFAULT_DB
    if "://" not in url:  # a bare path means an SQLite file
        url = f"sqlite:///{url}"
    return url


def default_blob_root(db_url: str) -> Path:
    """Blobs live beside an SQLite file; for server databases use GOVAUDIT_BLOBS or ./govaudit-blobs."""
    env = os.environ.get("GOVAUDIT_BLOBS")
    if env:
        return Path(env)
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db_path = Path(url.database)
        return db_path.parent / f"{db_path.stem}-blobs"
    return Path("govaudit-blobs")


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        # WAL: the crawler writes while a reader (progress, report) looks; busy_timeout: no spurious locks
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@dataclass
class Store:
    """The database and the blob store of one govaudit installation."""

    url: str
    engine: Engine
    blobs: BlobStore
    sessionmaker: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        s = self.sessionmaker()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


def open_store(db: str | None = None, blobs: str | os.PathLike[str] | None = None, *, upgrade: bool = True) -> Store:
    url = resolve_db_url(db)
    kwargs: dict = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine)
        db_path = make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    if upgrade:
        migrate(engine)
    blob_root = Path(blobs) if blobs else default_blob_root(url)
    return Store(url=url, engine=engine, blobs=BlobStore(blob_root),
                 sessionmaker=sessionmaker(engine, expire_on_commit=False))
