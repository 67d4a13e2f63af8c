"""CD044: The callback may come in another media type."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, request_media_types

RULE = Rule(
    id="CD044",
    title="request media type added",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="callbacks may now be sent as `{media}`",
    action="PSPs that accept only the old media types answer 415: accept the new one.",
    oasdiff=("request-body-media-type-added",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = request_media_types(c, old=True), request_media_types(c, old=False)
    for media in sorted(new - old):
        yield finding(RULE, c.location("requestBody", "content", media), media=media)
