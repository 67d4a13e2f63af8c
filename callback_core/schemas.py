"""The one validator factory: OpenAPI 3.0 schema semantics, ECMA-262 patterns, and a compiled fast path."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema_rs
import regress
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing.exceptions import Unresolvable

from callback_core.errors import SpecError
from callback_core.schema_model import (
    ANY_OF,
    ONE_OF,
    REF,
    all_of,
    discriminator_of,
    map_schema,
    one_of_values,
    without_openapi_keywords,
)


def _format_checker() -> FormatChecker:
    # JSON Schema's formats (`uri`, `email`, ... as installed) and OpenAPI 3.0's (`int32`, `int64`, `byte`,
    # ...): the server used the first set and the suite the second, so `format: uri` meant something only
    # to one of them.
    checker = FormatChecker(formats=())
    checker.checkers = {**Draft4Validator.FORMAT_CHECKER.checkers, **oas30_format_checker.checkers}
    return checker


FORMAT_CHECKER = _format_checker()


@lru_cache(maxsize=512)
def ecma_regex(pattern: str) -> regress.Regex:
    """`pattern` compiled with ECMA-262 semantics (OpenAPI's): `$` is the end of the string and `\\d` is
    [0-9], where Python's `re` lets "1234\\n" and Arabic-Indic digits through."""
    try:
        return regress.Regex(pattern)
    except regress.RegressError as exc:
        raise SpecError("<schema>", f"pattern {pattern!r} is not an ECMA-262 regular expression: {exc}") from None


def pattern_matches(pattern: str, text: str) -> bool:
    """Whether `text` matches the schema pattern `pattern` (a search, as JSON Schema says).

    A string with an unpaired surrogate is not Unicode text (no UTF-8 body can carry it): it matches no pattern.
    """
    try:
        return ecma_regex(pattern).find(text) is not None
    except UnicodeEncodeError:
        return False


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not pattern_matches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


Keyword = Callable[[Any, Any, Any, Any], Iterator[ValidationError]]


def _discriminated(plain: Keyword) -> Keyword:
    """`oneOf`/`anyOf` as OpenAPI 3.0 reads them next to a `discriminator` (see _one_of)."""

    def keyword(validator: Any, variants: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        return _one_of(validator, variants, instance, schema, plain)

    return keyword


def _one_of(validator: Any, one_of: Any, instance: Any, schema: Any, plain: Keyword) -> Iterator[ValidationError]:
    """A `discriminator` next to `oneOf` (or `anyOf`): the discriminating value names the variant the object
    must match (its errors are the clearest), and the keyword still holds (for oneOf: no other variant may
    match).

    The value names a variant through the mapping, or else by its component name (`#/components/schemas/
    {value}`) when that is one of the `oneOf` references; any other value is refused.
    """
    discriminator = discriminator_of(schema)
    if discriminator is None or not validator.is_type(instance, "object"):
        yield from plain(validator, one_of, instance, schema)
        return
    name = discriminator.property_name
    value = instance.get(name)
    ref = discriminator.target(value)
    if ref is None:
        problem = "is required" if name not in instance else f"must be one of {', '.join(discriminator.values)}"
        yield ValidationError(f"{name!r} {problem}: it selects the shape of the object")
        return
    try:
        selected = list(validator.descend(instance, {REF: ref}))
    except Unresolvable:
        yield ValidationError(f"{name!r} {value!r} maps to {ref}, which the document does not define")
        return
    if selected:
        yield from selected
        return
    yield from plain(validator, one_of, instance, schema)


_OAS30 = extend(OAS30Validator, {
    "pattern": _pattern,
    ONE_OF: _discriminated(Draft4Validator.VALIDATORS[ONE_OF]),
    ANY_OF: _discriminated(Draft4Validator.VALIDATORS[ANY_OF]),
})


def _root(document: Mapping[str, Any], schema: Any) -> Any:
    if not isinstance(schema, Mapping) or "components" not in document:
        return schema
    return {**schema, "components": document["components"]}


def validator_for(document: Mapping[str, Any], schema: Any, *, formats: bool = True) -> Validator:
    """The full validator for `schema`, whose local `#/components/...` references resolve in `document`.

    `formats=False` ignores `format`, as JSON Schema allows a validator to (and many PSPs' do).
    """
    return _OAS30(_root(document, schema), format_checker=FORMAT_CHECKER if formats else None)


@dataclass(frozen=True, slots=True)
class SchemaValidator:
    """One schema's validator: the full one, and the compiled check that may only say "valid" when the
    full one would (a refusal from it is a hint, and the full validator decides and explains)."""

    full: Validator
    fast: Callable[[Any], bool] | None

    def is_valid(self, instance: Any) -> bool:
        if self.fast is not None and self.fast(instance):
            return True
        return bool(self.full.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        if self.fast is not None and self.fast(instance):
            return iter(())
        return self.full.iter_errors(instance)  # type: ignore[no-any-return]


def schema_validator(document: Mapping[str, Any], schema: Any) -> SchemaValidator:
    """The validator the server, the suite and the simulator use for `schema` within `document`."""
    return SchemaValidator(validator_for(document, schema), fast_validator_for(document, schema))


def fast_validator_for(document: Mapping[str, Any], schema: Any) -> Callable[[Any], bool] | None:
    """A compiled jsonschema-rs check that never accepts what `validator_for` refuses, or None.

    jsonschema-rs knows Draft 4, not OpenAPI 3.0, so the schema it compiles is rewritten first:
    - a `discriminator` becomes a constraint (the value is a key of its mapping and the object matches that
      schema); a value outside the mapping is left to the full validator;
    - `format: int32`/`int64` become bounds (jsonschema-rs checks formats on strings only);
    - a pattern outside a plain subset (`.`, `\\d`, `\\s`, ... differ between Rust and ECMA-262) is checked
      by the full validator's ECMA engine, as a format;
    - `nullable` is left out: jsonschema-rs refuses such a null, and the full validator decides.
    Other formats go through FORMAT_CHECKER, so `format: uri` means exactly what it means there.
    """
    if not isinstance(schema, Mapping):
        return None
    patterns: dict[str, str] = {}
    # The components stay at the root, where the references point, even when the root schema is wrapped.
    components = dict(document.get("components", {}))
    schemas = components.get("schemas")
    if isinstance(schemas, Mapping):
        components["schemas"] = {name: _for_rust(item, patterns) for name, item in schemas.items()}
    rewritten = {**_for_rust(schema, patterns), "components": components}
    formats: dict[str, Callable[[str], bool]] = {name: _format_check(name) for name in _formats_in(rewritten)}
    formats.update({name: _ecma_check(pattern) for name, pattern in patterns.items()})
    try:
        compiled = jsonschema_rs.Draft4Validator(rewritten, validate_formats=True, formats=formats)
    except (ValueError, jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError):
        return None  # a schema jsonschema-rs cannot compile is still validated, just slower

    def is_valid(instance: Any) -> bool:
        try:
            return bool(compiled.is_valid(instance))
        except (ValueError, TypeError, OverflowError, UnicodeError):
            return False  # what Rust cannot take (a lone surrogate, a huge number): the full validator decides

    return is_valid


_INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# Patterns whose meaning is the same in Rust's regex and ECMA-262: literals, ASCII classes, anchors, groups.
_PLAIN_PATTERN = re.compile(r"[\^$A-Za-z0-9\[\]{},()|?*+\-_:/@#%=!~ ]*")
_PATTERN_FORMAT = "x-card-callback-ecma-pattern-"


def _for_rust(schema: Any, patterns: dict[str, str]) -> Any:
    """A copy of `schema` jsonschema-rs's Draft 4 judges no more leniently than `validator_for`."""
    def rewrite(node: dict[str, Any]) -> dict[str, Any]:
        discriminator = discriminator_of(node)
        out = without_openapi_keywords(node)
        extra: list[dict[str, Any]] = []
        bounds = _INT_BOUNDS.get(node["format"]) if isinstance(node.get("format"), str) else None
        if bounds is not None:
            extra.append({"minimum": bounds[0], "maximum": bounds[1]})
        pattern = node.get("pattern")
        if isinstance(pattern, str) and not _PLAIN_PATTERN.fullmatch(pattern):
            name = f"{_PATTERN_FORMAT}{len(patterns)}"
            patterns[name] = pattern
            del out["pattern"]
            extra.append({"format": name})
        if discriminator is not None and discriminator.mapping:
            extra.append(one_of_values(discriminator.property_name, discriminator.mapping))
        elif discriminator is not None:
            extra.append({"not": {}})  # only an implicit mapping: the full validator decides every case
        return all_of([out, *extra]) if extra else out

    return map_schema(schema, rewrite)


def _format_check(name: str) -> Callable[[str], bool]:
    def conforms(value: str) -> bool:
        return bool(FORMAT_CHECKER.conforms(value, name))

    return conforms


def _ecma_check(pattern: str) -> Callable[[str], bool]:
    def matches(value: str) -> bool:
        return pattern_matches(pattern, value)

    return matches


def _formats_in(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if isinstance(item.get("format"), str) and not item["format"].startswith(_PATTERN_FORMAT):
                found.add(item["format"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
