"""Benchmarks 1 and 2: crawl + check throughput against a plain Scrapy crawl (the floor), peak memory at
a quarter of the units and at all of them, and the incremental recrawl of the unchanged set.

The generated units (bench/platforms.py) are served on loopback with simulated latency by a server process
of its own. Each side runs in a process of its own, one after the other, against the same server:
the floor (bench/floor_spider.py), then govaudit's full pipeline and its recrawl (bench/pipeline_stage.py).
Figures are printed and put in bench/RESULTS.md in place of this benchmark's previous section. No
assertions: a missed target is reported with the profile that explains it.

    .venv/bin/python bench/crawl_bench.py            # 200 units x ~200 pages (and 50 units for memory)
    .venv/bin/python bench/crawl_bench.py --quick    # 20 units x ~60 pages (and 5 units)
    .venv/bin/python bench/crawl_bench.py --quick --recrawl-size 60x200   # + crawl/recrawl only at that size
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.machine import write_section  # noqa: E402
from bench.platforms import ServedPlatforms, broken_urls  # noqa: E402

WALL_TARGET = 1.25
RECRAWL_TARGET = 0.10
TITLE = "Crawl + check throughput and incremental recrawl"


def _child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=HERE.parent)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(units: int, pages: int, latency: float, profile_units: int, *, crawl_only: bool = False,
            profile_recrawl: bool = False) -> dict:
    with ServedPlatforms(units, pages, latency) as served, tempfile.TemporaryDirectory(prefix="govaudit-bench-") as tmp:
        t = time.perf_counter()
        floor = _child([str(HERE / "floor_spider.py"), *served.bases])
        floor["process_wall_s"] = round(time.perf_counter() - t, 2)  # with its interpreter start and imports
        bases_file = Path(tmp) / "bases.json"
        bases_file.write_text(json.dumps(served.bases))
        extra = (["--crawl-only"] if crawl_only else []) + (["--profile-recrawl"] if profile_recrawl else [])
        ours = _child([str(HERE / "pipeline_stage.py"), tmp, str(bases_file), "--profile-checks", str(profile_units),
                       *extra])
        expected = served.shape.total * units
        floor_broken = {u for u in floor["broken"]}
        truth_broken = set().union(*(broken_urls(b) for b in served.bases))
        return {"units": units, "pages_per_unit": served.shape.total, "expected_pages": expected,
                "latency_s": latency, "floor": floor, "ours": ours,
                "floor_found_all_broken": floor_broken == truth_broken}


def report(big: dict, small: dict) -> list[str]:
    f, o = big["floor"], big["ours"]
    n = big["expected_pages"]
    ratio = o["wall_s"] / f["wall_s"] if f["wall_s"] else float("nan")
    crawl_ratio = o["crawl_s"] / f["wall_s"] if f["wall_s"] else float("nan")
    rc = {**o["recrawl"], "recrawl_profile": o.get("recrawl_profile")}
    bytes_ratio = rc["wire_bytes"] / o["wire_bytes"] if o["wire_bytes"] else float("nan")
    time_ratio = rc["crawl_s"] / o["crawl_s"] if o["crawl_s"] else float("nan")
    from bench.pipeline_stage import OVERRIDES
    from crawler.runner import _split

    procs, each = _split(OVERRIDES, big["units"])
    lines = [
        f"Generated set: {big['units']} units x {big['pages_per_unit']} pages = {n} pages "
        f"(+ robots.txt and 2 dead links per unit), {big['latency_s'] * 1000:.0f} ms simulated latency per "
        "response, one asyncio server process, one port per unit on 127.0.0.1. Both sides: 16 requests in "
        f"flight (govaudit: 4 units at a time x 4, in {procs} crawl process(es) of {each} units at a time — "
        "GOVAUDIT_CRAWL_PROCESSES=0, one per usable CPU; floor: one Scrapy crawler with 16), no download delay.",
        "",
        "### 1. Crawl + check throughput against the floor (plain Scrapy, no checks, no storage)",
        "",
        "| | wall s | pages ok | pages/s | CPU s | CPU ms/page | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| floor (plain Scrapy, timed inside its process) | {f['wall_s']} | {f['pages_ok']} | {f['pages_ok'] / f['wall_s']:.0f} | "
        f"{f['cpu_s']} | {f['cpu_s'] / max(1, f['pages_ok']) * 1000:.2f} | {f['peak_rss_mb']} |",
        f"| govaudit crawl only (crawl_run: its children, start-up included) | {o['crawl_s']} | {o['pages_ok']} | {o['pages_ok'] / o['crawl_s']:.0f} | "
        f"{o['crawl_cpu_s']} | {o['crawl_cpu_s'] / max(1, o['pages_ok']) * 1000:.2f} | {o['crawl_child_peak_rss_mb']} |",
        f"| govaudit full pipeline (crawl {o['crawl_s']} + checks {o['checks_s']} + score {o['score_s']}) | "
        f"{o['wall_s']} | {o['pages_ok']} | {o['pages_ok'] / o['wall_s']:.0f} | {o['cpu_s']} | "
        f"{o['cpu_s'] / max(1, o['pages_ok']) * 1000:.2f} | crawl child {o['crawl_child_peak_rss_mb']}, "
        f"pipeline process {o['driver_peak_rss_mb']} |",
        "",
        f"The floor's wall counting its interpreter start and imports (as govaudit's figures do): "
        f"{f.get('process_wall_s')} s.",
        "",
        f"Both reached every page: floor {f['pages_ok']}/{n} (+{len(f['broken'])} dead links seen), "
        f"govaudit {o['pages_ok']}/{n} (+{o['probes']} link probes); units crawled: {o['site_statuses']}.",
        "",
        f"**Full pipeline / floor wall time: {ratio:.2f}x** (target <= {WALL_TARGET}x: "
        f"{'met' if ratio <= WALL_TARGET else 'MISSED'}); crawl stage alone / floor: {crawl_ratio:.2f}x.",
        "",
        "Memory ceiling: neither the crawl child's peak RSS nor the pipeline process's (checks, then scoring "
        "50 units at a time) may grow with the number of units. Stated ceiling: 1.5 GB for the crawl child "
        "(the hostile suite's bound) and 512 MB for the pipeline process.",
        "",
        "| units | crawl child peak RSS MB | pipeline process after the checks MB | after scoring MB |",
        "|---:|---:|---:|---:|",
        *[f"| {r['units']} | {r['ours']['crawl_child_peak_rss_mb']} | {r['ours'].get('checks_peak_rss_mb', '')} | "
          f"{r['ours']['driver_peak_rss_mb']} |" for r in (small, big)],
        "",
        "### 2. Incremental recrawl of the unchanged set",
        "",
        "The second crawl asks for the home, platform and list pages conditionally; a column whose list pages "
        "answer 304 and list the same entries as last time has its documents, attachments and link probes "
        "copied from the first run without a request (crawler/incremental.py); links that were broken are "
        "probed again.",
        "",
        *recrawl_table([("full crawl", o), ("recrawl", rc)]),
        "",
        f"**Recrawl bytes {bytes_ratio:.1%} of the full crawl** (target < {RECRAWL_TARGET:.0%}: "
        f"{'met' if bytes_ratio < RECRAWL_TARGET else 'MISSED'}); **time {time_ratio:.1%}** "
        f"(target < {RECRAWL_TARGET:.0%}: {'met' if time_ratio < RECRAWL_TARGET else 'MISSED'}).",
    ]
    if time_ratio >= RECRAWL_TARGET:
        lines += ["", *recrawl_why(big["units"], o, rc, big["latency_s"], OVERRIDES["CONCURRENT_REQUESTS"],
                                   len(os.sched_getaffinity(0)))]
        if rc.get("recrawl_profile"):
            lines += ["", "cProfile of a recrawl's crawl child (one process, cumulative; govaudit's crawler and Scrapy's "
                      "crawler/engine entry points):", "", "```",
                      *rc["recrawl_profile"], "```"]
    if ratio > WALL_TARGET:
        lines += ["", f"Why the full pipeline misses {WALL_TARGET}x (section 1): the crawl stage alone is "
                  f"{crawl_ratio:.2f}x the floor; what the floor does not do at all — every check on every unit, "
                  f"{o['checks_s']} s here, run after the crawl — is the rest (the PDF label check's worker is its "
                  "largest part). cProfile of the checks of the first units, cumulative, top entries:", "", "```",
                  *[ln for ln in o.get("checks_profile", "").splitlines() if ln.strip()][:30], "```"]
    return lines


def recrawl_table(rows: list[tuple[str, dict]]) -> list[str]:
    out = ["| | crawl s | crawl CPU s | first site starts s | last site done s | wire bytes | requests with a body |"
           " 304 (body reused) | copied, not asked |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, r in rows:
        tl = r.get("crawl_timeline") or r
        out.append(f"| {label} | {r['crawl_s']} | {r.get('crawl_cpu_s', '')} | {tl.get('first_site_started_s')} | "
                   f"{tl.get('last_site_finished_s')} | {r['wire_bytes']:,} | {r['pages_fetched']} | "
                   f"{r.get('pages_revalidated', 0)} | {r.get('pages_skipped', 0)} |")
    return out


def recrawl_why(units: int, full: dict, rc: dict, latency: float, in_flight: int, cores: int) -> list[str]:
    asked = rc["pages_fetched"] + rc.get("pages_revalidated", 0)
    fixed = (rc.get("first_site_started_s") or 0) + max(0.0, rc["crawl_s"] - (rc.get("last_site_finished_s") or 0))
    per_unit = rc.get("crawl_cpu_s", 0) / max(1, units) * 1000
    per_unit_full = full.get("crawl_cpu_s", 0) / max(1, units) * 1000
    # what the recrawl cannot avoid: the requests it must send (each waits the simulated latency, at most
    # `in_flight` at once) and the start-up of the crawl processes
    network = asked * latency / max(1, in_flight)
    bound = (fixed + network) / full["crawl_s"] if full.get("crawl_s") else float("nan")
    budget = max(0.0, RECRAWL_TARGET * full["crawl_s"] - fixed) * cores / max(1, units) * 1000
    return [f"Why the recrawl time misses. What it cannot avoid: {fixed:.1f} s of fixed cost before the first "
            "site starts and after the last one ends (starting the crawl processes: interpreter, Scrapy, Twisted "
            f"and SQLAlchemy imports; their exit), and the {asked} conditional requests for the home, platform "
            f"and list pages (whose entries decide whether a column is unchanged): {asked} x "
            f"{latency * 1000:.0f} ms / {in_flight} in flight = {network:.1f} s. Together that is already "
            f"{bound:.1%} of the full crawl, with no CPU spent at all. Within 10%, the {cores} cores would have "
            f"{budget:.0f} ms of CPU per unit; the recrawl spends {per_unit:.0f} ms per unit (the full crawl "
            f"{per_unit_full:.0f} ms): a Scrapy crawler of its own started and stopped per unit (engine, "
            "middlewares, robots.txt), its list pages parsed again, and the previous run's rows of its other "
            "pages (about 190 a unit) copied in batches, so that every run holds its own complete evidence. "
            "Both runs are CPU-bound on this machine, so the ratio is one of CPU per unit and does not fall "
            "with more units. Reaching 10% would take one Scrapy engine for many units and copying rows in SQL "
            "rather than through Python; not done. The profile below shows where a recrawl's time goes."]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="20 units x ~60 pages (5 units for the memory pair)")
    ap.add_argument("--units", type=int, default=None)
    ap.add_argument("--pages", type=int, default=None)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--recrawl-size", default=None, metavar="UNITSxPAGES",
                    help="also measure crawl vs recrawl only (no checks) at this size, e.g. 60x200")
    args = ap.parse_args(argv)
    units = args.units or (20 if args.quick else 200)
    pages = args.pages or (60 if args.quick else 200)
    small = measure(max(1, units // 4), pages, args.latency, profile_units=0)
    big = measure(units, pages, args.latency, profile_units=min(10, units), profile_recrawl=True)
    title = f"{TITLE} ({units} units x {big['pages_per_unit']} pages{', quick' if args.quick else ''})"
    lines = report(big, small)
    if args.recrawl_size:
        ru, rp = (int(x) for x in args.recrawl_size.lower().split("x"))
        extra = measure(ru, rp, args.latency, profile_units=0, crawl_only=True)
        eo = extra["ours"]
        ratio = eo["recrawl"]["crawl_s"] / eo["crawl_s"] if eo["crawl_s"] else float("nan")
        lines += ["", f"#### 2b. The same at {ru} units x {extra['pages_per_unit']} pages (crawl and recrawl only, "
                  "no checks)", "", *recrawl_table([("full crawl", {**eo, **eo.get("crawl_timeline", {})}),
                                                    ("recrawl", eo["recrawl"])]), "",
                  f"Floor (plain Scrapy) at this size: {extra['floor']['wall_s']} s. **Recrawl time "
                  f"{ratio:.1%} of the full crawl** (target < {RECRAWL_TARGET:.0%}: "
                  f"{'met' if ratio < RECRAWL_TARGET else 'MISSED'}); bytes "
                  f"{eo['recrawl']['wire_bytes'] / max(1, eo['wire_bytes']):.1%}."]
    write_section(title, lines, prefix=TITLE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
