"""CD011: A callback property admits values the old document refused."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.facets import Direction
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import facet_findings

RULE = Rule(
    id="CD011",
    title="request property constraint loosened",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="`{name}` admits more: {change}",
    action="PSPs validating the old constraint refuse callbacks the revision allows: relax your validation.",
    oasdiff=(
        "request-property-pattern-removed",
        "request-property-max-length-increased",
        "request-property-min-length-decreased",
        "request-property-max-increased",
        "request-property-min-decreased",
        "request-property-became-nullable",
    ),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from facet_findings(RULE, c.request, Direction.LOOSENED)
