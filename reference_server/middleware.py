"""ASGI middleware around the callback: the bounded body, the auth header, HMAC, Content-Type, the one log line."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callback_core.auth_header import AuthHeader
from callback_core.errors import SignatureError
from callback_core.signing import verify
from callback_core.spec import HmacScheme
from reference_server.connexion_app import routed_operation_id
from reference_server.errors import BadRequest, PayloadTooLarge, Unauthorized, UnsupportedMediaType

TRACE_KEY = "reference_server.trace"
callback_log = logging.getLogger("reference_server.callbacks")


@dataclass(slots=True)
class Trace:
    """What the handler learned about one callback, for its log line (filled in as it goes)."""

    attempt_id: str | None = None
    outcome: str | None = None
    error_code: str | None = None
    replay: bool | None = None


def trace_of(scope: Scope) -> Trace:
    """The request's Trace; a throw-away one when the log middleware is not in front (a bare app)."""
    trace = scope.get(TRACE_KEY)
    return trace if isinstance(trace, Trace) else Trace()


class CallbackLog:
    """Writes one structured line per callback: attempt id, HTTP status, outcome, latency. No card data."""

    def __init__(self, app: ASGIApp, *, path: str, method: str, attempt_key: str = "attemptId") -> None:
        self.app = app
        self.path = path
        self.method = method.upper()
        self.attempt_key = attempt_key  # the document's name for the attempt id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != self.method:
            await self.app(scope, receive, send)
            return
        trace = Trace()
        scope = {**scope, TRACE_KEY: trace}
        started = time.perf_counter()
        status: int | None = None
        latency: float | None = None

        async def send_(message: Message) -> None:
            nonlocal status, latency
            if message["type"] == "http.response.start":
                status = int(message["status"])
                latency = time.perf_counter() - started
            await send(message)

        try:
            await self.app(scope, receive, send_)
        finally:
            callback_log.info(format_log_line(trace, status, latency, self.attempt_key))


def format_log_line(
    trace: Trace, status: int | None, latency_seconds: float | None, attempt_key: str = "attemptId"
) -> str:
    """One JSON line; only ids, outcome and timing are ever put in it. `attempt_key` names the attempt id
    as the document does, so the log reads like the callback."""
    outcome = trace.outcome or ("rejected" if status is not None else "no answer (client left)")
    record: dict[str, Any] = {
        "event": "card_callback",
        attempt_key: trace.attempt_id,
        "httpStatus": status,
        "outcome": outcome,
        "errorCode": trace.error_code,
        "replay": trace.replay,
        "latencyMs": None if latency_seconds is None else round(latency_seconds * 1000, 2),
    }
    return json.dumps(record, ensure_ascii=True)


class CallbackGuard:
    """Checks a callback before Connexion validates it: size, the auth header, HMAC signature, Content-Type.

    Runs after routing (so undeclared methods still get 405) and only for the callback operation.
    The body is read once, bounded by `max_body_bytes`, verified against the signature as raw
    bytes, and replayed to the rest of the stack with an exact Content-Length.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        operation_id: str,
        max_body_bytes: int,
        secret: str | None,
        scheme: HmacScheme,
        now: Callable[[], datetime],
        auth: AuthHeader | None = None,
    ) -> None:
        self.app = app
        self.auth = auth
        self.operation_id = operation_id
        self.max_body_bytes = max_body_bytes
        self.secret = secret
        self.scheme = scheme
        self.now = now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or routed_operation_id(scope) != self.operation_id:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        self._check_declared_length(headers)
        if self.auth is not None:
            refusal = self.auth.refusal(headers.get(self.auth.name))
            if refusal is not None:
                raise Unauthorized(refusal)
        body = await self._read_body(receive)
        if body is None:
            return  # the client went away; there is no one to answer
        if self.secret is not None:
            self._verify_signature(scope, headers, body)
        if not body:
            raise BadRequest("the body is empty; a JSON object is required")
        _check_content_type(headers.get("content-type"))
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise UnsupportedMediaType("Content-Encoding is not supported; send the JSON uncompressed")
        replay_scope = dict(scope)
        replay_scope["headers"] = list(scope["headers"])
        fixed = MutableHeaders(scope=replay_scope)
        # Chunked bodies arrive without Content-Length; Connexion reads only what Content-Length says.
        if "transfer-encoding" in fixed:
            del fixed["transfer-encoding"]
        fixed["content-length"] = str(len(body))
        await self.app(replay_scope, _replay(body, receive), send)

    def _check_declared_length(self, headers: Headers) -> None:
        declared = headers.get("content-length")
        if declared is None:
            return
        if not declared.strip().isdigit():
            raise BadRequest("Content-Length is not a number")
        if int(declared) > self.max_body_bytes:
            raise PayloadTooLarge(f"the body is larger than {self.max_body_bytes} bytes")

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise PayloadTooLarge(f"the body is larger than {self.max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _verify_signature(self, scope: Scope, headers: Headers, body: bytes) -> None:
        # Sign and verify the target exactly as sent: raw path (not percent-decoded) plus query.
        raw_path = scope.get("raw_path")
        path = raw_path.split(b"?")[0].decode("latin-1") if raw_path else scope.get("path", "/")
        query = scope.get("query_string", b"").decode("latin-1")
        target = f"{path}?{query}" if query else path
        try:
            verify(
                self.secret or "",
                method=scope["method"],
                path_and_query=target,
                headers=headers,
                body=body,
                now=self.now(),
                max_skew_seconds=self.scheme.max_clock_skew_seconds,
                scheme=self.scheme,
            )
        except SignatureError as exc:
            raise Unauthorized(exc.reason, headers={"WWW-Authenticate": self.scheme.algorithm}) from None


def _check_content_type(value: str | None) -> None:
    if not value:
        raise UnsupportedMediaType("Content-Type is missing; send application/json")
    mime, _, params = value.partition(";")
    if mime.strip().lower() != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json")
    for param in params.split(";"):
        name, _, charset = param.partition("=")
        if name.strip().lower() == "charset" and charset.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType("the only accepted charset is utf-8")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def receive_() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_
