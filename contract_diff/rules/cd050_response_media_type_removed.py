"""CD050: An answer may no longer come in a media type."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, responses

RULE = Rule(
    id="CD050",
    title="response media type removed",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="answers {status} may no longer be `{media}`",
    action=(
        "Answers from PSPs built to the old document use it and are not understood: answer in a media type "
        "the revision lists."
    ),
    oasdiff=("response-media-type-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = responses(c, old=True), responses(c, old=False)
    for status in sorted(set(old) & set(new)):
        for media in sorted(old[status] - new[status]):
            yield finding(RULE, c.location("responses", status, "content", media, old=True), status=status,
                          media=media)
