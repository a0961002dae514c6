"""`govaudit demo`: serve the bundled platforms on loopback, crawl, check, score, report, summarise."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from sqlalchemy import select

from storage import models as m

# The demo platforms are our own servers on loopback: the politeness owed to a real government site
# (0.5 s delay, AutoThrottle from 1 s) would only make the demo slow. Real crawls keep crawler/settings.py.
DEMO_CRAWL_OVERRIDES: dict[str, object] = {
    "DOWNLOAD_DELAY": 0.0,
    "RANDOMIZE_DOWNLOAD_DELAY": False,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "GOVAUDIT_RETRY_BACKOFF": 0.2,
}


def _findings(store, run_id: int) -> list[m.Finding]:
    with store.session() as s:
        return list(s.scalars(select(m.Finding).where(m.Finding.run_id == run_id)))


def print_accuracy(store, run_id: int, truth: dict, out=sys.stdout) -> dict:
    """How the checks did against the demo's injected defects (precision must be 1.0)."""
    from govaudit.demo.groundtruth import evaluate

    metrics = evaluate(_findings(store, run_id), truth)
    print("\nchecks against the demo's ground truth (injected defects):", file=out)
    for check_id, mt in sorted(metrics.items()):
        print(f"  {check_id:<16} precision {mt.precision:.2f}  recall {mt.recall:.2f}  "
              f"(tp {mt.tp}, fp {mt.fp}, fn {mt.fn})", file=out)
    return metrics


def run_demo(out: Path, port: int = 0, keep_serving: bool = False, db: str | None = None,
             blobs: str | None = None) -> int:
    from govaudit.cli import Progress
    from govaudit.demo import AS_OF, ASSESSMENT_YEAR, DemoPlatforms
    from govaudit.pipeline import create_run, execute_run
    from govaudit.sites import load_sites
    from govaudit.summary import print_summary
    from storage import open_store

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    db_url = db or f"sqlite:///{out / 'govaudit.db'}"
    store = open_store(db_url, blobs)
    with DemoPlatforms(out / "platforms", port=port) as demo:
        print(f"demo platforms: {len(demo.urls)} units served on loopback "
              f"({', '.join(sorted(demo.urls.values()))})", file=sys.stderr)
        sites = load_sites(demo.sites_file)
        run_id = create_run(store, sites, as_of=AS_OF, assessment_year=ASSESSMENT_YEAR, kind="demo",
                            settings={"crawl_settings": DEMO_CRAWL_OVERRIDES},
                            sites_file=str(demo.sites_file))
        progress = Progress()
        result = execute_run(store, run_id, reports_dir=out, log_file=out / f"crawl-run-{run_id}.log",
                             on_progress=progress)
        progress.done()
        print_summary(store, run_id)
        print_accuracy(store, run_id, demo.ground_truth)
        print(f"\nreport: {result.reports.get('html', out)}")
        for fmt in ("csv", "xlsx"):
            if fmt in result.reports:
                print(f"{fmt}: {result.reports[fmt]}")
        exe = shutil.which("govaudit") or str(Path(sys.executable).with_name("govaudit"))
        print(f"store: {db_url}\nre-run one check offline, e.g.:\n"
              f"  {exe} --db {db_url} check guide --site {sites[0].site_id} --run {run_id}")
        if keep_serving:
            print("serving the demo platforms; Ctrl-C to stop", file=sys.stderr)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    # the demo's unreachable unit is intended; only an unexpected failure makes the exit code non-zero
    meant = {sid for sid, site in demo.ground_truth["sites"].items()
             if any(d["code"] == "site_health.unreachable" for d in site.get("defects", []))}
    unexpected = [s for s in result.failed_sites if s not in meant]
    from govaudit import EXIT_OK, EXIT_SITES_FAILED

    return EXIT_SITES_FAILED if unexpected else EXIT_OK
