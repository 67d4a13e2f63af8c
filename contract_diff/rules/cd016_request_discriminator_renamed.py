"""CD016: The property that tells callback variants apart renamed or moved."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import discriminator_renames

RULE = Rule(
    id="CD016",
    title="request discriminator renamed",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="discriminator `{name}` {how} to `{to}` ({values})",
    action="PSPs choosing token or PAN handling by the old property find nothing: read the new one.",
    oasdiff=(
        "request-body-discriminator-property-name-changed",
        "request-property-discriminator-property-name-changed",
    ),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from discriminator_renames(RULE, c.request)
