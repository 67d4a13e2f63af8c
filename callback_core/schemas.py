"""JSON Schema validation of documents' schemas with OpenAPI's regex semantics."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft4Validator, FormatChecker, ValidationError
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


_DISCRIMINATED_ONE_OF = OAS30Validator.VALIDATORS["oneOf"]
_PLAIN_ONE_OF = Draft4Validator.VALIDATORS["oneOf"]


def _one_of(validator: Any, one_of: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    # OAS30Validator's oneOf follows `discriminator` (clearer messages) but raises TypeError when the
    # discriminating value is not hashable (a list, an object); plain oneOf gives the verdict then.
    name = (schema.get("discriminator") or {}).get("propertyName")
    value = instance.get(name) if name and isinstance(instance, Mapping) else None
    if value is None or isinstance(value, str):
        yield from _DISCRIMINATED_ONE_OF(validator, one_of, instance, schema)
    else:
        yield from _PLAIN_ONE_OF(validator, one_of, instance, schema)


_OAS30 = extend(OAS30Validator, {"pattern": _pattern, "oneOf": _one_of})


def _root(document: Mapping[str, Any], schema: Any) -> Any:
    return {**schema, "components": document.get("components", {})} if isinstance(schema, Mapping) else schema


def validator_for(document: Mapping[str, Any], schema: Any, *, formats: bool = True) -> Validator:
    """A validator for `schema`, whose local `#/components/...` references resolve in `document`.

    `formats=False` ignores `format`, as JSON Schema allows a validator to (and many PSPs' do).
    """
    return _OAS30(_root(document, schema), format_checker=oas30_format_checker if formats else None)


def fast_validator_for(document: Mapping[str, Any], schema: Any) -> Callable[[Any], bool] | None:
    """`fast_validator` for `schema` within `document` (see validator_for)."""
    return fast_validator(_root(document, schema), oas30_format_checker)


def fast_validator(schema: Mapping[str, Any], checker: FormatChecker) -> Callable[[Any], bool] | None:
    """A compiled jsonschema-rs check that never accepts what the Python validator refuses.

    It may refuse more (it ignores OpenAPI's `nullable`), so a refusal is only a hint: the Python
    validator (RequestValidator) then decides and explains.
    Formats go through the Python checker, so `format: uri` means exactly what it means there.
    """
    formats = {name: _format_check(checker, name) for name in _formats_in(schema)}
    try:
        validator = jsonschema_rs.Draft4Validator(dict(schema), validate_formats=True, formats=formats)
    except (ValueError, jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError):
        return None  # a schema jsonschema-rs cannot compile is still served, just slower
    return validator.is_valid


def _format_check(checker: FormatChecker, name: str) -> Callable[[str], bool]:
    def conforms(value: str) -> bool:
        return bool(checker.conforms(value, name))

    return conforms


def _formats_in(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if isinstance(item.get("format"), str):
                found.add(item["format"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
