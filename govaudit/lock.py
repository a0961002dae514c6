"""One run at a time per store.

Two runs writing one store at once would interleave their conditional requests, their resumes and a
prune's blob sweep, so `crawl` (plain, `--nightly`, `--resume`) and `prune` hold the store's lock
exclusively for their whole duration. Distributed workers hold it *shared* while they process a unit:
any number of workers may run together, but never beside a crawl or a prune.

* PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection kept open for the
  duration. Advisory locks are scoped to one database, i.e. one store. The holder's pid, host and run id
  go into that connection's `application_name`, so a refused process can name it from `pg_stat_activity`.
* SQLite: an `fcntl.flock` on `<db file>.lock` beside the database file; the exclusive holder writes who
  it is into the file.

Both are released by the OS / the server when the holder dies (kill -9 included): the flock goes with
the process's open file, the advisory lock with its database session. No stale-lock cleanup exists
because none is needed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from storage import Store

# pg advisory locks take a bigint: a fixed key derived once from the name "govaudit-store-lock"
# (int.from_bytes(sha1(name)[:8]) masked to a positive int64) so every govaudit version agrees on it.
PG_LOCK_KEY = 0x3C1F6E2B9D4A7051
_APP_PREFIX = "govaudit-lock"


@dataclass(frozen=True)
class LockHolder:
    """Who holds the lock, as far as the holder told us."""

    pid: int | None = None
    host: str | None = None
    run_id: int | None = None
    purpose: str | None = None  # crawl / nightly / resume / prune / worker
    since: str | None = None
    shared: bool = False

    def describe(self) -> str:
        if self.pid is None and self.host is None:
            return "an unknown process"
        parts = [f"pid {self.pid}" if self.pid is not None else "pid ?", f"on {self.host or '?'}"]
        if self.purpose:
            parts.append(f"({self.purpose}{' worker' if self.shared and self.purpose != 'worker' else ''})")
        if self.run_id is not None:
            parts.append(f"run {self.run_id}")
        if self.since:
            parts.append(f"since {self.since}")
        return " ".join(parts)


class StoreLocked(Exception):
    """Another process holds the store's lock; carries who (as far as known)."""

    def __init__(self, where: str, holders: list[LockHolder]) -> None:
        self.where = where
        self.holders = holders
        who = "; ".join(h.describe() for h in holders) or "an unknown process"
        super().__init__(f"another govaudit run holds the lock on {where}: {who}")


@dataclass
class _Me:
    purpose: str
    shared: bool
    run_id: int | None = None
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    since: str = field(default_factory=lambda: dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"))

    def as_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host, "run_id": self.run_id, "purpose": self.purpose,
                "since": self.since, "shared": self.shared}


