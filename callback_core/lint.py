"""Lint a contract document: OpenAPI 3.0.3 validity, references, examples, descriptions, extensions."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from openapi_spec_validator import OpenAPIV30SpecValidator

from callback_core.auth_header import auth_header_name
from callback_core.errors import SpecError
from callback_core.fields import ROLES_EXTENSION
from callback_core.schema_model import (
    SCHEMA_MAPS,
    location,
    looks_like_schema,
    model_for,
    properties_of,
    property_site,
)
from callback_core.schemas import validator_for
from callback_core.spec import Contract


@dataclass(frozen=True, slots=True)
class Problem:
    """One lint finding, located by a JSON pointer into the document."""

    pointer: str
    message: str


def format_problem(problem: Problem) -> str:
    return f"{problem.pointer or '#'}: {problem.message}"


def lint(document: Mapping[str, Any]) -> list[Problem]:
    """Every problem of the document; empty when it is clean."""
    problems = list(_dangling_refs(document))
    problems += _spec_validity(document, skip=bool(problems))
    if problems:
        # Later checks resolve references and would only repeat the same failures.
        return problems
    problems += _examples(document)
    problems += _descriptions(document)
    problems += _extensions(document)
    return problems


def _pointer(parts: tuple[Any, ...] | list[Any]) -> str:
    return location(parts) or "#"


def _walk(node: Any, parts: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield parts, node
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*parts, index))


def _dangling_refs(document: Mapping[str, Any]) -> Iterator[Problem]:
    for where, ref, why in model_for(document).dangling():
        yield Problem(where, f"$ref {ref!r} does not resolve" if "points nowhere" in why else why)


def _spec_validity(document: Mapping[str, Any], *, skip: bool) -> list[Problem]:
    version = str(document.get("openapi", ""))
    if not version.startswith("3.0."):
        return [Problem("#/openapi", f"must be OpenAPI 3.0.x (Connexion 3 refuses {version or 'no version'})")]
    if skip:
        return []
    try:
        errors = list(OpenAPIV30SpecValidator(document).iter_errors())
    except Exception as exc:  # the validator raises on some broken documents instead of yielding
        return [Problem("#", f"not a valid OpenAPI 3.0 document: {exc}")]
    return [Problem(_pointer(list(e.absolute_path)), e.message.splitlines()[0]) for e in errors]


def _examples(document: Mapping[str, Any]) -> Iterator[Problem]:
    """Media-type, parameter and schema examples, each against the schema beside it."""
    for parts, node in _walk(document):
        if not isinstance(node, Mapping) or "schema" not in node and "example" not in node:
            continue
        if parts and parts[-1] in SCHEMA_MAPS:
            continue
        schema = node.get("schema")
        candidates: list[tuple[tuple[Any, ...], Any, Any]] = []
        if schema is not None:
            if "example" in node:
                candidates.append(((*parts, "example"), node["example"], schema))
            for name, example in (node.get("examples") or {}).items():
                example = model_for(document).resolve(example)
                if isinstance(example, Mapping) and "value" in example:
                    candidates.append(((*parts, "examples", name, "value"), example["value"], schema))
        elif "example" in node and looks_like_schema(node) and _is_schema_location(parts):
            candidates.append(((*parts, "example"), node["example"], node))
        for where, value, against in candidates:
            for error in validator_for(document, against).iter_errors(value):
                at = "/".join(str(p) for p in error.absolute_path)
                yield Problem(_pointer(where), f"example does not match its schema at '{at}': {_short(error)}")


def _is_schema_location(parts: tuple[Any, ...]) -> bool:
    return "schemas" in parts or "schema" in parts or any(part in SCHEMA_MAPS for part in parts)


def _short(error: Any) -> str:
    from jsonschema.exceptions import best_match

    best = best_match(error.context) if error.context else error
    return str(best.message)


def _descriptions(document: Mapping[str, Any]) -> Iterator[Problem]:
    model = model_for(document)
    for parts, node in _walk(document):
        if not properties_of(node):
            continue
        if parts and parts[-1] in SCHEMA_MAPS:
            continue  # a property that happens to be named "properties" is data, not a schema
        for name, prop in properties_of(node).items():
            target = model.resolve(prop)
            if not (isinstance(target, Mapping) and str(target.get("description", "")).strip()):
                yield Problem(property_site(_pointer(parts), name), "property has no description")


def _extensions(document: Mapping[str, Any]) -> Iterator[Problem]:
    try:
        contract = Contract.from_dict(document, check_usable=False)
    except SpecError as exc:
        yield Problem(exc.pointer, exc.reason)
        return
    # What the tools need from the operation (its declared roles are judged below, each of them).
    unusable = [Problem(exc.pointer, exc.reason) for exc in contract.unusable(roles=False)]
    if unusable:
        yield from unusable
        return
    op = _pointer(("paths", contract.path, contract.method.lower()))
    codes = [entry.code for entry in contract.error_codes]
    if not codes:
        yield Problem(f"{op}/x-error-codes/codes", "the error-code catalogue is empty")
    for code in sorted({c for c in codes if codes.count(c) > 1}, key=str):
        yield Problem(f"{op}/x-error-codes/codes", f"error code {code!r} is listed more than once")
    for name, example in contract.response_examples().items():
        fail_code = example.get("errorCode") if isinstance(example, Mapping) else None
        if fail_code is not None and contract.error_code(fail_code) is None:
            yield Problem(
                f"{op}/responses/200/content/application~1json/examples/{name}",
                f"errorCode {fail_code!r} is not in x-error-codes",
            )
    if contract.hmac.max_clock_skew_seconds <= 0:
        yield Problem(f"{op}/x-hmac-signing/maxClockSkewSeconds", "must be a positive number of seconds")
    missing = {
        contract.hmac.authorization_header,
        contract.hmac.date_header,
        contract.hmac.content_sha256_header,
    } - set(contract.header_slots)
    for header in sorted(missing):
        yield Problem(f"{op}/parameters", f"the HMAC header slot {header!r} is not a declared header parameter")
    try:
        auth_header_name(contract)
    except SpecError as exc:
        yield Problem(exc.pointer, exc.reason)
    yield from _declared_roles(contract, op)


def _declared_roles(contract: Contract, op: str) -> Iterator[Problem]:
    """A declared role must point at a property of its body's schema, or every tool acting on it misses."""
    declared = contract.operation.get(ROLES_EXTENSION) or {}
    for side, properties in (("request", contract.request_properties), ("response", contract.response_properties)):
        known = {prop.pointer for prop in properties}
        for name, pointer in (declared.get(side) or {}).items():
            if pointer not in known:
                yield Problem(
                    _pointer(("paths", contract.path, contract.method.lower(), ROLES_EXTENSION, side, name)),
                    f"role {name!r} points at {pointer!r}, which names no property of the {side} schema",
                )


