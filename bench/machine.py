"""The machine a benchmark ran on, and writing a benchmark's section of figures in bench/RESULTS.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def describe() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        import scrapy

        scrapy_v = scrapy.__version__
    except ImportError:
        scrapy_v = "not installed"
    return (f"nproc {os.cpu_count()} ({len(os.sched_getaffinity(0))} usable), memory {mem}, CPU {cpu}, "
            f"Python {platform.python_version()}, Scrapy {scrapy_v}, {platform.system()} {platform.release()}")


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def write_section(title: str, lines: list[str], *, prefix: str | None = None) -> None:
    """Put a benchmark's section (title, machine, when, figures) in RESULTS.md in place of its previous one
    (the first section whose heading starts with ``prefix``, default the title), or append it; the other
    sections are left as they are. Prints it too."""
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    section = f"## {title}\n\n_{stamp} — {describe()}_\n\n" + "\n".join(lines) + "\n"
    print(section)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else (
        "# Benchmark results\n\nFigures written by the scripts in bench/ (see bench/README.md).\n")
    at = text.find(f"\n## {prefix or title}")
    if at < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", at + 1)
        text = text[:at + 1] + section + (text[end:] if end >= 0 else "")
    RESULTS.write_text(text, encoding="utf-8")
