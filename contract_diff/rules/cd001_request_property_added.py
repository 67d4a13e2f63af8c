"""CD001: An optional property added to the callback."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import added_fields

RULE = Rule(
    id="CD001",
    title="request property added",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="optional property `{name}` added to the callback",
    action="Nothing breaks: PSPs ignore properties they do not know. Read it when you need it.",
    oasdiff=("new-optional-request-property",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from added_fields(RULE, c.request, required=False, closed=False)