class StoreLock:
    """The lock of one store. Use as a context manager or call acquire()/release()."""

    def __init__(self, store: Store, *, purpose: str = "crawl", shared: bool = False,
                 run_id: int | None = None) -> None:
        self.store = store
        self.me = _Me(purpose=purpose, shared=shared, run_id=run_id)
        self._conn: Connection | None = None
        self._fh: Any = None
        self.held = False

    # ------------------------------------------------------------------------------------------ public
    @property
    def where(self) -> str:
        url = make_url(self.store.url)
        if url.get_backend_name() == "sqlite":
            return str(self._sqlite_lock_path() or "an in-memory SQLite store")
        return url.render_as_string(hide_password=True)

    def acquire(self) -> StoreLock:
        """Take the lock or raise StoreLocked naming the holder. Never waits."""
        if self.held:
            return self
        if self.store.is_sqlite:
            self._acquire_file()
        elif self.store.engine.dialect.name == "postgresql":
            self._acquire_pg()
        else:  # another server database: no portable lock primitive; say so instead of pretending
            raise RuntimeError(f"no run lock for {self.store.engine.dialect.name} stores (use PostgreSQL or SQLite)")
        self.held = True
        return self

    def set_run(self, run_id: int) -> None:
        """Name the run being worked on once it exists, so a refused process can report it."""
        self.me.run_id = run_id
        if not self.held:
            return
        if self._conn is not None:
            self._conn.execute(text("SELECT set_config('application_name', :n, false)"),
                               {"n": self._app_name()})
            self._conn.commit()
        elif self._fh is not None and not self.me.shared:
            self._write_holder_file()

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the session's end releases it anyway
                fn = "pg_advisory_unlock_shared" if self.me.shared else "pg_advisory_unlock"
                self._conn.execute(text(f"SELECT {fn}(:k)"), {"k": PG_LOCK_KEY})
                self._conn.commit()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._fh is not None:
            if not self.me.shared:  # leave no description of a holder that is gone
                with contextlib.suppress(OSError):
                    self._fh.seek(0)
                    self._fh.truncate()
                    self._fh.flush()
            with contextlib.suppress(OSError):
                fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
        self.held = False

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    # ------------------------------------------------------------------------------------------ SQLite
    def _sqlite_lock_path(self) -> Path | None:
        db = make_url(self.store.url).database
        if not db or db == ":memory:":
            return None
        return Path(db).resolve().with_name(Path(db).name + ".lock")

    def _acquire_file(self) -> None:
        path = self._sqlite_lock_path()
        if path is None:  # an in-memory store is private to this process: nothing to exclude
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # "a+" creates the file without truncating the current holder's description
        fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open for the lock's lifetime
        mode = fcntl.LOCK_SH if self.me.shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fh, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = _parse_holder(fh.read())
            fh.close()
            raise StoreLocked(str(path), [holder]) from None
        self._fh = fh
        if self.me.shared:
            # getting it shared proves no exclusive holder lives: what the file says is stale
            fh.seek(0)
            fh.truncate()
            fh.flush()
        else:
            self._write_holder_file()

    def _write_holder_file(self) -> None:
        fh = self._fh
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(self.me.as_dict()) + "\n")
        fh.flush()

    # ------------------------------------------------------------------------------------------ PostgreSQL
    def _app_name(self) -> str:
        # application_name is cut at 63 bytes by the server: keep it short and parseable
        run = self.me.run_id if self.me.run_id is not None else "-"
        mode = "S" if self.me.shared else "X"
        return f"{_APP_PREFIX} {mode} {self.me.purpose[:8]} pid={self.me.pid} run={run} host={self.me.host}"[:63]

    def _acquire_pg(self) -> None:
        conn = self.store.engine.connect()
        try:
            conn.execute(text("SELECT set_config('application_name', :n, false)"), {"n": self._app_name()})
            fn = "pg_try_advisory_lock_shared" if self.me.shared else "pg_try_advisory_lock"
            got = conn.execute(text(f"SELECT {fn}(:k)"), {"k": PG_LOCK_KEY}).scalar()
            conn.commit()  # session-level lock: survives the commit, ends with the session
        except BaseException:
            conn.close()
            raise
        if not got:
            holders = pg_holders(conn)
            conn.close()
            raise StoreLocked(self.where, holders)
        self._conn = conn


def pg_holders(conn: Connection) -> list[LockHolder]:
    """Sessions holding govaudit's advisory lock in this database, as their application_name tells."""
    rows = conn.execute(text(
        "SELECT a.application_name, a.pid, a.client_addr::text, l.mode FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1"),
        {"hi": PG_LOCK_KEY >> 32, "lo": PG_LOCK_KEY & 0xFFFFFFFF}).all()
    out = []
    for app, backend_pid, addr, mode in rows:
        holder = _parse_app_name(app or "")
        if holder is None:  # not one of ours (or an old client): name the server session instead
            holder = LockHolder(pid=None, host=addr or "local socket",
                                purpose=f"postgres backend {backend_pid}", shared=mode == "ShareLock")
        out.append(holder)
    return out


def _parse_app_name(app: str) -> LockHolder | None:
    if not app.startswith(_APP_PREFIX + " "):
        return None
    parts = app.split(" ")
    fields = dict(p.split("=", 1) for p in parts[3:] if "=" in p)
    try:
        pid = int(fields.get("pid", ""))
    except ValueError:
        pid = None
    run = fields.get("run", "-")
    return LockHolder(pid=pid, host=fields.get("host"), run_id=int(run) if run.isdigit() else None,
                      purpose=parts[2] if len(parts) > 2 else None, shared=parts[1] == "S")


def _parse_holder(content: str) -> LockHolder:
    try:
        data = json.loads(content.strip().splitlines()[0]) if content.strip() else {}
    except (ValueError, IndexError):
        data = {}
    if not isinstance(data, dict) or not data:
        # the file is only written by exclusive holders: an empty one means shared holders (workers)
        return LockHolder(purpose="worker", shared=True)
    return LockHolder(pid=data.get("pid"), host=data.get("host"), run_id=data.get("run_id"),
                      purpose=data.get("purpose"), since=data.get("since"), shared=bool(data.get("shared")))


@contextlib.contextmanager
def store_lock(store: Store, *, purpose: str = "crawl", shared: bool = False,
               run_id: int | None = None) -> Iterator[StoreLock]:
    """`with store_lock(store, purpose="nightly") as lock: ... lock.set_run(run_id)`"""
    lock = StoreLock(store, purpose=purpose, shared=shared, run_id=run_id)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
