"""CL014: a role the document does not declare, found by its well-known name (a note, not a problem)."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.fields import ROLES_EXTENSION
from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import at_operation, contract_of

RULE = LintRule("CL014", "field roles declared", Level.INFO, Needs.CONTRACT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    contract = contract_of(subject)
    for side, roles in (("request", contract.request_roles), ("response", contract.response_roles)):
        for role in roles.values():
            if role.inferred:
                yield (at_operation(contract, ROLES_EXTENSION, side),
                       f"role {role.name!r} is not declared; inferred from its name at {role.pointer}")
