"""CD060: The document's own version (x-document-version) changed."""

from __future__ import annotations

from collections.abc import Iterator

from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding

RULE = Rule(
    id="CD060",
    title="document version changed",
    level=Level.INFO,
    breaks=Breaks.NOBODY,
    template="x-document-version {old} -> {new}",
    action="Nothing to do by itself; the other changes say what the new version means.",
    oasdiff=("api-version-not-bumped",),
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = c.old.document.get(VERSION_EXTENSION), c.new.document.get(VERSION_EXTENSION)
    if old != new:
        yield finding(RULE, f"#/{VERSION_EXTENSION}", old=old or "(none)", new=new or "(none)")


VERSION_EXTENSION = "x-document-version"
