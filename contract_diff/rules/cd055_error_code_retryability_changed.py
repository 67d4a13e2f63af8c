"""CD055: A FAIL error code is now retryable, or now final."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.spec import ERROR_CODES_EXTENSION, format_code
from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding

RULE = Rule(
    id="CD055",
    title="error code retryability changed",
    level=Level.WARNING,
    breaks=Breaks.VIPPS,
    template="error code `{code}` is now {now}",
    action="The user is now offered (or denied) another attempt after it: check the codes you answer.",
)


def check(c: Comparison) -> Iterator[Finding]:
    old = {e.code: e.retryable for e in c.old.error_codes}
    for entry in c.new.error_codes:
        if entry.code in old and old[entry.code] != entry.retryable:
            now = "retryable" if entry.retryable else "final (not retryable)"
            yield finding(RULE, c.location(ERROR_CODES_EXTENSION), code=format_code(entry.code), now=now)
