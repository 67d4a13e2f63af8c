"""JSON Schema validation of documents' schemas with OpenAPI's regex semantics."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator, oas30_format_checker


@lru_cache(maxsize=256)
def python_regex(pattern: str) -> re.Pattern[str]:
    """Compile an OpenAPI (ECMA-262) pattern so that `$` means the end of the string.

    In Python `$` also matches before a final newline, so `^[0-9]{4,6}$` would accept "1234\\n".
    An unescaped `$` outside a character class becomes `\\Z`.
    """
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append(r"\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not python_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_OAS30 = extend(OAS30Validator, {"pattern": _pattern})


def validator_for(document: Mapping[str, Any], schema: Any) -> Validator:
    """A validator for `schema`, whose local `#/components/...` references resolve in `document`."""
    root = {**schema, "components": document.get("components", {})} if isinstance(schema, Mapping) else schema
    return _OAS30(root, format_checker=oas30_format_checker)
