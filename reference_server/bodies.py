"""Strict JSON parsing and schema validation whose messages name the field and rule, never the value."""

from __future__ import annotations

import json
import math
import typing as t
from collections.abc import Mapping
from typing import Any

from connexion.validators import AbstractRequestBodyValidator
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from starlette.types import Scope

from callback_core.schema_model import VARIANT_KEYWORDS, SchemaModel, discriminator_of, model_for
from callback_core.schemas import schema_validator
from reference_server.connexion_app import CompiledPerSchema, resolved_document, with_own_cache
from reference_server.errors import BadRequest

MAX_DEPTH = 64
MAX_NUMBER_CHARS = 100


def parse_strict(raw: bytes) -> Any:
    """Parse a request body as RFC 8259 JSON, refusing everything that could surprise later code.

    Refused: bytes that are not UTF-8, an empty body, duplicate keys, NaN/Infinity, numbers longer
    than MAX_NUMBER_CHARS, nesting deeper than MAX_DEPTH and unpaired surrogates (not Unicode text).
    An escaped NUL (\\u0000) is valid JSON and valid against a schema without a pattern, so it is accepted
    (Schemathesis sends it and rightly calls a refusal a schema-valid request rejected).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not valid UTF-8 (invalid byte at offset {exc.start})") from None
    if not text.strip():
        raise BadRequest("the body is empty; a JSON object is required")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_int=_bounded_int,
            parse_float=_bounded_float,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        # exc.msg names the syntax rule only; the document itself is never quoted.
        raise BadRequest(f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise BadRequest(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    _check_tree(value)
    return value


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise BadRequest(f"the body repeats the key {_name(duplicate)} in one object")
    return result


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequest(f"a number in the body is longer than {MAX_NUMBER_CHARS} characters")
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequest(f"a number in the body is longer than {MAX_NUMBER_CHARS} characters")
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest("a number in the body is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not valid JSON")


def _check_tree(root: Any) -> None:
    # Iterative on purpose: the point is to survive hostile nesting without recursion.
    stack: list[tuple[Any, int, str]] = [(root, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"the body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, value in node.items():
                _check_string(key, path or "the body", "a key")
                stack.append((value, depth + 1, f"{path}/{key}" if path else str(key)))
        elif isinstance(node, list):
            stack.extend((value, depth + 1, f"{path}/{i}" if path else str(i)) for i, value in enumerate(node))
        elif isinstance(node, str):
            _check_string(node, path or "the body", "the value")


def _check_string(text: str, where: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{_name(where)}: {what} contains an unpaired surrogate (\\ud800-\\udfff)") from None


def _name(text: str) -> str:
    # Keys and paths are field names, not values; still cut them short and make them printable.
    shown = text if len(text) <= 60 else text[:57] + "..."
    return repr(shown.encode("unicode_escape", "backslashreplace").decode("ascii"))


def schema_errors(validator: Validator, body: Any, document: Mapping[str, Any] | None = None) -> list[str]:
    """Why `body` fails the schema, one message per problem, naming fields and rules only; `document` is where
    the schema's references resolve."""
    model = model_for(document if document is not None else validator.schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
    return [describe(error, model) for error in errors]


def describe(error: ValidationError, model: SchemaModel | None = None) -> str:
    if error.validator in VARIANT_KEYWORDS and isinstance(error.validator_value, list):
        return _describe_variants(error, model or model_for({}))
    where = _where(error)
    return f"{where}: {_rule(error)}"


def _where(error: ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return _name(path) if path else "the body"


def _rule(error: ValidationError) -> str:
    rule, value = error.validator, error.validator_value
    if rule == "type":
        return f"must be of type {value}"
    if rule == "required" and isinstance(error.instance, Mapping):
        missing = [name for name in value if name not in error.instance]
        return f"{', '.join(_name(m) for m in missing) or 'a property'} is required"
    if rule == "pattern":
        return f"must match the pattern {value}"
    if rule == "enum":
        return f"must be one of {', '.join(str(v) for v in value)}"
    if rule == "format":
        return f"must be a valid {value}"
    if rule in ("minLength", "maxLength"):
        return f"must be {'at least' if rule == 'minLength' else 'at most'} {value} characters long"
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"must respect {rule} {value}"
    if rule in ("minItems", "maxItems", "minProperties", "maxProperties", "uniqueItems"):
        return f"must respect {rule} {value}"
    if rule == "additionalProperties":
        return "has properties the schema does not allow"
    if rule == "nullable" or error.instance is None:
        return "must not be null"
    return f"fails the {rule} rule"


def _describe_variants(error: ValidationError, model: SchemaModel) -> str:
    variants: list[Any] = list(error.validator_value)
    found = discriminator_of(error.schema)
    discriminator = found.property_name if found is not None else None
    instance = error.instance
    if discriminator and isinstance(instance, Mapping):
        enums = [[str(v) for v in model.enum_of(variant, discriminator)] for variant in variants]
        allowed = [v for enum in enums for v in enum]
        value = instance.get(discriminator)
        if discriminator not in instance:
            return f"{_where(error)}: {_name(discriminator)} is required"
        if value not in allowed:
            at = f"{_where(error)}/{discriminator}" if error.absolute_path else discriminator
            return f"{_name(at)}: must be one of {', '.join(str(a) for a in allowed)}"
        index = next(i for i, enum in enumerate(enums) if value in enum)
        causes = [e for e in error.context or [] if e.relative_schema_path and e.relative_schema_path[0] == index]
        if causes:
            return describe(_best(causes), model)
        return f"{_where(error)}: matches more than one of the allowed shapes"
    if error.context:
        return describe(_best(list(error.context)), model)
    return f"{_where(error)}: matches more than one of the allowed shapes"


def _best(errors: list[ValidationError]) -> ValidationError:
    found = best_match(errors)
    return found if found is not None else errors[0]


class StrictJSONBodyValidator(AbstractRequestBodyValidator):  # type: ignore[misc]  # Connexion is untyped
    """Connexion's JSON body validator (plugged in through its public validator_map), with parse_strict, the
    toolkit's one validator (callback_core.schemas: OpenAPI 3.0, ECMA-262 patterns) in place of Connexion's
    Draft 4, and messages that never echo values.

    Valid bodies take the compiled jsonschema-rs check (~100x faster than Python jsonschema, which was a
    fifth of the server's time under load); others go through the full validator for the verdict and the
    messages.
    """

    # Connexion builds a body validator per request: compile once per schema (one per operation).
    _compiled: t.ClassVar[CompiledPerSchema] = CompiledPerSchema()  # one per app: for_one_app
    # Where the schema's `#/components/...` references (a discriminator's mapping) resolve.
    _document: t.ClassVar[Mapping[str, Any]] = {}

    # Connexion's schemas (references resolved) and the document's own, with references, for the same body.
    _originals: t.ClassVar[list[tuple[Any, Any]]] = []

    def __init__(self, *, schema: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(schema=schema, **kwargs)
        self._validator = self._compiled.compiled(
            schema, lambda: schema_validator(self._document, self._original(schema)))

    @classmethod
    def _original(cls, schema: Any) -> Any:
        """The document's own schema for the body Connexion hands over resolved: validated as written, a
        discriminator keeps the references it names its variants by, exactly as in the suite.

        Connexion hands the resolved schema with the document's `components` added in place; when the body is a
        `$ref` into components that addition makes the structure circular, so it is never compared or kept."""
        if len(cls._originals) == 1:
            return cls._originals[0][1]
        own = {key: value for key, value in schema.items() if key != "components"} if isinstance(schema, Mapping) \
            else schema
        try:
            return next((original for resolved, original in cls._originals if resolved == own), own)
        except RecursionError:
            return own

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> Any:
        return parse_strict(b"".join([chunk async for chunk in stream]))

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if self._validator.is_valid(body):
            return None
        problems = schema_errors(self._validator.full, body, self._document)
        if problems:
            raise BadRequest("; ".join(problems[:10]))
        return None


def for_one_app(document: Mapping[str, Any]) -> type[StrictJSONBodyValidator]:
    """A StrictJSONBodyValidator class for one app's `document`, with its own cache of compiled schemas."""
    validator = with_own_cache(StrictJSONBodyValidator)
    validator._document = document
    # Paired by operation and media type: a body written as a `$ref` into components is one body all the same.
    resolved = _json_body_schemas(resolved_document(document))
    originals = _json_body_schemas(document)
    validator._originals = [(schema, originals[key]) for key, schema in resolved.items() if key in originals]
    return validator


def _json_body_schemas(document: Mapping[str, Any]) -> dict[tuple[str, str, str], Any]:
    """Every operation's JSON request body schema, by (path, method, media type), references followed."""
    model = model_for(document)
    found: dict[tuple[str, str, str], Any] = {}
    for path, raw_item in (document.get("paths") or {}).items():
        item = model.resolve(raw_item)
        for method, operation in item.items() if isinstance(item, Mapping) else ():
            body = model.resolve(operation.get("requestBody")) if isinstance(operation, Mapping) else None
            content = body.get("content") if isinstance(body, Mapping) else None
            for media_type, media in (content or {}).items():
                if "json" in media_type and isinstance(media, Mapping) and "schema" in media:
                    found[(str(path), str(method), str(media_type))] = media["schema"]
    return found
