"""`make run`: for each bundled contract document, start the reference server on it, run the suite, stop it.

Both documents are run (openapi/card-callback.yaml and its nested-cardInfo revision card-callback-v2.yaml):
the toolkit promises to follow the document, so both must conform. `--spec PATH` runs that one document
instead, on both sides. Signing is always on, so that CC006 and CC008 are judged rather than skipped: both
sides read the HMAC secret from CARD_CALLBACK_HMAC_SECRET when it is exported, and otherwise share a fresh
random one through a file only this user can read, deleted afterwards (it is never printed). A document with
an auth header slot (x-card-callback-auth-header) is run with a fresh random value given to the server and
the suite alike, so that CC013 is judged. Extra arguments are passed to `card-callback test` (e.g.
`--max-examples 20`); the exit code is the worst of the runs.
"""

from __future__ import annotations

import base64
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


def secret_file(directory: Path, name: str, value: str) -> Path:
    """`value` in a new file under `directory` that only this user can read (0600 from its creation)."""
    path = directory / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(value)
    return path


def signing_options(directory: Path) -> list[str]:
    """The HMAC secret for both sides: the exported one (each side reads it), else a fresh one in a file."""
    from callback_core.secrets import SECRET_ENV

    if os.environ.get(SECRET_ENV):
        return []
    # 64 random bytes in base64, shaped like the client secrets Vipps MobilePay issues.
    generated = base64.b64encode(secrets.token_bytes(64)).decode("ascii")
    return ["--hmac-secret-file", str(secret_file(directory, "hmac-secret", generated))]


def run_one(document: Path, argv: list[str]) -> int:
    """The reference server on `document` against the suite on `document`; the suite's exit code."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="card-callback-run-") as tmp:
        auth: list[str] = []
        path, has_slot = callback_slot(document)
        if has_slot:
            value_file = secret_file(Path(tmp), "auth-header", secrets.token_urlsafe(24))
            auth = ["--auth-header-file", str(value_file)]
        signing = signing_options(Path(tmp))
        # The server's own log would interleave with the report: it goes to a file, shown on failure.
        log_path = Path(tmp) / "reference-server.log"
        log = log_path.open("wb")
        server = subprocess.Popen(
            [str(BIN / "card-callback"), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--db", str(Path(tmp) / "reference.sqlite3"), "--spec", str(document), *auth, *signing],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_listening(port, server)
            url = f"http://127.0.0.1:{port}{path}"
            print(f"\n== {document.name}: reference server on {url} (pid {server.pid}); running the contract suite",
                  flush=True)
            code = subprocess.call(
                [str(BIN / "card-callback"), "test", url, "--spec", str(document), *auth, *signing, *argv]
            )
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
    # Absolute: the server would read a relative path from its package's directory, not from here.
    documents = [Path(spec[1]).resolve()] if spec else list(DOCUMENTS)
    codes = {document.name: run_one(document, argv) for document in documents}
    print("\n" + "\n".join(f"{name}: exit {code}" for name, code in codes.items()), flush=True)
    return max(codes.values())


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
