"""Fixture PSPs for the load mode: the careful fixture PSP, serialised or with a defect that only load shows."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fixture_psps import make_psp
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def serialised(seconds: float, app: ASGIApp | None = None) -> ASGIApp:
    """One callback at a time behind a global lock, `seconds` each: a single database connection, say."""
    inner = app or make_psp()
    lock = asyncio.Lock()

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        async with lock:
            await asyncio.sleep(seconds)
            await inner(scope, receive, send)

    return wrapped


def failing_one_in(every: int, app: ASGIApp | None = None) -> ASGIApp:
    """A 500 to one callback in `every`: the pool exhausted once in a while, say."""
    inner = app or make_psp()
    seen = 0

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal seen
        if scope["type"] == "http":
            seen += 1
            if seen % every == 0:
                await _send(send, 500, {"title": "Internal Server Error"})
                return
        await inner(scope, receive, send)

    return wrapped


def breaking_under_load(concurrency: int, app: ASGIApp | None = None) -> ASGIApp:
    """Correct answers one at a time; with more than `concurrency` callbacks in flight, a status the response
    schema does not know (a shared buffer overwritten, say)."""
    inner = app or make_psp()
    in_flight = 0

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal in_flight
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        in_flight += 1
        try:
            await asyncio.sleep(0.01)  # long enough for callbacks to overlap under load
            if in_flight > concurrency:
                await _send(send, 200, {"status": "RESERVED"})
                return
            await inner(scope, receive, send)
        finally:
            in_flight -= 1

    return wrapped


async def _send(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    start: Message = {"type": "http.response.start", "status": status,
                      "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]}
    await send(start)
    await send({"type": "http.response.body", "body": raw})
