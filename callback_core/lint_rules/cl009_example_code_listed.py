"""CL009: every answer example's error code is in the catalogue, with its type."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject, unlisted_code
from callback_core.lint_rules.common import at_operation, contract_of

RULE = LintRule("CL009", "example error codes are listed", Level.ERROR, Needs.CONTRACT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    contract = contract_of(subject)
    for name, example in contract.response_examples().items():
        for _, message in unlisted_code(contract, example):
            yield at_operation(contract, "responses", "200", "content", "application/json", "examples", name), message
