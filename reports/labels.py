"""The words reports show (reports/data/labels.yaml), so a reviewer can fix a wording without Python."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def labels() -> dict[str, Any]:
    text = resources.files("reports").joinpath("data", "labels.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def label(table: str, key: str | None) -> str:
    """Chinese label for a status / severity / mode ...; the raw key when the table has no entry."""
    if key is None:
        return ""
    return str(labels().get(table, {}).get(key, key))


def unstable_fetch_statuses() -> frozenset[str]:
    return frozenset(labels()["unstable_fetch_statuses"])


def site_not_seen_statuses() -> frozenset[str]:
    return frozenset(labels()["site_not_seen_statuses"])
