"""Measure findings against the demo platforms' ground truth: per check, precision and recall.

- predicted = findings with status ``fail`` (passes, unverifiable and not-applicable findings claim nothing);
- a truth defect is found when a predicted finding has the same site, code and subject — or, where the defect
  says ``"match": "prefix"``, a subject equal to the defect's or starting with it followed by ``/``
  (``annual_report.table_inconsistent`` names ``{year}/{identity}``; the truth names the year);
- a predicted finding that matches no defect is a false positive, and so is one whose check and subject match
  an ``expect_status`` entry (an image-only PDF must be ``unverifiable``, never ``fail``) whatever its code.

``tp`` counts the defects found, ``fn`` the defects missed, ``fp`` the false positives; precision is the
share of predicted findings that matched a defect (several findings may match one prefix defect), recall the
share of defects found. With nothing predicted precision is 1.0; with nothing to find recall is 1.0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Metrics:
    tp: int = 0  # truth defects found
    fp: int = 0  # fail findings matching no defect (or contradicting an expect_status)
    fn: int = 0  # truth defects missed
    predicted: int = 0  # fail findings of this check
    matched: int = 0  # fail findings that matched a defect
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if (self.tp + self.fn) else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "predicted": self.predicted,
                "matched": self.matched, "precision": self.precision, "recall": self.recall,
                "false_positives": self.false_positives, "misses": self.misses}


def _get(f: Any, name: str) -> Any:
    return f.get(name) if isinstance(f, Mapping) else getattr(f, name, None)


def _norm(f: Any) -> dict[str, Any]:
    code = str(_get(f, "code") or "")
    check = _get(f, "check_id") or code.split(".", 1)[0]
    return {"site_id": _get(f, "site_id"), "check_id": check, "code": code, "status": _get(f, "status"),
            "subject": "" if _get(f, "subject") is None else str(_get(f, "subject"))}


def subject_matches(defect: Mapping[str, Any], subject: str) -> bool:
    want = str(defect.get("subject", ""))
    if defect.get("match") == "prefix":
        return subject == want or subject.startswith(want.rstrip("/") + "/")
    return subject == want


def load_truth(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def evaluate(findings: Iterable[Any], truth: Mapping[str, Any],
             checks: Iterable[str] | None = None) -> dict[str, Metrics]:
    """Per check id: precision and recall of ``findings`` (dicts or objects with site_id, check_id, code,
    status, subject) against ``truth``. ``checks`` limits the result (default: every check seen in either)."""
    sites: Mapping[str, Any] = truth.get("sites", {})
    out: dict[str, Metrics] = {}

    def metrics(check: str) -> Metrics:
        return out.setdefault(check, Metrics())

    defects: list[tuple[str, dict[str, Any]]] = []
    for site_id, site in sites.items():
        for d in site.get("defects", []):
            defects.append((site_id, d))
            metrics(d["check"])
    found = [False] * len(defects)

    for raw in findings:
        f = _norm(raw)
        if f["status"] != "fail":
            continue
        m = metrics(f["check_id"])
        m.predicted += 1
        site = sites.get(f["site_id"], {})
        contradicted = [e for e in site.get("expect_status", [])
                        if e.get("check") == f["check_id"] and e.get("subject") == f["subject"]]
        if contradicted:
            m.fp += 1
            m.false_positives.append({**f, "why": f"expected {contradicted[0].get('status')}: "
                                                  f"{contradicted[0].get('note', '')}"})
            continue
        hit = False
        for i, (site_id, d) in enumerate(defects):
            if site_id == f["site_id"] and d["code"] == f["code"] and subject_matches(d, f["subject"]):
                found[i] = True
                hit = True
        if hit:
            m.matched += 1
        else:
            m.fp += 1
            m.false_positives.append({**f, "why": "not a defect of the demo platforms"})

    for (site_id, d), ok in zip(defects, found, strict=True):
        m = metrics(d["check"])
        if ok:
            m.tp += 1
        else:
            m.fn += 1
            m.misses.append({"site_id": site_id, **d})
    if checks is not None:
        wanted = set(checks)
        return {c: out.get(c, Metrics()) for c in sorted(wanted)}
    return dict(sorted(out.items()))


def summary_table(result: Mapping[str, Metrics]) -> str:
    """Plain-text table for test output and benchmarks."""
    lines = [f"{'check':16} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>10} {'recall':>7}"]
    for check, m in result.items():
        lines.append(f"{check:16} {m.tp:4d} {m.fp:4d} {m.fn:4d} {m.precision:10.3f} {m.recall:7.3f}")
    return "\n".join(lines)
