"""The table printed at the end of a run: site, score, grade, worst findings."""

from __future__ import annotations

import sys
from typing import TextIO

from sqlalchemy import select

from govaudit.pipeline import reported_status
from storage import Store
from storage import models as m

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def summary_rows(store: Store, run_id: int) -> list[dict]:
    with store.session() as s:
        sites = s.scalars(select(m.RunSite).where(m.RunSite.run_id == run_id).order_by(m.RunSite.site_id)).all()
        totals = {(r.site_id): r for r in s.scalars(select(m.Score).where(
            m.Score.run_id == run_id, m.Score.indicator_id == "__total__"))}
        fails = s.scalars(select(m.Finding).where(m.Finding.run_id == run_id, m.Finding.status == "fail")).all()
        unver = s.scalars(select(m.Finding.site_id).where(m.Finding.run_id == run_id,
                                                          m.Finding.status == "unverifiable")).all()
    rows = []
    for rs in sites:
        mine = sorted((f for f in fails if f.site_id == rs.site_id),
                      key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.id))
        total = totals.get(rs.site_id)
        rows.append({
            "site_id": rs.site_id, "name": rs.name, "unit_type": rs.unit_type,
            "status": reported_status(rs),
            "score": None if total is None else total.score,
            "max": None if total is None else total.max_points,
            "auto": None if total is None else (total.details or {}).get("automated_total"),
            "auto_max": None if total is None else (total.details or {}).get("automated_max"),
            "manual_pending": None if total is None else (total.details or {}).get("manual_pending"),
            "grade": None if total is None else total.grade,
            "rubric": None if total is None else total.rubric_id,
            "fails": len(mine), "unverifiable": sum(1 for x in unver if x == rs.site_id),
            "worst": [f.message for f in mine[:2]],
        })
    return rows


def print_summary(store: Store, run_id: int, out: TextIO = sys.stdout) -> None:
    rows = summary_rows(store, run_id)
    # automated points are shown against the automated maximum: the manual part (待人工评分) is neither
    # awarded nor deducted until an assessor enters it
    header = ["单位", "类型", "抓取", "自动评分", "待人工", "等次", "问题", "无法核验", "主要问题"]
    print(f"\nrun {run_id}", file=out)
    table = [header]
    for r in rows:
        if r["auto"] is not None:
            score = f"{r['auto']:.1f}/{r['auto_max']:g}"
        else:
            score = "-" if r["score"] is None else f"{r['score']:.1f}/{r['max']:g}"
        pending = "-" if not r["manual_pending"] else f"{r['manual_pending']:.1f}分"
        table.append([r["name"], r["unit_type"], r["status"], score, pending, r["grade"] or "-", str(r["fails"]),
                      str(r["unverifiable"]), "；".join(r["worst"])[:60]])
    widths = [max(_width(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(_pad(cell, w) for cell, w in zip(row[:-1], widths, strict=False)) + "  " + row[-1],
              file=out)
