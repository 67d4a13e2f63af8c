"""CD034: An answer variant (a status) no longer accepted."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import discriminator_values

RULE = Rule(
    id="CD034",
    title="response discriminator value removed",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="answer discriminator `{name}` may no longer be `{value}`",
    action="PSPs built to the old document may still answer it and are refused: stop answering it.",
    oasdiff=("response-body-discriminator-mapping-deleted", "response-property-enum-value-removed"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from discriminator_values(RULE, c.response, added=False)
