"""CD043: The callback no longer carries a security scheme's credentials."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, security

RULE = Rule(
    id="CD043",
    title="request security removed",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="callbacks no longer authenticate with `{scheme}` ({kind})",
    action="PSPs that verify it refuse every callback: stop requiring it.",
    oasdiff=("api-security-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = security(c, old=True), security(c, old=False)
    for name in sorted(set(old) - set(new)):
        yield finding(RULE, c.location("security", old=True), scheme=name, kind=old[name])
