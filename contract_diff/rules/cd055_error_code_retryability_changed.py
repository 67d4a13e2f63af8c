"""CD055: A FAIL error code is now retryable, or now final."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.spec import ERROR_CODES_EXTENSION, format_code
from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import codes, finding

RULE = Rule(
    id="CD055",
    title="error code retryability changed",
    level=Level.WARNING,
    breaks=Breaks.VIPPS,
    template="error code `{code}` is now {now}",
    action="The user is now offered (or denied) another attempt after it: check the codes you answer.",
)


def check(c: Comparison) -> Iterator[Finding]:
    old = codes(c, old=True)
    for text, entry in codes(c, old=False).items():
        if text in old and old[text].retryable != entry.retryable:
            now = "retryable" if entry.retryable else "final (not retryable)"
            yield finding(RULE, c.location(ERROR_CODES_EXTENSION), code=format_code(entry.code), now=now)
