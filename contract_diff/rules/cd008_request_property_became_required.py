"""CD008: An optional callback property now always sent."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import required_changes

RULE = Rule(
    id="CD008",
    title="request property became required",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="`{name}` became required",
    action="Nothing breaks: it is now always sent. You may rely on it once every callback carries it.",
    oasdiff=("request-property-became-required",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from required_changes(RULE, c.request, became_required=True)
