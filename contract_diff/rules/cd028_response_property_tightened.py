"""CD028: A property of the answer admits fewer values."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.facets import Direction
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import facet_findings

RULE = Rule(
    id="CD028",
    title="response property constraint tightened",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="answer property `{name}` admits less: {change}",
    action="Answers from PSPs built to the old document may be refused: send values the new constraint admits.",
    oasdiff=("response-property-pattern-added", "response-property-became-not-nullable"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from facet_findings(RULE, c.response, Direction.TIGHTENED)
