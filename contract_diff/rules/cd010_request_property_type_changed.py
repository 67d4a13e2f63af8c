"""CD010: A callback property's type changed."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import type_changes

RULE = Rule(
    id="CD010",
    title="request property type changed",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="`{name}` changed type from {old} to {new}",
    action="PSPs parsing the old type refuse or misread every callback: accept the new type.",
    oasdiff=("request-property-type-changed", "request-body-type-changed"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from type_changes(RULE, c.request)
