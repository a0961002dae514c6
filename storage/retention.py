"""Retention: keep the newest N runs whole, delete older runs' rows, then the blobs nobody references.

History is the product (../shared/DESIGN.md), so pruning is opt-in (`govaudit prune --keep-runs N`, or
`GOVAUDIT_KEEP_RUNS` after each nightly run). The order matters: rows first, then a sweep of the blob
store that deletes only blobs referenced by *no remaining row* — a blob a kept run shares with a deleted
one (every unchanged page across nights is one blob) stays. Run it under the store's exclusive lock
(`govaudit.lock`), so no crawl writes a blob between the reference scan and the sweep; blobs younger
than `min_age` are kept anyway, for a writer on another machine that does not take the lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from storage import Store
from storage import models as m

# Every column that holds a blob's sha256. A new blob column must be added here, or prune would
# delete the blobs it points at.
BLOB_COLUMNS: tuple[InstrumentedAttribute, ...] = (
    m.Page.sha256,
    m.Page.screenshot_sha256,
    m.Attachment.sha256,
    m.Finding.evidence_file,
)

# Children before parents (foreign keys): every per-run table, in a deletable order.
_PER_RUN_TABLES = (m.Score, m.Finding, m.Link, m.Attachment, m.ColumnItem, m.Document, m.Page, m.Column,
                   m.RunSite)

DEFAULT_MIN_AGE_SECONDS = 3600.0


@dataclass
class PruneReport:
    kept_runs: list[int] = field(default_factory=list)
    deleted_runs: list[int] = field(default_factory=list)
    rows_deleted: dict[str, int] = field(default_factory=dict)
    blobs_deleted: int = 0
    bytes_freed: int = 0
    blobs_kept: int = 0
    blobs_too_young: int = 0
    dry_run: bool = False

    def describe(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        rows = sum(self.rows_deleted.values())
        runs = ", ".join(map(str, self.deleted_runs)) or "none"
        return (f"kept {len(self.kept_runs)} run(s); {verb} run(s) {runs} ({rows} rows); {verb} "
                f"{self.blobs_deleted} blob(s), {self.bytes_freed / 1e6:.1f} MB; {self.blobs_kept} blob(s) kept"
                + (f" ({self.blobs_too_young} too recent to judge)" if self.blobs_too_young else ""))


def runs_to_delete(store: Store, keep_runs: int) -> tuple[list[int], list[int]]:
    """(kept, deleted) run ids: the newest `keep_runs` by id are kept."""
    if keep_runs < 1:
        raise ValueError("keep_runs must be at least 1: pruning every run would delete all evidence")
    with store.session() as s:
        ids = list(s.scalars(select(m.Run.id).order_by(m.Run.id.desc())))
    return sorted(ids[:keep_runs]), sorted(ids[keep_runs:])


def delete_runs(store: Store, run_ids: Iterable[int]) -> dict[str, int]:
    """Delete every row of these runs. Sites, and disputes (they follow a fingerprint across runs), stay."""
    run_ids = list(run_ids)
    counts: dict[str, int] = {}
    if not run_ids:
        return counts
    for chunk_start in range(0, len(run_ids), 50):
        chunk = run_ids[chunk_start:chunk_start + 50]
        # one transaction per chunk of runs: a crash leaves whole runs deleted or whole runs kept
        with store.session() as s:
            finding_ids = select(m.Finding.id).where(m.Finding.run_id.in_(chunk))
            s.execute(update(m.Dispute).where(m.Dispute.finding_id.in_(finding_ids)).values(finding_id=None))
            s.execute(update(m.Run).where(m.Run.previous_run_id.in_(chunk)).values(previous_run_id=None))
            # columns reference their parent column: cut those links first so the delete order is free
            s.execute(update(m.Column).where(m.Column.run_id.in_(chunk)).values(parent_id=None))
            for model in _PER_RUN_TABLES:
                res = s.execute(delete(model).where(model.run_id.in_(chunk)))
                counts[model.__tablename__] = counts.get(model.__tablename__, 0) + (res.rowcount or 0)
            res = s.execute(delete(m.Run).where(m.Run.id.in_(chunk)))
            counts["runs"] = counts.get("runs", 0) + (res.rowcount or 0)
    return counts


def referenced_blobs(store: Store) -> set[str]:
    """Every sha256 any remaining row points at."""
    refs: set[str] = set()
    with store.session() as s:
        for col in BLOB_COLUMNS:
            refs.update(v for v in s.scalars(select(col).where(col.is_not(None)).distinct()) if v)
    return refs


def sweep_blobs(store: Store, *, min_age: float = DEFAULT_MIN_AGE_SECONDS, dry_run: bool = False,
                report: PruneReport | None = None) -> PruneReport:
    """Delete blobs referenced by no row. The reference set is read before the listing, so a blob
    written after the scan is either young (kept by `min_age`) or excluded by the lock."""
    report = report or PruneReport(dry_run=dry_run)
    refs = referenced_blobs(store)
    now = time.time()
    for sha in store.blobs.iter_shas():
        if sha in refs:
            report.blobs_kept += 1
            continue
        path = store.blobs.path(sha)
        try:
            st = path.stat()
        except (FileNotFoundError, ValueError):
            continue
        if now - st.st_mtime < min_age:
            report.blobs_too_young += 1
            report.blobs_kept += 1
            continue
        report.blobs_deleted += 1
        report.bytes_freed += st.st_size
        if not dry_run:
            store.blobs.delete(sha)
    return report


def prune(store: Store, keep_runs: int, *, min_age: float = DEFAULT_MIN_AGE_SECONDS,
          dry_run: bool = False) -> PruneReport:
    """Keep the newest `keep_runs` runs; delete the others' rows and every blob no kept row references."""
    kept, old = runs_to_delete(store, keep_runs)
    report = PruneReport(kept_runs=kept, deleted_runs=old, dry_run=dry_run)
    if not dry_run:
        report.rows_deleted = delete_runs(store, old)
        sweep_blobs(store, min_age=min_age, report=report)
    else:
        _dry_run_sweep(store, kept, min_age, report)
    return report


def _dry_run_sweep(store: Store, kept: list[int], min_age: float, report: PruneReport) -> None:
    """What a real prune would free: blobs referenced by no row of a kept run."""
    refs: set[str] = set()
    with store.session() as s:
        for col in BLOB_COLUMNS:
            model = col.class_
            refs.update(v for v in s.scalars(select(col).where(col.is_not(None), model.run_id.in_(kept))
                                             .distinct()) if v)
        for model in (*_PER_RUN_TABLES, m.Run):
            key = m.Run.id if model is m.Run else model.run_id
            n = s.scalar(select(func.count()).select_from(model).where(key.notin_(kept))) if kept else 0
            report.rows_deleted[model.__tablename__] = n or 0
    now = time.time()
    for sha in store.blobs.iter_shas():
        path = store.blobs.path(sha)
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if sha in refs:
            report.blobs_kept += 1
        elif now - st.st_mtime < min_age:
            report.blobs_too_young += 1
            report.blobs_kept += 1
        else:
            report.blobs_deleted += 1
            report.bytes_freed += st.st_size
