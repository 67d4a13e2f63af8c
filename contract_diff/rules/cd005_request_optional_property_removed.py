"""CD005: An optional property no longer in the callback."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import removed_fields

RULE = Rule(
    id="CD005",
    title="optional request property removed",
    level=Level.WARNING,
    breaks=Breaks.PSP,
    template="optional property `{name}` removed from the callback",
    action="PSPs that use it when present lose it: check what you do without it.",
    oasdiff=("request-property-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from removed_fields(RULE, c.request, required=False)
