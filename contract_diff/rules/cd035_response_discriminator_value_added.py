"""CD035: A new answer variant (a status)."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import discriminator_values

RULE = Rule(
    id="CD035",
    title="response discriminator value added",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="answer discriminator `{name}` may now be `{value}`",
    action="Nothing breaks for PSPs built to the old document; answer it once you support it.",
    oasdiff=("response-body-discriminator-mapping-added", "response-property-enum-value-added"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from discriminator_values(RULE, c.response, added=True)
