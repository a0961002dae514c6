"""cProfile of the crawl child, for the benchmarks that miss a target because of the crawl.

``crawl_run`` starts ``python -m crawler.runner SPEC`` and watches it; here the same child is started under
``python -m cProfile`` with a spec written the way ``crawl_run`` writes it (sites from ``run_sites``), so
the profile is of the real crawl of a run's sites. If the spec format changes, the profile says it could not
be taken rather than failing the benchmark.
"""

from __future__ import annotations

import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def profile_crawl(store, run_id: int, overrides: dict, top: int = 16, sort: str = "tottime",
                  restrict: str | None = None) -> list[str]:
    from sqlalchemy import select

    from storage import models as m

    with store.session() as s:
        sites = [{"site_id": r.site_id, "url": r.url, "name": r.name, "options": dict(r.options or {})}
                 for r in s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id).order_by(m.RunSite.site_id))]
    with tempfile.TemporaryDirectory(prefix="govaudit-prof-") as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(json.dumps({"db": store.url, "blobs": str(store.blobs.root), "run_id": run_id,
                                    "sites": sites, "scope": None, "overrides": overrides, "log_file": None}),
                        encoding="utf-8")
        out = Path(tmp) / "crawl.prof"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "crawler.runner", str(spec)],
                              cwd=tmp, env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            return [f"(crawl profile could not be taken: exit {proc.returncode}: {proc.stderr[-300:]})"]
        buf = io.StringIO()
        stats = pstats.Stats(str(out), stream=buf).sort_stats(sort)
        if restrict:  # a regular expression on "file:line(function)", then the count
            stats.print_stats(restrict, top)
        else:
            stats.print_stats(top)
    return [ln for ln in buf.getvalue().splitlines() if ln.strip()][: top + 6]


def main(argv: list[str] | None = None) -> int:
    """Serve the generated units, crawl them once under cProfile and print the top entries."""
    import argparse
    import datetime as dt

    sys.path.insert(0, str(ROOT))
    from bench.pipeline_stage import OVERRIDES, RUBRIC
    from bench.platforms import ServedPlatforms
    from govaudit.pipeline import create_run
    from govaudit.sites import SiteSpec
    from storage import open_store

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=20)
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative ...)")
    ap.add_argument("--recrawl", action="store_true", help="crawl once unprofiled, then profile the recrawl")
    args = ap.parse_args(argv)
    with ServedPlatforms(args.units, args.pages, args.latency) as served, \
            tempfile.TemporaryDirectory(prefix="govaudit-prof-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'prof.db'}", Path(tmp) / "blobs")
        sites = [SiteSpec(f"u{k:04d}", f"第{k}号单位", "township", b + "/", RUBRIC) for k, b in enumerate(served.bases)]
        if args.recrawl:
            from crawler.runner import crawl_run

            crawl_run(store, create_run(store, sites, as_of=dt.date(2026, 11, 20), assessment_year=2026,
                                        kind="bench"), overrides=OVERRIDES)
        run_id = create_run(store, sites, as_of=dt.date(2026, 11, 20), assessment_year=2026, kind="bench")
        print("\n".join(profile_crawl(store, run_id, OVERRIDES, top=args.top, sort=args.sort)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
