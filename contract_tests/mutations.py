"""Invalid callbacks read off the request schema: each field broken in turn, each one verified invalid."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from callback_core import fields
from callback_core.schema_model import (
    ONE_OF,
    branches_of,
    child,
    dotted,
    map_schema,
    properties_of,
    relaxed_properties,
    required_of,
)
from callback_core.schemas import validator_for
from callback_core.spec import Contract

# Values tried, in order, to break a `pattern`; the first one the pattern rejects is used.
_PATTERN_BREAKERS = ("not-valid!", "0", "A", "0" * 40, "a-b")
_WRONG_TYPE: dict[str, Any] = {
    "string": 12345,
    "object": "not an object",
    "array": {},
    "integer": "1",
    "number": "1",
    "boolean": "true",
}


@dataclass(frozen=True, slots=True)
class Mutation:
    label: str
    body: dict[str, Any]
    # Breaks only a `format` (above int64): refused by the document, yet a validator may skip formats.
    format_only: bool = False


def refused(contract: Contract, body: Any) -> bool:
    """The document refuses `body`, numeric formats (int64) included, as the Python validator judges."""
    validator = validator_for(contract.document, contract.request_schema)
    return next(iter(validator.iter_errors(body)), None) is not None


def invalid_without_formats(contract: Contract, body: Any) -> bool:
    """Invalid even to a validator that ignores `format` (JSON Schema makes format checks optional)."""
    validator = validator_for(contract.document, contract.request_schema, formats=False)
    return next(iter(validator.iter_errors(body)), None) is not None


class Leniency:
    """Tells breaks a careful but lenient PSP may let through from breaks every PSP must refuse.

    A PSP must refuse a callback that lacks a required field, has a wrong type, null or a value outside an
    enum in a required field, breaks the pattern of a required field or the instrument rule. Whether it also
    refuses an empty or over-long string, or anything wrong inside an optional field it may not even read
    (null, a wrong type, a bad pattern or enum value, the network token of a PAN callback without its
    cryptogram), the document cannot make a matter of money: those are SHOULD-level refusals (warnings
    unless --strict).
    """

    def __init__(self, contract: Contract) -> None:
        components = dict(contract.document.get("components", {}))
        if isinstance(components.get("schemas"), Mapping):
            components["schemas"] = {name: map_schema(item, _relaxed) for name, item in components["schemas"].items()}
        schema = map_schema(contract.request_schema, _relaxed)
        self._validator = validator_for({"components": components}, schema, formats=False)

    def only_lenient_breaks(self, body: Any) -> bool:
        """True when `body` is valid once lengths, formats and optional fields are not checked."""
        return next(iter(self._validator.iter_errors(body)), None) is None


def _relaxed(node: dict[str, Any]) -> dict[str, Any]:
    for key in ("minLength", "maxLength", "format"):
        node.pop(key, None)
    # A PSP may never read an optional field (the network token of a PAN callback, `eci`), so whatever is wrong
    # inside one is a SHOULD-level refusal.
    required = set(required_of(node))
    return relaxed_properties(node, lambda name: name in required)


def variant_for(contract: Contract, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The object schema (one `oneOf` branch, its `allOf` parts folded in) that `body` is valid against."""
    for variant in contract.model.variants(contract.request_schema):
        if _validates(contract, variant.schema, body):
            return variant.schema
    return None


