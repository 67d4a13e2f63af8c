"""The transport seam: live HTTP and an in-process ASGI app behind one interface."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

import httpx

from contract_tests.errors import TransportError
from contract_tests.models import Answer, Outgoing

USER_AGENT = "card-callback-contract-suite"
MAX_ANSWER_BYTES = 1024 * 1024  # a callback answer is a few hundred bytes; more is a broken PSP
TOTAL_TIMEOUT = "card_callback.total_timeout"  # request extension: seconds for the whole exchange
T = TypeVar("T")


class Transport(ABC):
    """Sends one request and returns the answer, or raises TransportError when none came."""

    @abstractmethod
    def send(self, request: Outgoing, timeout: float) -> Answer: ...

    def ready(self) -> None:  # noqa: B027 - transports without per-thread state need nothing
        """Make this thread ready to send at once: whatever takes time before the first byte is done here."""

    def close(self) -> None:  # noqa: B027 - transports without resources need nothing
        """Release connections (and stop an in-process app)."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ClientTransport(Transport):
    """Any httpx.Client: a real network client, or an ASGI app behind a bridge. Safe to share between threads:
    with a `reconnect` factory each thread gets its own client, else the one client (thread-safe) is shared."""

    def __init__(
        self,
        client: httpx.Client,
        on_close: Callable[[], None] | None = None,
        reconnect: Callable[[], httpx.Client] | None = None,
    ) -> None:
        self._shared = client
        self._on_close = on_close
        self._reconnect = reconnect
        self._local = threading.local()
        self._clients: list[httpx.Client] = [client]
        self._spare: httpx.Client | None = client  # the first thread to send takes it
        self._lock = threading.Lock()

    def _client(self) -> httpx.Client:
        if self._reconnect is None:
            return self._shared
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None or getattr(self._local, "spoiled", False):
            # Servers often close a connection after a 5xx or a failure; a request racing that close would be
            # blamed for a reset it did not cause, so the next request gets a new connection.
            if client is not None:
                client.close()
            with self._lock:
                if self._spare is not None:
                    client, self._spare = self._spare, None
                else:
                    client = self._reconnect()
                    self._clients.append(client)
            self._local.client = client
            self._local.reused = False
        return client

    def ready(self) -> None:
        # A new client builds its TLS context (tens of milliseconds, under the GIL): copies meant to arrive
        # together would otherwise leave one after another.
        self._client()

    def send(self, request: Outgoing, timeout: float) -> Answer:
        client = self._client()
        reused = self._reconnect is not None and self._local.reused
        self._local.spoiled = self._local.reused = True
        try:
            response = _request(client, request, timeout)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            if not reused:
                raise transport_error(exc, timeout) from None
            # The PSP closed a kept-alive connection (an idle timeout) just as this request went out on it: a
            # race on the sender's side, which HTTP clients retry once on a new connection. A PSP that breaks
            # connections itself breaks the new one too (and after a failure every request gets a new one).
            client = self._client()
            self._local.reused = True
            try:
                response = _request(client, request, timeout)
            except httpx.HTTPError as again:
                raise transport_error(again, timeout) from None
        except httpx.HTTPError as exc:
            raise transport_error(exc, timeout) from None
        self._local.spoiled = response.status_code >= 500
        return Answer(
            status=response.status_code,
            headers=tuple(response.headers.multi_items()),
            body=response.content,
        )

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        if self._on_close is not None:
            self._on_close()


def _request(client: httpx.Client, request: Outgoing, timeout: float) -> httpx.Response:
    return client.request(
        request.method,
        request.url,
        # A list keeps our exact header names and values (Host included) and lets httpx add only what it
        # must (Content-Length).
        headers=list(request.headers),
        content=request.body,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        extensions={TOTAL_TIMEOUT: timeout},
    )


