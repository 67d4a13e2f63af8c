"""Helpers for the example tests: start an example PSP as its own process, run the installed CLI."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from process_support import stop

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CARD_CALLBACK = Path(sys.executable).with_name("card-callback")
STARTUP_SECONDS = 30



@contextmanager
def running(script: Path, log: Path, *, secret: str | None = None) -> Iterator[str]:
    """Run `python script` with PORT=0 and yield the callback URL it prints on start-up.

    Its output goes to `log`, a file: a pipe nobody reads would fill up and stall the server.
    """
    env = {k: v for k, v in os.environ.items() if k != "CARD_CALLBACK_HMAC_SECRET"}
    env.update(PORT="0", HOST="127.0.0.1", PYTHONUNBUFFERED="1")
    if secret is not None:
        env["CARD_CALLBACK_HMAC_SECRET"] = secret
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield _announced_url(process, log)
    finally:
        stop(process)


def _announced_url(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        match = re.search(r"listening on (http://\S+)", log.read_text())
        if match:
            return match.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"{process.args} did not announce its URL:\n{log.read_text()}")


@contextmanager
def reference_server(tmp: Path, *extra: str) -> Iterator[str]:
    """`card-callback serve` as its own process on a free port, the way a user starts it; yields its base URL.

    `extra`: more `serve` options (e.g. `--spec PATH`)."""
    port = _free_port()
    log = tmp / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(CARD_CALLBACK), "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(tmp / "db.sqlite3"),
             *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{base}/ui/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"card-callback serve did not come up:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        stop(process)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The installed `card-callback` command, as a user runs it."""
    full_env = {k: v for k, v in os.environ.items() if k != "CARD_CALLBACK_HMAC_SECRET"}
    full_env.update(env or {})
    return subprocess.run(
        [str(CARD_CALLBACK), *args], env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )


def artifacts_dir() -> Path:
    """Where tests keep files for a person to look at (gitignored)."""
    path = ROOT / "artifacts"
    path.mkdir(exist_ok=True)
    return path
