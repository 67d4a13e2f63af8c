"""PSPs that break HTTP itself, on raw asyncio sockets (127.0.0.1, a free port, every connection bounded in time).

Each reads one request and then misbehaves in one way a real PSP (or a proxy in front of it) can.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

JSON_ANSWER = b'{"status":"RESERVE","networkTransactionReference":"123456789"}'
CONNECTION_LIFETIME = 30.0  # no connection outlives this, whatever the client does

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _head(status: str, headers: list[tuple[str, str]], body: bytes, *, announce_close: bool = True) -> bytes:
    # Every connection ends after one answer, and says so (unless told not to): a client must not send another
    # request on it.
    close = ["Connection: close"] if announce_close else []
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(body)}", *close,
             "", ""]
    return "\r\n".join(lines).encode("ascii")


async def broken_gzip(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Content-Encoding: gzip over a plain JSON body."""
    writer.write(_head("200 OK", [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], JSON_ANSWER)
                 + JSON_ANSWER)
    await writer.drain()


async def trickle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A correct answer, one byte a second: no single read ever waits long, the whole never ends in time."""
    answer = _head("200 OK", [("Content-Type", "application/json")], JSON_ANSWER) + JSON_ANSWER
    for index in range(len(answer)):
        writer.write(answer[index : index + 1])
        await writer.drain()
        await asyncio.sleep(1.0)


async def reset_mid_answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Half an answer, then a TCP reset."""
    answer = _head("200 OK", [("Content-Type", "application/json")], JSON_ANSWER) + JSON_ANSWER
    writer.write(answer[: len(answer) - 20])
    await writer.drain()
    await asyncio.sleep(0.05)  # let the half answer leave before the reset discards what is still queued
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def http09_garbage(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """No status line at all (an HTTP/0.9-style answer), then the connection closes."""
    writer.write(b"ok RESERVE\n\x00\xff garbage that is not HTTP\n")
    await writer.drain()


async def problem_400(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A well-formed 400 problem answer to everything (enough for a run to reach its checks)."""
    body = b'{"title":"Bad Request","status":400}'
    writer.write(_head("400 Bad Request", [("Content-Type", "application/problem+json")], body) + body)
    await writer.drain()


async def closes_without_saying(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A correct answer on a kept-alive connection, which the PSP then closes (as an idle timeout would)."""
    writer.write(_head("200 OK", [("Content-Type", "application/json")], JSON_ANSWER, announce_close=False)
                 + JSON_ANSWER)
    await writer.drain()


async def plain_http_on_a_tls_port(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Plain HTTP where the URL says https (a TLS terminator missing or misconfigured): no TLS handshake."""
    await problem_400(_reader, writer)


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    await reader.readexactly(length)


@contextmanager
def serving(handle: Behaviour, name: str) -> Iterator[int]:
    """Run `handle` for each connection on 127.0.0.1, on an event loop of its own thread; yields the port the
    OS picked, and stops the server and every connection at the end."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, asyncio.base_events.Server] = {}

    async def start() -> None:
        holder["server"] = await asyncio.start_server(handle, "127.0.0.1", 0)
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()),
                              name=name, daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError(f"the {name} did not start within 10 s")
    try:
        yield int(holder["server"].sockets[0].getsockname()[1])
    finally:
        async def shut() -> None:
            holder["server"].close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shut(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@contextmanager
def raw_psp(behaviour: Behaviour, *, scheme: str = "http") -> Iterator[str]:
    """Serve `behaviour` on 127.0.0.1 and a port the OS picks; yields the callback URL (with `scheme`: an https
    URL makes the client start a TLS handshake, and the behaviour answers at once, without reading it)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(CONNECTION_LIFETIME):
                if scheme == "http":
                    await _read_request(reader)
                await behaviour(reader, writer)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                asyncio.CancelledError):
            pass  # the client left (or sent nonsense), or the server stops: this connection is over
        finally:
            writer.transport.abort()

    with serving(handle, "raw PSP") as port:
        yield f"{scheme}://127.0.0.1:{port}/callbacks/card"
