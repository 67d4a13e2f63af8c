"""CL006: a declared field role names a property of its body; else every tool acting on it misses."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.fields import ROLES_EXTENSION
from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import at_operation, contract_of

RULE = LintRule("CL006", "field roles point at fields", Level.ERROR, Needs.CONTRACT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    contract = contract_of(subject)
    declared = contract.operation.get(ROLES_EXTENSION) or {}
    for side, properties in (("request", contract.request_properties), ("response", contract.response_properties)):
        known = {prop.pointer for prop in properties}
        for name, target in (declared.get(side) or {}).items():
            if target not in known:
                yield (at_operation(contract, ROLES_EXTENSION, side, str(name)),
                       f"role {name!r} points at {target!r}, which names no property of the {side} schema")
