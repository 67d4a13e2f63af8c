"""Build the reference PSP: a Connexion AsyncApp routed from the contract document by operationId."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.middleware import ConnexionMiddleware, MiddlewarePosition
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.types import Scope

from callback_core.auth_header import AUTH_HEADER_EXTENSION, AuthHeader, auth_header_name
from callback_core.spec import HTTP_METHODS, Contract, bundled_document, bundled_spec_path, read_document
from reference_server import bodies
from reference_server.browser_headers import BrowserHeaders, page_policy
from reference_server.callback_fields import CallbackFields, CallbackNames
from reference_server.cards import load_cards
from reference_server.connexion_app import (
    ReferenceApp,
    body_validator_map,
    current_scope,
    parameter_validator_for_one_app,
)
from reference_server.decision_form import TOKEN_FIELD, DecisionTokens, cross_site_refusal
from reference_server.errors import (
    BadRequest,
    ConfigError,
    Forbidden,
    ReferenceServerError,
    http_exception_handler,
    on_connexion_problem,
    on_reference_error,
    on_unexpected,
)
from reference_server.middleware import CallbackGuard, CallbackLog, trace_of
from reference_server.psp import Psp
from reference_server.redirects import allowed_redirect, is_loopback_host, origin_of
from reference_server.sqlite_store import SqliteAttemptStore
from reference_server.views import STYLE_HASH, attempt_view, format_three_ds_page

MAX_BODY_BYTES = 64 * 1024
# Part of the deadline kept free for the network and Vipps MobilePay's side: 25 %, at most 5 s.
MARGIN_SHARE = 0.25
MAX_MARGIN_SECONDS = 5.0
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?$"
)


def answer_budget(deadline_seconds: float) -> float:
    """How long the server waits for a slow issuer before answering "outcome unknown"."""
    return deadline_seconds - min(MAX_MARGIN_SECONDS, deadline_seconds * MARGIN_SHARE)


def create_app(
    *,
    db_path: Path,
    hmac_secret: str | None = None,
    spec_path: Path | None = None,
    validate_responses: bool = False,
    now: Callable[[], datetime] | None = None,
    issuer_delay_seconds: float | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    auth_header_value: str | None = None,
) -> AsyncApp:
    """The reference PSP as an ASGI app (Connexion AsyncApp); state in SQLite at `db_path`.

    - `spec_path`: the contract document (default: the bundled `openapi/card-callback.yaml`); the
      callback is routed by its operationId, and the deadline, error codes and HMAC settings are read
      from it.
    - `hmac_secret`: when set (non-empty), every callback must be HMAC-signed with it (else 401).
    - `validate_responses`: Connexion also validates every answer against the documents (tests).
    - `now`: the clock for HMAC dates and stored timestamps (default: UTC wall clock).
    - Slow issuer (test card 0091): the server waits `answer_budget(deadline)` seconds, i.e. the
      document's `x-response-deadline-seconds` minus a margin of 25 % (at most 5 s), then answers
      FAIL with the catalogue's issuer-unavailable code ("91" in the shipped documents). The simulated
      issuer answers after `issuer_delay_seconds` (default: the deadline plus the margin, always too
      late), and that late outcome is recorded for patching. Tests pass a
      copy of the document with a small deadline (1 s answers after 0.75 s) and a small delay.
    - `max_body_bytes`: larger callbacks get 413 without being read further.
    - `auth_header_value`: when set, every callback must carry it in the header the document's
      `x-card-callback-auth-header` names (compared in constant time, else 401); a document without
      that slot cannot be served with a value (ConfigError).
    """
    if max_body_bytes <= 0:
        raise ConfigError("max_body_bytes must be positive")
    clock = now or (lambda: datetime.now(UTC))
    spec = spec_path or bundled_spec_path()
    contract = Contract.from_file(spec)
    auth = _auth_header(contract, auth_header_value)
    budget = answer_budget(contract.deadline_seconds)
    margin = contract.deadline_seconds - budget
    callback_fields = CallbackFields.from_contract(contract)
    store = SqliteAttemptStore(db_path)
    psp = Psp(
        fields=callback_fields,
        cards=load_cards(contract),
        store=store,
        now=clock,
        answer_budget_seconds=budget,
        issuer_delay_seconds=(
            issuer_delay_seconds if issuer_delay_seconds is not None else contract.deadline_seconds + margin
        ),
    )

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await psp.shutdown()

    reference_spec = bundled_document("reference-server.yaml")
    app = ReferenceApp(__name__, lifespan=lifespan, middlewares=middlewares(validate_responses, [spec, reference_spec]))
    view_names = CallbackNames.from_view_schema(read_document(reference_spec))
    resolver = _resolver(_handlers(psp, contract, callback_fields, view_names, DecisionTokens(store.form_key)))
    body_validators = body_validator_map(bodies.for_one_app(contract.document))
    # Both documents share the root path. Connexion sorts equal base paths in reverse order of
    # addition, and only the first one's Swagger UI is reachable: add the callback contract LAST so
    # that /ui/ shows it (tests/reference_server checks /ui/).
    app.add_api(
        reference_spec,
        base_path="",
        resolver=resolver,
        # The handlers take the attempt id as a Python name, not the callback document's spelling.
        pythonic_params=True,
        validate_responses=validate_responses,
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
    )
    app.add_api(
        spec,
        base_path="",
        resolver=resolver,
        validate_responses=validate_responses,
        validator_map={"body": body_validators, "parameter": parameter_validator_for_one_app()},
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True, swagger_ui_path="/ui"),
    )
    app.add_middleware(CallbackLog, position=MiddlewarePosition.BEFORE_EXCEPTION, path=contract.path,
                       method=contract.method, attempt_key=callback_fields.attempt_name)

    def is_callback(scope: Scope) -> bool:
        # The callback's answers are read by Vipps MobilePay's servers, never shown in a browser.
        return bool(scope.get("path") == contract.path and scope.get("method") == contract.method)

    # Outside the exception layer, so that error answers carry the headers too.
    app.add_middleware(BrowserHeaders, position=MiddlewarePosition.BEFORE_EXCEPTION, skip=is_callback,
                       style_hashes=[STYLE_HASH], ui_prefix="/ui")
    app.add_middleware(
        CallbackGuard,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        operation_id=contract.operation_id,
        max_body_bytes=max_body_bytes,
        secret=hmac_secret or None,
        scheme=contract.hmac,
        now=clock,
        auth=auth,
    )
    # Every error, whoever raises it, is rendered by reference_server.errors as problem+json.
    app.add_error_handler(ReferenceServerError, on_reference_error)
    app.add_error_handler(ProblemException, on_connexion_problem)
    app.add_error_handler(HTTPException, http_exception_handler(_allowed_methods([spec, reference_spec])))
    app.add_error_handler(Exception, on_unexpected)
    return app


def _auth_header(contract: Contract, value: str | None) -> AuthHeader | None:
    if not value:
        return None
    name = auth_header_name(contract)
    if name is None:
        raise ConfigError(f"{contract.source}: an auth header value is configured, but the document declares no "
                          f"{AUTH_HEADER_EXTENSION} to carry it")
    return AuthHeader(name, value)


def middlewares(validate_responses: bool, documents: list[Path]) -> list[Any]:
    """Connexion's default middleware stack without the layers this server never uses.

    Every layer costs each request a routing look-up. Without securitySchemes in the documents (the
    bundled ones have none: HMAC is checked by CallbackGuard) SecurityMiddleware has nothing to do;
    ResponseValidation only runs when asked (tests). Context stays: Connexion's decorators and
    `_current_scope` read it.
    """
    unused: set[type] = set()
    if not any(read_document(d).get("components", {}).get("securitySchemes") for d in documents):
        unused.add(SecurityMiddleware)
    if not validate_responses:
        unused.add(ResponseValidationMiddleware)
    return [layer for layer in ConnexionMiddleware.default_middlewares if layer not in unused]


Handler = Callable[..., Awaitable[Response]]


def _resolver(handlers: Mapping[str, Handler]) -> Resolver:
    # operationIds map to Python here, so the shared contract document carries no module paths.
    def resolve(operation_id: str) -> Handler:
        try:
            return handlers[operation_id]
        except KeyError:
            raise ValueError(f"the reference server has no handler for operationId {operation_id!r}") from None

    return Resolver(function_resolver=resolve)


def _handlers(
    psp: Psp, contract: Contract, callback_fields: CallbackFields, view_names: CallbackNames, tokens: DecisionTokens
) -> dict[str, Handler]:
    async def card_callback(body: dict[str, Any]) -> Response:
        scope = current_scope()
        trace = trace_of(scope)
        trace.attempt_id = callback_fields.text(body, callback_fields.attempt_id)
        base = base_url(scope)
        answered = await psp.callback(body, lambda attempt_id: f"{base}/3ds/{quote(attempt_id, safe='')}")
        trace.outcome, trace.error_code, trace.replay = answered.status, answered.error_code, answered.replay
        return Response(answered.answer, status_code=200, media_type="application/json")

    async def three_ds_page(authorization_attempt_id: str) -> Response:
        view = await psp.three_ds(authorization_attempt_id)
        if view.state == "open" and allowed_redirect(view.completed_redirect_url):
            # The decision's 303 goes there, and Chromium holds that redirect to the page's form-action.
            page_policy(current_scope()).form_targets.append(origin_of(view.completed_redirect_url))
        return HTMLResponse(format_three_ds_page(view, tokens.token(authorization_attempt_id)))

    async def three_ds_decision(authorization_attempt_id: str, body: Any = None) -> Response:
        scope = current_scope()
        refusal = cross_site_refusal(Headers(scope=scope), origin_of(base_url(scope)))
        if refusal is not None:
            raise Forbidden(refusal)
        form = body if isinstance(body, Mapping) else {}
        decision = form.get("decision")
        if decision not in ("approve", "reject"):
            # Connexion lets a body without Content-Type through unparsed; refuse it here too.
            raise BadRequest("the form needs decision=approve or decision=reject")
        if not tokens.matches(authorization_attempt_id, form.get(TOKEN_FIELD)):
            raise Forbidden("the form's token is missing or is not this session's: open the 3-D Secure page again")
        view = await psp.decide(authorization_attempt_id, decision)
        if not allowed_redirect(view.completed_redirect_url):
            # Recorded, but the stored return URL is no place to send a browser: the page says so instead.
            return HTMLResponse(format_three_ds_page(view, ""))
        # Location exactly as received (validated as a URI), not re-quoted by a redirect helper.
        location = quote(view.completed_redirect_url, safe="".join(map(chr, range(33, 127))))
        return Response(status_code=303, headers={"Location": location})

    async def get_attempt(authorization_attempt_id: str) -> Response:
        attempt = await psp.attempt(authorization_attempt_id)
        view = attempt_view(attempt, view_names)
        return Response(json.dumps(view, ensure_ascii=False), media_type="application/json")

    return {
        contract.operation_id: card_callback,
        "threeDSecurePage": three_ds_page,
        "threeDSecureDecision": three_ds_decision,
        "getAttempt": get_attempt,
    }


def _allowed_methods(documents: list[Path]) -> Callable[[str], list[str]]:
    """For a request path, the methods the documents declare on it (for the Allow header of a 405)."""
    routes: list[tuple[re.Pattern[str], set[str]]] = []
    for document in documents:
        for template, item in read_document(document).get("paths", {}).items():
            methods = {m.upper() for m in item if m in HTTP_METHODS}
            if "GET" in methods:
                methods.add("HEAD")
            pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+(?:/[^/]+)*", re.escape(template))
            routes.append((re.compile(f"^{pattern}$"), methods))

    def allowed(path: str) -> list[str]:
        return sorted({m for regex, methods in routes if regex.match(path) for m in methods})

    return allowed


def _trusted_host(host: str) -> bool:
    """A Host header that makes a valid URL: a DNS name or a real IPv6 address, a port up to 65535."""
    found = _HOST.match(host)
    if not found or int(found.group("port") or 0) > 65535:
        return False
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:host.index("]")])
        except ValueError:
            return False
    return True


def base_url(scope: Scope) -> str:
    """The server's base URL as the client addressed it (Host header), for the 3-D Secure page link.

    `http` only on a loopback host: the document wants the page on https, so a server reached over plain
    http on any other name is taken to sit behind a proxy that ends TLS for it.
    """
    host = Headers(scope=scope).get("host", "")
    if not _trusted_host(host):
        name, port = scope.get("server") or ("127.0.0.1", None)
        name = f"[{name}]" if ":" in str(name) else str(name)
        host = name if port is None else f"{name}:{port}"
    name = host.rsplit("]", 1)[0] + "]" if host.startswith("[") else host.split(":", 1)[0]
    scheme = "http" if scope.get("scheme") != "https" and is_loopback_host(name) else "https"
    return f"{scheme}://{host}{scope.get('root_path', '')}"
