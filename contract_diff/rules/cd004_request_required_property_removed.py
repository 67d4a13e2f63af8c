"""CD004: A required property no longer in the callback."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import removed_fields

RULE = Rule(
    id="CD004",
    title="required request property removed",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="required property `{name}` removed from the callback",
    action="PSPs that require or read it refuse or mishandle every callback: stop depending on it.",
    oasdiff=("request-property-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from removed_fields(RULE, c.request, required=True)
