"""CD051: The answer deadline is shorter."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.spec import DEADLINE_EXTENSION
from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding

RULE = Rule(
    id="CD051",
    title="response deadline shortened",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="the answer deadline went from {old} s to {new} s",
    action=(
        "Answers slower than the new deadline time out, which is final for the user: answer (FAIL if need be) "
        "before it."
    ),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = c.old.deadline_seconds, c.new.deadline_seconds
    if new < old:
        yield finding(RULE, c.location(DEADLINE_EXTENSION), old=f"{old:g}", new=f"{new:g}")
