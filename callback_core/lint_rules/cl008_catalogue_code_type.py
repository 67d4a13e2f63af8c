"""CL008: the catalogue's codes have the type of the answer's error-code field (string or integer).

The Contract refuses a catalogue of another type (no command can use it: an answer carrying such a code
fails the schema); this rule gives that refusal its own id, where CL004 would name it only as unusable.
"""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject, use
from callback_core.lint_rules.common import is_code_type_refusal

RULE = LintRule("CL008", "error codes have the error-code field's type", Level.ERROR, Needs.DOCUMENT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    use(subject)
    if subject.unusable is not None and is_code_type_refusal(subject.unusable[0]):
        yield subject.unusable
