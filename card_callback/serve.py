"""The `card-callback serve` command: run the reference PSP with uvicorn."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import socket
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import click
import uvicorn

from callback_core.auth_header import AUTH_HEADER_ENV, load_auth_header
from callback_core.errors import CardCallbackError
from callback_core.secrets import SECRET_ENV, load_secret
from card_callback.common import Spec, fail, spec_option

DEFAULT_DB = Path("card-callback-reference.sqlite3")


def format_startup(
    base_url: str, callback_path: str, db: Path, signing: str | None, workers: int = 1, *,
    document: str | None = None, auth_header: tuple[str, str] | None = None, card_codes: Sequence[str] = (),
) -> str:
    """What the server says when it starts; `signing` and `auth_header` name where the secrets came from
    (and which header carries the value), never the secrets; `card_codes` which code each FAIL test card
    answers with (picked from the document's catalogue)."""
    hmac = f"required (secret from {signing})" if signing else f"not required ({SECRET_ENV} is unset or empty)"
    shared = [f"  workers:       {workers} processes sharing the database"] if workers > 1 else []
    lines = ["card-callback reference server"]
    if document is not None:
        lines.append(f"  document:      {document}")
    if auth_header is not None:
        lines.append(f"  auth header:   {auth_header[0]} required (value from {auth_header[1]})")
    return "\n".join(
        [
            *lines,
            f"  callback:      {base_url}{callback_path}",
            f"  Swagger UI:    {base_url}/ui/",
            f"  3-D Secure:    {base_url}/3ds/{{authorizationAttemptId}}",
            f"  attempts:      {base_url}/attempts/{{authorizationAttemptId}}",
            f"  database:      {db}",
            f"  HMAC signing:  {hmac}",
            *shared,
            *(f"  {'test cards:' if i == 0 else '':<15}{line}" for i, line in enumerate(card_codes)),
        ]
    )


def _listen(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                        flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port; the real one is printed).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB, show_default=True,
              help="SQLite database of attempts and their answers (created when missing).")
@click.option("--hmac-secret-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"File holding the HMAC secret (wins over ${SECRET_ENV}). Without either, no signature is required.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes sharing the socket and the database (idempotent across them: the database "
                   "decides which process answers an attempt first).")
@click.option("--auth-header-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"File holding the cardCallbackAuthHeader value (wins over ${AUTH_HEADER_ENV}); callbacks without "
              "it get 401. The document names the header (x-card-callback-auth-header).")
@spec_option
def serve(
    host: str, port: int, db: Path, hmac_secret_file: Path | None, workers: int, auth_header_file: Path | None,
    spec: Spec,
) -> None:
    """Serve the reference PSP: the card callback routed from the contract document, test cards, 3-D Secure."""
    _quiet_connexion_import()
    from reference_server import create_app
    from reference_server.cards import format_card_codes, load_cards

    try:
        secret = load_secret(os.environ, hmac_secret_file)
        auth = load_auth_header(spec.contract, os.environ, auth_header_file)
        settings = Settings(secret, spec.given, None if auth is None else auth.value)
        app = create_app(db_path=db, **settings.app_options())
        callback_path = spec.contract.path
        card_codes = format_card_codes(load_cards(spec.contract))
    except CardCallbackError as exc:
        fail(str(exc))
    try:
        sock = _listen(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    bound_host, bound_port = sock.getsockname()[:2]
    shown_host = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    source = None if secret is None else (str(hmac_secret_file) if hmac_secret_file else SECRET_ENV)
    auth_source = str(auth_header_file) if auth_header_file else AUTH_HEADER_ENV
    click.echo(format_startup(
        f"http://{shown_host}:{bound_port}", callback_path, db.resolve(), source, workers,
        document=str(spec.given) if spec.given else None,
        auth_header=None if auth is None else (auth.name, auth_source), card_codes=card_codes,
    ))
    if workers > 1:
        # The app above opened the database and created its tables once; each worker opens its own connection.
        del app
        sys.stdout.flush()
        _run_workers(workers, sock, db, settings)
        return
    _serve_app(app, sock)


@dataclass(frozen=True, slots=True)
class Settings:
    """What every server process builds its app from (the secrets travel through the process pipe)."""

    secret: str | None
    spec_path: Path | None
    auth_header_value: str | None

    def __repr__(self) -> str:  # never the secrets, should it reach a traceback
        return f"Settings(spec_path={self.spec_path!r})"

    def app_options(self) -> dict[str, Any]:
        return {"hmac_secret": self.secret, "spec_path": self.spec_path, "auth_header_value": self.auth_header_value}


def _quiet_connexion_import() -> None:
    # Connexion imports starlette.testclient, which warns about httpx on import: noise for a server.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")


def _run_workers(count: int, sock: socket.socket, db: Path, settings: Settings) -> None:
    """`count` processes serving the one listening socket; SIGTERM or SIGINT stops them all.

    Spawned, not forked: a fork would copy the SQLite connection and the writer thread of this process.
    The secrets reach them through the process pipe, never a command line.
    """
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker_main, args=(sock, db, settings), name=f"card-callback-serve-{i}")
                 for i in range(count)]
    for process in processes:
        process.start()

    def forward(signum: int, frame: FrameType | None) -> None:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for process in processes:
        process.join()


def _worker_main(sock: socket.socket, db: Path, settings: Settings) -> None:
    # A terminal's Ctrl-C reaches every process of the group: the parent forwards SIGTERM, workers ignore SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _quiet_connexion_import()
    from reference_server import create_app

    _serve_app(create_app(db_path=db, **settings.app_options()), sock)


def _serve_app(app: object, sock: socket.socket) -> None:
    from reference_server.logs import BatchedLineHandler

    # One structured line per callback goes to stderr; uvicorn's own access log would repeat it.
    config = uvicorn.Config(app, access_log=False, lifespan="on", log_level="info")  # type: ignore[arg-type]
    # Lines are written in batches (at most ~50 ms late): a write per callback slowed the server ~8%.
    # After uvicorn.Config, whose logging set-up closes the handlers it finds.
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[BatchedLineHandler(sys.stderr)])
    # Connexion's own info lines ("Adding spec json: ...") are noise between the structured ones.
    logging.getLogger("connexion").setLevel(logging.WARNING)
    # Everything built so far (modules, the app, the compiled schemas) lives as long as the server: moved
    # out of the garbage collector's generations, it is no longer traversed by every full collection. A
    # callback allocates hundreds of containers: collecting every 20,000 allocations, not 700, saves ~8%.
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    uvicorn.Server(config).run(sockets=[sock])


COMMANDS: list[click.Command] = [serve]
