"""The `govaudit` command."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import govaudit
from govaudit import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_LOCKED, EXIT_OK

log = logging.getLogger("govaudit")


class UserError(Exception):
    """Bad input from the user: printed without a traceback, exit code 2."""


# ---------------------------------------------------------------------------------------------- helpers

def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _store(args: argparse.Namespace):
    from storage import open_store

    return open_store(args.db, args.blobs)


class Progress:
    """One status line on a terminal (rewritten in place), plain lines every few seconds otherwise."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0

    def __call__(self, info: dict[str, Any]) -> None:
        if "stage" in info:
            text = info["stage"]
        else:
            text = (f"sites {info.get('sites_done', 0)}/{info.get('sites_total', '?')} · "
                    f"pages {info.get('pages', 0)} · {info.get('site_id') or ''}")
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r\033[K" + text[:120])
            self.stream.flush()
        elif now - self.last >= 5 or "stage" in info:
            self.stream.write(text + "\n")
            self.last = now

    def done(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _resolve_run(store, run: int | None) -> int:
    from govaudit.pipeline import latest_run_id

    run_id = run or latest_run_id(store)
    if run_id is None:
        raise UserError("no runs in this store yet (run `govaudit crawl` or `govaudit demo` first)")
    from storage import models as m

    with store.session() as s:
        if s.get(m.Run, run_id) is None:
            raise UserError(f"no run {run_id} in this store")
    return run_id


# ---------------------------------------------------------------------------------------------- commands

def cmd_demo(args: argparse.Namespace) -> int:
    from govaudit.demo_run import run_demo

    return run_demo(out=Path(args.out), port=args.port, keep_serving=args.serve, db=args.db, blobs=args.blobs)


def _load_sites_arg(args: argparse.Namespace):
    from govaudit.sites import SitesFileError, load_sites

    if not args.sites:
        raise UserError(f"{args.command} needs --sites FILE")
    try:
        sites = load_sites(args.sites)
    except SitesFileError as exc:
        raise UserError("sites file rejected:\n  " + "\n  ".join(exc.problems)) from None
    except OSError as exc:
        raise UserError(f"cannot read the sites file: {exc}") from None
    if getattr(args, "only", None):
        wanted = set(args.only)
        unknown = wanted - {s.site_id for s in sites}
        if unknown:
            raise UserError(f"--only names site(s) not in {args.sites}: {', '.join(sorted(unknown))}")
        sites = [s for s in sites if s.site_id in wanted]
    return sites


def _crawl_setting(text: str) -> tuple[str, Any]:
    """NAME=VALUE for a Scrapy/crawler setting; VALUE is read as JSON when it parses (0, 2.5, false, [..])."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name.replace("_", "").isalnum() or not name.isupper():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with an upper-case setting name, not {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name, value


def _keep_runs(value: int | None) -> int | None:
    from govaudit.nightly import keep_runs_setting

    try:
        n = keep_runs_setting(value)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if n is not None and n < 1:
        raise UserError("--keep-runs / $GOVAUDIT_KEEP_RUNS must be at least 1")
    return n


def cmd_crawl(args: argparse.Namespace) -> int:
    """crawl, crawl --nightly, crawl --resume RUN: all under the store's lock (a second run exits 5)."""
    from govaudit.lock import StoreLock, StoreLocked
    from govaudit.nightly import describe_fetches, reports_dir_for, run_scheduled
    from govaudit.pipeline import create_run
    from govaudit.summary import print_summary
    from storage import models as m

    if not args.resume and not args.sites:
        raise UserError("crawl needs --sites FILE (or --resume RUN)")
    keep_runs = _keep_runs(args.keep_runs)
    sites = None if args.resume else _load_sites_arg(args)
    if args.out:
        try:  # a bad --out template is refused before a run is created for nothing
            reports_dir_for(args.out, 0, dt.date.today())
        except ValueError as exc:
            raise UserError(str(exc)) from None
    store = _store(args)
    lock = StoreLock(store, purpose="resume" if args.resume else ("nightly" if args.nightly else "crawl"))
    try:
        lock.acquire()
    except StoreLocked as exc:
        print(f"govaudit: {exc}\ngovaudit: not starting a second run on this store (exit {EXIT_LOCKED})",
              file=sys.stderr)
        return EXIT_LOCKED
    try:
        if args.resume:
            run_id = _resolve_run(store, args.resume)
            with store.session() as s:
                run = s.get(m.Run, run_id)
                kind, settings, as_of = run.kind, dict(run.settings or {}), run.as_of
            nightly = args.nightly or kind == "nightly"
            no_check = args.no_check or bool(settings.get("no_check"))
            render = args.render or settings.get("render")
            out = args.out or settings.get("out")
            # a resumed run crawls with the settings it started with (politeness, limits), unless told otherwise
            crawl_settings = {**dict(settings.get("crawl_settings") or {}), **dict(args.crawl_setting or [])}
        else:
            as_of = args.as_of or dt.date.today()
            kind = "nightly" if args.nightly else "crawl"
            nightly, no_check, render, out = args.nightly, args.no_check, args.render, args.out
            crawl_settings = dict(args.crawl_setting or [])
            run_settings: dict[str, Any] = {"render": render, "no_check": no_check}
            if out:
                run_settings["out"] = out
            if crawl_settings:
                run_settings["crawl_settings"] = crawl_settings
            run_id = create_run(store, sites, as_of=as_of, assessment_year=args.year,
                                kind=kind, settings=run_settings,
                                sites_file=str(args.sites))
        lock.set_run(run_id)
        if args.resume:
            from govaudit.ops.recrawl import live_local_crawlers

            orphans = live_local_crawlers(store, run_id)
            if orphans:
                who = ", ".join(f"{site} (pid {pid})" for site, pid in sorted(orphans.items()))
                print(f"govaudit: run {run_id} is still being crawled by a crawl process whose parent died: "
                      f"{who}. Re-crawling beside it would duplicate its rows; wait for it to end or stop it "
                      f"(kill PID), then resume again (exit {EXIT_LOCKED})", file=sys.stderr)
                return EXIT_LOCKED
        # nightly and distributed runs keep one report directory per run ({run_id}/{date} templates);
        # a plain crawl writes where --out says, as it always did
        try:
            if nightly or (out and kind == "distributed"):
                reports_dir = reports_dir_for(out, run_id, as_of)
            else:
                reports_dir = Path(out) if out else None
        except ValueError as exc:
            raise UserError(str(exc)) from None
        overrides: dict[str, Any] = dict(crawl_settings)
        if render:
            overrides["GOVAUDIT_RENDER"] = render
        log_file = Path(args.log_file or f"govaudit-run-{run_id}.log")
        progress = Progress()
        verb = "resuming" if args.resume else "crawling"
        print(f"run {run_id}: {verb} (Scrapy log: {log_file})", file=sys.stderr)
        outcome = run_scheduled(store, run_id, reports_dir=reports_dir, check=not no_check, compare=nightly,
                                crawl_overrides=overrides, log_file=log_file,
                                keep_runs=keep_runs if (nightly or args.keep_runs is not None) else None,
                                on_progress=progress)
        progress.done()
    finally:
        lock.release()
    result = outcome.result
    if outcome.recrawled and args.resume:
        print(f"re-crawled (partial rows cleared, pages kept): {', '.join(outcome.recrawled)}", file=sys.stderr)
    print_summary(store, run_id)
    if result.network_suspect:
        print("every site failed at once: this looks like our network, not the sites; no finding of this"
              " run should be used as a deduction", file=sys.stderr)
    elif result.failed_sites:
        print(f"sites that could not be crawled: {', '.join(result.failed_sites)}", file=sys.stderr)
    print(f"fetches: {describe_fetches(outcome.fetch_stats)}")
    if nightly and outcome.changes_text:
        base = f" (since run {outcome.previous_run_id})" if outcome.previous_run_id else ""
        print(f"\nchanges{base}:\n{outcome.changes_text}", end="")
    for fmt, path in result.reports.items():
        print(f"{fmt}: {path}")
    if outcome.prune_summary:
        print(f"retention: {outcome.prune_summary}")
    return result.exit_code


def cmd_prune(args: argparse.Namespace) -> int:
    from govaudit.lock import StoreLock, StoreLocked
    from storage.retention import prune

    keep = _keep_runs(args.keep_runs)
    if keep is None:
        raise UserError("prune needs --keep-runs N (or $GOVAUDIT_KEEP_RUNS)")
    store = _store(args)
    try:
        with StoreLock(store, purpose="prune"):
            report = prune(store, keep, min_age=args.min_age, dry_run=args.dry_run)
    except StoreLocked as exc:
        print(f"govaudit: {exc}\ngovaudit: not pruning while it runs (exit {EXIT_LOCKED})", file=sys.stderr)
        return EXIT_LOCKED
    print(report.describe())
    return EXIT_OK


def _queue(args: argparse.Namespace):
    from govaudit.ops.workqueue import WorkQueue

    try:
        import redis  # noqa: F401 - the optional dependency of the distributed mode
    except ImportError:
        raise UserError("the distributed mode needs the redis package: pip install 'govaudit[distributed]'") from None
    queue = WorkQueue.from_url(args.redis, prefix=args.redis_prefix,
                               heartbeat_ttl=getattr(args, "heartbeat_ttl", 30))
    try:
        queue.r.ping()
    except Exception as exc:
        raise UserError(f"cannot reach Redis at {args.redis}: {exc}") from None
    return queue


def cmd_enqueue(args: argparse.Namespace) -> int:
    from govaudit.ops.enqueue import enqueue_run, requeue_run

    queue = _queue(args)
    store = _store(args)
    if args.run:
        try:
            done = requeue_run(store, queue, args.run)
        except LookupError as exc:
            raise UserError(str(exc)) from None
        print(f"run {done.run_id}: {done.units} unfinished unit(s) queued again on {args.redis}")
        return EXIT_OK
    sites = _load_sites_arg(args)
    settings: dict[str, Any] = {"render": args.render, "no_check": False}
    if args.out:
        settings["out"] = args.out
    if args.crawl_setting:
        settings["crawl_settings"] = dict(args.crawl_setting)  # every worker crawls with these
    done = enqueue_run(store, queue, sites, as_of=args.as_of or dt.date.today(), assessment_year=args.year,
                       settings=settings, sites_file=str(args.sites))
    print(f"run {done.run_id}: {done.units} unit(s) queued on {args.redis} (prefix {args.redis_prefix}); "
          "start `govaudit worker` on any machine sharing --db and --blobs")
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    from govaudit.ops.worker import Worker, WorkerConfig

    queue = _queue(args)
    store = _store(args)
    cfg = WorkerConfig(redis_url=args.redis, prefix=args.redis_prefix, heartbeat_ttl=args.heartbeat_ttl,
                       once=args.once, idle_exit=args.idle_exit, max_attempts=args.max_attempts,
                       log_dir=Path(args.log_dir) if args.log_dir else None)
    print(f"worker {cfg.worker_id}: waiting for units on {args.redis} (prefix {args.redis_prefix})",
          file=sys.stderr)
    stats = Worker(store, queue, cfg).run()
    print(f"worker {cfg.worker_id}: {stats.units_done} unit(s) done, {stats.units_dropped} dropped, "
          f"{stats.reaped} given back from dead workers, runs scored: "
          f"{', '.join(map(str, stats.runs_finalized)) or 'none'}", file=sys.stderr)
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from checks import get_check
    from checks.runner import run_check_on_evidence, store_findings
    from storage.evidence import load_evidence

    try:
        spec = get_check(args.check_id)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from None
    store = _store(args)
    run_id = _resolve_run(store, args.run)
    if args.refetch:
        from govaudit.refetch import refetch_for_check

        run_id = refetch_for_check(store, run_id, args.site, spec)
        print(f"refetched what {spec.id} needs into run {run_id}", file=sys.stderr)
    with store.session() as s:
        try:
            evidence = load_evidence(s, run_id, args.site, read_blob=store.blobs.get)
        except LookupError as exc:
            raise UserError(str(exc)) from None
    findings = run_check_on_evidence(spec.id, evidence)
    if not args.dry_run:
        store_findings(store, run_id, args.site, spec.id, findings)
    if args.json:
        print(json.dumps([{"code": f.code, "status": f.status, "subject": f.subject, "message": f.message,
                           "url": f.url, "evidence": f.evidence, "evidence_page": f.evidence_page,
                           "details": f.details} for f in findings], ensure_ascii=False, indent=1,
                         default=str))
    else:
        print(f"{spec.id} v{spec.version} · site {args.site} · run {run_id} (as of {evidence.as_of})")
        for f in findings:
            where = f" — {f.url}" if f.url else ""
            print(f"  [{f.status:<14}] {f.code}: {f.message}{where}")
    return EXIT_OK


def cmd_score(args: argparse.Namespace) -> int:
    from rubric_map.engine import score_run
    from rubric_map.explain import format_scores

    store = _store(args)
    run_id = _resolve_run(store, args.run)
    try:
        scores = score_run(store, run_id, args.site or None, rubric=args.rubric,
                           manual_file=Path(args.manual) if args.manual else None)
    except (KeyError, LookupError, ValueError) as exc:
        raise UserError(str(exc)) from None
    print(format_scores(scores, detail=args.explain))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from reports import write_reports

    store = _store(args)
    run_id = _resolve_run(store, args.run)
    out = write_reports(store, run_id, Path(args.out), set(args.format))
    for fmt, path in out.items():
        print(f"{fmt}: {path}")
    return EXIT_OK


def cmd_checks(args: argparse.Namespace) -> int:
    from checks import registry

    for cid, spec in sorted(registry().items()):
        print(f"{cid:<16} v{spec.version:<6} {spec.title}")
        if args.verbose:
            for code in spec.codes:
                print(f"    {code}")
    return EXIT_OK


def cmd_rubrics(args: argparse.Namespace) -> int:
    from rubric_map.explain import format_rubric
    from rubric_map.loader import list_rubrics, load_rubric

    if args.action == "show":
        if not args.rubric_id:
            raise UserError("usage: govaudit rubrics show RUBRIC_ID")
        try:
            print(format_rubric(load_rubric(args.rubric_id)))
        except KeyError as exc:
            raise UserError(str(exc)) from None
        return EXIT_OK
    for info in list_rubrics():
        print(f"{info.id:<36} {info.unit_type:<12} {info.total:>6g}  {info.title}")
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from storage import models as m

    store = _store(args)
    with store.session() as s:
        rows = s.execute(
            select(m.Run, func.count(m.RunSite.site_id)).join(m.RunSite, m.RunSite.run_id == m.Run.id, isouter=True)
            .group_by(m.Run.id).order_by(m.Run.id.desc()).limit(args.limit)).all()
        if not rows:
            print("no runs yet")
        for run, n in rows:
            fin = run.finished_at.strftime("%Y-%m-%d %H:%M") if run.finished_at else "-"
            print(f"run {run.id:<5} {run.kind:<11} {run.status:<12} sites {n:<4} as-of {run.as_of} "
                  f"year {run.assessment_year}  started {run.started_at:%Y-%m-%d %H:%M}  finished {fin}")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from reports.diff import diff_runs, format_diff

    store = _store(args)
    a, b = _resolve_run(store, args.run_a), _resolve_run(store, args.run_b)
    print(format_diff(diff_runs(store, a, b)))
    return EXIT_OK


def cmd_dispute(args: argparse.Namespace) -> int:
    from govaudit.rescore import rescore_after_dispute, rescore_fingerprint
    from reports import disputes as dz

    store = _store(args)
    if args.overrides:
        try:
            res = dz.load_overrides(store, args.overrides)
        except (OSError, ValueError) as exc:
            raise UserError(f"overrides file rejected: {exc}") from None
        for msg in res.errors:
            print(f"error: {msg}", file=sys.stderr)
        for msg in res.warnings:
            print(f"warning: {msg}", file=sys.stderr)
        print(f"{len(res.added)} added, {len(res.unchanged)} unchanged, {len(res.withdrawn)} withdrawn")
        for d in {(d.site_id, d.fingerprint) for d in [*res.added, *res.withdrawn]}:
            for line in rescore_fingerprint(store, *d):
                print(line)
        return EXIT_OK if res.ok else EXIT_BAD_INPUT
    if args.withdraw is not None:
        try:
            d = dz.withdraw(store, args.withdraw)
        except LookupError as exc:
            raise UserError(str(exc)) from None
        print(f"dispute {d.id} withdrawn (kept on record); the finding counts again")
        for line in rescore_fingerprint(store, d.site_id, d.fingerprint):
            print(line)
        return EXIT_OK
    if args.finding_id is None or not args.reason:
        raise UserError("usage: govaudit dispute FINDING_ID --reason TEXT | --overrides FILE | --withdraw ID")
    try:
        d = dz.dispute(store, args.finding_id, args.reason, author=args.author or os.environ.get("USER"))
    except (LookupError, ValueError) as exc:
        raise UserError(str(exc)) from None
    print(f"dispute {d.id} recorded for finding {args.finding_id} ({d.code} {d.subject}); "
          "it stays on record and is left out of scoring (scores marked adjusted)")
    for line in rescore_after_dispute(store, args.finding_id):
        print(line)
    return EXIT_OK


def cmd_disputes(args: argparse.Namespace) -> int:
    from reports.disputes import list_disputes

    store = _store(args)
    rows = list_disputes(store, active_only=not args.all)
    if not rows:
        print("no disputes")
    for d in rows:
        state = "active" if d.active else "withdrawn"
        when = d.created_at.strftime("%Y-%m-%d") if d.created_at else "-"
        print(f"{d.id:<5} {state:<9} {when} {d.site_id:<16} {d.code:<34} {d.subject[:40]:<40} "
              f"[{d.source}] {d.reason}")
    return EXIT_OK

def cmd_serve_demo(args: argparse.Namespace) -> int:
    from govaudit.demo.server import main as serve_main

    return serve_main(["--workdir", args.workdir, "--port", str(args.port)])


# ---------------------------------------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="govaudit",
        description="Crawl government information-disclosure platforms, check them against the rules, "
                    "and score them under published assessment rubrics.",
        epilog="Exit codes: 0 ok · 1 internal error · 2 bad input · 3 some sites could not be crawled · "
               "4 every site failed (our network?) · 5 another run holds the lock.")
    p.add_argument("--version", action="version", version=f"govaudit {govaudit.__version__}")
    p.add_argument("--db", help="SQLAlchemy URL or SQLite path (default: $GOVAUDIT_DB or ./govaudit.db)")
    p.add_argument("--blobs", help="blob store directory (default: beside the SQLite file, or $GOVAUDIT_BLOBS)")
    p.add_argument("-v", "--verbose", action="store_true", help="more logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("demo", help="serve the bundled demo platforms on 127.0.0.1, crawl, check, score, report")
    d.add_argument("--out", default="govaudit-demo", help="output directory (default ./govaudit-demo)")
    d.add_argument("--port", type=int, default=0, help="port for the demo servers (default: any free port)")
    d.add_argument("--serve", action="store_true", help="keep serving the demo platforms after the run")
    d.set_defaults(func=cmd_demo)

    c = sub.add_parser("crawl", help="crawl the sites of a sites file, then check and score")
    c.add_argument("--sites", help="CSV: site_id,name,unit_type,url,rubric[,category,render,hosts,has_website]")
    c.add_argument("--only", action="append", metavar="SITE", help="crawl only this site (repeatable)")
    c.add_argument("--as-of", type=_date, help="the date the checks judge against (default: today)")
    c.add_argument("--year", type=int, help="assessment year (default: the as-of date's year)")
    c.add_argument("--no-check", action="store_true", help="crawl only; no checks, no scores")
    c.add_argument("--nightly", action="store_true", help="incremental recrawl, checks, scores, reports, changes")
    c.add_argument("--resume", type=int, metavar="RUN", help="resume an interrupted run")
    c.add_argument("--render", choices=("auto", "never", "always"), help="override every site's render mode")
    c.add_argument("--out", help="write reports (csv, html, xlsx) to this directory; with --nightly a "
                                 "subdirectory per run, or a template with {run_id} and {date} "
                                 "(default ./govaudit-reports/{run_id}, or $GOVAUDIT_REPORTS)")
    c.add_argument("--log-file", help="Scrapy log file (default ./govaudit-run-N.log)")
    c.add_argument("--crawl-setting", action="append", type=_crawl_setting, metavar="NAME=VALUE",
                   help="override a crawler setting for this run, e.g. DOWNLOAD_DELAY=2 (repeatable; kept "
                        "with the run, so --resume uses it too)")
    c.add_argument("--keep-runs", type=int, metavar="N",
                   help="after a finished run, prune to the newest N runs (nightly default: $GOVAUDIT_KEEP_RUNS)")
    c.set_defaults(func=cmd_crawl)

    pr = sub.add_parser("prune", help="delete runs older than the newest N and the blobs only they used")
    pr.add_argument("--keep-runs", type=int, metavar="N", help="runs to keep (default $GOVAUDIT_KEEP_RUNS)")
    pr.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    pr.add_argument("--min-age", type=float, default=3600.0, metavar="SECONDS",
                    help="never delete a blob written less than this long ago (default 3600)")
    pr.set_defaults(func=cmd_prune)

    redis_default = os.environ.get("GOVAUDIT_REDIS", "redis://127.0.0.1:6379/0")
    prefix_default = os.environ.get("GOVAUDIT_REDIS_PREFIX", "govaudit")
    eq = sub.add_parser("enqueue", help="open tonight's run and queue one unit per site on Redis")
    eq.add_argument("--sites", help="the sites file (as for crawl)")
    eq.add_argument("--only", action="append", metavar="SITE", help="only this site (repeatable)")
    eq.add_argument("--run", type=int, metavar="RUN", help="queue again the unfinished units of this run")
    eq.add_argument("--as-of", type=_date, help="the date the checks judge against (default: today)")
    eq.add_argument("--year", type=int, help="assessment year (default: the as-of date's year)")
    eq.add_argument("--render", choices=("auto", "never", "always"), help="override every site's render mode")
    eq.add_argument("--out", help="the worker that scores the run writes its reports here "
                                  "({run_id} and {date} allowed; a plain directory gets a subdirectory per run)")
    eq.add_argument("--crawl-setting", action="append", type=_crawl_setting, metavar="NAME=VALUE",
                    help="crawler setting every worker uses for this run (repeatable)")
    eq.add_argument("--redis", default=redis_default, help="Redis URL (default $GOVAUDIT_REDIS or %(default)s)")
    eq.add_argument("--redis-prefix", default=prefix_default, help="key prefix (default %(default)s)")
    eq.set_defaults(func=cmd_enqueue)

    wk = sub.add_parser("worker", help="take units from Redis one at a time: crawl, check; score finished runs")
    wk.add_argument("--redis", default=redis_default, help="Redis URL (default $GOVAUDIT_REDIS or %(default)s)")
    wk.add_argument("--redis-prefix", default=prefix_default, help="key prefix (default %(default)s)")
    wk.add_argument("--once", action="store_true", help="process one unit, then exit")
    wk.add_argument("--idle-exit", type=float, metavar="SECONDS", help="exit after this long without work")
    wk.add_argument("--heartbeat-ttl", type=int, default=30, metavar="SECONDS",
                    help="a worker silent this long is presumed dead and its unit given back (default 30)")
    wk.add_argument("--max-attempts", type=int, default=3,
                    help="mark a unit failed after its worker died this many times (default 3)")
    wk.add_argument("--log-dir", help="Scrapy log per unit in this directory")
    wk.set_defaults(func=cmd_worker)

    k = sub.add_parser("check", help="re-run one check on one site from stored evidence")
    k.add_argument("check_id")
    k.add_argument("--site", required=True)
    k.add_argument("--run", type=int, help="run id (default: the latest run)")
    k.add_argument("--refetch", action="store_true", help="re-crawl what this check needs first (new run)")
    k.add_argument("--json", action="store_true", help="print findings as JSON")
    k.add_argument("--dry-run", action="store_true", help="print only; do not store the findings")
    k.set_defaults(func=cmd_check)

    s = sub.add_parser("score", help="score a run's sites under their rubrics (or --rubric)")
    s.add_argument("--run", type=int)
    s.add_argument("--rubric", help="score every site under this rubric instead of its own")
    s.add_argument("--site", action="append", help="only this site (repeatable)")
    s.add_argument("--manual", help="assessor's manual scores (CSV/YAML: site_id, rubric, indicator, score, note)")
    s.add_argument("--explain", action="store_true", help="list every deduction with its finding")
    s.set_defaults(func=cmd_score)

    r = sub.add_parser("report", help="write reports of a run")
    r.add_argument("--run", type=int)
    r.add_argument("--format", action="append", choices=("csv", "html", "xlsx"), required=True,
                   help="repeatable")
    r.add_argument("--out", required=True)
    r.set_defaults(func=cmd_report)

    ls = sub.add_parser("checks", help="list the checks")
    ls.add_argument("--verbose", action="store_true", help="also list each check's finding codes")
    ls.set_defaults(func=cmd_checks)

    rb = sub.add_parser("rubrics", help="list rubrics, or `rubrics show ID`")
    rb.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    rb.add_argument("rubric_id", nargs="?")
    rb.set_defaults(func=cmd_rubrics)

    rn = sub.add_parser("runs", help="list runs")
    rn.add_argument("--limit", type=int, default=20)
    rn.set_defaults(func=cmd_runs)

    df = sub.add_parser("diff", help="new, resolved and persisting findings between two runs")
    df.add_argument("run_a", type=int)
    df.add_argument("run_b", type=int)
    df.set_defaults(func=cmd_diff)

    dp = sub.add_parser("dispute", help="dispute a finding: kept on record, left out of scoring, scores adjusted")
    dp.add_argument("finding_id", type=int, nargs="?", help="the finding's id (findings.csv: finding_id)")
    dp.add_argument("--reason", help="why the finding is wrong (kept on record)")
    dp.add_argument("--author")
    dp.add_argument("--overrides", metavar="FILE",
                    help="apply an overrides file kept under version control (YAML or CSV: fingerprint or "
                         "site_id+code+subject, reason); entries removed from it are withdrawn")
    dp.add_argument("--withdraw", type=int, metavar="DISPUTE_ID", help="withdraw a dispute (kept on record)")
    dp.set_defaults(func=cmd_dispute)

    dl = sub.add_parser("disputes", help="list disputes")
    dl.add_argument("--all", action="store_true", help="include withdrawn disputes")
    dl.set_defaults(func=cmd_disputes)

    sd = sub.add_parser("serve-demo", help="only serve the demo platforms (foreground)")
    sd.add_argument("--workdir", default="govaudit-demo/platforms")
    sd.add_argument("--port", type=int, default=8800)
    sd.set_defaults(func=cmd_serve_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"govaudit: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\ngovaudit: interrupted; resume with `govaudit crawl --resume RUN`", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: say what broke, keep the traceback for -v
        log.debug("internal error", exc_info=True)
        print(f"govaudit: internal error: {type(exc).__name__}: {exc} (run with -v for details)",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
