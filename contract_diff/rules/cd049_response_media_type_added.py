"""CD049: An answer may come in another media type."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, responses

RULE = Rule(
    id="CD049",
    title="response media type added",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="answers {status} may now be `{media}`",
    action="Nothing breaks for PSPs built to the old document.",
    oasdiff=("response-media-type-added",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = responses(c, old=True), responses(c, old=False)
    for status in sorted(set(old) & set(new)):
        for media in sorted(new[status] - old[status]):
            yield finding(RULE, c.location("responses", status, "content", media), status=status, media=media)
