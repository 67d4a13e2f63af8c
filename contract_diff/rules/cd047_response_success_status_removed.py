"""CD047: A success status PSPs may no longer answer."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, responses

RULE = Rule(
    id="CD047",
    title="response success status removed",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="PSPs may no longer answer {status}",
    action=(
        "Answers from PSPs built to the old document use it and are not understood: answer as the revision "
        "says."
    ),
    oasdiff=("response-success-status-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = responses(c, old=True), responses(c, old=False)
    for status in sorted(set(old) - set(new)):
        if status.startswith("2"):
            yield finding(RULE, c.location("responses", status, old=True), status=status)
