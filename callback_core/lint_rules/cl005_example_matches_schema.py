"""CL005: every example (media type, parameter, schema) matches the schema beside it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from callback_core.lint import Level, LintRule, Needs, Subject, short_error
from callback_core.lint_rules.common import nodes, pointer
from callback_core.schema_model import SCHEMA_MAPS, looks_like_schema, model_for
from callback_core.schemas import validator_for

RULE = LintRule("CL005", "examples match their schema", Level.ERROR, Needs.SOUND)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    document = subject.document
    model = model_for(document)
    for parts, node in nodes(document):
        if not isinstance(node, Mapping) or "schema" not in node and "example" not in node:
            continue
        if parts and parts[-1] in SCHEMA_MAPS:
            continue  # properties named "schema" or "example" are data, not a media type
        schema = node.get("schema")
        candidates: list[tuple[tuple[Any, ...], Any, Any]] = []
        if schema is not None:
            if "example" in node:
                candidates.append(((*parts, "example"), node["example"], schema))
            for name, example in (node.get("examples") or {}).items():
                example = model.resolve(example)
                if isinstance(example, Mapping) and "value" in example:
                    candidates.append(((*parts, "examples", name, "value"), example["value"], schema))
        elif "example" in node and looks_like_schema(node) and _is_schema_location(parts):
            candidates.append(((*parts, "example"), node["example"], node))
        for where, value, against in candidates:
            for error in validator_for(document, against).iter_errors(value):
                at = "/".join(str(p) for p in error.absolute_path)
                yield pointer(where), f"example does not match its schema at '{at}': {short_error(error)}"


def _is_schema_location(parts: tuple[Any, ...]) -> bool:
    return "schemas" in parts or "schema" in parts or any(part in SCHEMA_MAPS for part in parts)
