"""govaudit's side of the throughput benchmark, in a process of its own (its children are only the crawl
child and the PDF workers, so ``RUSAGE_CHILDREN`` measures them and nothing else).

Full pipeline (crawl -> store -> every check -> score) of the served units, then an incremental recrawl of
the unchanged set (conditional requests; a 304 reuses the stored evidence). Prints one JSON line.

    python bench/pipeline_stage.py WORKDIR BASES_JSON [--profile-checks N]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_seconds, peak_rss_mb  # noqa: E402

RUBRIC = "changning-2020-township"  # it scores pdf_label, so the PDF sample is read in every unit
OVERRIDES = {
    "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "GOVAUDIT_SCREENSHOTS": False, "GOVAUDIT_RENDER": "never",
    "GOVAUDIT_CONCURRENT_SITES": 4, "CONCURRENT_REQUESTS_PER_DOMAIN": 4, "CONCURRENT_REQUESTS": 16,
    "DOWNLOAD_TIMEOUT": 30,
}


def _timeline(store, run_id: int, started: dt.datetime) -> dict:
    """When the first site started crawling and the last one finished, in seconds from the crawl's start:
    what the crawl child's start-up and end cost, apart from the sites themselves."""
    from sqlalchemy import func, select

    from storage import models as m

    with store.session() as s:
        first, last = s.execute(select(func.min(m.RunSite.started_at), func.max(m.RunSite.finished_at))
                                .where(m.RunSite.run_id == run_id)).one()
    return {"first_site_started_s": round((first - started).total_seconds(), 2) if first else None,
            "last_site_finished_s": round((last - started).total_seconds(), 2) if last else None}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)  # as storage.models.utcnow writes it


def _run_figures(store, run_id: int) -> dict:
    from sqlalchemy import func, select

    from storage import models as m

    with store.session() as s:
        ok = s.scalar(select(func.count()).select_from(m.Page).where(
            m.Page.run_id == run_id, m.Page.fetch_status == "ok", m.Page.kind != "link_probe"))
        probes = s.scalar(select(func.count()).select_from(m.Page).where(
            m.Page.run_id == run_id, m.Page.kind == "link_probe"))
        wire, fetched, reused = s.execute(select(func.sum(m.RunSite.bytes_downloaded), func.sum(m.RunSite.pages_fetched),
                                                 func.sum(m.RunSite.pages_reused)).where(
            m.RunSite.run_id == run_id)).one()
        statuses = dict(s.execute(select(m.RunSite.status, func.count()).where(m.RunSite.run_id == run_id)
                                  .group_by(m.RunSite.status)).all())
        incremental = [st.get("incremental") or {} for st in s.scalars(select(m.RunSite.stats)
                                                                         .where(m.RunSite.run_id == run_id))]
    return {"pages_ok": ok, "probes": probes, "wire_bytes": int(wire or 0), "pages_fetched": int(fetched or 0),
            "pages_reused": int(reused or 0), "site_statuses": statuses,
            # of the reused: answered 304 (asked) and copied from the previous run without a request
            "pages_revalidated": sum(int(i.get("revalidated", 0)) for i in incremental),
            "pages_skipped": sum(int(i.get("skipped", 0)) for i in incremental)}


def main(argv: list[str] | None = None) -> dict:
    from checks.runner import run_checks
    from crawler.runner import crawl_run
    from govaudit.pipeline import create_run, finish_run
    from govaudit.sites import SiteSpec
    from rubric_map.engine import score_run
    from storage import open_store

    ap = argparse.ArgumentParser()
    ap.add_argument("workdir", type=Path)
    ap.add_argument("bases", type=Path)
    ap.add_argument("--profile-checks", type=int, default=0, help="cProfile the checks of the first N units")
    ap.add_argument("--crawl-only", action="store_true", help="crawl and recrawl, no checks and no scoring")
    ap.add_argument("--profile-recrawl", action="store_true",
                    help="after the timed recrawl, cProfile one more (untimed) recrawl's crawl child")
    args = ap.parse_args(argv)
    bases: list[str] = json.loads(args.bases.read_text())
    store = open_store(f"sqlite:///{args.workdir / 'bench.db'}", args.workdir / "blobs")
    sites = [SiteSpec(f"u{k:04d}", f"第{k}号单位", "township", b + "/", RUBRIC) for k, b in enumerate(bases)]
    out: dict = {"units": len(sites)}

    run_id = create_run(store, sites, as_of=dt.date(2026, 11, 20), assessment_year=2026, kind="bench")
    cpu0, t0, started = cpu_seconds() + cpu_seconds(resource.RUSAGE_CHILDREN), time.perf_counter(), _now()
    crawl_run(store, run_id, overrides=OVERRIDES)
    t_crawl = time.perf_counter() - t0
    out["crawl_timeline"] = _timeline(store, run_id, started)
    out["crawl_child_peak_rss_mb"] = round(peak_rss_mb(resource.RUSAGE_CHILDREN), 1)
    out["crawl_cpu_s"] = round(cpu_seconds(resource.RUSAGE_CHILDREN), 2)
    t1 = time.perf_counter()
    prof = cProfile.Profile() if args.profile_checks and not args.crawl_only else None
    for k, site in enumerate([] if args.crawl_only else sites):
        if prof is not None and k < args.profile_checks:
            prof.enable()
            run_checks(store, run_id, site.site_id)
            prof.disable()
        else:
            run_checks(store, run_id, site.site_id)
    t_checks = time.perf_counter() - t1
    out["checks_peak_rss_mb"] = round(peak_rss_mb(), 1)  # before scoring, which holds the whole run's findings
    t2 = time.perf_counter()
    if not args.crawl_only:
        score_run(store, run_id, keep_detail=False)  # as the pipeline scores a run
        finish_run(store, run_id)
    t_score = time.perf_counter() - t2
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() + cpu_seconds(resource.RUSAGE_CHILDREN) - cpu0
    out.update({"wall_s": round(wall, 2), "crawl_s": round(t_crawl, 2), "checks_s": round(t_checks, 2),
                "score_s": round(t_score, 2), "cpu_s": round(cpu, 2),
                "driver_peak_rss_mb": round(peak_rss_mb(), 1), **_run_figures(store, run_id)})
    if prof is not None:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(18)
        out["checks_profile"] = buf.getvalue()

    # incremental recrawl of the unchanged set
    run2 = create_run(store, sites, as_of=dt.date(2026, 11, 21), assessment_year=2026, kind="bench")
    t3, started, cpu3 = time.perf_counter(), _now(), cpu_seconds(resource.RUSAGE_CHILDREN)
    crawl_run(store, run2, overrides=OVERRIDES)
    out["recrawl"] = {"crawl_s": round(time.perf_counter() - t3, 2),
                      "crawl_cpu_s": round(cpu_seconds(resource.RUSAGE_CHILDREN) - cpu3, 2),
                      **_timeline(store, run2, started), **_run_figures(store, run2)}
    if args.profile_recrawl:
        from bench.profile_crawl import profile_crawl

        run3 = create_run(store, sites, as_of=dt.date(2026, 11, 22), assessment_year=2026, kind="bench")
        # cumulative, our code and Scrapy's crawler/engine entry points: where a recrawl's time goes
        out["recrawl_profile"] = profile_crawl(store, run3, OVERRIDES, top=22, sort="cumulative",
                                               restrict=r"/crawler/|scrapy/crawler\.py|scrapy/core/engine\.py")
    return out


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False))
