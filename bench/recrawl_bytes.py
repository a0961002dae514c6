"""Incremental recrawl: crawl the demo platforms twice and compare the bytes downloaded.

    .venv/bin/python bench/recrawl_bytes.py [--keep DIR] [--results]

The second crawl sends If-None-Match / If-Modified-Since from the first run's stored pages (unchanged pages
answer 304 and their evidence is rebuilt from the stored bodies), and does not ask at all for the pages under
columns whose lists are unchanged: their rows are copied from the first run. Target: second < 10% of first.
Prints the figures (``--results``: also in place of its section of bench/RESULTS.md); exits 1 when the
target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from crawler.runner import crawl_run  # noqa: E402
from storage import models as m  # noqa: E402
from storage import open_store  # noqa: E402

FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "GOVAUDIT_RETRY_BACKOFF": 0.05, "RETRY_TIMES": 1,
        "GOVAUDIT_SCREENSHOTS": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}


def new_run(store, sites, as_of) -> int:
    with store.session() as s:
        for sp in sites:
            if s.get(m.Site, sp.site_id) is None:
                s.add(m.Site(site_id=sp.site_id, name=sp.name, unit_type=sp.unit_type, url=sp.url,
                             rubric=sp.rubric, category=sp.category, options=sp.options))
        run = m.Run(kind="nightly", as_of=as_of, assessment_year=2026, tool_version="bench")
        s.add(run)
        s.flush()
        for sp in sites:
            s.add(m.RunSite(run_id=run.id, site_id=sp.site_id, name=sp.name, unit_type=sp.unit_type,
                            category=sp.category, url=sp.url, rubric=sp.rubric, options=sp.options))
        return run.id


def totals(store, run_id: int) -> tuple[int, int, int, int, int]:
    """Bytes, requests answered with a body, 304s, pages copied without a request, pages stored."""
    with store.session() as s:
        row = s.execute(select(func.sum(m.RunSite.bytes_downloaded), func.sum(m.RunSite.pages_fetched))
                        .where(m.RunSite.run_id == run_id)).one()
        inc = [st.get("incremental") or {} for st in s.scalars(select(m.RunSite.stats).where(m.RunSite.run_id == run_id))]
        pages = s.scalar(select(func.count()).select_from(m.Page).where(m.Page.run_id == run_id))
    return (int(row[0] or 0), int(row[1] or 0), sum(int(i.get("revalidated", 0)) for i in inc),
            sum(int(i.get("skipped", 0)) for i in inc), int(pages or 0))


def main(argv: list[str] | None = None) -> int:
    from govaudit.demo import DemoPlatforms
    from govaudit.sites import load_sites

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it (default: a temp dir)")
    ap.add_argument("--results", action="store_true", help="put the figures in bench/RESULTS.md (own section)")
    args = ap.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="govaudit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{work / 'bench.db'}", work / "blobs")
    with DemoPlatforms(work / "demo") as demo:
        sites = load_sites(demo.sites_file)
        figures = []
        for label, as_of in (("first", dt.date(2026, 11, 20)), ("second", dt.date(2026, 11, 21))):
            run_id = new_run(store, sites, as_of)
            t0 = time.monotonic()
            crawl_run(store, run_id, overrides=FAST, log_file=work / f"scrapy-{label}.log")
            elapsed = time.monotonic() - t0
            figures.append((label, run_id, *totals(store, run_id), elapsed))
    out = []
    for label, run_id, nbytes, fetched, revalidated, skipped, pages, elapsed in figures:
        out.append(f"{label:6} crawl (run {run_id}): {nbytes:>10,} bytes downloaded, {fetched:>5} requests with a "
                   f"body, {revalidated:>4} answered 304, {skipped:>4} pages copied unasked ({pages} pages stored), "
                   f"{elapsed:6.1f} s")
    first, second = figures[0][2], figures[1][2]
    ratio = second / first if first else float("inf")
    ok = ratio < 0.10
    out.append(f"second / first = {ratio:.1%} of the bytes (target < 10%): {'met' if ok else 'MISSED'}; "
               f"time {figures[1][-1] / figures[0][-1]:.0%}")
    print("\n".join(out))
    if args.results:
        from bench.machine import write_section

        write_section("Incremental recrawl bytes on the demo platforms (bench/recrawl_bytes.py)",
                      ["`bench/recrawl_bytes.py --results` (the demo platforms of govaudit/demo, crawled on two "
                       "consecutive as-of dates with the tests' fast settings):", "", "```", *out, "```"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
