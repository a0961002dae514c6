"""Records describing a rubric once its file has been read and checked (immutable, shared by all scorings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["automated", "partial", "manual"]
MODES: tuple[str, ...] = ("automated", "partial", "manual")

# What an indicator contributes to the total:
#   scored  - points earned out of `points` (deductions take them away)
#   group   - the sum of its children (a 一级/二级 heading)
#   bonus   - points added on top (加分项目), within a cap
#   penalty - points taken off the total (扣分项目 / 重大扣分项), not tied to an item's own points
#   veto    - 一票否决 / 单项否决: no points, an effect when triggered
KINDS: tuple[str, ...] = ("scored", "group", "bonus", "penalty", "veto")

RULE_KINDS: tuple[str, ...] = (
    "fixed",  # deduct `points` once when any matching finding fails
    "per_item",  # deduct `points` for each failing finding, at most `cap` (扣完为止)
    "per_sample",  # look at the first `sample` findings the check sampled, deduct `points` per failing one
    "proportion",  # deduct `points` x failing / (failing + passing)
    "band",  # the score is read off a table of bands on a figure (a finding's details, or an assessor's value)
    "veto",  # a failing finding triggers the indicator's veto effect
    "bonus",  # `points` per finding (passing), at most `cap`
    "review",  # no arithmetic: the findings are shown to the assessor beside the item
)

VETO_EFFECTS: tuple[str, ...] = (
    "fail_unit",  # the unit's grade is 不合格 whatever its score (昌宁: 一票否决)
    "not_excellent",  # the unit cannot be graded 优秀 (随州: 不能评为优秀单位)
    "zero_parent",  # the indicator's parent scores 0 (廊坊 新媒体: 单项否决)
)


@dataclass(frozen=True)
class Source:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Condition:
    """A test on a finding's ``details`` (e.g. working_days > 5): findings lacking the field are unverifiable."""

    field: str
    op: str  # > >= < <= == !=
    value: float | str

    def test(self, actual: object) -> bool:
        if self.op in ("==", "!="):
            same = actual == self.value or (isinstance(actual, int | float) and isinstance(self.value, int | float)
                                            and float(actual) == float(self.value))
            return same if self.op == "==" else not same
        a, b = float(actual), float(self.value)  # type: ignore[arg-type]
        return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[self.op]


@dataclass(frozen=True)
class Band:
    """One row of a band table: a value in [min, max) scores `score`. Either bound may be open."""

    score: float
    min: float | None = None
    max: float | None = None

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value < self.max)


@dataclass(frozen=True)
class Rule:
    kind: str
    line: int  # where the rule is written in the rubric file
    codes: tuple[str, ...] = ()
    points: float | None = None  # points per deduction (already converted from `share` for weighted rubrics)
    cap: float | None = None
    sample: int | None = None
    sample_of: tuple[str, ...] = ()  # per_sample: the codes making up the sample (default: `codes`)
    subjects: tuple[str, ...] = ()  # only these subjects count (empty = all)
    ignore_subjects: tuple[str, ...] = ()  # these subjects are known not to be in this rubric's list
    where: tuple[Condition, ...] = ()
    field: str | None = None  # band: the details field to read, or "manual_value"
    bands: tuple[Band, ...] = ()
    effect: str | None = None  # veto
    label: str | None = None  # what the rubric calls this shortcoming, e.g. 指南要素不齐全

    @property
    def deducts(self) -> bool:
        return self.kind in ("fixed", "per_item", "per_sample", "proportion", "band")


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    path: tuple[str, ...]  # names from the 一级 down to this one
    kind: str
    mode: Mode
    points: float  # maximum points (for bonus/penalty: the cap; 0 when uncapped or for vetoes)
    source: Source
    line: int  # where the indicator is written in the rubric file
    short: str | None = None  # short label for explanations (指南)
    printed: str | None = None  # points or weight exactly as printed, e.g. "60%" or "(14分)"
    weight: float | None = None  # percent of the parent, for weighted rubrics
    rules: tuple[Rule, ...] = ()
    children: tuple[Indicator, ...] = ()
    note: str | None = None
    criteria: str | None = None  # 评分标准 / 考核内容 as printed, shown to the assessor
    level: int = 1
    veto_effect: str | None = None
    per_item: float | None = None  # bonus/penalty: points per occurrence, when the source prints one
    items: tuple[tuple[str, Source], ...] = ()
    assessed_by: tuple[str, ...] = ()  # 考核方式 as printed: 网上测评 / 实地测评 / 查阅资料 …  # sub-items the source lists under it without points of their own

    @property
    def label(self) -> str:
        return self.short or self.name

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass(frozen=True)
class Threshold:
    min: float
    grade: str


@dataclass(frozen=True)
class RankShare:
    """How many units of a group take a grade, as the source counts them (e.g. A类: 优秀 5 of 26)."""

    grade: str
    count: int


@dataclass(frozen=True)
class Grading:
    kind: str  # thresholds / rank_shares / none
    thresholds: tuple[Threshold, ...] = ()
    # rank_shares: per group ("all" or a category such as "A"): grade counts as printed, and the
    # number of units the counts were printed for
    shares: dict[str, tuple[RankShare, ...]] = field(default_factory=dict)
    group_by: str | None = None  # "category" for 昌宁 departments
    below_grade: str | None = None  # a grade for scores under `below_min` whatever the rank (昌宁: <60 不合格)
    below_min: float | None = None
    source: Source | None = None
    method: str | None = None  # the method whose grading this is (datong-2020)
    note: str | None = None


@dataclass(frozen=True)
class Rubric:
    id: str
    title: str
    unit_type: str
    source: Source
    total: float  # the sum of the scored indicators' points
    indicators: tuple[Indicator, ...]
    grading: Grading
    file: str  # the rubric file's name (for messages)
    kind: str = "rubric"  # rubric / method
    scoring: str = "points"  # points / weights
    deduction_caps: str = "per_indicator"  # per_indicator (扣完为止) / first_level (大同)
    bonus_cap_share: float | None = None  # bonuses at most this share of the parent's points (大同: 0.2)
    total_cap: float | None = None  # 累计加分后超过100分的，按100分计算
    printed_total: str | None = None
    notes: tuple[str, ...] = ()
    method: str | None = None
    max_total: float = 0.0  # scored points plus capped bonuses, within the total cap
    # parameters the rubric sets for the checks (e.g. {"interpretation": {"late_working_days": 5}}); the
    # pipeline snapshots them into each run so a re-run later judges with the same numbers
    check_params: dict = field(default_factory=dict)


    def walk(self):
        for ind in self.indicators:
            yield from ind.walk()

    def leaves(self) -> list[Indicator]:
        return [i for i in self.walk() if i.is_leaf]


@dataclass(frozen=True)
class RubricInfo:
    id: str
    title: str
    unit_type: str
    total: float
    source: str


class RubricError(ValueError):
    """A rubric file that cannot be used, with the file and line to look at."""

    def __init__(self, file: str, line: int, message: str) -> None:
        self.file, self.line, self.message = file, line, message
        super().__init__(f"{file}:{line}: {message}")


class UnknownRubric(KeyError):
    def __str__(self) -> str:  # KeyError quotes its argument; say it plainly
        return str(self.args[0]) if self.args else "unknown rubric"
