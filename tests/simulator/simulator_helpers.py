"""Helpers for the simulator tests: serve an ASGI app on loopback in a thread, run the CLI."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from click.testing import CliRunner, Result
from starlette.types import ASGIApp

from card_callback.cli import main


@contextmanager
def serve_in_thread(app: ASGIApp, *, lifespan: str = "off") -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a port the OS picks) until the block ends; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan=lifespan, ws="none", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def run_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """`card-callback ARGS...` in-process."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def run_send(*args: str, env: dict[str, str] | None = None) -> Result:
    return run_cli("send", *args, env=env)


def run_json(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """`card-callback send ARGS... --json`: the exit code and the parsed report."""
    result = run_send(*args, "--json", env=env)
    if not result.stdout:
        raise AssertionError(f"no report; exit {result.exit_code}; stderr: {result.stderr}")
    return result.exit_code, json.loads(result.stdout)
