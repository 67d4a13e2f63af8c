"""CD013: A callback property's pattern or format replaced."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.facets import Direction
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import facet_findings

RULE = Rule(
    id="CD013",
    title="request property pattern or format changed",
    level=Level.WARNING,
    breaks=Breaks.PSP,
    template="`{name}`: {change}",
    action=(
        "Whether the new values pass the old check cannot be told: compare both and relax your validation if "
        "not."
    ),
    oasdiff=("request-property-pattern-changed", "request-property-type-changed"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from facet_findings(RULE, c.request, Direction.CHANGED)
