"""CD025: An optional property of the answer now required."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import required_changes

RULE = Rule(
    id="CD025",
    title="response property became required",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="answers must now carry `{name}`",
    action="Answers from PSPs built to the old document may lack it and are refused: always send it.",
    oasdiff=("response-property-became-required",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from required_changes(RULE, c.response, became_required=True)
