"""CD053: A FAIL error code left the catalogue."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.spec import ERROR_CODES_EXTENSION, format_code
from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import codes, finding

RULE = Rule(
    id="CD053",
    title="error code removed",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="error code `{code}` removed from the catalogue",
    action=(
        "PSPs built to the old document still answer it and Vipps no longer knows what it means: map it to a "
        "code of the revision."
    ),
)


def check(c: Comparison) -> Iterator[Finding]:
    new = codes(c, old=False)
    for text, entry in codes(c, old=True).items():
        if text not in new:
            yield finding(RULE, c.location(ERROR_CODES_EXTENSION, old=True), code=format_code(entry.code))
