"""CD029: A property of the answer admits more values."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.facets import Direction
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import facet_findings

RULE = Rule(
    id="CD029",
    title="response property constraint loosened",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="answer property `{name}` admits more: {change}",
    action="Nothing breaks for PSPs; Vipps reads the wider set.",
    oasdiff=(
        "response-property-max-length-increased",
        "response-property-min-length-decreased",
        "response-property-max-increased",
        "response-property-min-decreased",
        "response-property-became-nullable",
        "response-property-pattern-removed",
    ),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from facet_findings(RULE, c.response, Direction.LOOSENED)
