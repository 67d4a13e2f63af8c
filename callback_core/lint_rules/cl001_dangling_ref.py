"""CL001: a `$ref` that points nowhere (or in a circle); every tool following it fails."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.schema_model import model_for

RULE = LintRule("CL001", "a $ref resolves", Level.ERROR, Needs.DOCUMENT, gate=True)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    for where, ref, why in model_for(subject.document).dangling():
        yield where, f"$ref {ref!r} does not resolve" if "points nowhere" in why else why
