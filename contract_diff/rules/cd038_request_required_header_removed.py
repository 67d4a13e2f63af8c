"""CD038: A header the callback always carried, gone."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, headers

RULE = Rule(
    id="CD038",
    title="required request header removed",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="required header `{header}` removed from the callback",
    action="PSPs that require it refuse every callback: stop requiring it.",
    oasdiff=("request-parameter-removed",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = headers(c, old=True), headers(c, old=False)
    for key in sorted(set(old) - set(new)):
        name, required, where = old[key]
        if required:
            yield finding(RULE, where, header=name)
