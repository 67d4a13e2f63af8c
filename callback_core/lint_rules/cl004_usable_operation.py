"""CL004: the tools can read the callback from the document: one JSON POST operation, its extensions."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject, use
from callback_core.lint_rules.common import is_code_type_refusal

RULE = LintRule("CL004", "the tools can use the document", Level.ERROR, Needs.DOCUMENT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    # Tried on any document, sound or not: whether the other commands can run on it is the same question.
    use(subject)
    if subject.unusable is not None and not is_code_type_refusal(subject.unusable[0]):
        yield subject.unusable
