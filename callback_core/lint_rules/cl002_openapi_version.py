"""CL002: the document is OpenAPI 3.0.x, the version Connexion 3 and its Swagger UI serve."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.lint import Level, LintRule, Needs, Subject

RULE = LintRule("CL002", "OpenAPI 3.0.x", Level.ERROR, Needs.DOCUMENT, gate=True)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    version = str(subject.document.get("openapi", ""))
    if not version.startswith("3.0."):
        yield "#/openapi", f"must be OpenAPI 3.0.x (Connexion 3 refuses {version or 'no version'})"
