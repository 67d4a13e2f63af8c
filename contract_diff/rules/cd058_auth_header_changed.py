"""CD058: The static authentication header (the PSP's cardCallbackAuthHeader) added, renamed or removed."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import AUTH_HEADER_EXTENSION, auth_header, finding

RULE = Rule(
    id="CD058",
    title="callback auth header changed",
    level=Level.WARNING,
    breaks=Breaks.NOBODY,
    template="callbacks now carry the PSP's auth header value in `{header}`",
    action=(
        "PSPs built to the old document ignore it. Check it against the cardCallbackAuthHeader you gave "
        "when creating the payment, and answer 401 when it is missing or wrong."
    ),
    oasdiff=("new-optional-request-parameter", "api-security-added"),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = auth_header(c, old=True), auth_header(c, old=False)
    if new is not None and (old is None or old.lower() != new.lower()):
        yield finding(RULE, c.location(AUTH_HEADER_EXTENSION), header=new)

