"""CD057: The HMAC signing status changed (e.g. announced to required)."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.spec import HMAC_EXTENSION
from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding

RULE = Rule(
    id="CD057",
    title="HMAC status changed",
    level=Level.WARNING,
    breaks=Breaks.NOBODY,
    template="HMAC signing is now `{new}` (was `{old}`)",
    action="Read what the new status asks of PSPs: verifying signatures, or no longer relying on them.",
)


def check(c: Comparison) -> Iterator[Finding]:
    if c.old.hmac.status != c.new.hmac.status:
        yield finding(RULE, c.location(HMAC_EXTENSION, "status"), old=c.old.hmac.status, new=c.new.hmac.status)
