"""CD059: The static authentication header is no longer sent (or no longer in the header PSPs check)."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import AUTH_HEADER_EXTENSION, auth_header, finding

RULE = Rule(
    id="CD059",
    title="callback auth header removed",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="callbacks no longer carry the PSP's auth header value in `{header}`",
    action="PSPs that check it answer 401 to every callback: check it where the revision sends it, or stop.",
    oasdiff=("request-parameter-removed", "api-security-removed"),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = auth_header(c, old=True), auth_header(c, old=False)
    if old is not None and (new is None or old.lower() != new.lower()):
        yield finding(RULE, c.location(AUTH_HEADER_EXTENSION, old=True), header=old)
