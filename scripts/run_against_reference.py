"""`make run`: for each bundled contract document, start the reference server on it, run the suite, stop it.

Both documents are run (openapi/card-callback.yaml and its nested-cardInfo revision card-callback-v2.yaml):
the toolkit promises to follow the document, so both must conform. `--spec PATH` runs that one document
instead, on both sides. Both sides read the HMAC secret from CARD_CALLBACK_HMAC_SECRET, so exporting it
runs the signed suite. A document with an auth header slot (x-card-callback-auth-header) is run with a
fresh random value given to the server and the suite alike, so that CC013 is judged. Extra arguments are
passed to `card-callback test` (e.g. `--max-examples 20`); the exit code is the worst of the runs.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
OPENAPI = Path(__file__).resolve().parents[1] / "openapi"
DOCUMENTS = (OPENAPI / "card-callback.yaml", OPENAPI / "card-callback-v2.yaml")


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


def callback_slot(document: Path) -> tuple[str, bool]:
    """The document's callback path, and whether it has an auth header slot."""
    from callback_core.auth_header import auth_header_name
    from callback_core.spec import Contract

    contract = Contract.from_file(document)
    return contract.path, auth_header_name(contract) is not None


def run_one(document: Path, argv: list[str]) -> int:
    """The reference server on `document` against the suite on `document`; the suite's exit code."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="card-callback-run-") as tmp:
        auth: list[str] = []
        path, has_slot = callback_slot(document)
        if has_slot:
            value_file = Path(tmp) / "auth-header"
            value_file.write_text(secrets.token_urlsafe(24), encoding="utf-8")
            auth = ["--auth-header-file", str(value_file)]
        # The server's own log would interleave with the report: it goes to a file, shown on failure.
        log_path = Path(tmp) / "reference-server.log"
        log = log_path.open("wb")
        server = subprocess.Popen(
            [str(BIN / "card-callback"), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--db", str(Path(tmp) / "reference.sqlite3"), "--spec", str(document), *auth],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_listening(port, server)
            url = f"http://127.0.0.1:{port}{path}"
            print(f"\n== {document.name}: reference server on {url} (pid {server.pid}); running the contract suite",
                  flush=True)
            code = subprocess.call([str(BIN / "card-callback"), "test", url, "--spec", str(document), *auth, *argv])
        except SystemExit:
            log.flush()
            print(log_path.read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            stop(server, timeout=10)
            log.close()
        return code


def main(argv: list[str]) -> int:
    spec, argv = split_spec(argv)
    documents = [Path(spec[1])] if spec else list(DOCUMENTS)
    codes = {document.name: run_one(document, argv) for document in documents}
    print("\n" + "\n".join(f"{name}: exit {code}" for name, code in codes.items()), flush=True)
    return max(codes.values())


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
