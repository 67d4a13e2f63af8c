"""CD052: The answer deadline is longer."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.spec import DEADLINE_EXTENSION
from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding

RULE = Rule(
    id="CD052",
    title="response deadline extended",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="the answer deadline went from {old} s to {new} s",
    action="Nothing breaks.",
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = c.old.deadline_seconds, c.new.deadline_seconds
    if new > old:
        yield finding(RULE, c.location(DEADLINE_EXTENSION), old=f"{old:g}", new=f"{new:g}")
