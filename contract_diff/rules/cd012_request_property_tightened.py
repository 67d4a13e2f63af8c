"""CD012: A callback property admits fewer values than before."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.facets import Direction
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import facet_findings

RULE = Rule(
    id="CD012",
    title="request property constraint tightened",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="`{name}` admits less: {change}",
    action="Nothing breaks: callbacks only get stricter. You may validate the new constraint.",
    oasdiff=(
        "request-property-pattern-added",
        "request-property-max-length-decreased",
        "request-property-min-length-increased",
        "request-property-max-decreased",
        "request-property-min-increased",
        "request-property-became-not-nullable",
        "request-property-became-enum",
    ),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from facet_findings(RULE, c.request, Direction.TIGHTENED)
