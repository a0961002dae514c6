"""Document kind (policy / interpretation / annual_report / guide / system / other) from where the
document was listed and its title. Words live in ``crawler/data/vocab.yaml`` (doc_kinds)."""

from __future__ import annotations

from collections.abc import Sequence

from crawler.vocab import squash, vocab


def doc_kind(column_path: Sequence[str], title: str | None) -> str:
    # The title decides for interpretations (an 解读 listed under 政策 is still an interpretation);
    # otherwise the column an assessor found it in is the stronger signal.
    t = squash(title)
    col = squash("/".join(column_path))
    rules = vocab().doc_kinds
    for rule in rules:
        if rule.kind == "interpretation" and any(w in t for w in rule.title):
            return "interpretation"
    for rule in rules:
        if col and any(w in col for w in rule.column):
            # the deepest column wins: 法定主动公开内容/政策解读 is interpretation, not policy
            best = _deepest(column_path, rules)
            return best or rule.kind
    for rule in rules:
        if any(w in t for w in rule.title):
            return rule.kind
    return "other"


def _deepest(column_path: Sequence[str], rules) -> str | None:
    for name in reversed(list(column_path)):
        n = squash(name)
        for rule in rules:
            if any(w in n for w in rule.column):
                return rule.kind
    return None
