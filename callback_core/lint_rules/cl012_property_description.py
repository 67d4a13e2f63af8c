"""CL012: every property has a description (style: the reader of the rendered document needs it)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import nodes, pointer
from callback_core.schema_model import SCHEMA_MAPS, model_for, properties_of, property_site

RULE = LintRule("CL012", "properties are described", Level.WARNING, Needs.SOUND)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    model = model_for(subject.document)
    for parts, node in nodes(subject.document):
        if not properties_of(node):
            continue
        if parts and parts[-1] in SCHEMA_MAPS:
            continue  # a property that happens to be named "properties" is data, not a schema
        for name, prop in properties_of(node).items():
            target = model.resolve(prop)
            if not (isinstance(target, Mapping) and str(target.get("description", "")).strip()):
                yield property_site(pointer(parts), name), "property has no description"
