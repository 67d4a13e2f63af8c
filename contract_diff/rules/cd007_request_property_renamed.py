"""CD007: A callback property renamed (and perhaps moved)."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import move_finding, moved_fields

RULE = Rule(
    id="CD007",
    title="request property renamed",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="`{name}` renamed to `{to}`{how}",
    action="PSPs reading the old name find nothing: read the new name (both, during a transition).",
)


def check(c: Comparison) -> Iterator[Finding]:
    for move in moved_fields(RULE, c.request, renamed=True):
        yield move_finding(RULE, c.request, move)
