"""CL006: the declared field roles are ones the tools know, and point at fields; else every tool acting on them
misses."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import contract_of

RULE = LintRule("CL006", "field roles are known names and point at fields", Level.ERROR, Needs.CONTRACT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    # The Contract's own judgement, so lint refuses exactly what every other command refuses.
    for problem in contract_of(subject).role_problems(needed=False):
        yield problem.pointer or "#", problem.reason
