"""CD036: An optional header added to the callback."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, headers

RULE = Rule(
    id="CD036",
    title="request header added",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="optional header `{header}` added to the callback",
    action="Nothing breaks: PSPs ignore headers they do not know.",
    oasdiff=("new-optional-request-parameter",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = headers(c, old=True), headers(c, old=False)
    for key in sorted(set(new) - set(old)):
        name, required, where = new[key]
        if not required:
            yield finding(RULE, where, header=name)
