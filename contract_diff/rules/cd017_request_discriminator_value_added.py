"""CD017: A new callback variant."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import discriminator_values

RULE = Rule(
    id="CD017",
    title="request discriminator value added",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="discriminator `{name}` may now be `{value}`",
    action="PSPs that know only the old variants refuse or mishandle it: handle it, or FAIL it deliberately.",
    oasdiff=("request-body-discriminator-mapping-added", "request-body-one-of-added"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from discriminator_values(RULE, c.request, added=True)
