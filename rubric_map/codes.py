"""The finding codes a rubric may name (data in finding_codes.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

CODE_KINDS = ("defect", "pass", "measure", "unverifiable")


@dataclass(frozen=True)
class CodeInfo:
    code: str
    check: str
    kind: str  # defect / pass / measure / unverifiable
    subject: str


@cache
def known_codes() -> dict[str, CodeInfo]:
    text = resources.files("rubric_map").joinpath("finding_codes.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    out: dict[str, CodeInfo] = {}
    for code, spec in (data.get("codes") or {}).items():
        kind = spec.get("kind", "defect")
        if kind not in CODE_KINDS:
            raise ValueError(f"finding_codes.yaml: {code}: unknown kind {kind!r}")
        out[code] = CodeInfo(code=code, check=spec.get("check") or code.split(".", 1)[0], kind=kind,
                             subject=spec.get("subject", ""))
    return out


def check_of(code: str) -> str:
    info = known_codes().get(code)
    return info.check if info else code.split(".", 1)[0]


@cache
def _never() -> frozenset[str]:
    return frozenset(c for c, i in known_codes().items() if i.kind in ("unverifiable", "pass"))


def never_deducts(code: str) -> bool:
    """Codes that only say something could not be verified, or only record a pass, never cost points."""
    return code in _never()
