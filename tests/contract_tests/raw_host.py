"""A small HTTP/1.x server for an ASGI app on raw asyncio sockets: header names reach the app as sent, answers
can be HTTP/1.0.

ASGI servers lower-case every header name (the ASGI spec says so), which hides what a PSP on another stack
sees: a Lambda event's or a Node `rawHeaders` list keeps the client's spelling. This host passes the names as
sent in `scope["extensions"][HEADERS_AS_SENT]`, and with `http10` it answers as an HTTP/1.0 server does: an
`HTTP/1.0` status line, no Content-Length, the end of the body marked by closing the connection.
One request per connection; 127.0.0.1 and a port the OS picks; every connection bounded in time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from fixture_psps import HEADERS_AS_SENT
from raw_psps import CONNECTION_LIFETIME, serving


async def _exchange(app: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, http10: bool) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, version = request_line.split(" ")
    as_sent = [(name, value.strip()) for name, _, value in (line.partition(":") for line in lines if line)]
    length = next((int(value) for name, value in as_sent if name.lower() == "content-length"), 0)
    body = await reader.readexactly(length)
    path, _, query = target.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": version.removeprefix("HTTP/"),
        "method": method, "scheme": "http", "path": unquote(path), "raw_path": path.encode("latin-1"),
        "query_string": query.encode("latin-1"), "root_path": "",
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in as_sent],
        "client": writer.get_extra_info("peername"), "server": writer.get_extra_info("sockname"),
        "extensions": {HEADERS_AS_SENT: as_sent},
    }
    sent = False
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(CONNECTION_LIFETIME)
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception:  # noqa: BLE001 - an app's crash is a 500, as any server answers it
        started, chunks = {"status": 500, "headers": [(b"content-type", b"text/plain")]}, [b"Internal Server Error"]
    status = int(started["status"])
    answer = b"".join(chunks)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in started.get("headers", [])
               if k.lower() not in (b"content-length", b"connection")]
    if not http10:
        headers.append(("Content-Length", str(len(answer))))
    headers.append(("Connection", "close"))
    status_line = f"HTTP/{'1.0' if http10 else '1.1'} {status} {HTTPStatus(status).phrase}"
    writer.write("\r\n".join([status_line, *(f"{k}: {v}" for k, v in headers), "", ""]).encode("latin-1") + answer)
    await writer.drain()


@contextmanager
def raw_host(app: Any, path: str, *, http10: bool = False) -> Iterator[str]:
    """Serve `app`; yields the URL of `path` on it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(CONNECTION_LIFETIME):
                await _exchange(app, reader, writer, http10)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                asyncio.CancelledError):
            pass  # the client left or sent nonsense, or the server stops
        finally:
            writer.close()

    with serving(handle, "raw host") as port:
        yield f"http://127.0.0.1:{port}{path}"
