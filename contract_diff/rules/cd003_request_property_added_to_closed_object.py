"""CD003: A property added to a callback object that refused unknown properties."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import added_fields

RULE = Rule(
    id="CD003",
    title="request property added to a closed object",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="property `{name}` added where the old document refused unknown properties",
    action=(
        "PSPs that enforce `additionalProperties: false` refuse every such callback: accept and read the new "
        "property before the revision is sent."
    ),
    oasdiff=("new-optional-request-property", "new-required-request-property"),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from added_fields(RULE, c.request, required=None, closed=True)
