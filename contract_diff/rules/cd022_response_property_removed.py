"""CD022: A property of the answer the document no longer describes."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import removed_fields

RULE = Rule(
    id="CD022",
    title="response property removed",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="answers no longer carry `{name}`",
    action="Nothing breaks: the answer admits unknown properties. Stop sending it when convenient.",
    oasdiff=("response-required-property-removed", "response-optional-property-removed"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from removed_fields(RULE, c.response, required=None, closed=False)
