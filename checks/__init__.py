"""Checks: pure functions from stored evidence to findings, one module per check id.

The registry discovers every module in this package that defines ``CHECK`` (a ``CheckSpec``), like
18F domain-scan's one-contract-per-scanner plugins.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from checks.base import CheckContext, CheckSpec, Finding

__all__ = ["CheckContext", "CheckSpec", "Finding", "registry", "get_check"]

_NOT_CHECKS = {"base", "runner", "text", "dates", "html", "workdays", "pdf_text",
               "table_grid", "doc_content", "annual_report_tables", "annual_report_locate", "annual_report_copy"}


@cache
def registry() -> dict[str, CheckSpec]:
    import checks as pkg

    out: dict[str, CheckSpec] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in _NOT_CHECKS or info.ispkg:
            continue
        mod = importlib.import_module(f"checks.{info.name}")
        spec = getattr(mod, "CHECK", None)
        if isinstance(spec, CheckSpec):
            if spec.id in out:
                raise RuntimeError(f"duplicate check id {spec.id!r}")
            out[spec.id] = spec
    return out


def get_check(check_id: str) -> CheckSpec:
    reg = registry()
    if check_id not in reg:
        raise KeyError(f"unknown check {check_id!r}; known: {', '.join(sorted(reg))}")
    return reg[check_id]
