"""The reference server's exceptions and the one place that renders every error as RFC 7807."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from callback_core.errors import CardCallbackError

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("reference_server")


class ReferenceServerError(CardCallbackError):
    """Root of the reference server's errors; each one is answered as a problem with `status`."""

    status = 500

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})

    def __str__(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}: {self.detail}"


class ConfigError(ReferenceServerError):
    """The server cannot start as configured (test-card file, document, database)."""

    def __str__(self) -> str:
        return self.detail


class BadRequest(ReferenceServerError):
    status = 400


class Unauthorized(ReferenceServerError):
    status = 401


class Forbidden(ReferenceServerError):
    status = 403


class NotFound(ReferenceServerError):
    status = 404


class Conflict(ReferenceServerError):
    status = 409


class PayloadTooLarge(ReferenceServerError):
    status = 413


class UnsupportedMediaType(ReferenceServerError):
    status = 415


def problem_body(status: int, detail: str, title: str | None = None) -> bytes:
    """The RFC 7807 document for one error, as the bytes that are sent."""
    problem = {
        "type": "about:blank",
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
    }
    return json.dumps(problem, ensure_ascii=False).encode("utf-8")


def problem_response(
    status: int, detail: str, *, title: str | None = None, headers: Mapping[str, str] | None = None
) -> ConnexionResponse:
    # The explicit content type matters: with two media types documented, Connexion cannot guess.
    return ConnexionResponse(
        status_code=status,
        mimetype=PROBLEM_JSON,
        content_type=PROBLEM_JSON,
        body=problem_body(status, detail, title),
        headers={k: v for k, v in (headers or {}).items() if k.lower() != "content-type"},
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def on_reference_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    if not isinstance(exc, ReferenceServerError):
        return await on_unexpected(_request, exc)
    return problem_response(exc.status, exc.detail, headers=exc.headers)


async def on_connexion_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    if not isinstance(exc, ProblemException):
        return await on_unexpected(_request, exc)
    status = int(exc.status or 500)
    if status >= 500:
        # A 5xx from Connexion (a non-conforming answer, in tests) is our bug: log it for the developer.
        logger.error("problem %s: %s", status, exc.detail)
    # Connexion's messages can run on with a dump of the schema: its first line says what is wrong.
    detail = str(exc.detail).strip().splitlines()[0] if exc.detail and str(exc.detail).strip() else _phrase(status)
    return problem_response(status, detail, title=exc.title or None, headers=_str_headers(exc.headers))


def http_exception_handler(
    allowed_methods: Callable[[str], list[str]],
) -> Callable[[ConnexionRequest, Exception], Awaitable[ConnexionResponse]]:
    """The handler of routing's 404/405, with an Allow header listing every documented method.

    Connexion routes each method of a path separately, so Starlette's own Allow names only the first.
    """

    async def on_http_exception(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        if not isinstance(exc, HTTPException):
            return await on_unexpected(request, exc)
        headers = _str_headers(exc.headers)
        if exc.status_code == 405:
            methods = allowed_methods(str(request.scope.get("path", "")))
            if methods:
                headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
                headers["Allow"] = ", ".join(methods)
        return problem_response(exc.status_code, str(exc.detail), headers=headers)

    return on_http_exception


async def on_unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    # The message of an arbitrary exception may quote request data (card data included): log the
    # exception type and where it happened, never its message.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("unhandled %s\n%s", type(exc).__name__, frames)
    return problem_response(500, "The server failed to handle this request.")


def _str_headers(headers: Any) -> dict[str, str]:
    if not headers:
        return {}
    return {str(k): str(v) for k, v in dict(headers).items()}
