"""The report checks its own output before anyone trusts it (lesson from GSA Site Scanning: say so when
row counts don't match the sites list or a column came out empty)."""

from __future__ import annotations

from collections import Counter

from reports.labels import site_not_seen_statuses
from reports.records import ReportData


def self_check(data: ReportData, missing_evidence: int = 0) -> list[str]:
    notes: list[str] = []
    site_ids = {s.site_id for s in data.sites}
    with_findings = {f.site_id for f in data.findings}
    if not data.sites:
        notes.append("本次运行没有任何单位（run_sites 为空）。")
    not_seen = [s for s in data.sites if s.status in site_not_seen_statuses()]
    if data.sites and len(not_seen) == len(data.sites):
        notes.append("所有单位均未能采集：多半是本工具或网络的问题，而非各单位的问题。")
    elif not_seen:
        notes.append(f"{len(not_seen)} 个单位未能采集：" + "，".join(f"{s.name}（{s.status}）" for s in not_seen))
    no_findings = [s.name for s in data.sites if s.site_id not in with_findings]
    if no_findings:
        notes.append(f"{len(no_findings)} 个单位没有任何检查结果：" + "，".join(no_findings))
    stray = sorted(with_findings - site_ids)
    if stray:
        notes.append("有检查结果的单位不在本次运行的单位列表中：" + "，".join(stray))
    totals = {t.site_id for t in data.totals()}
    unscored = [s.name for s in data.sites if s.site_id not in totals]
    if data.scores and unscored:
        notes.append(f"{len(unscored)} 个单位没有总分：" + "，".join(unscored))
    if data.findings and not data.scores:
        notes.append("本次运行尚未评分（scores 为空）：报告只列检查结果。")
    ids = {f.id for f in data.findings}
    dangling = sorted({fid for r in data.scores for fid in r.basis if fid not in ids})
    if dangling:
        notes.append(f"{len(dangling)} 个评分依据指向本次运行中不存在的检查结果：" +
                     ", ".join(f"#{i}" for i in dangling[:20]))
    if data.findings and data.scores and not any(f.rubric_items for f in data.findings):
        notes.append("rubric_items 列全部为空：评分没有引用任何检查结果。")
    if data.findings and not any(f.url for f in data.findings):
        notes.append("url 列全部为空：检查结果没有记录网址。")
    if missing_evidence:
        notes.append(f"{missing_evidence} 个证据文件已不在存储中。")
    statuses = Counter(f.status for f in data.findings)
    if data.findings and not statuses.get("pass"):
        notes.append("没有任何“合格”结果：检查应当同时记录通过项。")
    return notes
