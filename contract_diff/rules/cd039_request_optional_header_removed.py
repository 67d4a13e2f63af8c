"""CD039: An optional callback header, gone."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, headers

RULE = Rule(
    id="CD039",
    title="optional request header removed",
    level=Level.WARNING,
    breaks=Breaks.PSP,
    template="optional header `{header}` removed from the callback",
    action="PSPs that use it when present lose it: check what you do without it.",
    oasdiff=("request-parameter-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = headers(c, old=True), headers(c, old=False)
    for key in sorted(set(old) - set(new)):
        name, required, where = old[key]
        if not required:
            yield finding(RULE, where, header=name)
