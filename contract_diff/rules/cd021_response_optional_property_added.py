"""CD021: An optional property of the answer."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import added_fields

RULE = Rule(
    id="CD021",
    title="optional response property added",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="answers may carry `{name}`",
    action="Nothing breaks. Send it when you have it.",
    oasdiff=("response-optional-property-added",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from added_fields(RULE, c.response, required=False, closed=False)
