"""`make run`: start the reference server, run the contract suite against it, stop the server.

Both sides read the HMAC secret from CARD_CALLBACK_HMAC_SECRET, so exporting it runs the signed suite.
Extra arguments are passed to `card-callback test` (e.g. `--max-examples 20`); the exit code is the suite's.
`--spec PATH` goes to both sides: the server serves that document and the suite tests against it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(
    port: int, server: subprocess.Popen[bytes], timeout: float = 30.0, name: str = "the reference server"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"{name} exited with {server.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{name} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def stop(process: subprocess.Popen[Any], *, timeout: float) -> None:
    """SIGTERM (the server answers the callbacks it is working on), then SIGKILL after `timeout` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def split_spec(argv: list[str]) -> tuple[list[str], list[str]]:
    """`--spec PATH` (or `--spec=PATH`) for both sides, and the rest of the arguments for the suite."""
    spec: list[str] = []
    rest = list(argv)
    for index, arg in enumerate(rest):
        if arg == "--spec" and index + 1 < len(rest):
            spec = ["--spec", rest[index + 1]]
            del rest[index : index + 2]
            break
        if arg.startswith("--spec="):
            spec = ["--spec", arg.split("=", 1)[1]]
            del rest[index]
            break
    return spec, rest


def main(argv: list[str]) -> int:
    spec, argv = split_spec(argv)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="card-callback-run-") as tmp:
        # The server's own log would interleave with the report: it goes to a file, shown on failure.
        log_path = Path(tmp) / "reference-server.log"
        log = log_path.open("wb")
        server = subprocess.Popen(
            [str(BIN / "card-callback"), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--db", str(Path(tmp) / "reference.sqlite3"), *spec],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_listening(port, server)
            url = f"http://127.0.0.1:{port}/psp-makepayment"
            print(f"reference server on {url} (pid {server.pid}); running the contract suite", flush=True)
            code = subprocess.call([str(BIN / "card-callback"), "test", url, *spec, *argv])
        except SystemExit:
            log.flush()
            print(log_path.read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            stop(server, timeout=10)
            log.close()
        return code


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
