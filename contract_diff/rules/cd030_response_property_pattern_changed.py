"""CD030: A property of the answer has another pattern or format."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.facets import Direction
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import facet_findings

RULE = Rule(
    id="CD030",
    title="response property pattern or format changed",
    level=Level.WARNING,
    breaks=Breaks.VIPPS,
    template="answer property `{name}`: {change}",
    action="Whether old answers pass the new check cannot be told: compare both patterns.",
    oasdiff=("response-property-pattern-changed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from facet_findings(RULE, c.response, Direction.CHANGED)
