"""Scores an assessor enters by hand (documents seen, on-site visits): a CSV or YAML file.

CSV header: ``site_id,rubric,indicator,score,note`` (optional ``value`` column: a measured figure such as
the number of items reported, for indicators scored by bands). YAML: a list of mappings with the same keys
(or ``{entries: [...]}``). Meaning of ``score`` by indicator kind:

- a scored indicator: the points earned (0 .. its points); for an automated/partial one it overrides the
  automated result and the explanation shows both;
- a bonus item (加分): the points added;
- a penalty item (扣分): the points taken off (the sign is ignored: 扣5 and -5 mean the same);
- a veto item (一票否决): 1 / 是 / yes when it happened, 0 / 否 / no when it did not.

A bad row never stops a run: it is skipped and reported with its line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TRUE_WORDS = {"1", "是", "yes", "y", "true", "veto", "否决", "触发"}
FALSE_WORDS = {"0", "否", "no", "n", "false", "无", "未触发"}


@dataclass(frozen=True)
class ManualEntry:
    score: float | None = None
    note: str = ""
    value: float | None = None
    flag: bool | None = None  # veto items: did it happen
    where: str = ""  # file:line, for explanations

    @classmethod
    def coerce(cls, raw: Any) -> ManualEntry:
        """Accept what a caller may pass in a manual dict: an entry, a number, a word, or a mapping."""
        if isinstance(raw, ManualEntry):
            return raw
        if isinstance(raw, dict):
            return make_entry(raw.get("score"), raw.get("note"), raw.get("value"), str(raw.get("where", "")))
        return make_entry(raw, None, None, "")


class ManualValueError(ValueError):
    pass


def _num(raw: Any) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip().replace("分", "").replace("扣", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ManualValueError(f"not a number: {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ManualValueError(f"not a finite number: {raw!r}")
    return value


def make_entry(score: Any, note: Any, value: Any, where: str) -> ManualEntry:
    flag = None
    if isinstance(score, str) and score.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        word = score.strip().lower()
        flag = word in TRUE_WORDS
        num = 1.0 if flag else 0.0
    else:
        num = _num(score)
        if num is not None:
            flag = num != 0
    val = _num(value)
    if num is None and val is None:
        raise ManualValueError("neither a score nor a value")
    return ManualEntry(score=num, note=str(note or "").strip(), value=val, flag=flag, where=where)


@dataclass
class ManualScores:
    by_site: dict[tuple[str, str], dict[str, ManualEntry]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def for_site(self, site_id: str, rubric_id: str) -> dict[str, ManualEntry]:
        return self.by_site.get((site_id, rubric_id), {})


def _add(out: ManualScores, row: dict[str, Any], where: str) -> None:
    site, rubric, indicator = (str(row.get(k) or "").strip() for k in ("site_id", "rubric", "indicator"))
    if not (site and rubric and indicator):
        out.warnings.append(f"{where}: skipped: needs site_id, rubric and indicator")
        return
    try:
        entry = make_entry(row.get("score"), row.get("note"), row.get("value"), where)
    except ManualValueError as exc:
        out.warnings.append(f"{where}: skipped: {exc}")
        return
    slot = out.by_site.setdefault((site, rubric), {})
    if indicator in slot:
        out.warnings.append(f"{where}: {site} {rubric} {indicator} entered twice; the later line is kept")
    slot[indicator] = entry


def load_manual_file(path: str | Path) -> ManualScores:
    """Read an assessor's file. An unreadable file raises ManualFileError; bad rows become warnings."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManualFileError(f"{path}: cannot read manual scores: {exc}") from None
    text = raw.decode("utf-8-sig", errors="replace") if not _is_gbk(raw) else raw.decode("gb18030")
    out = ManualScores()
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ManualFileError(f"{path}: not valid YAML: {exc}") from None
        rows = data.get("entries") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise ManualFileError(f"{path}: expected a list of entries (site_id, rubric, indicator, score, note)")
        for i, row in enumerate(rows, 1):
            if not isinstance(row, dict):
                out.warnings.append(f"{path.name}: entry {i}: skipped: not a mapping")
                continue
            _add(out, row, f"{path.name}: entry {i}")
        return out
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = {"site_id", "rubric", "indicator", "score"} - set(header)
    if missing:
        raise ManualFileError(f"{path}: CSV header lacks {', '.join(sorted(missing))} "
                              "(expected site_id,rubric,indicator,score,note)")
    reader.fieldnames = header
    for row in reader:
        _add(out, row, f"{path.name}:{reader.line_num}")
    return out


def _is_gbk(raw: bytes) -> bool:
    # Excel on a Chinese Windows saves CSV as GBK; try UTF-8 first, it is the more common
    try:
        raw.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


class ManualFileError(ValueError):
    pass
