"""The transport seam: live HTTP and an in-process ASGI app behind one interface."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from contract_tests.errors import TransportError
from contract_tests.models import Answer, Outgoing

USER_AGENT = "card-callback-contract-suite"


class Transport(ABC):
    """Sends one request and returns the answer, or raises TransportError when none came."""

    @abstractmethod
    def send(self, request: Outgoing, timeout: float) -> Answer: ...

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
        return client

    def send(self, request: Outgoing, timeout: float) -> Answer:
        client = self._client()
        self._local.spoiled = True
        try:
            response = client.request(
                request.method,
                request.url,
                # A list keeps our exact header names and values (Host included) and lets httpx add
                # only what it must (Content-Length).
                headers=list(request.headers),
                content=request.body,
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            )
        except httpx.TimeoutException:
            raise TransportError(f"no answer within {timeout:g} s", timed_out=True) from None
        except httpx.ConnectError as exc:
            raise TransportError(f"cannot connect: {exc}", connect=True) from None
        except httpx.TransportError as exc:
            raise TransportError(f"the connection failed without an answer: {type(exc).__name__}: {exc}") from None
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


def http_transport(*, verify: bool = True) -> ClientTransport:
    """Live HTTP: every request goes to the URL it names; redirects are answers, not followed."""

    def connect() -> httpx.Client:
        return httpx.Client(follow_redirects=False, verify=verify, headers={"User-Agent": USER_AGENT})

    return ClientTransport(connect(), reconnect=connect)


def asgi_transport(app: Any) -> ClientTransport:
    """An ASGI app in-process (its lifespan started), so tests run the same checks without a socket."""
    bridge = _AsgiBridge(app)
    client = httpx.Client(transport=bridge, follow_redirects=False, headers={"User-Agent": USER_AGENT})
    return ClientTransport(client, on_close=bridge.stop)


class _AsgiBridge(httpx.BaseTransport):
    """httpx's ASGITransport is async only; this runs it on an event loop in a thread of its own, which
    also keeps the app's lifespan (startup before the first request, shutdown at the end)."""

    def __init__(self, app: Any) -> None:
        # A 500 must reach the checks as an answer, as it would over HTTP, not as a raised exception.
        self._inner = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("127.0.0.1", 50000))
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="asgi-transport", daemon=True)
        self._thread.start()
        self._lifespan: asyncio.Queue[dict[str, Any]] | None = None
        self._lifespan_task: concurrent.futures.Future[None] | None = None
        self._call(self._startup())

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

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
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        result: httpx.Response = self._call(forward())
        return result

    def stop(self) -> None:
        if self._lifespan is not None and self._lifespan_task is not None:
            self._loop.call_soon_threadsafe(self._lifespan.put_nowait, {"type": "lifespan.shutdown"})
            try:
                self._lifespan_task.result(timeout=5)
            except concurrent.futures.TimeoutError:
                self._lifespan_task.cancel()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
