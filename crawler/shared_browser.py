"""One headless Chromium per crawl process, shared by every site's scrapy-playwright handler over CDP.

Each site is a Scrapy crawler of its own, and scrapy-playwright launched a Chromium for each (one to two
seconds and ~150 MB apiece, for a screenshot or two per site). Here the crawl process starts one browser with
a DevTools endpoint and hands its address to the sites (``PLAYWRIGHT_CDP_URL``); each site still gets its own
browser context, so cookies and storage stay apart, and closing a site only disconnects it.

The browser dies with the crawl process (PR_SET_PDEATHSIG, also after a kill -9 of the crawl process) and is
stopped, with its whole process group and temporary profile, when the crawl ends. If it cannot be started,
the sites launch their own browsers as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

_DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")
# playwright's launch options say headless; a direct launch needs the flag and a DevTools port of its own
_OWN_FLAGS = ("--headless", "--remote-debugging-port", "--remote-debugging-pipe", "--user-data-dir")


def _die_with_parent() -> None:  # runs in the browser process between fork and exec
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class SharedBrowser:
    def __init__(self, executable: str, args: list[str], start_timeout: float = 30.0,
                 workdir: Path | None = None) -> None:
        self.executable = executable
        # the profile goes under the crawl's work directory, which crawl_run removes even after a kill -9
        self.workdir = workdir
        self.args = [a for a in args if not a.startswith(_OWN_FLAGS)]
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.profile: Path | None = None
        self.cdp_url: str | None = None

    def start(self) -> None:
        """Launch the browser (not waiting for it: it starts while the first sites are crawled)."""
        self.profile = Path(tempfile.mkdtemp(prefix="govaudit-chromium-", dir=self.workdir))
        self._log = self.profile / "stderr.log"
        cmd = [self.executable, "--headless", "--remote-debugging-port=0", f"--user-data-dir={self.profile / 'p'}",
               *self.args, "about:blank"]
        self._deadline = time.monotonic() + self.start_timeout
        try:
            with open(self._log, "wb") as err:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                             start_new_session=True, preexec_fn=_die_with_parent)
        except OSError as exc:
            logger.warning("shared browser not started (%s): each site launches its own", exc)
            self.stop()

    def address(self) -> str | None:
        """The DevTools address of the running browser (waiting for it if need be), or None when it could not
        be started: the caller lets each site launch its own."""
        if self.cdp_url or self.proc is None:
            return self.cdp_url
        while time.monotonic() < self._deadline:
            found = _DEVTOOLS.search(self._log.read_text(encoding="utf-8", errors="replace"))
            if found:
                self.cdp_url = found.group(1)
                logger.info("shared browser %s at %s", self.proc.pid, self.cdp_url)
                return self.cdp_url
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        logger.warning("shared browser gave no DevTools address (exit %s): each site launches its own",
                       self.proc.poll())
        self.stop()
        return None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # the browser and its zygote and renderers
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            with contextlib.suppress(ProcessLookupError):  # whatever of the group did not follow
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        if self.profile is not None:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None
