"""Helpers for the reference server tests: in-process clients and real `card-callback serve` processes."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from process_support import stop

from reference_server import create_app

CLI = Path(sys.executable).parent / "card-callback"
REPO = Path(__file__).resolve().parents[2]
# Card data of the description's example, to look for in logs and error messages.
TOKEN_NUMBER = "5000000000000000001"
CRYPTOGRAM = "aFgdgjdkfgjdFDF="
ENCRYPTED_PAN = "xyzxyz"


@asynccontextmanager
async def client_for(tmp_path: Path, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to a fresh reference server in-process, responses validated."""
    options.setdefault("validate_responses", True)
    app = create_app(db_path=options.pop("db_path", tmp_path / "attempts.sqlite3"), **options)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://psp.test") as client:
        yield client


@dataclass
class ServerProcess:
    """A real `card-callback serve` process and what it printed."""

    process: subprocess.Popen[str]
    base_url: str
    callback_url: str
    stdout: list[str]
    log_path: Path

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()


@contextmanager
def serve_process(
    tmp_path: Path, db: Path, *extra: str, env: dict[str, str] | None = None, name: str = "server"
) -> Iterator[ServerProcess]:
    """Start `card-callback serve --port 0` and wait for the URL it prints; stop it afterwards."""
    environment = {k: v for k, v in os.environ.items() if k != "CARD_CALLBACK_HMAC_SECRET"}
    environment.update(env or {})
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(CLI), "serve", "--host", "127.0.0.1", "--port", "0", "--db", str(db), *extra],
            stdout=subprocess.PIPE, stderr=log, text=True, env=environment, cwd=tmp_path,
        )
    lines: list[str] = []
    found: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.strip().startswith("callback:"):
                found.put(line.split("callback:", 1)[1].strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        try:
            callback_url = found.get(timeout=30)
        except queue.Empty:
            process.kill()
            raise AssertionError(f"server did not start: {lines} {log_path.read_text()}") from None
        base_url = callback_url.rsplit("/", 1)[0]
        _wait_until_up(base_url)
        yield ServerProcess(process, base_url, callback_url, lines, log_path)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        reader.join(timeout=10)  # the reader drains stdout until the process is gone
        stop(process)


def _wait_until_up(base_url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base_url}/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{base_url} did not answer within 20 s")


def form_token(page_html: str) -> str:
    """The hidden token of the 3-D Secure page's decision form."""
    found = re.search(r'<input type="hidden" name="token" value="([^"]*)">', page_html)
    assert found is not None, page_html
    return found.group(1)


def origin(url: str) -> str:
    """The origin a browser names when it posts the form of the page at `url`."""
    parts = httpx.URL(url)
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{parts.host}" + ("" if parts.port in (None, default) else f":{parts.port}")


async def decide(client: httpx.AsyncClient, url: str, decision: str, token: str | None = None) -> httpx.Response:
    """Post the 3-D Secure decision as a browser would: the page's token and the page's Origin."""
    url = str(client.base_url.join(url))
    if token is None:
        token = form_token((await client.get(url)).text)
    return await client.post(url, data={"decision": decision, "token": token}, headers={"Origin": origin(url)})
