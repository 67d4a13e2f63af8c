"""CD019: Callback variants introduced or merged."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import discriminator_presence

RULE = Rule(
    id="CD019",
    title="request discriminator added or removed",
    level=Level.WARNING,
    breaks=Breaks.PSP,
    template="discriminator `{name}` {what}",
    action="The callback's variants changed shape: check how you tell token and PAN callbacks apart.",
    oasdiff=("request-body-discriminator-added", "request-body-discriminator-removed"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from discriminator_presence(RULE, c.request)
