"""The static HTML report: ``index.html`` (run overview) and ``sites/<site>/index.html`` (one per unit).

Opens from disk with no server and no network. The overview ranks the units, charts the grade
distribution (inline SVG) and counts findings by check; a unit's page shows its score by indicator — each
deduction linking to the findings behind it — the changes since its last run, and every finding with its
evidence (link, snippet, screenshot, PDF page image with the label region). Filters by check and status
are a few lines of the report's own JS (``assets/report.js``) over ``data-`` attributes.
"""

from __future__ import annotations

from collections import Counter
from importlib import resources
from pathlib import Path

from reports.cell_safety import safe_name
from reports.diff import UNREACHABLE_CODE, FindingChange, ScoreChange, SiteDiff, indicator_label
from reports.evidence_files import EvidenceExporter
from reports.html_parts import ASSETS_DIR, bar_chart, h, link, page, table
from reports.labels import label, labels
from reports.records import FindingRow, ReportData, ScoreRow, SiteRow
from reports.schema import ITEM_SEPARATOR, SCHEMA_VERSION, fmt_points, fmt_time

STATUSES = ("fail", "unverifiable", "pass", "not_applicable")
NO_GRADE = "未评定"


def site_page_path(site_id: str) -> str:
    """Path of a unit's page relative to the report directory."""
    return f"sites/{safe_name(site_id)}/index.html"


