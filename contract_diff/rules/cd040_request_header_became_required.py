"""CD040: An optional callback header now always sent."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, headers

RULE = Rule(
    id="CD040",
    title="request header became required",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="header `{header}` became required",
    action="Nothing breaks: it is now always sent.",
    oasdiff=("request-parameter-became-required",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = headers(c, old=True), headers(c, old=False)
    for key in sorted(set(old) & set(new)):
        if new[key][1] and not old[key][1]:
            yield finding(RULE, new[key][2], header=new[key][0])
