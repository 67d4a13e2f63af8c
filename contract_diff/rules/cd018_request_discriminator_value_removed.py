"""CD018: A callback variant no longer sent."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import discriminator_values

RULE = Rule(
    id="CD018",
    title="request discriminator value removed",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="discriminator `{name}` is no longer `{value}`",
    action="Nothing breaks: that variant is just not sent any more.",
    oasdiff=("request-body-discriminator-mapping-deleted", "request-body-one-of-removed"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from discriminator_values(RULE, c.request, added=False)
