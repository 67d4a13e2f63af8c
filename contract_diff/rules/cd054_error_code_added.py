"""CD054: A FAIL error code joined the catalogue."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.spec import ERROR_CODES_EXTENSION, format_code
from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import codes, finding

RULE = Rule(
    id="CD054",
    title="error code added",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="error code `{code}` added to the catalogue ({retry})",
    action="Nothing breaks. Use it when it fits.",
)


def check(c: Comparison) -> Iterator[Finding]:
    old = codes(c, old=True)
    for text, entry in codes(c, old=False).items():
        if text not in old:
            retry = "retryable" if entry.retryable else "final"
            yield finding(RULE, c.location(ERROR_CODES_EXTENSION), code=format_code(entry.code), retry=retry)
