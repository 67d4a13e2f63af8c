"""Every use of Connexion internals, in one place: the AsyncApp with what Connexion rebuilds on every request
built once (each operation's handler chain, its header validators), the request's scope and routed operation.

Connexion is pinned to the exact version this was read from (pyproject); tests/reference_server/
test_connexion_adapter.py fails loudly when an install differs or an internal used here moves."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, ClassVar, TypeVar, cast

from connexion import AsyncApp
from connexion.apps.abstract import AbstractApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.context import receive, scope
from connexion.context import scope as connexion_scope
from connexion.datastructures import MediaTypeDict
from connexion.decorators import StarletteDecorator
from connexion.json_schema import resolve_refs
from connexion.middleware.abstract import ROUTING_CONTEXT
from connexion.operations import AbstractOperation
from connexion.utils import is_null, is_nullable
from connexion.validators import FormDataValidator, MultiPartFormDataValidator, ParameterValidator
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from starlette.types import Scope

from callback_core.schemas import validator_for

T = TypeVar("T")
PINNED_VERSION = "3.3.0"


class ReferenceApp(AsyncApp):  # type: ignore[misc]  # Connexion is untyped
    """An AsyncApp whose operations build their handler chain once.

    Connexion 3.3 rebuilds the chain (parameter and response decorators, an `inspect.signature` of
    the handler, a URI parser) for every request; under load that was about a fifth of the server's
    time. The chain depends only on the operation, so it is built on the operation's first request
    and reused. Everything else (routing from the document, validation, errors) is Connexion's own.
    """

    def __init__(self, import_name: str, **kwargs: Any) -> None:
        # What AsyncApp.__init__ does, with our framework app in place of AsyncASGIApp.
        self._middleware_app = _ASGIApp()
        AbstractApp.__init__(self, import_name, **kwargs)


class _Decorator(StarletteDecorator):  # type: ignore[misc]
    def __call__(self, function: Any) -> Any:
        decorated = self.decorate(function)
        uri_parser: list[Any] = []

        async def wrapper() -> Any:
            # The URI parser reads the operation from Connexion's context: build it on the first
            # request (this decorator belongs to one operation) and keep it.
            if not uri_parser:
                uri_parser.append(self.uri_parser)
            request = self.framework.get_request(uri_parser=uri_parser[0], scope=scope, receive=receive)
            return await decorated(request)

        return wrapper


class _Operation(AsyncOperation):  # type: ignore[misc]
    @cached_property
    def fn(self) -> Any:
        return _Decorator(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)(self._fn)


class _Api(AsyncApi):  # type: ignore[misc]
    def make_operation(self, operation: AbstractOperation) -> _Operation:
        made: _Operation = _Operation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )
        return made


class _ASGIApp(AsyncASGIApp):  # type: ignore[misc]
    api_cls = _Api


class CompiledPerSchema(dict[int, tuple[Any, Any]]):
    """What a validator compiles from a schema, once per schema.

    Connexion builds its validators anew for every request, but hands them the same schema dict each time
    (one per operation and parameter). The dict is kept beside what was compiled from it, so its id, if
    reused after the dict is gone, is never mistaken for it.
    """

    def compiled(self, schema: Any, build: Callable[[], T]) -> T:
        item = self.get(id(schema))
        if item is None or item[0] is not schema:
            item = self[id(schema)] = (schema, build())
        result: T = item[1]
        return result


V = TypeVar("V", bound=type)


def with_own_cache(cls: V) -> V:
    """A subclass of `cls` with a `_compiled` cache of its own, for one app: it goes away with the app."""
    return type(cls.__name__, (cls,), {"_compiled": CompiledPerSchema()})  # type: ignore[return-value]


class CachedParameterValidator(ParameterValidator):  # type: ignore[misc]
    """Connexion's parameter validation with the toolkit's one validator, compiled once per parameter.

    Connexion 3.3 deep-copies the parameter and builds a `Draft4Validator` for every parameter present in
    every request: with the three HMAC headers, that was most of what signing added to a callback's cost.
    The validator is callback_core's (OpenAPI 3.0, ECMA-262 patterns); messages have Connexion's form.
    """

    _compiled: ClassVar[CompiledPerSchema] = CompiledPerSchema()  # one per app: parameter_validator_for_one_app

    @classmethod
    def validate_parameter(cls, parameter_type: str, value: Any, param: dict[str, Any], param_name: Any = None) -> Any:
        if value is None or (is_nullable(param) and is_null(value)):
            return ParameterValidator.validate_parameter(parameter_type, value, param, param_name)
        validator: Validator = cls._compiled.compiled(param, lambda: validator_for({}, param.get("schema", param)))
        error = best_match(validator.iter_errors(value))
        return None if error is None else str(error)


def parameter_validator_for_one_app() -> type[CachedParameterValidator]:
    """A CachedParameterValidator class with its own cache, for one app."""
    return with_own_cache(CachedParameterValidator)


def resolved_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `document` with every `$ref` resolved, as Connexion hands its schemas to validators."""
    resolved: dict[str, Any] = resolve_refs(copy.deepcopy(dict(document)))
    return resolved


def current_scope() -> Scope:
    """The ASGI scope of the request a handler is answering (Connexion keeps it in a context variable)."""
    return cast(Scope, connexion_scope._get_current_object())


def routed_operation_id(scope: Scope) -> str | None:
    """The operationId Connexion's routing matched for this request (None before routing, or none)."""
    routing = scope.get("extensions", {}).get(ROUTING_CONTEXT, {})
    found = routing.get("operation_id") if isinstance(routing, dict) else None
    return found if isinstance(found, str) else None


def body_validator_map(json_validator: type) -> Any:
    """Connexion's body validator map with `json_validator` for every JSON media type (`*/*json`, matched
    with Connexion's media-type wildcards) and Connexion's own form validators."""
    return MediaTypeDict({
        "*/*json": json_validator,
        "application/x-www-form-urlencoded": FormDataValidator,
        "multipart/form-data": MultiPartFormDataValidator,
    })
