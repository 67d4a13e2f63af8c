"""CD042: The callback now carries credentials of a security scheme."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, security

RULE = Rule(
    id="CD042",
    title="request security added",
    level=Level.WARNING,
    breaks=Breaks.NOBODY,
    template="callbacks now authenticate with `{scheme}` ({kind})",
    action="PSPs built to the old document ignore it. Verify it once every callback carries it.",
    oasdiff=("api-security-added",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = security(c, old=True), security(c, old=False)
    for name in sorted(set(new) - set(old)):
        yield finding(RULE, c.location("security"), scheme=name, kind=new[name])
