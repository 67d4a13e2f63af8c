"""CD014: A new value of a callback enum."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import enum_findings

RULE = Rule(
    id="CD014",
    title="request enum value added",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="`{name}` may now be `{value}`",
    action="PSPs that check the enum refuse callbacks with the new value: accept it and decide what it means.",
    oasdiff=("request-property-enum-value-added",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from enum_findings(RULE, c.request, added=True)
