"""CD046: A status PSPs may now answer."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, responses

RULE = Rule(
    id="CD046",
    title="response status added",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="PSPs may now answer {status}",
    action="Nothing breaks for PSPs built to the old document; answer it when it fits.",
    oasdiff=("response-success-status-added", "response-non-success-status-added"),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = responses(c, old=True), responses(c, old=False)
    for status in sorted(set(new) - set(old)):
        yield finding(RULE, c.location("responses", status), status=status)
