"""CD031: A new value PSPs may answer."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import enum_findings

RULE = Rule(
    id="CD031",
    title="response enum value added",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="answer property `{name}` may now be `{value}`",
    action=(
        "Nothing breaks for PSPs built to the old document (they never send it). Vipps must read it before "
        "any PSP sends it."
    ),
    oasdiff=("response-property-enum-value-added",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from enum_findings(RULE, c.response, added=True)