def copy_assets(out_dir: Path) -> None:
    target = out_dir / ASSETS_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name in ("report.js", "report.css"):
        src = resources.files("reports").joinpath("static", name)
        (target / name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")


def _badge(status: str) -> str:
    return f'<span class="badge status-{h(status)}">{h(label("status", status))}</span>'


def _score_cell(score: float | None, adjusted: bool) -> str:
    text = h(fmt_points(score)) if score is not None else '<span class="manual">待人工评分</span>'
    if adjusted:
        text += ' <span class="adjusted" title="争议处理后重新计分">已调整</span>'
    return text


def _grade_items(totals: list[ScoreRow], sites: list[SiteRow]) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter(t.grade or NO_GRADE for t in totals)
    scored = {t.site_id for t in totals}
    counts[NO_GRADE] += sum(1 for s in sites if s.site_id not in scored)
    order = [g for g in labels().get("grade_order", []) if counts.get(g)]
    order += sorted(g for g in counts if g not in order and g != NO_GRADE)
    if counts.get(NO_GRADE):
        order.append(NO_GRADE)
    return [(g, counts[g]) for g in order]


# --- overview -----------------------------------------------------------------------------------------

def _overview(data: ReportData, since: dict[str, SiteDiff], warnings: list[str]) -> str:
    run = data.run
    names = {s.site_id: s for s in data.sites}
    by_site: Counter[tuple[str, str]] = Counter((f.site_id, f.status) for f in data.findings)
    site_status = Counter(s.status for s in data.sites)

    parts = [f"<header><h1>政府信息公开测评报告 · 运行 {run.id}</h1>",
             f'<p class="meta">测评基准日 {h(run.as_of)} · 考核年度 {h(run.assessment_year)} · '
             f"运行状态 {h(run.status)} · 开始 {h(fmt_time(run.started_at))} · "
             f"完成 {h(fmt_time(run.finished_at))} · 版本 {h(run.tool_version)} · 数据格式 {SCHEMA_VERSION}</p>",
             '<p class="meta">单位 ' + h(len(data.sites)) + "：" + "，".join(
                 f"{h(label('run_site_status', k))} {v}" for k, v in sorted(site_status.items())) + "</p>",
             "</header>"]
    if warnings:
        parts.append('<section class="selfcheck"><h2>输出自检</h2><ul>'
                     + "".join(f"<li>{h(w)}</li>" for w in warnings) + "</ul></section>")

    unreachable = {f.site_id for f in data.findings if f.code == UNREACHABLE_CODE and f.status == "fail"}

    def crawl_cell(site_id: str) -> str:
        # the run-site status moves on to "scored" even for a unit whose platform never answered
        if site_id in unreachable:
            return '<span class="warn">无法访问</span>'
        s = names.get(site_id)
        return h(label("run_site_status", s.status)) if s else ""

    rows = []
    ranked = set()
    for t in data.totals():
        ranked.add(t.site_id)
        s = names.get(t.site_id)
        rows.append([h(t.rank if t.rank is not None else ""),
                     f'<a href="{h(site_page_path(t.site_id))}">{h(s.name if s else t.site_id)}</a>',
                     h(s.unit_type if s else ""), h(t.rubric_id),
                     f"{_score_cell(t.score, t.adjusted)} / {h(fmt_points(t.max_points))}",
                     _split_cell(t), h(t.grade or ""), h(by_site[(t.site_id, "fail")]),
                     h(by_site[(t.site_id, "unverifiable")]), crawl_cell(t.site_id)])
    for s in data.sites:
        if s.site_id not in ranked:
            rows.append(["", f'<a href="{h(site_page_path(s.site_id))}">{h(s.name)}</a>', h(s.unit_type),
                         h(s.rubric or ""), '<span class="muted">未评分</span>', "", "",
                         h(by_site[(s.site_id, "fail")]), h(by_site[(s.site_id, "unverifiable")]),
                         crawl_cell(s.site_id)])
    parts.append('<section id="ranking"><h2>单位排名</h2>'
                 + table(["排名", "单位", "类型", "评分细则", "得分", "自动评分 · 待人工", "等次", "不合格",
                          "无法核验", "采集"], rows, "ranking") + "</section>")

    parts.append('<section id="grades"><h2>等次分布</h2>'
                 + bar_chart(_grade_items(data.totals(), data.sites), "等次分布") + "</section>")

    by_check: Counter[tuple[str, str]] = Counter((f.check_id, f.status) for f in data.findings)
    checks = sorted({f.check_id for f in data.findings})
    rows = [[h(c), h(data.check_titles.get(c, ""))] + [h(by_check[(c, st)]) for st in STATUSES] for c in checks]
    parts.append('<section id="by-check"><h2>按检查统计</h2>'
                 + table(["检查", "名称"] + [label("status", st) for st in STATUSES], rows, "by-check")
                 + "</section>")

    if since:
        rows = []
        for sid, sd in sorted(since.items()):
            totals = [c for c in sd.score_changes if c.is_total]
            rows.append([f'<a href="{h(site_page_path(sid))}#since">{h(names[sid].name if sid in names else sid)}</a>',
                         h(sd.run_a), h(len(sd.new)), h(len(sd.resolved)), h(len(sd.persisting)),
                         h(len(sd.unstable)), "<br>".join(_score_change_text(c) for c in totals)])
        parts.append('<section id="since"><h2>与上次运行相比</h2>'
                     + table(["单位", "上次运行", label("change", "new"), label("change", "resolved"),
                              label("change", "persisting"), "不稳定", "总分变化"], rows) + "</section>")

    active = [d for d in data.disputes if d.active]
    if active:
        rows = [[h(d.id), h(names[d.site_id].name if d.site_id in names else d.site_id), h(d.code),
                 h(d.subject), h(d.reason), h(d.author or ""), h(fmt_time(d.created_at))] for d in active]
        parts.append('<section id="disputes"><h2>争议中的问题（不计分）</h2>'
                     + table(["编号", "单位", "问题代码", "对象", "理由", "提出人", "日期"], rows) + "</section>")
    return "\n".join(parts)


# --- a unit's page ------------------------------------------------------------------------------------

def _scores_section(data: ReportData, site_id: str) -> str:
    rows_by_rubric: dict[str, list[ScoreRow]] = {}
    for r in data.scores_of(site_id):
        rows_by_rubric.setdefault(r.rubric_id, []).append(r)
    if not rows_by_rubric:
        return '<section id="scores"><h2>得分</h2><p class="muted">本次运行未对该单位评分。</p></section>'
    out = ['<section id="scores"><h2>得分</h2>']
    for rubric_id, rows in rows_by_rubric.items():
        total = next((r for r in rows if r.is_total), None)
        head = f"<h3>{h(rubric_id)}"
        if total is not None:
            head += (f"：{_score_cell(total.score, total.adjusted)} / {h(fmt_points(total.max_points))}"
                     f" · 等次 {h(total.grade or '-')} · 排名 {h(total.rank if total.rank is not None else '-')}")
        out.append(head + "</h3>")
        if total is not None:
            out.append(_split_note(total))
        body = []
        for r in rows:
            if r.is_total:
                continue
            basis = " ".join(f'<a class="basis" href="#f-{fid}">#{fid}</a>' for fid in r.basis)
            cls = "deducted" if r.deducted else ""
            body.append([f'<span class="{cls}">{h(r.indicator_id)}</span>', h(r.path or r.name),
                         h(label("mode", r.mode)), h(fmt_points(r.max_points)), h(fmt_points(r.deducted)),
                         h(fmt_points(r.bonus)), _score_cell(r.score, r.adjusted), basis, h(r.explanation or "")])
        out.append(table(["指标", "名称", "方式", "分值", "扣分", "加分", "得分", "依据", "说明"], body, "scores"))
    out.append("</section>")
    return "\n".join(out)


def _split_cell(total: ScoreRow) -> str:
    """``自动 16.2/16.8 · 待人工 83.2`` from the engine's stored total details; empty when absent."""
    d = total.details
    parts = []
    if isinstance(d.get("automated_total"), int | float) and isinstance(d.get("automated_max"), int | float):
        parts.append(f"自动 {h(fmt_points(d['automated_total']))}/{h(fmt_points(d['automated_max']))}")
    if isinstance(d.get("manual_pending"), int | float) and d["manual_pending"]:
        parts.append(f"待人工 {h(fmt_points(d['manual_pending']))}")
    return " · ".join(parts)


def _split_note(total: ScoreRow) -> str:
    """The automated/manual split the engine stored with the total (shown, never recomputed)."""
    if total.explanation:  # the engine's own wording already carries the split
        return f'<p class="meta split">{h(total.explanation)}</p>'
    split = _split_cell(total)
    return f'<p class="meta split">{split}</p>' if split else ""


def _change_li(c: FindingChange, present_ids: set[int]) -> str:
    target = c.finding_id_b if c.finding_id_b in present_ids else None
    code = f'<a href="#f-{target}">{h(c.code)}</a>' if target else h(c.code)
    subject = f" [{h(c.subject)}]" if c.subject else ""
    reason = f'<div class="reason">原因：{h(c.reason)}</div>' if c.reason else ""
    return f"<li>{code}{subject} — {h(c.message)}{reason}</li>"


def _score_change_text(c: ScoreChange) -> str:
    before = fmt_points(c.before) or "待人工评分"
    after = fmt_points(c.after) or "待人工评分"
    delta = c.delta
    text = f"{h(c.rubric_id)}：{h(before)} → {h(after)}"
    if delta is not None and abs(delta) > 1e-9:
        text += f" ({'+' if delta > 0 else ''}{h(fmt_points(delta))})"
    if c.is_total and c.grade_before != c.grade_after:
        text += f"，等次 {h(c.grade_before or '-')} → {h(c.grade_after or '-')}"
    if c.adjusted_after:
        text += ' <span class="adjusted">已调整</span>'
    return text


def _since_section(sd: SiteDiff | None, present_ids: set[int]) -> str:
    if sd is None:
        return '<section id="since"><h2>与上次运行相比</h2><p class="muted">该单位首次测评，无可比较的运行。</p></section>'
    out = [f'<section id="since"><h2>与上次运行（运行 {h(sd.run_a)}）相比</h2>']
    out += [f'<p class="warn">注意：{h(w)}</p>' for w in sd.not_seen]
    for key, items in (("new", sd.new), ("resolved", sd.resolved), ("unstable", sd.unstable)):
        out.append(f'<h3 class="change-{key}">{h(label("change", key))}（{len(items)}）</h3>')
        if items:
            out.append('<ul class="changes">' + "".join(_change_li(c, present_ids) for c in items) + "</ul>")
    out.append(f'<h3 class="change-persisting">{h(label("change", "persisting"))}（{len(sd.persisting)}）</h3>')
    if sd.persisting:
        out.append('<details><summary>展开</summary><ul class="changes">'
                   + "".join(_change_li(c, present_ids) for c in sd.persisting) + "</ul></details>")
    if sd.score_changes:
        rows = [[h("总分" if c.is_total else indicator_label(c.indicator_id, c.name)), _score_change_text(c)]
                for c in sd.score_changes]
        out.append("<h3>得分变化</h3>" + table(["指标", "变化"], rows, "score-changes"))
    out.append("</section>")
    return "\n".join(out)


def _evidence_block(f: FindingRow, exporter: EvidenceExporter, root: str) -> str:
    parts = []
    if f.evidence:
        parts.append(f'<pre class="snippet">{h(f.evidence)}</pre>')
    ev = exporter.copy(f.evidence_blob)
    if ev is not None:
        if ev.missing:
            parts.append(f'<p class="muted">证据文件已不在存储中（{h(ev.sha256[:12])}…）</p>')
        elif ev.kind == "image":
            caption = "截图" if f.evidence_file else "页面截图"
            parts.append(f'<figure><a href="{h(root + ev.rel_path)}"><img class="evidence" loading="lazy" '
                         f'src="{h(root + ev.rel_path)}" alt="{caption}"></a><figcaption>{caption}</figcaption></figure>')
        elif ev.kind == "pdf":
            img = exporter.pdf_page(ev.sha256, f.evidence_page or f.details.get("page"), f.details)
            if img is not None:
                note = "，红框为识别到的标识位置" if img.bbox_drawn else ""
                parts.append(f'<figure><img class="evidence pdf-page" loading="lazy" src="{h(root + img.rel_path)}" '
                             f'alt="PDF 第{img.page}页"><figcaption>PDF 第 {img.page}/{img.page_count} 页{note}'
                             "</figcaption></figure>")
            else:
                parts.append('<p class="muted">PDF 页面无法渲染（文件损坏、加密或页码超出范围）。</p>')
            parts.append(f'<p><a href="{h(root + ev.rel_path)}">打开 PDF 原件</a></p>')
        else:
            parts.append(f'<p><a href="{h(root + ev.rel_path)}">证据文件（{h(ev.kind)}）</a></p>')
    return "".join(parts)


def _finding_article(data: ReportData, f: FindingRow, exporter: EvidenceExporter, root: str) -> str:
    title = data.check_titles.get(f.check_id, "")
    rows = [f'<div class="finding-head">{_badge(f.status)} <span class="sev sev-{h(f.severity)}">'
            f'{h(label("severity", f.severity))}</span> <code>{h(f.code)}</code> '
            f'<span class="check">{h(f.check_id)}{(" · " + h(title)) if title else ""}</span>'
            f'<a class="anchor" href="#f-{f.id}">#{f.id}</a></div>',
            f'<p class="message">{h(f.message)}</p>']
    meta = []
    if f.subject:
        meta.append(f"<dt>对象</dt><dd>{h(f.subject)}</dd>")
    if f.url:
        meta.append(f"<dt>网址</dt><dd>{link(f.url)}</dd>")
    if f.rubric_items:
        meta.append(f"<dt>对应指标</dt><dd>{h(ITEM_SEPARATOR.join(f.rubric_items))}</dd>")
    reason = f.details.get("reason") if f.status == "unverifiable" else None
    if reason:
        meta.append(f"<dt>无法核验原因</dt><dd>{h(reason)}</dd>")
    meta.append(f"<dt>首次发现</dt><dd>运行 {h(f.first_seen_run)}</dd>")
    meta.append(f"<dt>检出时间</dt><dd>{h(fmt_time(f.created_at))}</dd>")
    meta.append(f'<dt>指纹</dt><dd><code>{h(f.fingerprint)}</code></dd>')
    rows.append('<dl class="meta">' + "".join(meta) + "</dl>")
    if f.dispute is not None:
        rows.append(f'<div class="dispute">争议中（不计分）：{h(f.dispute.reason)} · {h(f.dispute.author or "")} '
                    f"{h(fmt_time(f.dispute.created_at))}</div>")
    rows.append(_evidence_block(f, exporter, root))
    disputed = "yes" if f.dispute is not None else "no"
    return (f'<article class="finding status-{h(f.status)}" id="f-{f.id}" data-check="{h(f.check_id)}" '
            f'data-status="{h(f.status)}" data-disputed="{disputed}">' + "\n".join(rows) + "</article>")


def _filters(findings: list[FindingRow], data: ReportData) -> str:
    checks = Counter(f.check_id for f in findings)
    statuses = Counter(f.status for f in findings)
    check_opts = "".join(f'<option value="{h(c)}">{h(c)} {h(data.check_titles.get(c, ""))} ({n})</option>'
                         for c, n in sorted(checks.items()))
    status_opts = "".join(f'<option value="{h(s)}">{h(label("status", s))} ({statuses[s]})</option>'
                          for s in STATUSES if statuses.get(s))
    return ('<form class="filters" id="filters">'
            f'<label>检查 <select id="filter-check"><option value="">全部</option>{check_opts}</select></label> '
            f'<label>状态 <select id="filter-status"><option value="">全部</option>{status_opts}</select></label> '
            f'<span id="filter-count" aria-live="polite">{len(findings)} 项</span></form>')


def _site_page(data: ReportData, site: SiteRow, sd: SiteDiff | None, exporter: EvidenceExporter) -> str:
    root = "../../"
    findings = data.findings_of(site.site_id)
    counts = Counter(f.status for f in findings)
    head = [f'<nav><a href="{root}index.html">← 返回总览</a></nav>',
            f"<header><h1>{h(site.name)}</h1>",
            f'<p class="meta">{h(site.site_id)} · {h(site.unit_type)}{(" · " + h(site.category)) if site.category else ""}'
            f" · {link(site.url)} · 采集状态 {h(label('run_site_status', site.status))}"
            f" · 运行 {data.run.id} · 基准日 {h(data.run.as_of)}</p>",
            '<p class="meta">' + "，".join(f"{h(label('status', s))} {counts[s]}" for s in STATUSES) + "</p>"]
    if site.error:
        head.append(f'<p class="warn">采集错误：{h(site.error)}</p>')
    head.append("</header>")
    body = ["\n".join(head), _scores_section(data, site.site_id),
            _since_section(sd, {f.id for f in findings}),
            '<section id="findings"><h2>检查结果</h2>', _filters(findings, data)]
    body += [_finding_article(data, f, exporter, root) for f in findings]
    if not findings:
        body.append('<p class="muted">本次运行没有该单位的检查结果。</p>')
    body.append("</section>")
    return page(f"{site.name} · 运行 {data.run.id}", "\n".join(body), root)


def write_html(data: ReportData, out_dir: Path, exporter: EvidenceExporter,
               since: dict[str, SiteDiff] | None = None, warnings: list[str] | None = None) -> Path:
    since = since or {}
    copy_assets(out_dir)
    index = out_dir / "index.html"
    index.write_text(page(f"运行 {data.run.id} 测评报告", _overview(data, since, warnings or []), ""),
                     encoding="utf-8")
    site_rows = list(data.sites)
    known = {s.site_id for s in site_rows}
    for sid in sorted({f.site_id for f in data.findings} - known):  # findings of a site missing from run_sites
        site_rows.append(SiteRow(site_id=sid, name=sid, unit_type="", category=None, url="", rubric=None,
                                 status="unknown", error=None, pages_fetched=0))
    for s in site_rows:
        target = out_dir / site_page_path(s.site_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_site_page(data, s, since.get(s.site_id), exporter), encoding="utf-8")
    return index
