"""CD026: A required property of the answer now optional."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import required_changes

RULE = Rule(
    id="CD026",
    title="response property became optional",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="answers may omit `{name}`",
    action="Nothing breaks. You may stop sending it.",
    oasdiff=("response-property-became-optional",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from required_changes(RULE, c.response, became_required=False)
