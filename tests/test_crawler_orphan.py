"""A crawl child must not outlive the process that started it (kill -9 of the CLI or of a worker)."""

import os
import signal
import subprocess
import sys
import time

CHILD = """
import os, sys, time
from crawler.runner import die_with_parent
die_with_parent(os.getppid())
open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(60)
"""

PARENT = """
import subprocess, sys, time
subprocess.Popen([sys.executable, sys.argv[1], sys.argv[2]])
time.sleep(60)
"""


def test_child_gets_sigterm_when_its_parent_is_killed(tmp_path) -> None:
    pidfile = tmp_path / "child.pid"
    (tmp_path / "child.py").write_text(CHILD)
    (tmp_path / "parent.py").write_text(PARENT)
    proc = subprocess.Popen([sys.executable, str(tmp_path / "parent.py"), str(tmp_path / "child.py"),
                             str(pidfile)], cwd=os.getcwd())
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text():
            break
        time.sleep(0.05)
    child_pid = int(pidfile.read_text())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for _ in range(100):
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(child_pid, signal.SIGKILL)
    raise AssertionError("the crawl child survived its parent")
