"""CD045: The callback is no longer sent in a media type."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, request_media_types

RULE = Rule(
    id="CD045",
    title="request media type removed",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="callbacks are no longer sent as `{media}`",
    action="Nothing breaks: that media type is just not sent any more.",
    oasdiff=("request-body-media-type-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = request_media_types(c, old=True), request_media_types(c, old=False)
    for media in sorted(old - new):
        yield finding(RULE, c.location("requestBody", "content", media, old=True), media=media)
