"""CD027: A property of the answer changed type."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import type_changes

RULE = Rule(
    id="CD027",
    title="response property type changed",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="answer property `{name}` changed type from {old} to {new}",
    action="Answers from PSPs built to the old document are refused: send the new type.",
    oasdiff=("response-property-type-changed", "response-body-type-changed"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from type_changes(RULE, c.response)
