"""CD048: An error status no longer documented."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, responses

RULE = Rule(
    id="CD048",
    title="response non-success status removed",
    level=Level.WARNING,
    breaks=Breaks.VIPPS,
    template="PSPs may no longer answer {status}",
    action="PSPs built to the old document may still answer it; check how Vipps treats an undocumented status.",
    oasdiff=("response-non-success-status-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = responses(c, old=True), responses(c, old=False)
    for status in sorted(set(old) - set(new)):
        if not status.startswith("2"):
            yield finding(RULE, c.location("responses", status, old=True), status=status)
