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
from pathlib import Path
from types import FrameType

import click
import uvicorn

from callback_core.errors import CardCallbackError
from callback_core.secrets import SECRET_ENV, load_secret
from callback_core.spec import Contract, bundled_spec_path

DEFAULT_DB = Path("card-callback-reference.sqlite3")


def format_startup(base_url: str, callback_path: str, db: Path, signing: str | None, workers: int = 1) -> str:
    """What the server says when it starts; `signing` names where the secret came from, never the secret."""
    hmac = f"required (secret from {signing})" if signing else f"not required ({SECRET_ENV} is unset or empty)"
    shared = [f"  workers:       {workers} processes sharing the database"] if workers > 1 else []
    return "\n".join(
        [
            "card-callback reference server",
            f"  callback:      {base_url}{callback_path}",
            f"  Swagger UI:    {base_url}/ui/",
            f"  3-D Secure:    {base_url}/3ds/{{authorizationAttemptId}}",
            f"  attempts:      {base_url}/attempts/{{authorizationAttemptId}}",
            f"  database:      {db}",
            f"  HMAC signing:  {hmac}",
            *shared,
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
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The contract document to serve (default: the bundled openapi/card-callback.yaml).")
def serve(host: str, port: int, db: Path, hmac_secret_file: Path | None, workers: int, spec_path: Path | None) -> None:
    """Serve the reference PSP: the card callback routed from the contract document, test cards, 3-D Secure."""
    _quiet_connexion_import()
    from reference_server import create_app

    try:
        secret = load_secret(os.environ, hmac_secret_file)
        app = create_app(db_path=db, hmac_secret=secret, spec_path=spec_path)
        callback_path = Contract.from_file(spec_path or bundled_spec_path()).path
    except CardCallbackError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    try:
        sock = _listen(host, port)
    except OSError as exc:
        click.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    bound_host, bound_port = sock.getsockname()[:2]
    shown_host = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    source = None if secret is None else (str(hmac_secret_file) if hmac_secret_file else SECRET_ENV)
    click.echo(format_startup(f"http://{shown_host}:{bound_port}", callback_path, db.resolve(), source, workers))
    if workers > 1:
        # The app above opened the database and created its tables once; each worker opens its own connection.
        del app
        sys.stdout.flush()
        _run_workers(workers, sock, db, secret, spec_path)
        return
    _serve_app(app, sock)


def _quiet_connexion_import() -> None:
    # Connexion imports starlette.testclient, which warns about httpx on import: noise for a server.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")


def _run_workers(count: int, sock: socket.socket, db: Path, secret: str | None, spec_path: Path | None) -> None:
    """`count` processes serving the one listening socket; SIGTERM or SIGINT stops them all.

    Spawned, not forked: a fork would copy the SQLite connection and the writer thread of this process.
    The secret reaches them through the process pipe, never a command line.
    """
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker_main, args=(sock, db, secret, spec_path),
                                 name=f"card-callback-serve-{i}") for i in range(count)]
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


def _worker_main(sock: socket.socket, db: Path, secret: str | None, spec_path: Path | None) -> None:
    # A terminal's Ctrl-C reaches every process of the group: the parent forwards SIGTERM, workers ignore SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _quiet_connexion_import()
    from reference_server import create_app

    _serve_app(create_app(db_path=db, hmac_secret=secret, spec_path=spec_path), sock)


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
