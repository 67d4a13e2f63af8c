"""CL003: the document is valid OpenAPI 3.0 (openapi-spec-validator)."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import pointer

RULE = LintRule("CL003", "valid OpenAPI 3.0", Level.ERROR, Needs.DOCUMENT, gate=True)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    if not subject.sound:
        return  # a dangling reference or another version: the validator would only repeat it
    # Imported here: openapi-spec-validator takes ~0.3 s to import.
    from openapi_spec_validator import OpenAPIV30SpecValidator

    try:
        errors = list(OpenAPIV30SpecValidator(subject.document).iter_errors())
    except Exception as exc:  # the validator raises on some broken documents instead of yielding
        yield "#", f"not a valid OpenAPI 3.0 document: {exc}"
        return
    for error in errors:
        yield pointer(list(error.absolute_path)), error.message.splitlines()[0]
