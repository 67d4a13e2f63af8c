"""Read the contract document: the callback operation, its schemas, examples and vendor extensions."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from callback_core import fields
from callback_core.errors import SpecError
from callback_core.fields import FieldRole
from callback_core.schema_model import SchemaModel, SchemaProperty, location, model_for
from callback_core.schemas import SchemaValidator, schema_validator

DEADLINE_EXTENSION = "x-response-deadline-seconds"
ERROR_CODES_EXTENSION = "x-error-codes"
# On a catalogue entry: the meaning it carries, so that tools pick a code by meaning, never by its number.
OUTCOME_EXTENSION = "x-outcome"
INSUFFICIENT_FUNDS = "insufficient-funds"
STOLEN_CARD = "stolen-card"
ISSUER_UNAVAILABLE = "issuer-unavailable"
THREE_DS_FAILED = "three-ds-failed"
# Every meaning an entry may declare (documented in docs/spec-review.md); a value outside it is a typo
# that would silently send a tool back to picking by retryability, so it is refused.
OUTCOMES = (
    INSUFFICIENT_FUNDS, STOLEN_CARD, ISSUER_UNAVAILABLE, THREE_DS_FAILED,
    "refused-by-issuer", "do-not-honour", "expired-card", "suspected-fraud", "invalid-request", "internal-error",
)
# The JSON types an errorCode schema may declare, and the Python types of the codes they admit.
_CODE_TYPES: Mapping[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int,)}
HMAC_EXTENSION = "x-hmac-signing"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def bundled_document(name: str) -> Path:
    """A document shipped under `openapi/` (a repo checkout, or `callback_core/openapi` in a wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "openapi" / name, here / "openapi" / name):
        if candidate.is_file():
            return candidate
    raise SpecError(name, "this bundled document is missing from the installation")


def bundled_spec_path() -> Path:
    """The contract document shipped with the toolkit."""
    return bundled_document("card-callback.yaml")


