"""CL001: a `$ref` that points nowhere; every tool following it fails."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from callback_core.errors import SpecError
from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import nodes, pointer
from callback_core.spec import resolve_pointer

RULE = LintRule("CL001", "a $ref resolves", Level.ERROR, Needs.DOCUMENT, gate=True)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    for parts, node in nodes(subject.document):
        if isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            try:
                resolve_pointer(subject.document, node["$ref"])
            except SpecError:
                yield pointer((*parts, "$ref")), f"$ref {node['$ref']!r} does not resolve"