def known_properties(contract: Contract, body: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Property names the document defines, per object pointer ('' the body, '/networkToken' the token).

    Nested objects count, and so does the `oneOf` branch under a property that `body` matches.
    """
    schema = variant_for(contract, body)
    out: dict[str, frozenset[str]] = {}
    if schema is None:
        return out
    for node in _objects(contract, schema, body, ""):
        out[node.pointer] = frozenset(properties_of(node.schema))
    return out


def mutations(contract: Contract, body: Mapping[str, Any]) -> Iterator[Mutation]:
    """Every single-field break of the valid `body` that the document really rejects."""
    schema = variant_for(contract, body)
    if schema is None:
        return
    for mutation in _candidates(contract, schema, body):
        if mutation.format_only:
            # The compiled check ignores numeric formats (int64); the Python validator is the document's word.
            if refused(contract, mutation.body):
                yield mutation
        elif not contract.is_valid_request(mutation.body) and invalid_without_formats(contract, mutation.body):
            yield mutation


def _validates(contract: Contract, schema: Mapping[str, Any], body: Any) -> bool:
    validator = validator_for(contract.document, schema, formats=False)
    return next(iter(validator.iter_errors(body)), None) is None


@dataclass(frozen=True, slots=True)
class _Object:
    """An object of the body with the schema that describes it (the `oneOf` branch its value matches)."""

    pointer: str
    schema: Mapping[str, Any]
    # The branches of the discriminated `oneOf` the schema was chosen from, and the discriminating property.
    alternatives: tuple[Mapping[str, Any], ...] = ()
    discriminator: str | None = None


def _objects(contract: Contract, schema: Mapping[str, Any], body: Any, pointer: str) -> Iterator[_Object]:
    """The object at `pointer` and every object under it, `oneOf` branches under properties included."""
    model = contract.model
    if pointer:
        yield _Object(pointer, schema)
    else:
        root = model.resolve(contract.request_schema)
        found = model.discriminator(root)
        branches = tuple(v.schema for v in model.variants(root)) if branches_of(root) else ()
        yield _Object(pointer, schema, branches, found.property_name if found else None)
    value = fields.get_at(body, pointer)
    for name, prop in properties_of(schema).items():
        resolved = model.merged(prop)
        at = child(pointer, name)
        found_branches = branches_of(resolved)
        if found_branches:
            # A discriminated sub-object: its fields exist only in the branch the body's value matches.
            variants = tuple(v.schema for v in model.variants(resolved))
            item = value.get(name) if isinstance(value, Mapping) else None
            chosen = next((b for b in variants if _validates(contract, b, item)), None)
            if chosen is None or not properties_of(chosen):
                continue
            found = model.discriminator(resolved)
            yield _Object(at, chosen, variants if found_branches[0] == ONE_OF else (),
                          found.property_name if found else None)
            yield from (node for node in _objects(contract, chosen, body, at) if node.pointer != at)
        elif resolved.get("type") == "object" and properties_of(resolved):
            yield from _objects(contract, resolved, body, at)


def _label(pointer: str) -> str:
    return dotted(pointer) if pointer else ""


def _candidates(contract: Contract, schema: Mapping[str, Any], body: Mapping[str, Any]) -> Iterator[Mutation]:
    objects = list(_objects(contract, schema, body, ""))
    for node in objects:
        pointer, required = node.pointer, required_of(node.schema)
        parent = fields.get_at(body, pointer)
        if not isinstance(parent, Mapping):
            continue
        for name, prop in properties_of(node.schema).items():
            at = child(pointer, name)
            where = _label(at)
            resolved = contract.model.merged(prop)
            if name in required:
                yield Mutation(f"{where}: missing", _with(body, at, _DELETE))
                yield Mutation(f"{where}: null", _with(body, at, None))
            wrong = _WRONG_TYPE.get(str(contract.model.type_of(resolved)))
            if wrong is not None:
                yield Mutation(f"{where}: wrong type ({type(wrong).__name__})", _with(body, at, wrong))
            for label, value in _value_breaks(resolved):
                yield Mutation(f"{where}: {label}", _with(body, at, value))
            for label, value in _regex_traps(resolved, parent.get(name)):
                yield Mutation(f"{where}: {label}", _with(body, at, value))
            for label, value, format_only in _number_breaks(resolved):
                yield Mutation(f"{where}: {label}", _with(body, at, value), format_only)
    for node in objects:
        yield from _switched_variant(contract, node, body)


def _value_breaks(schema: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    if schema.get("type") != "string":
        return
    if "enum" in schema:
        yield f"not one of {', '.join(map(str, schema['enum']))}", "NOT_" + "_".join(map(str, schema["enum"]))
        return
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        breaker = next((v for v in _PATTERN_BREAKERS if not re.search(pattern, v)), None)
        if breaker is not None:
            yield f"does not match {pattern}", breaker
    min_length = schema.get("minLength")
    if isinstance(min_length, int) and min_length > 0:
        yield f"shorter than minLength {min_length}", ""
    max_length = schema.get("maxLength")
    if isinstance(max_length, int):
        yield f"longer than maxLength {max_length}", "9" * (max_length + 1)


def _regex_traps(schema: Mapping[str, Any], value: Any) -> Iterator[tuple[str, str]]:
    """The valid value in the shapes a hand-written pattern check lets through: Python's `re.match("^...$")`
    accepts a trailing newline, a strip() before the check hides whitespace, `\\d` takes any script's digits.
    `mutations` keeps only those the document's own validator refuses."""
    if not (isinstance(schema.get("pattern"), str) and isinstance(value, str) and value):
        return
    yield "trailing newline", value + "\n"
    yield "surrounding whitespace", f" {value} "
    if any(ch in "0123456789" for ch in value):
        yield "Arabic-Indic digits", value.translate({ord("0") + d: 0x0660 + d for d in range(10)})


def _number_breaks(schema: Mapping[str, Any]) -> Iterator[tuple[str, Any, bool]]:
    """(label, value, breaks only a format): outside the bounds, too big for the format, fractional."""
    kind = schema.get("type")
    if kind not in ("integer", "number"):
        return
    minimum, maximum = _bound(schema.get("minimum")), _bound(schema.get("maximum"))
    # OpenAPI 3.0 writes exclusive bounds as booleans beside minimum/maximum; JSON Schema 2019+ as numbers.
    exclusive_min, exclusive_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if minimum is not None:
        yield f"below minimum {minimum}", minimum if exclusive_min is True else minimum - 1, False
    elif _bound(exclusive_min) is not None:
        yield f"not above exclusiveMinimum {exclusive_min}", exclusive_min, False
    if maximum is not None:
        yield f"above maximum {maximum}", maximum if exclusive_max is True else maximum + 1, False
    elif _bound(exclusive_max) is not None:
        yield f"not below exclusiveMaximum {exclusive_max}", exclusive_max, False
    if kind != "integer":
        return
    limit = _INTEGER_FORMATS.get(str(schema.get("format")))
    if limit is not None and (maximum is None or maximum >= limit):
        yield f"above {schema['format']} ({limit + 1})", limit + 1, True
    # Halfway between two integers, and inside the bounds when there are any.
    yield "fractional", (minimum if minimum is not None else 0) + 0.5, False


_INTEGER_FORMATS = {"int32": 2**31 - 1, "int64": 2**63 - 1}


def _bound(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _switched_variant(contract: Contract, node: _Object, body: Mapping[str, Any]) -> Iterator[Mutation]:
    """The conditional rule: claim another variant of a discriminated object without the data it requires."""
    discriminator, schema, pointer = node.discriminator, node.schema, node.pointer
    current = fields.get_at(body, pointer)
    if not discriminator or not isinstance(current, Mapping) or discriminator not in current:
        return
    prefix = _label(pointer) + "." if pointer else ""
    at = child(pointer, discriminator)
    for other in node.alternatives:
        if other is schema:
            continue
        for value in contract.model.enum_of(other, discriminator):
            for name in required_of(other):
                if name in current or name == discriminator:
                    continue
                # The object lacks a field the other variant requires; claim that variant anyway.
                yield Mutation(f"{prefix}{discriminator} {value} without {name}", _with(body, at, value))
            for name in required_of(other):
                if name in current and name != discriminator and name not in required_of(schema):
                    switched = _with(body, at, value)
                    fields.delete_at(switched, child(pointer, name))
                    yield Mutation(f"{prefix}{discriminator} {value} without {name}", switched)


_DELETE = object()


def _with(body: Mapping[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the field at `pointer` set to `value` (or removed: _DELETE)."""
    out = copy.deepcopy(dict(body))
    if value is _DELETE:
        fields.delete_at(out, pointer)
    else:
        fields.set_at(out, pointer, value)
    return out
