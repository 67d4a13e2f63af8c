"""CD002: A required property added to the callback."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import added_fields

RULE = Rule(
    id="CD002",
    title="required request property added",
    level=Level.WARNING,
    breaks=Breaks.NOBODY,
    template="required property `{name}` added to the callback",
    action=(
        "PSPs built to the old document ignore it and keep working. Read it; refuse callbacks without it only "
        "once every callback you receive carries it."
    ),
    oasdiff=("new-required-request-property",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from added_fields(RULE, c.request, required=True, closed=False)
