"""A long-lived child process that runs one job at a time within a memory budget and a wall-clock limit.

Why a child at all: files from the open web (PDFs) are parsed by native and pure-Python parsers that a crafted
file can send into an endless loop or a huge allocation, and only a separate process can be killed safely.
Why a *long-lived* one: starting a child per file (fork, memory limit, pipe, reaping) cost more than parsing
the file itself, so one child serves many jobs and is replaced only when it must be:

- after a job overruns its time limit (the child is killed; the job's answer is ``timeout``);
- after it died (a segfault in a native parser, the kernel's OOM killer: ``crashed``);
- after a job ran out of its memory budget (``memory``: the heap may be left in a poor state);
- after ``max_jobs`` jobs, or once it has grown by ``max_growth_mb`` over what it started with, so that
  memory a parser keeps (caches, fragmentation, leaks in native code) cannot pile up over a long run.

Each job gets its own budget: before running it the child sets its address-space limit (RLIMIT_AS) to what it
maps at that moment plus ``max_memory_mb``, so a job in an older child has exactly the room it would have had
in a fresh one. Replies carry the job's sequence number, so an answer can never be taken for another job's.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import os
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

OutcomeKind = Literal["ok", "timeout", "memory", "crashed", "error"]

MAX_JOBS = 200  # jobs per child before it is replaced
MAX_GROWTH_MB = 256  # growth (address space or resident set) over the child's start that retires it


@dataclass(frozen=True)
class Outcome:
    """What became of one job: ``value`` is the function's return value when ``kind == "ok"``."""

    kind: OutcomeKind
    value: Any = None
    detail: str = ""  # why, for anything but ok
    trace: str = ""  # the job's traceback, for an error


class BoundedWorker:
    """One child process, reused across jobs; ``run`` never raises for anything the job does."""

    def __init__(self, *, max_jobs: int = MAX_JOBS, max_growth_mb: int = MAX_GROWTH_MB) -> None:
        self.max_jobs = max_jobs
        self.max_growth_mb = max_growth_mb
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Any = None
        self._owner = os.getpid()
        self._seq = 0
        self.started = 0  # children started so far (tests and the benchmark read it)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._owner == os.getpid() else None

    def run(self, func: Callable[..., Any], args: tuple[Any, ...], *, timeout_s: float,
            max_memory_mb: int) -> Outcome:
        """Run ``func(*args)`` in the child; kill the child if no answer comes within ``timeout_s``."""
        with self._lock:
            self._seq += 1
            seq = self._seq
            try:
                sent = self._send((seq, func, args, max_memory_mb))
                if not sent:
                    return Outcome("crashed", detail="the worker could not be started or reached")
                if not self._conn.poll(timeout_s):
                    self._discard(kill=True)
                    return Outcome("timeout", detail=f"no answer within {timeout_s:g} s")
                try:
                    reply = self._conn.recv()
                except (EOFError, OSError):  # died without answering: segfault in a native parser, OOM kill
                    code = self._discard(kill=True)
                    return Outcome("crashed", detail=f"worker exited ({code})")
            except BaseException:
                # interrupted mid-job (KeyboardInterrupt, a result that cannot be unpickled ...): the child's
                # state is unknown and a late answer must never be read as the next job's
                self._discard(kill=True)
                raise
            got_seq, kind, value, detail, tb, retire = reply
            if got_seq != seq:
                self._discard(kill=True)
                return Outcome("crashed", detail=f"worker answered job {got_seq} instead of {seq}")
            if retire or kind == "memory":
                self._discard(kill=False)
            return Outcome(kind, value, detail, tb)

    def close(self) -> None:
        with self._lock:
            self._discard(kill=False)

    # -- parent side ---------------------------------------------------------------------------------------

    def _send(self, job: tuple[Any, ...]) -> bool:
        # a child that died while idle (killed from outside) is noticed here: start another, once
        for _attempt in range(2):
            if not self._ensure_started():
                return False
            try:
                self._conn.send(job)
                return True
            except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
                self._discard(kill=True)
        return False

    def _ensure_started(self) -> bool:
        if self._owner != os.getpid():
            # this is a forked copy of the process that started the child: that child is not ours to use
            self._proc = self._conn = None
            self._owner = os.getpid()
        if self._proc is not None and self._proc.is_alive():
            return True
        self._discard(kill=True)
        methods = mp.get_all_start_methods()
        # fork: the child inherits the parser modules the parent imported (importing them is most of a
        # fresh interpreter's start-up); spawn is the portable fallback
        ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        parent_end, child_end = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_serve, args=(child_end, parent_end, self.max_jobs, self.max_growth_mb,
                                                os.getpid()),
                           daemon=True, name="govaudit-bounded-worker")
        try:
            proc.start()
        except OSError:
            parent_end.close()
            child_end.close()
            return False
        child_end.close()
        self._proc, self._conn = proc, parent_end
        self.started += 1
        return True

    def _discard(self, *, kill: bool) -> int | None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            try:
                if not kill and proc is not None and proc.is_alive():
                    conn.send(None)  # ask it to leave; it exits on its own
            except OSError:
                pass
            conn.close()
        if proc is None:
            return None
        proc.join(0 if kill else 2)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        return proc.exitcode


