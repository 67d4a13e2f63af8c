"""CD033: The property that tells answers apart renamed or moved."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import discriminator_renames

RULE = Rule(
    id="CD033",
    title="response discriminator renamed",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="answer discriminator `{name}` {how} to `{to}` ({values})",
    action="Every answer from a PSP built to the old document is unreadable: send the new property.",
    oasdiff=("response-body-discriminator-property-name-changed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from discriminator_renames(RULE, c.response)
