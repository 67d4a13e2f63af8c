"""CD006: A callback property moved to another object (same name)."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import move_finding, moved_fields

RULE = Rule(
    id="CD006",
    title="request property moved",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="`{name}` moved to `{to}`{how}",
    action="PSPs reading the old place find nothing: read it from the new place (both, during a transition).",
)


def check(c: Comparison) -> Iterator[Finding]:
    for move in moved_fields(RULE, c.request, renamed=False):
        yield move_finding(RULE, c.request, move)
