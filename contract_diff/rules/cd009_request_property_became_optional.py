"""CD009: A required callback property that may now be absent."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import required_changes

RULE = Rule(
    id="CD009",
    title="request property became optional",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="`{name}` became optional",
    action="PSPs that require it refuse callbacks without it: handle its absence.",
    oasdiff=("request-property-became-optional",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from required_changes(RULE, c.request, became_required=False)
