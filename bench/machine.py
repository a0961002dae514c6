"""The machine a benchmark ran on, and appending a section of figures to bench/RESULTS.md."""

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


def append_results(title: str, lines: list[str]) -> None:
    """Append one section (title, machine, when, figures) to RESULTS.md and print it."""
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    text = f"\n## {title}\n\n_{stamp} — {describe()}_\n\n" + "\n".join(lines) + "\n"
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nFigures appended by the scripts in bench/ "
                           "(see bench/README.md). Newest last.\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(text)
