"""CL011: the header that carries the PSP's cardCallbackAuthHeader value is a declared header parameter."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.auth_header import auth_header_name
from callback_core.errors import SpecError
from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import contract_of

RULE = LintRule("CL011", "auth header slot declared", Level.ERROR, Needs.CONTRACT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    try:
        auth_header_name(contract_of(subject))
    except SpecError as exc:
        yield exc.pointer or "#", exc.reason