def transport_error(exc: httpx.HTTPError, timeout: float) -> TransportError:
    """What a PSP did to the exchange, in one line; only a refused or unroutable connection means "unreachable"."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(f"no complete answer within {timeout:g} s ({text})", timed_out=True)
    if _caused_by(exc, ssl.SSLError):
        return TransportError(f"the TLS handshake or session failed: {text}")
    if isinstance(exc, httpx.ConnectError):
        return TransportError(f"cannot connect: {exc}", connect=True)
    if isinstance(exc, httpx.DecodingError):
        return TransportError(f"the answer could not be decoded (its Content-Encoding or charset is broken): {text}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return TransportError(f"the answer is not valid HTTP/1.1 or was cut short: {text}")
    if isinstance(exc, AnswerTooLarge):
        return TransportError(str(exc))
    return TransportError(f"the connection failed without a complete answer: {text}")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class AnswerTooLarge(httpx.TransportError):
    """The answer body went past MAX_ANSWER_BYTES (a runaway or hostile PSP)."""


def http_transport(*, verify: bool = True) -> ClientTransport:
    """Live HTTP: every request goes to the URL it names; redirects are answers, not followed.

    httpx's timeouts are per phase (connect, each read, each write): a PSP that trickles its answer a byte
    at a time never trips them. So every exchange runs on an event loop of the transport's own, under one
    total timeout from the first connect to the last byte, and is cancelled (its connection closed) after it.
    """
    loop = _Loop()

    def connect() -> httpx.Client:
        bridge = _LiveBridge(loop, httpx.AsyncHTTPTransport(verify=verify))
        return httpx.Client(transport=bridge, follow_redirects=False, headers={"User-Agent": USER_AGENT})

    return ClientTransport(connect(), reconnect=connect, on_close=loop.stop)


def asgi_transport(app: Any) -> ClientTransport:
    """An ASGI app in-process (its lifespan started), so tests run the same checks without a socket."""
    bridge = _AsgiBridge(app)
    client = httpx.Client(transport=bridge, follow_redirects=False, headers={"User-Agent": USER_AGENT})
    return ClientTransport(client, on_close=bridge.stop)


class _Loop:
    """An asyncio event loop on a daemon thread of its own, for sync callers (the suite's lanes)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="card-callback-io", daemon=True)
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T], total: float | None = None) -> T:
        """Run `coro` on the loop; after `total` seconds it is cancelled and httpx.ReadTimeout is raised."""

        async def bounded() -> T:
            if total is None:
                return await coro
            async with asyncio.timeout(total):
                return await coro

        future = asyncio.run_coroutine_threadsafe(bounded(), self.loop)
        try:
            return future.result()
        except TimeoutError:
            raise httpx.ReadTimeout(f"the whole exchange took more than {total:g} s") from None

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()


def _total(request: httpx.Request) -> float | None:
    value = request.extensions.get(TOTAL_TIMEOUT)
    return float(value) if isinstance(value, int | float) else None


class _LiveBridge(httpx.BaseTransport):
    """A sync httpx transport over an async one on `_Loop`, each exchange under its total timeout.

    The raw (still encoded) body comes back: the sync client decodes it, so a broken Content-Encoding is
    an httpx.DecodingError there, like any other client would meet it.
    """

    def __init__(self, loop: _Loop, inner: httpx.AsyncBaseTransport) -> None:
        self._loop = loop
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def exchange() -> httpx.Response:
            inner = httpx.Request(request.method, request.url, headers=request.headers, content=body,
                                  extensions=request.extensions)
            response = await self._inner.handle_async_request(inner)
            try:
                raw = await _read_capped(response)
            finally:
                await response.aclose()
            return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw),
                                  extensions=response.extensions)

        return self._loop.call(exchange(), _total(request))

    def close(self) -> None:
        if not self._loop.loop.is_closed():
            self._loop.call(self._inner.aclose())


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise AnswerTooLarge(f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class _AsgiBridge(httpx.BaseTransport):
    """httpx's ASGITransport is async only; this runs it on an event loop in a thread of its own, which
    also keeps the app's lifespan (startup before the first request, shutdown at the end)."""

    def __init__(self, app: Any) -> None:
        # A 500 must reach the checks as an answer, as it would over HTTP, not as a raised exception.
        self._inner = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("127.0.0.1", 50000))
        self._app = app
        self._io = _Loop()
        self._loop = self._io.loop
        self._lifespan: asyncio.Queue[dict[str, Any]] | None = None
        self._lifespan_task: concurrent.futures.Future[None] | None = None
        self._io.call(self._startup())

    async def _startup(self) -> None:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._lifespan = queue
        started: asyncio.Future[None] = self._loop.create_future()

        async def receive() -> dict[str, Any]:
            return await queue.get()

        async def send(message: dict[str, Any]) -> None:
            if message["type"].startswith("lifespan.startup") and not started.done():
                started.set_result(None)

        async def lifespan() -> None:
            try:
                await self._app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
            except Exception:  # noqa: BLE001 - an app without lifespan support may raise; it needs none
                pass
            finally:
                if not started.done():
                    started.set_result(None)

        self._lifespan_task = asyncio.run_coroutine_threadsafe(lifespan(), self._loop)
        await queue.put({"type": "lifespan.startup"})
        await started

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def forward() -> httpx.Response:
            body = request.read()
            inner = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            response = await self._inner.handle_async_request(inner)
            # The raw (still encoded) body, as over the network: the sync client decodes it once. Decoded here
            # too, a gzip answer would be decoded twice and a correct PSP blamed.
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw))

        # The same total timeout as over the network: an app that never answers must not hold a lane.
        return self._io.call(forward(), _total(request))

    def stop(self) -> None:
        if self._lifespan is not None and self._lifespan_task is not None:
            self._loop.call_soon_threadsafe(self._lifespan.put_nowait, {"type": "lifespan.shutdown"})
            try:
                self._lifespan_task.result(timeout=5)
            except concurrent.futures.TimeoutError:
                self._lifespan_task.cancel()
        self._io.stop()
