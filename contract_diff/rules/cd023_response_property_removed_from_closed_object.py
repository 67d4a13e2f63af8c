"""CD023: A property of the answer removed where unknown properties are refused."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import removed_fields

RULE = Rule(
    id="CD023",
    title="response property removed from a closed object",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="answers may no longer carry `{name}` (unknown properties are refused)",
    action="Answers from PSPs built to the old document still carry it and are refused: stop sending it.",
    oasdiff=("response-required-property-removed", "response-optional-property-removed"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from removed_fields(RULE, c.response, required=None, closed=True)
