"""CL012: every property has a description (style: the reader of the rendered document needs it)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import nodes, pointer
from callback_core.spec import resolve_pointer

RULE = LintRule("CL012", "properties are described", Level.WARNING, Needs.SOUND)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    for parts, node in nodes(subject.document):
        if not (isinstance(node, Mapping) and isinstance(node.get("properties"), Mapping)):
            continue
        if parts and parts[-1] == "properties":
            continue  # a property that happens to be named "properties" is data, not a schema
        for name, prop in node["properties"].items():
            target = prop
            if isinstance(prop, Mapping) and "$ref" in prop:
                target = resolve_pointer(subject.document, prop["$ref"])
            if not (isinstance(target, Mapping) and str(target.get("description", "")).strip()):
                yield pointer((*parts, "properties", name)), "property has no description"
