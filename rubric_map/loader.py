"""Read rubric files (rubric_map/rubrics/*.yaml), check them, and turn them into ``Rubric`` records.

A rubric file only *declares*: indicators with their points or weights, the source line they come from, and
rules naming finding codes. Everything that can be wrong in such a file (a typo in a code, weights that do
not add up, a negative cap, an unknown rule) is refused here with the file and line, so a mistake never
turns into a silent wrong score later. The arithmetic lives in ``rubric_map.engine``.

File layout (see any file in rubrics/ for a full example)::

    id: changning-2020-township          # fixed ids, docs/conventions.md
    kind: rubric                         # or: method (a scoring/grading method other rubrics reference)
    title: ...
    unit_type: township
    source: {file: changning-2020-assessment-notice.txt, line: 82}
    scoring: points                      # or: weights (一级 x 二级 x 三级 percentages)
    total: 100
    total_cap: 100                       # optional: 累计加分后超过100分的，按100分计算
    method: datong-2020                  # optional: adopt a method's deduction caps, bonus caps, grading
    grading: {...}                       # thresholds / rank_shares / none / {method: datong-2020}
    indicators:
      - id: "7"
        name: 按要求编制政府信息公开指南
        points: 5                        # or weight: 40 (percent of the parent) in a weighted rubric
        mode: automated                  # automated / partial / manual
        source: {file: ..., line: 93}
        rules:
          - {kind: fixed, codes: [guide.missing], points: 5, label: 未按要求编制}
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from rubric_map.codes import known_codes
from rubric_map.model import (
    KINDS,
    MODES,
    RULE_KINDS,
    VETO_EFFECTS,
    Band,
    Condition,
    Grading,
    Indicator,
    RankShare,
    Rubric,
    RubricError,
    RubricInfo,
    Rule,
    Source,
    Threshold,
    UnknownRubric,
)
from rubric_map.yaml_lines import LineDict, LineList, YamlSyntaxError, load_with_lines

RUBRIC_DIR = Path(__file__).with_name("rubrics")
EPS = 1e-6

TOP_KEYS = {"id", "kind", "title", "unit_type", "source", "scoring", "total", "total_cap", "method", "grading",
            "indicators", "notes", "printed_total", "deduction_caps", "bonus_cap_share", "items_sum",
            "check_params"}
# what a rubric may set for each check (anything else is a typo the file's author must hear about)
CHECK_PARAMS = {"interpretation": {"late_working_days"}, "pdf_label": {"sample"},
                "columns": set(), "guide": set(), "annual_report": set(), "site_health": {"allowed_domains"}}
INDICATOR_KEYS = {"id", "name", "short", "points", "weight", "printed", "mode", "kind", "source", "rules",
                  "children", "note", "criteria", "items_sum", "weights_sum", "effect", "per_item", "items",
                  "assessed_by"}
RULE_KEYS = {"kind", "codes", "points", "share", "cap", "sample", "sample_of", "subjects", "ignore_subjects", "where", "field",
             "bands", "effect", "label"}
OPS = (">=", "<=", "!=", "==", ">", "<")


class _Ctx:
    def __init__(self, file: str, scoring: str) -> None:
        self.file = file
        self.scoring = scoring
        self.ids: set[str] = set()

    def err(self, line: int, message: str) -> RubricError:
        return RubricError(self.file, line, message)


def _num(ctx: _Ctx, d: LineDict, key: str, *, required: bool = False, minimum: float | None = 0.0) -> float | None:
    if key not in d or d[key] is None:
        if required:
            raise ctx.err(d.line, f"missing `{key}`")
        return None
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
        raise ctx.err(d.line_of(key), f"`{key}` must be a number, got {v!r}")
    if minimum is not None and v < minimum:
        what = "cap" if key == "cap" else f"`{key}`"
        raise ctx.err(d.line_of(key), f"{what} below {minimum:g}: {v!r}")
    return float(v)


def _mapping(ctx: _Ctx, value: Any, line: int, what: str) -> LineDict:
    if not isinstance(value, LineDict):
        raise ctx.err(line, f"{what} must be a mapping")
    return value


def _unknown_keys(ctx: _Ctx, d: LineDict, allowed: set[str], what: str) -> None:
    for key in d:
        if key not in allowed:
            raise ctx.err(d.line_of(key), f"unknown key `{key}` in {what} (allowed: {', '.join(sorted(allowed))})")


def _source(ctx: _Ctx, d: LineDict, key: str = "source", *, required: bool = True) -> Source | None:
    if key not in d:
        if required:
            raise ctx.err(d.line, "missing `source: {file: ..., line: N}` (the rubric line this comes from)")
        return None
    src = _mapping(ctx, d[key], d.line_of(key), "`source`")
    file, line = src.get("file"), src.get("line")
    if not isinstance(file, str) or not file.strip():
        raise ctx.err(src.line, "`source.file` must name the source document")
    if isinstance(line, bool) or not isinstance(line, int) or line < 1:
        raise ctx.err(src.line, f"`source.line` must be a line number, got {line!r}")
    return Source(file=file, line=line)


def _str_list(ctx: _Ctx, d: LineDict, key: str) -> tuple[str, ...]:
    v = d.get(key)
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str | int) for x in v):
        raise ctx.err(d.line_of(key), f"`{key}` must be a list of strings")
    return tuple(str(x) for x in v)


def _rule(ctx: _Ctx, raw: Any, line: int, ind_points: float, ind_kind: str) -> Rule:
    d = _mapping(ctx, raw, line, "a rule")
    _unknown_keys(ctx, d, RULE_KEYS, "a rule")
    kind = d.get("kind")
    if kind not in RULE_KINDS:
        raise ctx.err(d.line_of("kind"), f"unknown rule kind {kind!r} (known: {', '.join(RULE_KINDS)})")
    codes = _str_list(ctx, d, "codes")
    sample_of = _str_list(ctx, d, "sample_of")
    known = known_codes()
    for key, lst in (("codes", codes), ("sample_of", sample_of)):
        for i, code in enumerate(lst):
            if code not in known:
                cl = d[key].line_of(i) if isinstance(d[key], LineList) else d.line_of(key)
                raise ctx.err(cl, f"unknown finding code {code!r} (see rubric_map/finding_codes.yaml)")
    if sample_of and kind != "per_sample":
        raise ctx.err(d.line_of("sample_of"), "`sample_of` belongs to per_sample rules")
    field = d.get("field")
    if (kind != "band" or field != "manual_value") and not codes:
        raise ctx.err(d.line, f"a `{kind}` rule needs `codes`")
    points = _num(ctx, d, "points")
    if isinstance(d.get("share"), str) and "/" in d["share"]:  # 1/6: one of six required parts
        a, _, b = d["share"].partition("/")
        try:
            d["share"] = float(a) / float(b)
        except (ValueError, ZeroDivisionError):
            raise ctx.err(d.line_of("share"), f"`share` must be a fraction like 1/6, got {d['share']!r}") from None
    share = _num(ctx, d, "share")
    if share is not None:
        if points is not None:
            raise ctx.err(d.line_of("share"), "give either `points` or `share`, not both")
        if share > 1 + EPS:
            raise ctx.err(d.line_of("share"), f"`share` is a fraction of the indicator's points (<= 1), got {share}")
        points = share * ind_points
    cap = _num(ctx, d, "cap")  # always in points, also in a weighted rubric
    if kind in ("fixed", "per_item", "per_sample", "proportion", "bonus") and points is None:
        if kind == "proportion":
            points = ind_points  # the whole indicator, in proportion to the failing share
        else:
            raise ctx.err(d.line, f"a `{kind}` rule needs `points` (or `share`)")
    if kind == "per_sample":
        sample = d.get("sample")
        if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
            raise ctx.err(d.line_of("sample") if "sample" in d else d.line,
                          f"a per_sample rule needs `sample: N` (N >= 1), got {sample!r}")
    else:
        sample = None
    where: list[Condition] = []
    for i, w in enumerate(d.get("where") or []):
        wl = d["where"].line_of(i) if isinstance(d["where"], LineList) else d.line_of("where")
        wd = _mapping(ctx, w, wl, "a `where` condition")
        op = wd.get("op")
        if op not in OPS or not isinstance(wd.get("field"), str) or "value" not in wd:
            raise ctx.err(wd.line, f"a `where` condition needs field, op ({' '.join(OPS)}) and value")
        where.append(Condition(field=wd["field"], op=op, value=wd["value"]))
    bands: list[Band] = []
    if kind == "band":
        if not isinstance(field, str) or not field:
            raise ctx.err(d.line, "a band rule needs `field` (a details field of the finding, or manual_value)")
        raw_bands = d.get("bands")
        if not isinstance(raw_bands, list) or not raw_bands:
            raise ctx.err(d.line, "a band rule needs `bands: [{min: .., max: .., score: ..}, ...]`")
        for i, b in enumerate(raw_bands):
            bd = _mapping(ctx, b, raw_bands.line_of(i), "a band")
            score = _num(ctx, bd, "score", required=True)
            assert score is not None
            if score > ind_points + EPS:
                raise ctx.err(bd.line, f"band score {score:g} exceeds the indicator's {ind_points:g} points")
            bands.append(Band(score=score, min=_num(ctx, bd, "min", minimum=None),
                              max=_num(ctx, bd, "max", minimum=None)))
    effect = d.get("effect")
    if kind == "veto" and effect is not None and effect not in VETO_EFFECTS:
        raise ctx.err(d.line_of("effect"), f"unknown veto effect {effect!r} (known: {', '.join(VETO_EFFECTS)})")
    if kind == "bonus" and ind_kind != "bonus":
        raise ctx.err(d.line, "a bonus rule belongs to a `kind: bonus` indicator")
    return Rule(kind=kind, line=d.line, codes=codes, points=points, cap=cap, sample=sample, sample_of=sample_of,
                subjects=_str_list(ctx, d, "subjects"), ignore_subjects=_str_list(ctx, d, "ignore_subjects"),
                where=tuple(where), field=field if kind == "band" else None, bands=tuple(bands),
                effect=effect, label=d.get("label"))


def _indicator(ctx: _Ctx, raw: Any, line: int, parent_path: tuple[str, ...], parent_id: str, position: int,
               level: int, parent_points: float, parent_kind: str, sibling_weight_total: float | None) -> Indicator:
    d = _mapping(ctx, raw, line, "an indicator")
    _unknown_keys(ctx, d, INDICATOR_KEYS, "an indicator")
    name = d.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ctx.err(d.line, "an indicator needs a `name` (as printed)")
    ind_id = str(d["id"]) if "id" in d and d["id"] is not None else (
        f"{parent_id}.{position}" if parent_id else str(position))
    if ind_id in ctx.ids:
        raise ctx.err(d.line_of("id") if "id" in d else d.line, f"duplicate indicator id {ind_id!r}")
    if len(ind_id) > 64:
        raise ctx.err(d.line_of("id") if "id" in d else d.line, f"indicator id longer than 64 characters: {ind_id!r}")
    ctx.ids.add(ind_id)
    kind = d.get("kind", "bonus" if parent_kind == "bonus" else "penalty" if parent_kind == "penalty" else None)
    children_raw = d.get("children")
    if kind is None:
        kind = "group" if children_raw else "scored"
    if kind not in KINDS:
        raise ctx.err(d.line_of("kind"), f"unknown indicator kind {kind!r} (known: {', '.join(KINDS)})")
    source = _source(ctx, d)
    assert source is not None
    path = (*parent_path, name)

    # points: printed points (points rubric), or weight as a percent of the parent (weighted rubric)
    weight = _num(ctx, d, "weight")
    pts = _num(ctx, d, "points")
    if kind in ("bonus", "penalty"):
        points = pts if pts is not None else math.inf  # no printed cap: the total cap bounds it
    elif kind == "veto":
        if pts:
            raise ctx.err(d.line_of("points"), "a veto item carries no points")
        points = 0.0
    elif ctx.scoring == "weights":
        if weight is None:
            raise ctx.err(d.line, "a weighted rubric needs `weight` (percent of the parent) on every indicator")
        if weight <= 0:
            raise ctx.err(d.line_of("weight"), f"weight must be positive, got {weight:g}")
        points = parent_points * weight / (sibling_weight_total or 100.0)
    else:
        if pts is None and not (kind == "group" and children_raw):
            raise ctx.err(d.line, "missing `points`")
        if pts is None:
            pts = 0.0  # a heading over veto/bonus items only; checked against its items below
        if pts <= 0 and kind == "scored":
            raise ctx.err(d.line_of("points"), f"points must be positive, got {pts:g}")
        points = pts

    per_item = _num(ctx, d, "per_item")
    mode = d.get("mode")
    effect = d.get("effect")
    if kind == "veto":
        if effect not in VETO_EFFECTS:
            raise ctx.err(d.line_of("effect") if "effect" in d else d.line,
                          f"a veto item needs `effect` (one of {', '.join(VETO_EFFECTS)}), got {effect!r}")
    elif effect is not None:
        raise ctx.err(d.line_of("effect"), "`effect` belongs to veto items")

    children: list[Indicator] = []
    if children_raw:
        if not isinstance(children_raw, list):
            raise ctx.err(d.line_of("children"), "`children` must be a list")
        if mode is not None and kind == "group":
            raise ctx.err(d.line_of("mode"), "a group's mode follows from its children; give `mode` on leaves")
        child_weights_total = None
        if ctx.scoring == "weights" and kind == "group":
            ws = [c.get("weight") for c in children_raw if isinstance(c, LineDict)
                  and c.get("kind") not in ("bonus", "penalty", "veto")]
            if any(not isinstance(w, int | float) or isinstance(w, bool) for w in ws):
                missing_at = next(c.line for c in children_raw if isinstance(c, LineDict)
                                  and not isinstance(c.get("weight"), int | float))
                raise ctx.err(missing_at, "a weighted rubric needs `weight` (percent of the parent) on every indicator")
            child_weights_total = float(sum(ws))
            declared = _num(ctx, d, "weights_sum")
            if declared is None and abs(child_weights_total - 100.0) > EPS:
                raise ctx.err(d.line, f"weights of the children of {name!r} sum to {child_weights_total:g}%, not "
                                      f"100% (if the source prints it so, declare `weights_sum: "
                                      f"{child_weights_total:g}` and say why in `note`)")
            if declared is not None and abs(declared - child_weights_total) > EPS:
                raise ctx.err(d.line_of("weights_sum"), f"`weights_sum: {declared:g}` but the children's weights "
                                                        f"sum to {child_weights_total:g}")
        for i, c in enumerate(children_raw):
            children.append(_indicator(ctx, c, children_raw.line_of(i), path, ind_id, i + 1, level + 1, points,
                                       kind, child_weights_total))
        if kind == "group" and ctx.scoring == "points":
            scored_sum = sum(c.points for c in children if c.kind in ("scored", "group"))
            declared_sum = _num(ctx, d, "items_sum")
            if declared_sum is None and abs(scored_sum - points) > EPS:
                raise ctx.err(d.line, f"{name!r} is printed as {points:g} points but its items sum to "
                                      f"{scored_sum:g} (if the source prints it so, declare `items_sum: "
                                      f"{scored_sum:g}` and say why in `note`)")
            if declared_sum is not None:
                if abs(declared_sum - scored_sum) > EPS:
                    raise ctx.err(d.line_of("items_sum"), f"`items_sum: {declared_sum:g}` but the items sum to "
                                                          f"{scored_sum:g}")
                points = scored_sum  # the items are what can be scored; the printed figure stays in `printed`
        mode = _group_mode(children)
    else:
        if mode not in MODES:
            raise ctx.err(d.line_of("mode") if "mode" in d else d.line,
                          f"unknown or missing mode {mode!r} (one of {', '.join(MODES)})")
        if kind == "group":
            raise ctx.err(d.line, "a group needs children")

    rules: list[Rule] = []
    raw_rules = d.get("rules") or []
    if not isinstance(raw_rules, list):
        raise ctx.err(d.line_of("rules"), "`rules` must be a list")
    for i, r in enumerate(raw_rules):
        rules.append(_rule(ctx, r, raw_rules.line_of(i), points if math.isfinite(points) else 0.0, kind))
    _check_mode(ctx, d, kind, mode, rules, bool(children))
    items: list[tuple[str, Source]] = []
    raw_items = d.get("items") or []
    if not isinstance(raw_items, list):
        raise ctx.err(d.line_of("items"), "`items` must be a list of {name, source}")
    for i, it in enumerate(raw_items):
        itd = _mapping(ctx, it, raw_items.line_of(i), "an item")
        _unknown_keys(ctx, itd, {"name", "source"}, "an item")
        if not isinstance(itd.get("name"), str):
            raise ctx.err(itd.line, "an item needs `name`")
        items.append((itd["name"], _source(ctx, itd)))  # type: ignore[arg-type]
    printed = d.get("printed")
    if printed is None:
        printed = (f"{weight:g}%" if weight is not None else f"{pts:g}分" if d.get("points") is not None else None)
    return Indicator(id=ind_id, name=name.strip(), path=path, kind=kind, mode=mode, points=points,
                     source=source, line=d.line, short=d.get("short"), printed=str(printed) if printed else None,
                     weight=weight, rules=tuple(rules), children=tuple(children), note=d.get("note"),
                     criteria=d.get("criteria"), level=level, veto_effect=effect, per_item=per_item,
                     items=tuple(items), assessed_by=_str_list(ctx, d, "assessed_by"))


def _group_mode(children: list[Indicator]) -> str:
    modes = {c.mode for c in children if c.kind != "veto"} or {c.mode for c in children}
    if modes == {"automated"}:
        return "automated"
    if modes == {"manual"}:
        return "manual"
    return "partial"


def _check_mode(ctx: _Ctx, d: LineDict, kind: str, mode: str, rules: list[Rule], has_children: bool) -> None:
    if has_children:
        if rules:
            raise ctx.err(d.line_of("rules"), "rules belong to leaf indicators, not to groups")
        return
    deciding = [r for r in rules if r.kind != "review"]
    auto = [r for r in deciding if not (r.kind == "band" and r.field == "manual_value")]
    if mode in ("automated", "partial") and not auto:
        raise ctx.err(d.line_of("mode"), f"a {mode} indicator needs at least one rule on finding codes")
    if mode == "manual" and auto:
        raise ctx.err(auto[0].line, "a manual indicator may only carry `review` rules (evidence shown to the "
                                    "assessor) or a band on `manual_value`; make it partial or automated")
    for r in rules:
        if kind == "veto" and r.kind not in ("veto", "review"):
            raise ctx.err(r.line, "a veto item only takes `veto` or `review` rules")
        if r.kind == "veto" and kind != "veto":
            raise ctx.err(r.line, "a `veto` rule belongs to a `kind: veto` item")
        if kind == "bonus" and r.kind not in ("bonus", "review"):
            raise ctx.err(r.line, "a bonus item only takes `bonus` or `review` rules")


def _grading(ctx: _Ctx, raw: Any, line: int) -> Grading:
    if raw is None:
        return Grading(kind="none")
    d = _mapping(ctx, raw, line, "`grading`")
    if "method" in d:
        method = load_rubric(str(d["method"]))
        if method.kind != "method":
            raise ctx.err(d.line_of("method"), f"{d['method']!r} is not a method")
        g = method.grading
        return Grading(kind=g.kind, thresholds=g.thresholds, shares=g.shares, group_by=g.group_by,
                       below_grade=g.below_grade, below_min=g.below_min, source=g.source, method=method.id,
                       note=d.get("note"))
    kind = d.get("kind")
    src = _source(ctx, d, required=kind != "none")
    if kind == "none":
        return Grading(kind="none", note=d.get("note"), source=src)
    if kind == "thresholds":
        rows = d.get("thresholds")
        if not isinstance(rows, list) or not rows:
            raise ctx.err(d.line, "thresholds grading needs `thresholds: [{min: 90, grade: 优秀}, ...]`")
        out = []
        for i, t in enumerate(rows):
            td = _mapping(ctx, t, rows.line_of(i), "a threshold")
            mn = _num(ctx, td, "min", required=True, minimum=None)
            if not isinstance(td.get("grade"), str):
                raise ctx.err(td.line, "a threshold needs `grade`")
            out.append(Threshold(min=float(mn), grade=td["grade"]))  # type: ignore[arg-type]
        if any(a.min <= b.min for a, b in zip(out, out[1:], strict=False)):
            raise ctx.err(rows.line, "thresholds must be listed from the highest `min` down")
        return Grading(kind="thresholds", thresholds=tuple(out), source=src, note=d.get("note"))
    if kind == "rank_shares":
        shares_raw = _mapping(ctx, d.get("shares"), d.line_of("shares"), "`shares`")
        shares: dict[str, tuple[RankShare, ...]] = {}
        for group, spec in shares_raw.items():
            sd = _mapping(ctx, spec, shares_raw.line_of(group), f"shares of {group!r}")
            of = sd.get("of")
            counts = [(g, n) for g, n in sd.items() if g != "of"]
            if not isinstance(of, int) or of < 1 or not counts:
                raise ctx.err(sd.line, "a share group needs `of: N` (units counted in the source) and grade counts")
            for g, n in counts:
                if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                    raise ctx.err(sd.line_of(g), f"count for {g!r} must be a whole number, got {n!r}")
            if sum(n for _, n in counts) != of:
                raise ctx.err(sd.line, f"grade counts of {group!r} sum to {sum(n for _, n in counts)}, not {of}")
            shares[str(group)] = tuple(RankShare(grade=str(g), count=int(n)) for g, n in counts)
        below = d.get("below")
        below_grade = below_min = None
        if below is not None:
            bd = _mapping(ctx, below, d.line_of("below"), "`below`")
            below_min = _num(ctx, bd, "min", required=True)
            below_grade = bd.get("grade")
        group_by = d.get("group_by")
        if group_by not in (None, "category"):
            raise ctx.err(d.line_of("group_by"), f"group_by must be `category`, got {group_by!r}")
        return Grading(kind="rank_shares", shares=shares, group_by=group_by, below_grade=below_grade,
                       below_min=below_min, source=src, note=d.get("note"))
    raise ctx.err(d.line_of("kind") if "kind" in d else d.line,
                  f"unknown grading kind {kind!r} (thresholds / rank_shares / none, or `method: ID`)")


def parse_rubric(data: Any, file: str) -> Rubric:
    """Check a parsed rubric file and build the Rubric. Raises RubricError(file, line, message)."""
    ctx = _Ctx(file, "points")
    d = _mapping(ctx, data, 1, "a rubric file")
    _unknown_keys(ctx, d, TOP_KEYS, "the rubric")
    for key in ("id", "title"):
        if not isinstance(d.get(key), str) or not d[key].strip():
            raise ctx.err(d.line_of(key) if key in d else d.line, f"missing `{key}`")
    kind = d.get("kind", "rubric")
    if kind not in ("rubric", "method"):
        raise ctx.err(d.line_of("kind"), f"kind must be rubric or method, got {kind!r}")
    source = _source(ctx, d)
    assert source is not None
    scoring = d.get("scoring", "points")
    if scoring not in ("points", "weights"):
        raise ctx.err(d.line_of("scoring"), f"scoring must be points or weights, got {scoring!r}")
    ctx.scoring = scoring

    # a method (大同) supplies deduction caps, bonus caps and grading to the rubrics that adopt it
    deduction_caps, bonus_cap_share, method_grading, method_id = "per_indicator", None, None, None
    if "method" in d:
        m = load_rubric(str(d["method"]))
        if m.kind != "method":
            raise ctx.err(d.line_of("method"), f"{d['method']!r} is not a method")
        deduction_caps, bonus_cap_share, method_grading, method_id = (m.deduction_caps, m.bonus_cap_share,
                                                                      replace(m.grading, method=m.id), m.id)
    if "deduction_caps" in d:
        deduction_caps = d["deduction_caps"]
        if deduction_caps not in ("per_indicator", "first_level"):
            raise ctx.err(d.line_of("deduction_caps"), "deduction_caps must be per_indicator or first_level")
    if "bonus_cap_share" in d:
        bonus_cap_share = _num(ctx, d, "bonus_cap_share")
        if bonus_cap_share is not None and bonus_cap_share > 1:
            raise ctx.err(d.line_of("bonus_cap_share"), "bonus_cap_share is a fraction (<= 1)")

    grading = _grading(ctx, d.get("grading"), d.line_of("grading")) if "grading" in d else (
        method_grading or Grading(kind="none"))
    if kind == "method":
        return Rubric(id=d["id"], title=d["title"], unit_type="method", source=source, total=0.0, indicators=(),
                      grading=grading, file=file, kind="method", scoring=scoring, deduction_caps=deduction_caps,
                      bonus_cap_share=bonus_cap_share, notes=tuple(d.get("notes") or ()))

    if not isinstance(d.get("unit_type"), str):
        raise ctx.err(d.line, "missing `unit_type`")
    total = _num(ctx, d, "total", required=True)
    assert total is not None
    if total <= 0:
        raise ctx.err(d.line_of("total"), "total must be positive")
    raw_inds = d.get("indicators")
    if not isinstance(raw_inds, list) or not raw_inds:
        raise ctx.err(d.line_of("indicators") if "indicators" in d else d.line, "missing `indicators`")
    top_weight_total = None
    if scoring == "weights":
        ws = [c.get("weight") for c in raw_inds if isinstance(c, LineDict)
              and c.get("kind") not in ("bonus", "penalty", "veto")]
        if any(not isinstance(w, int | float) or isinstance(w, bool) for w in ws):
            raise ctx.err(raw_inds.line, "a weighted rubric needs `weight` on every 一级 indicator")
        top_weight_total = float(sum(ws))
        if abs(top_weight_total - 100.0) > EPS:
            raise ctx.err(raw_inds.line, f"一级 weights sum to {top_weight_total:g}%, not 100%")
    indicators = tuple(_indicator(ctx, c, raw_inds.line_of(i), (), "", i + 1, 1, total, "group", top_weight_total)
                       for i, c in enumerate(raw_inds))
    scored = sum(i.points for i in indicators if i.kind in ("scored", "group"))
    declared_items = _num(ctx, d, "items_sum")
    if scoring == "points":
        if declared_items is None and abs(scored - total) > EPS:
            raise ctx.err(d.line_of("total"), f"total is {total:g} but the indicators sum to {scored:g}")
        if declared_items is not None and abs(declared_items - scored) > EPS:
            raise ctx.err(d.line_of("items_sum"), f"`items_sum: {declared_items:g}` but the indicators sum "
                                                  f"to {scored:g}")
    check_params = _check_params(ctx, d)
    total_cap = _num(ctx, d, "total_cap")
    bonus_max = 0.0
    for ind in indicators:
        for node in ind.walk():
            if node.kind == "bonus" and (node is ind or _parent_kind(ind, node) != "bonus"):
                cap = node.points
                if bonus_cap_share is not None:
                    cap = min(cap, bonus_cap_share * _parent_points(indicators, node, total))
                bonus_max += cap
    max_total = scored + bonus_max
    if total_cap is not None:
        max_total = min(max_total, total_cap)
    if not math.isfinite(max_total):
        raise ctx.err(d.line, "uncapped bonus items need a `total_cap` (the source's 按100分计算)")
    return Rubric(id=d["id"], title=d["title"], unit_type=d["unit_type"], source=source, total=scored,
                  indicators=indicators, grading=grading, file=file, kind="rubric", scoring=scoring,
                  deduction_caps=deduction_caps, bonus_cap_share=bonus_cap_share, total_cap=total_cap,
                  printed_total=str(d["printed_total"]) if "printed_total" in d else None,
                  notes=tuple(str(n) for n in (d.get("notes") or ())), method=method_id, max_total=max_total,
                  check_params=check_params)


def _check_params(ctx: _Ctx, d: LineDict) -> dict:
    if "check_params" not in d:
        return {}
    raw = _mapping(ctx, d["check_params"], d.line_of("check_params"), "`check_params`")
    out: dict = {}
    for check_id, params in raw.items():
        line = raw.line_of(check_id)
        if check_id not in CHECK_PARAMS:
            raise ctx.err(line, f"check_params names unknown check {check_id!r}")
        pm = _mapping(ctx, params, line, f"check_params.{check_id}")
        for key, value in pm.items():
            if key not in CHECK_PARAMS[check_id]:
                raise ctx.err(pm.line_of(key), f"check {check_id!r} takes no parameter {key!r}")
            if key in ("late_working_days", "sample") and (not isinstance(value, int) or isinstance(value, bool)
                                                           or value < 0):
                raise ctx.err(pm.line_of(key), f"{check_id}.{key} must be a whole number >= 0")
        out[str(check_id)] = dict(pm)
    return out


def _parent_kind(root: Indicator, node: Indicator) -> str | None:
    for n in root.walk():
        if node in n.children:
            return n.kind
    return None


def _parent_points(top: tuple[Indicator, ...], node: Indicator, total: float) -> float:
    for root in top:
        for n in root.walk():
            if node in n.children:
                return n.points
    return total  # a top-level bonus belongs to the whole rubric


def load_rubric_file(path: str | Path) -> Rubric:
    path = Path(path)
    try:
        data = load_with_lines(path)
    except YamlSyntaxError as exc:
        raise RubricError(path.name, exc.line, str(exc)) from None
    except OSError as exc:
        raise RubricError(path.name, 0, f"cannot read: {exc}") from None
    rubric = parse_rubric(data, path.name)
    if path.stem != rubric.id and path.parent == RUBRIC_DIR:
        raise RubricError(path.name, 1, f"file name must be the rubric id ({rubric.id}.yaml)")
    return rubric


def _rubric_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(RUBRIC_DIR.glob("*.yaml"))}


@cache
def load_rubric(rubric_id: str) -> Rubric:
    """The rubric (or method) with this id. Unknown id: UnknownRubric (a KeyError); bad file: RubricError."""
    files = _rubric_files()
    if rubric_id not in files:
        raise UnknownRubric(f"unknown rubric {rubric_id!r}; known: {', '.join(sorted(files))}")
    return load_rubric_file(files[rubric_id])


def list_rubrics() -> list[RubricInfo]:
    """Every rubric and method in rubric_map/rubrics/ (a file that does not load raises its RubricError)."""
    out = []
    for rid in _rubric_files():
        r = load_rubric(rid)
        out.append(RubricInfo(id=r.id, title=r.title, unit_type=r.unit_type, total=r.total, source=str(r.source)))
    return out
