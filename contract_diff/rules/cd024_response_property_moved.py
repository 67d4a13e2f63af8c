"""CD024: A property of the answer moved or renamed."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import move_finding, moved_fields

RULE = Rule(
    id="CD024",
    title="response property moved or renamed",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="answer property `{name}` is now `{to}`{how}",
    action="Answers from PSPs built to the old document carry it at the old place: send it at the new one.",
)


def check(c: Comparison) -> Iterator[Finding]:
    for renamed in (False, True):
        for move in moved_fields(RULE, c.response, renamed=renamed):
            yield move_finding(RULE, c.response, move)
