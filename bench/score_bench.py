"""Benchmark: score 1,000 units under every rubric (pure arithmetic on findings; target < 2 s in all).

Each unit gets a realistic finding set (≈45 findings: columns, guide elements, annual report, a 10-PDF sample,
interpretations, site health) with defects drawn from a seeded generator, plus a few manual entries.
Rubric loading is done once before timing, as in a run; each rubric's units are scored, ranked and graded
as one batch through ``engine.score_many`` (what ``score_run`` uses). Usage: ``.venv/bin/python bench/score_bench.py [N]``.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rubric_map.engine import score_many  # noqa: E402
from rubric_map.findings import PlainFinding  # noqa: E402
from rubric_map.loader import list_rubrics, load_rubric  # noqa: E402

COLUMNS = ["政策", "政府信息公开指南", "政府信息公开制度", "法定主动公开内容", "政府信息公开年报", "政府网站工作年度报表"]
ELEMENTS = ["公开范围", "公开方式", "公开时限", "依申请公开程序", "信息查询方式", "机构名称", "办公地址", "办公时间",
            "邮政编码", "联系电话", "传真号码", "投诉监督方式"]


def unit_findings(rng: random.Random, site: str) -> list[PlainFinding]:
    out: list[PlainFinding] = []

    def add(code: str, status: str, subject: str = "", **details) -> None:
        out.append(PlainFinding(id=len(out) + 1, site_id=site, check_id=code.split(".")[0], code=code,
                                status=status, subject=subject, message=f"{code} {subject}",
                                url=f"/{code}/{len(out)}", fingerprint=f"{site}-{len(out)}", details=details))

    for c in COLUMNS:
        add("columns.required_missing" if rng.random() < 0.1 else "columns.present",
            "fail" if rng.random() < 0.1 else "pass", c)
    for i in range(rng.randint(0, 3)):
        add("columns.empty", "fail", f"法定主动公开内容/栏目{i}")
    for i in range(rng.randint(0, 4)):
        add("columns.stale", "fail", f"工作动态/{i}")
    if rng.random() < 0.05:
        add("guide.missing", "fail")
    else:
        for e in ELEMENTS:
            add("guide.element_missing", "fail", e) if rng.random() < 0.15 else add("guide.element_present", "pass", e)
        add("guide.outdated", "fail") if rng.random() < 0.3 else add("guide.current", "pass")
    add("annual_report.missing", "fail", "2025") if rng.random() < 0.05 else add("annual_report.present", "pass", "2025")
    if rng.random() < 0.2:
        add("annual_report.section_missing", "fail", "2025/其他需要报告的事项")
    policies = rng.randint(0, 20)
    interpreted = rng.randint(0, policies)
    add("interpretation.share", "pass", share=interpreted / policies if policies else 0.0, policies=policies,
        interpretations=interpreted)
    for i in range(policies - interpreted):
        add("interpretation.missing", "fail", f"/zc/{i}")
    for i in range(rng.randint(0, 3)):
        add("interpretation.late", "fail", f"/jd/{i}", working_days=rng.randint(2, 15))
    for i in range(10):
        r = rng.random()
        add("pdf_label.missing" if r < 0.2 else "pdf_label.unverifiable" if r < 0.25 else "pdf_label.present",
            "fail" if r < 0.2 else "unverifiable" if r < 0.25 else "pass", f"/doc/{i}.pdf", reason="扫描件")
    add("site_health.unreachable", "pass")
    add("site_health.nonstandard_domain", "fail" if rng.random() < 0.1 else "pass", "host.example")
    return out


def main(n: int = 1000) -> float:
    rng = random.Random(20201118)
    rubrics = [load_rubric(i.id) for i in list_rubrics() if i.unit_type != "method"]
    units = [unit_findings(rng, f"u{k}") for k in range(n)]
    manual = [{"1": rng.choice([2, 3, 4])} for _ in range(n)]
    n_findings = sum(len(u) for u in units)
    start, cpu = time.perf_counter(), time.process_time()
    for rubric in rubrics:
        score_many(rubric, ((f"u{k}", units[k], manual[k], None) for k in range(n)))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    indicators = sum(len(list(r.walk())) for r in rubrics)
    print(f"scored {n} units under {len(rubrics)} rubrics ({n * len(rubrics)} site scores, "
          f"{indicators} indicators per unit in all, {n_findings} findings) in {elapsed:.2f} s "
          f"({elapsed / (n * len(rubrics)) * 1e3:.3f} ms per site score; CPU {cpu:.2f} s — on a shared machine "
          f"the CPU figure is the one to compare); target < 2 s")
    return elapsed


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
