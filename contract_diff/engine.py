"""Run every rule over two revisions and merge what they find across the variants of a body."""

from __future__ import annotations

from callback_core.spec import Contract
from contract_diff.compare import Comparison
from contract_diff.model import Change, Finding, Report
from contract_diff.rules import rules


def diff(old: Contract, new: Contract) -> Report:
    """Every change from `old` to `new`, in rule order."""
    comparison = Comparison(old, new)
    every = [
        {pair.label for pair in comparison.request.pairs},
        {pair.label for pair in comparison.response.pairs},
    ]
    changes: list[Change] = []
    for rule, check in rules():
        grouped: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Finding]] = {}
        for found in check(comparison):
            # The same field change seen in the TOKEN and the PAN callbacks is one change.
            key = (found.field or found.pointer, found.field, found.params)
            grouped.setdefault(key, []).append(found)
        for (_, field, params), findings in grouped.items():
            labels = sorted({f.variant for f in findings if f.variant})
            variants = () if not labels or set(labels) in every else tuple(labels)
            message = rule.template.format(**dict(params))
            changes.append(Change(rule, message, findings[0].pointer, field, variants))
    return Report(old.source, new.source, tuple(changes))
