"""CD037: A header every callback now carries."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding, headers

RULE = Rule(
    id="CD037",
    title="required request header added",
    level=Level.WARNING,
    breaks=Breaks.NOBODY,
    template="required header `{header}` added to the callback",
    action=(
        "PSPs built to the old document ignore it and keep working. If it authenticates the callback, verify "
        "it once every callback carries it."
    ),
    oasdiff=("new-required-request-parameter",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = headers(c, old=True), headers(c, old=False)
    for key in sorted(set(new) - set(old)):
        name, required, where = new[key]
        if required:
            yield finding(RULE, where, header=name)
