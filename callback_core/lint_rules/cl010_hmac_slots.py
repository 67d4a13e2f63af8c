"""CL010: the HMAC scheme's headers are declared parameters and its clock skew is positive."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import at_operation, contract_of
from callback_core.spec import HMAC_EXTENSION

RULE = LintRule("CL010", "HMAC header slots declared", Level.ERROR, Needs.CONTRACT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    contract = contract_of(subject)
    if contract.hmac.max_clock_skew_seconds <= 0:
        yield at_operation(contract, HMAC_EXTENSION, "maxClockSkewSeconds"), "must be a positive number of seconds"
    missing = {
        contract.hmac.authorization_header,
        contract.hmac.date_header,
        contract.hmac.content_sha256_header,
    } - set(contract.header_slots)
    for header in sorted(missing):
        yield (at_operation(contract, "parameters"),
               f"the HMAC header slot {header!r} is not a declared header parameter")
