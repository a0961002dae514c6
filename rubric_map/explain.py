"""Plain-Chinese explanations of scores and rubrics (what `govaudit score` and `govaudit rubrics show` print)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rubric_map.model import Indicator, Rubric

if TYPE_CHECKING:
    from rubric_map.engine import IndicatorScore, SiteScore

MODE_ZH = {"automated": "自动", "partial": "部分自动", "manual": "人工"}
KIND_ZH = {"bonus": "加分", "penalty": "扣分", "veto": "否决"}


def _g(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{round(x, 2):g}"


def deduction_line(label: str, points: float, reason: str, url: str | None) -> str:
    where = f"（{url}）" if url else ""
    return f"{label} −{_g(points)}：{reason}{where}"


def indicator_explanation(n: IndicatorScore) -> str:
    """Every deduction of one indicator with its finding and rubric line, then flags and notes."""
    ind = n.indicator
    lines = []
    for d in n.deductions:
        if d.points <= 0:
            continue
        ids = ",".join(str(i) for i in d.finding_ids)
        ref = f" [{ind.source}; 规则在评分表文件第{d.rule_line}行" + (f"; 问题#{ids}" if ids else "") + "]"
        lines.append(deduction_line(ind.label, d.points, d.reason, d.url) + ref)
    if n.unverifiable:
        lines.append("无法核验：" + "；".join(dict.fromkeys(n.unverifiable)))
    if n.review:
        lines.append("供人工参考：" + "；".join(dict.fromkeys(f"{f.message}（{f.url or f.subject}）"
                                                          for f in n.review[:10]))
                     + (f" 等 {len(n.review)} 项" if len(n.review) > 10 else ""))
    lines.extend(dict.fromkeys(n.notes))
    return "\n".join(lines)


def total_explanation(sc: SiteScore) -> str:
    parts = [f"总分 {_g(sc.total)}/{_g(sc.max_total)}",
             f"自动核验 {_g(sc.automated_total)}/{_g(sc.automated_max)}",
             f"人工已评 {_g(sc.manual_entered)}/{_g(sc.manual_max)}",
             f"待人工评分 {_g(sc.manual_pending)} 分"]
    if sc.bonus:
        parts.append(f"加分 {_g(sc.bonus)}")
    if sc.penalty:
        parts.append(f"扣分项 −{_g(sc.penalty)}")
    if sc.vetoes:
        parts.append("否决：" + "、".join(sc.vetoes))
    if sc.unverifiable_count:
        parts.append(f"无法核验指标 {sc.unverifiable_count} 项")
    if sc.provisional_count:
        parts.append(f"待人工复核指标 {sc.provisional_count} 项")
    if sc.adjusted:
        parts.append("已排除有争议的问题（adjusted）")
    if sc.grade_note:
        parts.append(sc.grade_note)
    return "；".join(parts)


def format_scores(scores: list[SiteScore], detail: bool = False) -> str:
    """Per site: total, grade, rank, the automated/manual split, and each deduction with its reason."""
    out: list[str] = []
    file_warnings: dict[str, None] = {}
    for sc in scores:
        if not sc.rubric_id:
            out.append(f"{sc.site_id}: " + "；".join(sc.warnings))
            continue
        rank = f"  第{sc.rank}/{sc.rank_of}名" if sc.rank else ""
        grade = sc.grade or "无等次"
        out.append(f"{sc.site_name or sc.site_id} ({sc.site_id}) · {sc.rubric_id}: "
                   f"{_g(sc.total)}/{_g(sc.max_total)}  {grade}{rank}" + ("  [adjusted]" if sc.adjusted else ""))
        out.append(f"  自动核验 {_g(sc.automated_total)}/{_g(sc.automated_max)} · 人工已评 "
                   f"{_g(sc.manual_entered)}/{_g(sc.manual_max)} · 待人工评分 {_g(sc.manual_pending)} 分"
                   + (f" · 加分 {_g(sc.bonus)}" if sc.bonus else "")
                   + (f" · 扣分项 −{_g(sc.penalty)}" if sc.penalty else "")
                   + (f" · 否决：{'、'.join(sc.vetoes)}" if sc.vetoes else ""))
        if sc.grade_note:
            out.append(f"  等次说明：{sc.grade_note}")
        for n in sc.walk():
            if not n.indicator.is_leaf:
                continue
            for d in n.deductions:
                if d.points > 0:
                    out.append("  " + deduction_line(n.indicator.label, d.points, d.reason, d.url)
                               + f"  [{n.indicator.source}]")
            if n.unverifiable:
                out.append(f"  {n.indicator.label}：无法核验（" + "；".join(dict.fromkeys(n.unverifiable)) + "），未扣分")
            if detail:
                if n.score is None and n.indicator.kind == "scored":
                    out.append(f"  {n.indicator.label}：待人工评分（{_g(n.max_points)} 分）")
                elif n.provisional:
                    out.append(f"  {n.indicator.label}：{_g(n.score)}/{_g(n.max_points)}，部分自动核验，待人工复核")
                for f in n.review[:5]:
                    out.append(f"  {n.indicator.label}：供人工参考 {f.message}（{f.url or f.subject}）")
        for w in sc.warnings:
            if w.startswith("人工评分文件："):
                file_warnings[w] = None
            else:
                out.append(f"  注意：{w}")
    out.extend(file_warnings)
    return "\n".join(out)


def _points(ind: Indicator) -> str:
    if ind.kind == "veto":
        return f"否决（{ind.veto_effect}）"
    if ind.kind in ("bonus", "penalty"):
        cap = "不设上限" if not math.isfinite(ind.points) else f"上限 {_g(ind.points)} 分"
        each = f"每项 {_g(ind.per_item)} 分，" if ind.per_item else ""
        return f"{KIND_ZH[ind.kind]}：{each}{cap}"
    weight = f"{ind.printed}，" if ind.weight is not None and ind.printed else ""
    printed = f"（来源印作 {ind.printed}）" if ind.weight is None and ind.printed and \
        ind.printed.rstrip("分") != f"{ind.points:g}" else ""
    return f"{weight}{_g(ind.points)} 分{printed}"


def _rule_text(r: Any) -> str:
    codes = ",".join(r.codes)
    bits = {"fixed": f"出现即扣 {_g(r.points)}", "per_item": f"每项扣 {_g(r.points)}",
            "per_sample": f"抽查 {r.sample} 份，每份扣 {_g(r.points)}", "proportion": f"按未达要求比例扣，最多 {_g(r.points)}",
            "band": "分档：" + "，".join(f"[{_g(b.min)},{_g(b.max)})→{_g(b.score)}" for b in r.bands),
            "veto": "出现即否决", "bonus": f"每项加 {_g(r.points)}", "review": "仅供人工参考"}[r.kind]
    if r.cap is not None:
        bits += f"，上限 {_g(r.cap)}"
    src = r.field if r.kind == "band" else codes
    if r.kind == "band" and codes:
        src = f"{codes}.{r.field}"
    label = f"{r.label}：" if r.label else ""
    return f"{label}{src} → {bits}（规则在评分表文件第{r.line}行）"


def format_rubric(rubric: Rubric) -> str:
    """The indicator tree with each indicator's mode and points, rules, and where it is printed."""
    head = [f"{rubric.id}  {rubric.title}", f"来源：{rubric.source}"]
    if rubric.kind == "method":
        head.append(f"计分办法：扣分上限 {rubric.deduction_caps}；加分上限为上一级分值的 "
                    f"{_g((rubric.bonus_cap_share or 0) * 100)}%")
    else:
        head.append(f"适用：{rubric.unit_type}；满分 {_g(rubric.total)}"
                    + (f"（来源印作 {rubric.printed_total}）" if rubric.printed_total else "")
                    + f"；最高 {_g(rubric.max_total)}" + (f"；总分上限 {_g(rubric.total_cap)}" if rubric.total_cap else "")
                    + (f"；计分办法 {rubric.method}" if rubric.method else ""))
    g = rubric.grading
    if g.kind == "thresholds":
        head.append("等次：" + "，".join(f"{t.grade} ≥{_g(t.min)}" for t in g.thresholds)
                    + (f"（{g.method}）" if g.method else ""))
    elif g.kind == "rank_shares":
        head.append("等次按名次：" + "；".join(
            f"{k}：" + "、".join(f"{s.grade} {s.count}" for s in v) for k, v in g.shares.items()))
    if g.note:
        head.append(f"等次说明：{g.note}")
    head.extend(f"说明：{n}" for n in rubric.notes)
    lines = list(head)
    totals = {"automated": 0.0, "partial": 0.0, "manual": 0.0}
    for ind in rubric.walk():
        indent = "  " * ind.level
        mode = MODE_ZH.get(ind.mode, ind.mode)
        ident = "" if ind.id == ind.name else f"{ind.id} "
        how = f" · {'/'.join(ind.assessed_by)}" if ind.assessed_by else ""
        lines.append(f"{indent}{ident}{ind.name} — {_points(ind)} · {mode}{how} · {ind.source}")
        if ind.is_leaf and ind.kind == "scored":
            totals[ind.mode] += ind.points
        for r in ind.rules:
            lines.append(f"{indent}    · {_rule_text(r)}")
        for name, src in ind.items:
            lines.append(f"{indent}    - {name}（{src}）")
        if ind.note:
            lines.append(f"{indent}    注：{ind.note}")
    if rubric.kind != "method":
        lines.append(f"自动 {_g(totals['automated'])} 分 · 部分自动 {_g(totals['partial'])} 分 · "
                     f"人工 {_g(totals['manual'])} 分")
    return "\n".join(lines)