def role_notes(document: Mapping[str, Any]) -> list[Problem]:
    """Not problems: the roles a document leaves undeclared and where their well-known names were found."""
    try:
        contract = Contract.from_dict(document)
    except SpecError:
        return []  # lint() reports why
    where = _pointer(("paths", contract.path, contract.method.lower(), ROLES_EXTENSION))
    return [
        Problem(f"{where}/{side}", f"role {role.name!r} is not declared; inferred from its name at {role.pointer}")
        for side, roles in (("request", contract.request_roles), ("response", contract.response_roles))
        for role in roles.values()
        if role.inferred
    ]


PAYLOAD_PREFIXES = ("request-", "response-")


def lint_payload(contract: Contract, name: str, raw: bytes) -> list[Problem]:
    """Problems of one example payload file, located by JSON pointers into the payload.

    `request-*.json` is checked against the callback request schema, `response-*.json` against the 200
    answer (a FAIL's `errorCode` must also be in the catalogue); any other name is itself a problem.
    """
    if name.startswith("request-"):
        schema = contract.request_schema
    elif name.startswith("response-"):
        schema = contract.response_schema
    else:
        return [Problem("#", "a payload file name must start with 'request-' or 'response-'")]
    duplicates: list[str] = []
    try:
        body = json.loads(raw.decode("utf-8"), object_pairs_hook=_remember_duplicates(duplicates))
    except UnicodeDecodeError:
        return [Problem("#", "is not UTF-8")]
    except json.JSONDecodeError as exc:
        return [Problem("#", f"is not valid JSON: {exc}")]
    problems = [Problem("#", f"key {key!r} appears more than once in one object") for key in duplicates]
    errors = validator_for(contract.document, schema).iter_errors(body)
    for error in sorted(errors, key=lambda e: [str(part) for part in e.absolute_path]):
        where = _pointer(list(error.absolute_path)) if error.absolute_path else "#"
        problems.append(Problem(where, _short(error)))
    if name.startswith("response-") and isinstance(body, Mapping) and "errorCode" in body:
        code = body["errorCode"]
        if isinstance(code, str | int) and contract.error_code(code) is None:
            problems.append(Problem("#/errorCode", f"errorCode {code!r} is not in x-error-codes"))
    return problems


def _remember_duplicates(found: list[str]) -> Any:
    # json.loads keeps the last of duplicate keys silently; a PSP parser may keep the first.
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                found.append(key)
            seen.add(key)
        return dict(pairs)

    return hook
