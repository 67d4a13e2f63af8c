"""CL004: the tools can read the callback from the document: one JSON POST operation, its extensions."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject, is_role_refusal, use
from callback_core.lint_rules.common import is_code_type_refusal
from callback_core.schema_model import REF, model_for

RULE = LintRule("CL004", "the tools can use the document", Level.ERROR, Needs.DOCUMENT)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    # Tried on any document, sound or not: whether the other commands can run on it is the same question.
    use(subject)
    unusable = subject.unusable
    if unusable is None or is_code_type_refusal(unusable[0]) or is_role_refusal(unusable[0]):
        return  # a mistyped code is CL008's to name, a role pointing nowhere CL006's
    if REF in unusable[1] and any(model_for(subject.document).dangling()):
        return  # CL001 names the reference where it is written
    yield unusable
