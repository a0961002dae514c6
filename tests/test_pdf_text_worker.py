"""The long-lived bounded worker that parses PDFs: reused across files, replaced whenever it must be.

Each test drives a worker with small module-level jobs (the child gets them by reference) and looks at which
child answered (its pid) and how the job ended. Limits are generous where a slow shared machine could
otherwise trip them; nothing here asserts a duration.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import subprocess
import sys
import time

import pytest

from checks.bounded_worker import BoundedWorker, shared_worker
from checks.pdf_text import PdfLimits, PdfText, read_pdf_text, run_bounded
from tests.evidence_factory import make_pdf

_KEPT: list[bytearray] = []  # in the child: memory a job leaves behind (a parser's cache, a leak)


def _pid() -> int:
    return os.getpid()


def _keep(mb: int) -> int:
    _KEPT.append(bytearray(mb * 1024 * 1024))
    return os.getpid()


def _allocate(mb: int) -> int:
    block = bytearray(mb * 1024 * 1024)
    return len(block) // (1024 * 1024)


def _raise() -> None:
    raise ValueError("a parser bug")


def _segfault() -> None:
    faulthandler.disable()  # pytest's fault handler would print this deliberate crash's stack
    os.kill(os.getpid(), signal.SIGSEGV)


def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _sleep_marked(marker: str, seconds: float) -> None:
    with open(marker, "w") as fh:
        fh.write(str(os.getpid()))
    time.sleep(seconds)


def _unpicklable() -> object:
    return lambda: None


RUN = {"timeout_s": 60.0, "max_memory_mb": 512}


@pytest.fixture()
def worker():
    w = BoundedWorker()
    yield w
    w.close()


def test_one_child_serves_many_jobs(worker: BoundedWorker) -> None:
    pids = {worker.run(_pid, (), **RUN).value for _ in range(5)}
    assert pids == {worker.pid} and worker.started == 1
    assert os.getpid() not in pids


def test_the_shared_worker_reads_many_pdfs_in_one_child() -> None:
    pdf = make_pdf(["青山县人民政府关于开展工作的通知", "2026年5月1日", "（此件公开发布）"])
    first = read_pdf_text(pdf)
    pid, started = shared_worker().pid, shared_worker().started
    for _ in range(3):
        again = read_pdf_text(pdf)
        assert again == first and again.status == "ok" and "此件公开发布" in again.last.pdfium_text
    assert shared_worker().pid == pid and shared_worker().started == started


def test_a_timeout_kills_the_child_and_the_next_job_gets_a_new_one(worker: BoundedWorker) -> None:
    before = worker.run(_pid, (), **RUN).value
    out = worker.run(_sleep, (120,), timeout_s=0.5, max_memory_mb=512)
    assert out.kind == "timeout" and "0.5 s" in out.detail
    with pytest.raises(ProcessLookupError):  # killed, not left running in the background
        for _ in range(100):
            os.kill(before, 0)
            time.sleep(0.05)
    after = worker.run(_pid, (), **RUN)
    assert after.kind == "ok" and after.value != before


def test_a_crash_is_reported_and_the_child_replaced(worker: BoundedWorker) -> None:
    before = worker.run(_pid, (), **RUN).value
    out = worker.run(_segfault, (), **RUN)
    assert out.kind == "crashed" and str(-signal.SIGSEGV) in out.detail
    assert worker.run(_pid, (), **RUN).value not in (None, before)


def test_a_child_killed_while_idle_is_replaced_without_losing_the_job(worker: BoundedWorker) -> None:
    before = worker.run(_pid, (), **RUN).value
    os.kill(before, signal.SIGKILL)
    worker._proc.join(30)  # wait until it is gone (reaped), however slow the machine
    out = worker.run(_pid, (), **RUN)
    assert out.kind == "ok" and out.value != before


def test_an_exception_in_a_job_is_an_error_answer_and_the_child_stays(worker: BoundedWorker) -> None:
    before = worker.run(_pid, (), **RUN).value
    out = worker.run(_raise, (), **RUN)
    assert out.kind == "error" and "ValueError: a parser bug" in out.detail and "_raise" in out.trace
    assert worker.run(_pid, (), **RUN).value == before


def test_an_answer_that_cannot_be_sent_back_is_an_error(worker: BoundedWorker) -> None:
    out = worker.run(_unpicklable, (), **RUN)
    assert out.kind == "error" and "could not be sent" in out.detail
    assert worker.run(_pid, (), **RUN).kind == "ok"


def test_the_child_is_replaced_after_max_jobs() -> None:
    w = BoundedWorker(max_jobs=2)
    try:
        pids = [w.run(_pid, (), **RUN).value for _ in range(5)]
    finally:
        w.close()
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
    assert w.started == 3


def test_a_child_that_keeps_memory_is_retired() -> None:
    w = BoundedWorker(max_growth_mb=64)
    try:
        small = w.run(_keep, (8,), **RUN).value
        assert w.run(_pid, (), **RUN).value == small  # 8 MB kept: under the growth limit
        big = w.run(_keep, (128,), **RUN).value
        assert big == small
        assert w.run(_pid, (), **RUN).value != big  # 136 MB kept: that child left after answering
    finally:
        w.close()


def test_each_job_gets_its_whole_budget_even_in_a_child_that_holds_memory(worker: BoundedWorker) -> None:
    worker.run(_keep, (200,), **RUN)  # the child now maps 200 MB more than when it started
    out = worker.run(_allocate, (100,), timeout_s=60, max_memory_mb=160)
    assert (out.kind, out.value) == ("ok", 100)  # 100 MB fits a 160 MB budget counted from now
    over = worker.run(_allocate, (400,), timeout_s=60, max_memory_mb=160)
    assert over.kind == "memory"


def test_a_job_over_its_budget_is_too_large_and_the_child_replaced() -> None:
    limits = PdfLimits(max_memory_mb=64)
    before = run_bounded(_pid_as_pdftext, (), limits)
    assert run_bounded(_allocate_as_pdftext, (), limits).status == "too_large"
    after = run_bounded(_pid_as_pdftext, (), limits)
    assert before.status == after.status == "ok" and before.page_count != after.page_count


def test_a_crashing_parser_is_an_extractor_error() -> None:
    out = run_bounded(_segfault, (), PdfLimits())
    assert out.status == "extractor_error" and "exited" in out.errors["worker"]
    assert read_pdf_text(make_pdf(["2026年5月1日"])).status == "ok"  # the next file gets a fresh child


def _pid_as_pdftext() -> PdfText:
    return PdfText(status="ok", page_count=os.getpid())


def _allocate_as_pdftext() -> PdfText:
    blocks = [bytearray(64 * 1024 * 1024) for _ in range(64)]
    return PdfText(status="ok", page_count=len(blocks))


def test_the_parents_sigterm_handler_does_not_run_in_the_child(tmp_path, worker: BoundedWorker) -> None:
    # the ops worker gives its unit back on SIGTERM; a forked child running that handler would act on the
    # parent's database connections
    marker = tmp_path / "handled"
    old = signal.signal(signal.SIGTERM, lambda *_: marker.write_text(str(os.getpid())))
    try:
        child = worker.run(_pid, (), **RUN).value
    finally:
        signal.signal(signal.SIGTERM, old)
    os.kill(child, signal.SIGTERM)
    worker._proc.join(30)
    assert worker._proc.exitcode == -signal.SIGTERM and not marker.exists()
    assert worker.run(_pid, (), **RUN).value != child  # it ended; the next job gets a new child


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")  # a zombie has ended
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_a_busy_child_dies_with_its_parent(tmp_path) -> None:
    # kill -9 of the process that owns the worker while a job spins: only the parent enforces the timeout,
    # so the child must not live on as an orphan
    marker = tmp_path / "started"
    code = ("import sys; from checks.bounded_worker import BoundedWorker; "
            "from tests.test_pdf_text_worker import _sleep_marked; "
            f"BoundedWorker().run(_sleep_marked, ({str(marker)!r}, 600), timeout_s=900, max_memory_mb=256)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    owner = subprocess.Popen([sys.executable, "-c", code], cwd=root)
    child = None
    try:
        for _ in range(600):
            if marker.exists() and marker.read_text():
                child = int(marker.read_text())
                break
            time.sleep(0.1)
        assert child is not None, "the job never started"
        owner.kill()
        owner.wait()
        for _ in range(300):
            if _gone(child):
                break
            time.sleep(0.1)
        assert _gone(child)
    finally:
        owner.kill()
        owner.wait()
        if child is not None and not _gone(child):
            os.kill(child, signal.SIGKILL)
