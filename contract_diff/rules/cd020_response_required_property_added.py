"""CD020: A property every answer must now carry."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import added_fields

RULE = Rule(
    id="CD020",
    title="required response property added",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="answers must now carry `{name}`",
    action=(
        "Answers from PSPs built to the old document lack it and are refused: send it before the revision is "
        "enforced."
    ),
    oasdiff=("response-required-property-added",),
)


def check(c: Comparison) -> Iterator[Finding]:
    yield from added_fields(RULE, c.response, required=True, closed=False)
