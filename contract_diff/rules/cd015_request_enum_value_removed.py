"""CD015: A value of a callback enum no longer sent."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import enum_findings

RULE = Rule(
    id="CD015",
    title="request enum value removed",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="`{name}` is no longer `{value}`",
    action="Nothing breaks: the value is just not sent any more.",
    oasdiff=("request-property-enum-value-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from enum_findings(RULE, c.request, added=False)
