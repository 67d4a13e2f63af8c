"""CL007: the error-code catalogue has codes, each listed once."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import at_operation, contract_of
from callback_core.spec import ERROR_CODES_EXTENSION

RULE = LintRule("CL007", "error codes listed once", Level.ERROR, Needs.CONTRACT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    contract = contract_of(subject)
    where = at_operation(contract, ERROR_CODES_EXTENSION, "codes")
    codes = [entry.code for entry in contract.error_codes]
    if not codes:
        yield where, "the error-code catalogue is empty"
    for code in sorted({c for c in codes if codes.count(c) > 1}, key=str):
        yield where, f"error code {code!r} is listed more than once"