# -- child side ----------------------------------------------------------------------------------------------


def _serve(conn: Any, parent_end: Any, max_jobs: int, max_growth_mb: int, parent_pid: int) -> None:
    parent_end.close()  # else the child would keep its own pipe open and never see the parent go away
    _die_with_parent(parent_pid)
    # Ctrl-C goes to the whole process group; the parent decides what happens to a running job
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # a handler inherited from the parent (e.g. the ops worker's "give the unit back" on SIGTERM) must not
    # run here, in a copy of the parent that shares its database connections: a SIGTERM just ends the child
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    start = _memory_usage()
    original = _get_as_limit()
    done = 0
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the parent went away
            return
        if job is None:
            return
        seq, func, args, max_memory_mb = job
        _set_as_limit(max_memory_mb, original)
        kind: OutcomeKind = "ok"
        value: Any = None
        detail = tb = ""
        try:
            value = func(*args)
        except MemoryError:
            kind, value, detail = "memory", None, "memory budget exceeded"
        except BaseException as exc:  # the parent must always get an answer
            kind, detail, tb = "error", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5)
        finally:
            _restore_as_limit(original)
        done += 1
        now = _memory_usage()
        grown = max(now[0] - start[0], now[1] - start[1]) > max_growth_mb * 1024 * 1024
        retire = done >= max_jobs or grown or kind == "memory"
        try:
            conn.send((seq, kind, value, detail, tb, retire))
        except Exception as exc:  # e.g. a result that cannot be pickled
            conn.send((seq, "error", None, f"answer could not be sent: {type(exc).__name__}: {exc}", "", True))
            return
        if retire:
            return


def _die_with_parent(parent_pid: int) -> None:
    """An idle child notices a dead parent (its pipe closes), but one busy with a job that never ends would
    spin on as an orphan, since only the parent enforces the timeout: ask Linux to kill it with the parent.
    (Linux ties this to the thread that started the child: if that thread ends first, the child is killed
    and the next job simply starts another.)"""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the closed pipe still ends an idle child
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(3)


def _memory_usage() -> tuple[int, int]:
    """(address space, resident set) in bytes; zeros where /proc is not available."""
    try:
        with open("/proc/self/statm") as fh:
            size, resident = (int(v) for v in fh.read().split()[:2])
        page = os.sysconf("SC_PAGE_SIZE")
        return size * page, resident * page
    except (OSError, ValueError):
        return 0, 0


def _get_as_limit() -> tuple[int, int] | None:
    try:
        import resource

        return resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None


def _set_as_limit(max_memory_mb: int, original: tuple[int, int] | None) -> None:
    if original is None:
        return  # no rlimit on this platform: the timeout still bounds the job
    import resource

    soft, hard = original
    cap = _memory_usage()[0] + max_memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY:
        cap = min(cap, soft)
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _restore_as_limit(original: tuple[int, int] | None) -> None:
    # between jobs the child only receives bytes the parent already holds: give it back its usual limit
    if original is None:
        return
    import resource

    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_AS, original)


_shared: BoundedWorker | None = None
_shared_lock = threading.Lock()


def shared_worker() -> BoundedWorker:
    """The process-wide worker (started on first use, replaced as described above)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = BoundedWorker()
            atexit.register(_shared.close)
        return _shared


def close_shared_worker() -> None:
    """Stop the process-wide worker (a new one starts on the next job)."""
    with _shared_lock:
        if _shared is not None:
            _shared.close()
