"""CD041: A required callback header that may now be absent."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, headers

RULE = Rule(
    id="CD041",
    title="request header became optional",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="header `{header}` became optional",
    action="PSPs that require it refuse callbacks without it: handle its absence.",
    oasdiff=("request-parameter-became-optional",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = headers(c, old=True), headers(c, old=False)
    for key in sorted(set(old) & set(new)):
        if old[key][1] and not new[key][1]:
            yield finding(RULE, new[key][2], header=new[key][0])
