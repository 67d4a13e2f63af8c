"""CD032: A value PSPs may no longer answer."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import enum_findings

RULE = Rule(
    id="CD032",
    title="response enum value removed",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="answer property `{name}` may no longer be `{value}`",
    action="Answers from PSPs built to the old document may carry it and are refused: stop sending it.",
    oasdiff=("response-property-enum-value-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from enum_findings(RULE, c.response, added=False)
