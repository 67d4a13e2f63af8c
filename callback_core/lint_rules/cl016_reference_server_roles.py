"""CL016: the reference server finds every field it writes or keys on; else `serve` refuses the document."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import contract_of

# A warning: the suite and the simulator judge a PSP on such a draft; only the reference server cannot answer.
RULE = LintRule("CL016", "the reference server can serve the document", Level.WARNING, Needs.CONTRACT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    contract = contract_of(subject)
    declared = {(p.pointer, p.reason) for p in contract.role_problems(needed=False)}
    for problem in contract.role_problems(needed=True):
        if (problem.pointer, problem.reason) not in declared:
            yield problem.pointer or "#", f"{problem.reason} (`card-callback serve` needs it)"
