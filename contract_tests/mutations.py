"""Invalid callbacks read off the request schema: each field broken in turn, each one verified invalid."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

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
        components = _relaxed(copy.deepcopy(dict(contract.document.get("components", {}))))
        schema = _relaxed(copy.deepcopy(dict(contract.request_schema)))
        self._validator = validator_for({"components": components}, schema, formats=False)

    def only_lenient_breaks(self, body: Any) -> bool:
        """True when `body` is valid once lengths, formats and optional fields are not checked."""
        return next(iter(self._validator.iter_errors(body)), None) is None


def _relaxed(node: Any) -> Any:
    if isinstance(node, dict):
        for key in ("minLength", "maxLength", "format"):
            node.pop(key, None)
        properties = node.get("properties")
        if isinstance(properties, dict):
            required = set(node.get("required", ()))
            for name in properties:
                if name not in required:
                    # A PSP may never read an optional field (the network token of a PAN callback, `eci`),
                    # so whatever is wrong inside one is a SHOULD-level refusal.
                    properties[name] = {}
        for value in node.values():
            _relaxed(value)
    elif isinstance(node, list):
        for value in node:
            _relaxed(value)
    return node


def variant_for(contract: Contract, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The object schema (one `oneOf` branch) that `body` is valid against."""
    root = contract.resolve(contract.request_schema)
    for variant in root.get("oneOf") or root.get("anyOf") or [root]:
        schema = contract.resolve(variant)
        if not _validates(contract, schema, body):
            continue
        return schema  # type: ignore[no-any-return]
    return None


def known_properties(contract: Contract, body: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Property names the document defines, per object path ('' the body, 'networkToken' the token)."""
    schema = variant_for(contract, body)
    out: dict[str, frozenset[str]] = {}
    if schema is None:
        return out
    for path, node, _ in _objects(contract, schema, ""):
        out[path] = frozenset(node.get("properties", {}))
    return out


def patterned_values(contract: Contract, body: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(value, pattern) for every string of `body` whose schema has a `pattern`."""
    schema = variant_for(contract, body)
    if schema is None:
        return
    for path, node, _ in _objects(contract, schema, ""):
        parent = _get(body, path)
        if not isinstance(parent, Mapping):
            continue
        for name, prop in node.get("properties", {}).items():
            pattern = contract.resolve(prop).get("pattern")
            if isinstance(pattern, str) and isinstance(parent.get(name), str):
                yield parent[name], pattern


def mutations(contract: Contract, body: Mapping[str, Any]) -> Iterator[Mutation]:
    """Every single-field break of the valid `body` that the document really rejects."""
    schema = variant_for(contract, body)
    if schema is None:
        return
    for mutation in _candidates(contract, schema, body):
        if not contract.is_valid_request(mutation.body) and invalid_without_formats(contract, mutation.body):
            yield mutation


def _validates(contract: Contract, schema: Mapping[str, Any], body: Any) -> bool:
    validator = validator_for(contract.document, schema, formats=False)
    return next(iter(validator.iter_errors(body)), None) is None


def _objects(
    contract: Contract, schema: Mapping[str, Any], path: str
) -> Iterator[tuple[str, Mapping[str, Any], tuple[str, ...]]]:
    yield path, schema, tuple(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        resolved = contract.resolve(prop)
        if resolved.get("type") == "object" and "properties" in resolved:
            yield from _objects(contract, resolved, f"{path}.{name}" if path else name)


def _candidates(contract: Contract, schema: Mapping[str, Any], body: Mapping[str, Any]) -> Iterator[Mutation]:
    for path, node, required in _objects(contract, schema, ""):
        parent = _get(body, path)
        if not isinstance(parent, Mapping):
            continue
        for name, prop in node.get("properties", {}).items():
            where = f"{path}.{name}" if path else name
            resolved = contract.resolve(prop)
            if name in required:
                yield Mutation(f"{where}: missing", _with(body, path, name, _DELETE))
                yield Mutation(f"{where}: null", _with(body, path, name, None))
            wrong = _WRONG_TYPE.get(str(resolved.get("type")))
            if wrong is not None:
                yield Mutation(f"{where}: wrong type ({type(wrong).__name__})", _with(body, path, name, wrong))
            for label, value in _value_breaks(resolved):
                yield Mutation(f"{where}: {label}", _with(body, path, name, value))
            for label, value in _regex_traps(resolved, parent.get(name)):
                yield Mutation(f"{where}: {label}", _with(body, path, name, value))
    yield from _switched_instrument(contract, schema, body)


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


def _switched_instrument(
    contract: Contract, schema: Mapping[str, Any], body: Mapping[str, Any]
) -> Iterator[Mutation]:
    """The conditional rule: claim the other instrument without the card data it requires."""
    root = contract.resolve(contract.request_schema)
    discriminator = root.get("discriminator", {}).get("propertyName")
    if not discriminator or discriminator not in body:
        return
    for variant in root.get("oneOf") or []:
        other = contract.resolve(variant)
        if other is schema:
            continue
        values = contract.resolve(other.get("properties", {}).get(discriminator, {})).get("enum", [])
        for value in values:
            for name in other.get("required", ()):
                if name in body or name == discriminator:
                    continue
                # The body lacks a field the other instrument requires; claim that instrument anyway.
                switched = {**copy.deepcopy(dict(body)), discriminator: value}
                yield Mutation(f"{discriminator} {value} without {name}", switched)
            for name in other.get("required", ()):
                if name in body and name != discriminator and name not in schema.get("required", ()):
                    switched = {**copy.deepcopy(dict(body)), discriminator: value}
                    del switched[name]
                    yield Mutation(f"{discriminator} {value} without {name}", switched)


_DELETE = object()


def _get(body: Mapping[str, Any], path: str) -> Any:
    node: Any = body
    for part in path.split(".") if path else ():
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _with(body: Mapping[str, Any], path: str, name: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(dict(body))
    node: Any = out
    for part in path.split(".") if path else ():
        node = node[part]
    if value is _DELETE:
        node.pop(name, None)
    else:
        node[name] = value
    return out