def read_document(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON document into a dict, with one clear error for each way it can fail."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), f"cannot be read: {exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(str(path), f"is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise SpecError(str(path), "is not an OpenAPI document (the top level is not a mapping)")
    return document


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One entry of the FAIL error-code catalogue; `code` has the type the answer's errorCode schema gives it,
    and `outcome` is the meaning the entry declares (`x-outcome`), if any."""

    code: str | int
    meaning: str
    retryable: bool
    outcome: str | None = None


def format_code(code: object) -> str:
    """A code as JSON writes it, so that "51" (a string) and 51 (an integer) read differently."""
    return json.dumps(code, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class HmacScheme:
    """The announced HMAC scheme, as the document describes it."""

    status: str
    algorithm: str
    signed_headers: tuple[str, ...]
    max_clock_skew_seconds: int
    authorization_header: str
    date_header: str
    content_sha256_header: str


@dataclass(frozen=True)
class Contract:
    """The card-callback operation of a contract document, with what the tools read from it."""

    document: Mapping[str, Any] = field(repr=False)
    source: str
    path: str
    method: str
    operation_id: str
    deadline_seconds: float
    error_codes: tuple[ErrorCode, ...]
    error_codes_provisional: bool
    hmac: HmacScheme

    @classmethod
    def from_file(cls, path: Path | None = None) -> Contract:
        path = path or bundled_spec_path()
        return cls.from_dict(read_document(path), source=str(path))

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], source: str = "<document>", *, check_usable: bool = True) -> (
        Contract
    ):
        """The contract of `document`; `check_usable=False` skips the checks of what every command needs (the
        JSON bodies, the declared roles), for the linter, which reports each of those problems itself."""
        path, method, operation = _callback_operation(document, source)
        op = location(("paths", path, method))
        deadline = operation[DEADLINE_EXTENSION]
        if isinstance(deadline, bool) or not isinstance(deadline, int | float) or deadline <= 0:
            raise SpecError(
                source,
                f"{DEADLINE_EXTENSION} must be a positive number, not {deadline!r}",
                f"{op}/{DEADLINE_EXTENSION}",
            )
        codes, provisional = _error_codes(operation.get(ERROR_CODES_EXTENSION), source, op)
        _check_declared_roles(operation.get(fields.ROLES_EXTENSION), source, op)
        contract = cls(
            document=document,
            source=source,
            path=path,
            method=method.upper(),
            operation_id=str(operation.get("operationId", "")),
            deadline_seconds=float(deadline),
            error_codes=codes,
            error_codes_provisional=provisional,
            hmac=_hmac_scheme(operation.get(HMAC_EXTENSION), source, op),
        )
        if check_usable:
            contract._check_usable(op)
        _check_code_types(contract, op)
        return contract

    def _check_usable(self, op: str) -> None:
        first = next(self.unusable(), None)
        if first is not None:
            raise first

    def unusable(self, *, roles: bool = True) -> Iterator[SpecError]:
        """Why the tools cannot use this (valid) document, each naming its place: the card callback must be a POST
        with a JSON request body and a JSON 200 answer, and (`roles`) every declared role must point at a
        property."""
        if self.method != "POST":
            yield SpecError(self.source, f"the card callback must be a POST operation, not {self.method}",
                            self.location)
        for side in ("request", "response"):
            try:
                getattr(self, f"{side}_schema")
            except SpecError as exc:
                yield exc
                return
        if roles:
            yield from self.role_problems(needed=False)

    def role_problems(self, *, needed: bool = True) -> Iterator[SpecError]:
        """Each declared role that names no role the tools know or points at no property, and (`needed`) each role
        the reference server needs that is neither declared nor found by its well-known name (the suite and the
        simulator judge what they can without it, so only `serve` and lint refuse such a draft)."""
        declared = self.operation.get(fields.ROLES_EXTENSION) or {}
        where = f"{self.location}/{fields.ROLES_EXTENSION}"
        for side, properties, well_known, wanted, found in (
            ("request", self.request_properties, fields.REQUEST_WELL_KNOWN, fields.NEEDED_REQUEST_ROLES,
             self.request_roles),
            ("response", self.response_properties, fields.RESPONSE_WELL_KNOWN, fields.NEEDED_RESPONSE_ROLES,
             self.response_roles),
        ):
            known = {prop.pointer for prop in properties}
            for name, pointer in (declared.get(side) or {}).items():
                if name not in well_known:
                    yield SpecError(self.source, f"{name!r} is not a {side} role the tools know (they are "
                                    f"{', '.join(well_known)})", f"{where}/{side}/{name}")
                elif pointer not in known:
                    yield SpecError(
                        self.source,
                        f"role {name!r} points at {pointer!r}, which names no property of the {side} schema",
                        f"{where}/{side}/{name}",
                    )
            for name in wanted if needed else ():
                if name not in found:
                    yield SpecError(self.source, f"the {side} has no {name!r} field: declare where it is in "
                                    f"{fields.ROLES_EXTENSION}.{side}", f"{where}/{side}")

    @cached_property
    def model(self) -> SchemaModel:
        """The document's schema model: its references (resolved once) and the walks over its schemas."""
        return model_for(self.document, self.source)

    @property
    def location(self) -> str:
        """Where the operation sits in the document, e.g. `#/paths/~1callback/post`."""
        return location(("paths", self.path, self.method.lower()))

    @property
    def operation(self) -> Mapping[str, Any]:
        item = self.model.resolve(self.document["paths"][self.path])
        return item[self.method.lower()]  # type: ignore[no-any-return]

    def error_code(self, code: object) -> ErrorCode | None:
        """The catalogue entry of an answer's code, compared as typed values: "300" is not code 300."""
        return next((entry for entry in self.error_codes
                     if type(entry.code) is type(code) and entry.code == code), None)

    def error_code_for(self, outcome: str) -> ErrorCode | None:
        """The first entry declaring `outcome` (one of OUTCOMES) in its `x-outcome`."""
        return next((entry for entry in self.error_codes if entry.outcome == outcome), None)

    @cached_property
    def error_code_types(self) -> tuple[str, ...]:
        """The JSON types the answer's errorCode schema declares (found through the `errorCode` role);
        empty when it declares none the catalogue could be held to."""
        role = self.response_role(fields.ERROR_CODE)
        if role is None:
            return ()
        found: list[str] = []
        for prop in self.response_properties:
            declared = prop.schema.get("type") if prop.pointer == role.pointer else None
            if declared is None:
                continue
            if not isinstance(declared, str) or declared not in _CODE_TYPES:
                return ()  # a type no code of ours can have (or a list of them): nothing to hold codes to
            if declared not in found:
                found.append(declared)
        return tuple(found)

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s (chains too) until a node that is not a reference (the schema model's)."""
        return self.model.resolve(node)

    def _media(self, node: Any, where: str, what: str) -> Mapping[str, Any]:
        """The application/json media object of a request body or response (references followed)."""
        media_type = "application/json"
        located = self.model.follow(node, where)
        content = located.node.get("content") if isinstance(located.node, Mapping) else None
        if not isinstance(content, Mapping) or not isinstance(content.get(media_type), Mapping):
            has = ", ".join(map(str, content or ())) or "no content"
            raise SpecError(self.source, f"{what} has no {media_type} content (it has {has}): the tools send and "
                            f"read JSON", located.location)
        media: Mapping[str, Any] = content[media_type]
        if not isinstance(media.get("schema"), Mapping):
            raise SpecError(self.source, f"{what} has no {media_type} schema",
                            f"{located.location}/content/application~1json")
        return media

    def _request_media(self) -> Mapping[str, Any]:
        body = self.operation.get("requestBody")
        if body is None:
            raise SpecError(self.source, "the card callback has no request body", self.location)
        return self._media(body, f"{self.location}/requestBody", "the request body")

    def _response_media(self) -> Mapping[str, Any]:
        responses = self.operation.get("responses")
        answer = responses.get("200") if isinstance(responses, Mapping) else None
        if answer is None:
            raise SpecError(self.source, "the card callback documents no 200 answer", f"{self.location}/responses")
        return self._media(answer, f"{self.location}/responses/200", "response 200")

    @cached_property
    def request_schema(self) -> Mapping[str, Any]:
        return self._request_media()["schema"]  # type: ignore[no-any-return]

    @cached_property
    def response_schema(self) -> Mapping[str, Any]:
        return self._response_media()["schema"]  # type: ignore[no-any-return]

    @cached_property
    def statuses(self) -> tuple[str, ...]:
        """Every `status` value the response schema admits, in document order."""
        found: list[str] = []
        role = self.response_role(fields.STATUS)
        name = role.property_name if role is not None and len(role.parts) == 1 else fields.STATUS
        for variant in self.model.variants(self.response_schema):
            for value in self.model.enum_of(variant.schema, name):
                if value not in found:
                    found.append(value)
        return tuple(found)

    @cached_property
    def documented_statuses(self) -> frozenset[int]:
        return frozenset(int(code) for code in self.operation["responses"] if str(code).isdigit())

    @cached_property
    def header_slots(self) -> tuple[str, ...]:
        """The header parameters the operation reserves (the HMAC slots)."""
        params = (self.resolve(p) for p in self.operation.get("parameters") or [])
        return tuple(str(p["name"]) for p in params if isinstance(p, Mapping) and p.get("in") == "header")

    @cached_property
    def request_properties(self) -> list[SchemaProperty]:
        """Every property of the request schema tree, with its path in a body."""
        return list(self.model.walk(self.request_schema))

    @cached_property
    def response_properties(self) -> list[SchemaProperty]:
        return list(self.model.walk(self.response_schema))

    @cached_property
    def _request_roles(self) -> tuple[dict[str, FieldRole], tuple[str, ...]]:
        declared = (self.operation.get(fields.ROLES_EXTENSION) or {}).get("request")
        return fields.find_roles(declared, self.request_properties, fields.REQUEST_WELL_KNOWN,
                                 fields.DEFAULT_CARD_DATA_ROLES)

    @property
    def request_roles(self) -> Mapping[str, FieldRole]:
        """The request's field roles (declared in x-field-roles or inferred), by role name."""
        return self._request_roles[0]

    @cached_property
    def response_roles(self) -> Mapping[str, FieldRole]:
        declared = (self.operation.get(fields.ROLES_EXTENSION) or {}).get("response")
        return fields.find_roles(declared, self.response_properties, fields.RESPONSE_WELL_KNOWN)[0]

    def request_role(self, name: str) -> FieldRole | None:
        return self.request_roles.get(name)

    def response_role(self, name: str) -> FieldRole | None:
        return self.response_roles.get(name)

    @property
    def card_data_pointers(self) -> tuple[str, ...]:
        """Where a callback carries card data (token number, cryptogram, encrypted PAN): never log or echo it."""
        return self._request_roles[1]

    def request_value(self, body: Any, role: str) -> Any:
        """The value of `role` in a request body; fields.MISSING when the document or the body lacks it."""
        found = self.request_role(role)
        return fields.get_at(body, found.pointer) if found is not None else fields.MISSING

    def response_value(self, body: Any, role: str) -> Any:
        found = self.response_role(role)
        return fields.get_at(body, found.pointer) if found is not None else fields.MISSING

    @cached_property
    def request_validator(self) -> SchemaValidator:
        """The request body's validator (the one the server, the suite and the simulator share)."""
        return schema_validator(self.document, self.request_schema)

    @cached_property
    def response_validator(self) -> SchemaValidator:
        """The 200 answer's validator."""
        return schema_validator(self.document, self.response_schema)

    def is_valid_request(self, body: Any) -> bool:
        """`request_errors(body) == []`, without building the messages (the suite asks this thousands of times)."""
        return self.request_validator.is_valid(body)

    def request_errors(self, body: Any) -> list[str]:
        """Why `body` is not a valid callback request (empty when it is)."""
        return _messages(self.request_validator, body)

    def response_errors(self, body: Any) -> list[str]:
        """Why `body` is not a valid 200 answer (empty when it is)."""
        return _messages(self.response_validator, body)

    def request_examples(self) -> dict[str, Any]:
        return self._examples(self._request_media())

    def response_examples(self) -> dict[str, Any]:
        return self._examples(self._response_media())

    def _examples(self, media: Mapping[str, Any]) -> dict[str, Any]:
        examples = media.get("examples")
        found = {str(name): self.resolve(ex) for name, ex in (examples.items() if isinstance(examples, Mapping)
                                                                else ())}
        return {name: ex["value"] for name, ex in found.items() if isinstance(ex, Mapping) and "value" in ex}


def resolve_pointer(document: Mapping[str, Any], ref: str, source: str = "<document>") -> Any:
    """The node a local `#/...` reference points at, or SpecError naming the dangling reference."""
    return model_for(document, source).lookup(ref)


def _messages(validator: SchemaValidator, instance: Any) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    out = []
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path)
        out.append(f"{where or '(body)'}: {_best(error).message}")
    return out


def _best(error: Any) -> Any:
    # For oneOf failures the message is the whole instance; the deepest cause says what is wrong.
    from jsonschema.exceptions import best_match

    return best_match(error.context) if error.context else error


def _callback_operation(document: Mapping[str, Any], source: str) -> tuple[str, str, Mapping[str, Any]]:
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        raise SpecError(source, "has no paths", "#/paths")
    model = model_for(document, source)
    items = {str(path): model.follow(item, location(("paths", path))).node for path, item in paths.items()}
    found = [
        (path, method, op)
        for path, item in items.items()
        if isinstance(item, Mapping)
        for method, op in item.items()
        if method in HTTP_METHODS and isinstance(op, Mapping) and DEADLINE_EXTENSION in op
    ]
    if len(found) != 1:
        posts = [location(("paths", path, "post")) for path, item in items.items()
                 if isinstance(item, Mapping) and isinstance(item.get("post"), Mapping)]
        hint = (f"; its POST operations: {', '.join(posts)}" if posts else "; it has no POST operation") \
            if not found else ""
        raise SpecError(
            source,
            f"needs exactly one operation with {DEADLINE_EXTENSION} (the card callback), found {len(found)}{hint}",
            "#/paths",
        )
    return found[0]


def _error_codes(raw: Any, source: str, op: str) -> tuple[tuple[ErrorCode, ...], bool]:
    where = f"{op}/{ERROR_CODES_EXTENSION}"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("codes"), list):
        raise SpecError(source, f"{ERROR_CODES_EXTENSION} must be a mapping with a list of codes", where)
    codes = []
    for index, entry in enumerate(raw["codes"]):
        at = f"{where}/codes/{index}"
        code = entry.get("code") if isinstance(entry, Mapping) else None
        if not (
            isinstance(entry, Mapping)
            and isinstance(code, str | int) and not isinstance(code, bool)
            and isinstance(entry.get("meaning"), str)
            and isinstance(entry.get("retryable"), bool)
        ):
            raise SpecError(source, "needs code (a string or an integer, as errorCode is typed), meaning (string), "
                            "retryable (boolean)", at)
        outcome = entry.get(OUTCOME_EXTENSION)
        if outcome is not None and outcome not in OUTCOMES:
            raise SpecError(source, f"{OUTCOME_EXTENSION} {outcome!r} is not one of {', '.join(OUTCOMES)}",
                            f"{at}/{OUTCOME_EXTENSION}")
        codes.append(ErrorCode(code, entry["meaning"], entry["retryable"], outcome))
    return tuple(codes), bool(raw.get("provisional", False))


def _check_code_types(contract: Contract, op: str) -> None:
    """Every code of the catalogue has a type the answer's errorCode schema admits: an answer carrying it must
    pass the schema, and a PSP's answer is looked up by its typed value."""
    types = contract.error_code_types
    if not types:
        return
    admitted = tuple(t for name in types for t in _CODE_TYPES[name])
    for index, entry in enumerate(contract.error_codes):
        if not isinstance(entry.code, admitted):
            at = f"{op}/{ERROR_CODES_EXTENSION}/codes/{index}/code"
            role = contract.response_role(fields.ERROR_CODE)
            field_name = role.pointer if role is not None else fields.ERROR_CODE
            kind = "a string" if isinstance(entry.code, str) else "an integer"
            raise SpecError(contract.source, f"{ERROR_CODES_EXTENSION} code {format_code(entry.code)} is {kind}, "
                            f"but the answer's {field_name} is typed {' or '.join(types)}", at)


def _check_declared_roles(raw: Any, source: str, op: str) -> None:
    where = f"{op}/{fields.ROLES_EXTENSION}"
    if raw is None:
        return
    if not isinstance(raw, Mapping) or set(raw) - {"request", "response", "description"}:
        raise SpecError(source, f"{fields.ROLES_EXTENSION} must be a mapping with request and/or response", where)
    for side, roles in raw.items():
        if side == "description":
            continue
        if not isinstance(roles, Mapping):
            raise SpecError(source, "must map role names to JSON pointers", f"{where}/{side}")
        for name, pointer in roles.items():
            if not isinstance(pointer, str) or not pointer.startswith("/"):
                raise SpecError(source, f"role {name!r} needs a JSON pointer such as '/pspReference', not "
                                f"{pointer!r}", f"{where}/{side}/{name}")


def _hmac_scheme(raw: Any, source: str, op: str) -> HmacScheme:
    where = f"{op}/{HMAC_EXTENSION}"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("headers"), Mapping):
        raise SpecError(source, f"{HMAC_EXTENSION} must be a mapping with headers", where)
    headers = raw["headers"]
    try:
        scheme = HmacScheme(
            status=str(raw.get("status", "announced")),
            algorithm=str(raw["algorithm"]),
            signed_headers=tuple(str(h).lower() for h in raw["signedHeaders"]),
            max_clock_skew_seconds=int(raw["maxClockSkewSeconds"]),
            authorization_header=str(headers["authorization"]),
            date_header=str(headers["date"]),
            content_sha256_header=str(headers["contentSha256"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(source, f"{HMAC_EXTENSION} is incomplete: {exc}", where) from None
    if scheme.algorithm != "HMAC-SHA256":
        raise SpecError(source, f"{HMAC_EXTENSION}: only HMAC-SHA256 is implemented, not {scheme.algorithm!r}",
                        f"{where}/algorithm")
    # The string to sign is built from these: each must be a value the signer sets.
    known = {"host", scheme.date_header.lower(), scheme.content_sha256_header.lower()}
    unknown = [name for name in scheme.signed_headers if name not in known]
    if unknown or not scheme.signed_headers:
        raise SpecError(source, f"{HMAC_EXTENSION}: signedHeaders may only name host, {scheme.date_header} and "
                        f"{scheme.content_sha256_header} (the headers it declares), not {', '.join(unknown) or 'none'}",
                        f"{where}/signedHeaders")
    return scheme
