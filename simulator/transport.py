"""Send one callback: sign the exact bytes and target httpx sends, and hold it to the deadline."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from callback_core.auth_header import REDACTED, AuthHeader
from callback_core.signing import sign
from callback_core.spec import HmacScheme
from simulator.verdict import Answer

MAX_ANSWER_BYTES = 1024 * 1024  # a callback answer is a few hundred bytes; more is a broken PSP
USER_AGENT = "card-callback-simulator"


@dataclass(frozen=True, slots=True)
class Sent:
    """A request as it went out (headers in order, body bytes), for the report."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    signed: bool = False


def signing_target(url: str) -> tuple[str, str]:
    """The Host header and the raw path-and-query httpx sends for `url`: exactly what gets signed.

    Percent-escapes stay as written; the port is in Host unless it is the scheme's default.
    """
    request = httpx.Request("POST", url)
    return request.headers["host"], request.url.raw_path.decode("ascii")


def prepare(
    client: httpx.AsyncClient, url: str, body: bytes, *, secret: str | None, scheme: HmacScheme, date: str,
    auth: AuthHeader | None = None,
) -> httpx.Request:
    """The POST request for one callback, signed over its final bytes when a secret is configured, with the
    cardCallbackAuthHeader value when one is configured."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if auth is not None:
        headers[auth.name] = auth.value
    request = client.build_request("POST", url, content=body, headers=headers)
    if secret is not None:
        signed = sign(
            secret,
            method=request.method,
            path_and_query=request.url.raw_path.decode("ascii"),
            host=request.headers["host"],
            body=body,
            date=date,
            scheme=scheme,
        )
        request.headers.update(signed.as_dict(scheme))
    return request


def describe(request: httpx.Request, body: bytes, auth: AuthHeader | None = None, *, signed: bool) -> Sent:
    """The request for the report: the auth header's value is a secret and is shown redacted."""
    secret_header = auth.name.lower() if auth is not None else None
    headers = tuple(
        (name, REDACTED if name.lower() == secret_header else value) for name, value in request.headers.items()
    )
    return Sent(request.method, str(request.url), headers, body, signed)


async def post(client: httpx.AsyncClient, request: httpx.Request, deadline_seconds: float) -> Answer:
    """Send `request` and read the whole answer, all within `deadline_seconds` (connect to last byte)."""
    started = time.perf_counter()

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        # httpx's timeouts are per phase (connect, each read); a PSP that trickles bytes would never
        # trip them, so the deadline is one total timeout around the whole exchange.
        async with asyncio.timeout(deadline_seconds):
            response = await client.send(request, stream=True)
            try:
                body = await _read_capped(response)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        return Answer(None, b"", None, elapsed(), timed_out=True)
    except httpx.HTTPError as exc:
        return Answer(None, b"", None, elapsed(), failure=_failure(exc))
    content_type = response.headers.get("content-type")
    if body is None:
        too_big = f"the answer is larger than {MAX_ANSWER_BYTES} bytes"
        return Answer(response.status_code, b"", content_type, elapsed(), failure=too_big)
    return Answer(response.status_code, body, content_type, elapsed())


async def _read_capped(response: httpx.Response) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _failure(exc: httpx.HTTPError) -> str:
    kind = type(exc).__name__
    text = str(exc).strip()
    return f"{kind}: {text}" if text else kind


def make_client(deadline_seconds: float, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """A client that never follows redirects (the 3-D Secure redirect is checked, not followed)."""
    return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(deadline_seconds), follow_redirects=False)
