"""Inside the load process: run Locust (here, as master or as worker), print, write reports.

It knows nothing of the command that started it (card_callback.load imports it, never the other way): how to
start a local worker is passed in.
"""

from __future__ import annotations

import os
import secrets as random_source
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from callback_core.auth_header import load_auth_header
from callback_core.errors import CardCallbackError
from callback_core.secrets import load_secret
from card_callback.common import fail
from contract_tests.cards import CardTriggers
from contract_tests.load import locust_adapter
from contract_tests.load.judging import conclude
from contract_tests.load.junit import format_junit
from contract_tests.load.report import (
    Progress,
    Stopped,
    build_report,
    format_html,
    format_json,
    format_progress,
    format_start,
    format_summary,
)
from contract_tests.load.settings import LoadSettings, parse_duration, parse_rate
from contract_tests.load.source import CallbackSource
from contract_tests.load.stats import Recorder
from contract_tests.runner import document_sha256

WORKER_EXIT_TIMEOUT = 30.0
Argv = Callable[[str, dict[str, Any]], list[str]]


def run_load(url: str, options: dict[str, Any], argv: Argv, environment: Mapping[str, str]) -> int:
    """Run the load `options` describe; `argv(url, options)` and `environment` start a local worker."""
    try:
        settings = _settings(url, options)
    except CardCallbackError as exc:
        fail(str(exc))
    try:
        if options["worker"]:
            return _worker(settings, options)
        return _drive(settings, url, options, lambda worker: argv(url, worker), environment)
    except CardCallbackError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        click.echo("\ninterrupted", err=True)
        return 130


def _settings(url: str, options: dict[str, Any]) -> LoadSettings:
    path: Path = options["spec"].path
    secret = load_secret(os.environ, options["hmac_secret_file"])
    contract = options["spec"].contract
    auth = load_auth_header(contract, os.environ, options["auth_header_file"])
    users = options["users"]
    cards_path = options["test_cards"]
    cards = CardTriggers.from_file(cards_path, contract.statuses) if cards_path is not None else None
    settings = LoadSettings(
        url=url, contract=contract, spec_sha256=document_sha256(path.read_bytes()),
        seed=options["seed"] if options["seed"] is not None else random_source.randbits(32),
        users=users, spawn_rate=options["spawn_rate"] or float(max(users, 1)),
        duration=parse_duration(options["duration"]), rate=parse_rate(options["rate"]), deadline=options["deadline"],
        secret=secret, auth=auth, workers=options["workers"], strict=options["strict"], cards=cards,
    ).validate()
    return settings


def _sender(settings: LoadSettings) -> locust_adapter.Sender:
    source = CallbackSource(settings.contract, seed=settings.seed, cards=settings.cards)
    return locust_adapter.Sender(settings, source, Recorder())


def _worker(settings: LoadSettings, options: dict[str, Any]) -> int:
    sender = _sender(settings)
    click.echo(f"worker: joining {options['master_host']}:{options['master_port']}")
    locust_adapter.serve_worker(settings, sender, options["master_host"], options["master_port"])
    return 0


def _drive(settings: LoadSettings, url: str, options: dict[str, Any], argv: Callable[[dict[str, Any]], list[str]],
           environment: Mapping[str, str]) -> int:
    processes = max(1, settings.workers)
    click.echo(format_start(settings, processes, remote=options["master"]), nl=False)
    recorder = Recorder()
    children: list[subprocess.Popen[bytes]] = []
    if settings.workers and not options["master"]:
        port = _free_port()
        bind: tuple[str, int] | None = ("127.0.0.1", port)
        children = [_spawn_worker(options, port, argv, environment) for _ in range(settings.workers)]
        click.echo(f"  waiting for {settings.workers} local workers to start")
        sender = None
    elif options["master"]:
        host, _, port_text = options["master_bind"].rpartition(":")
        bind = (host or "*", int(port_text))
        click.echo(f"  master on {options['master_bind']}: waiting for {settings.workers} workers (--worker)")
        sender = None
    else:
        bind = None
        sender = _sender(settings)
        recorder = sender.recorder
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    stopped: Stopped | None = None
    try:
        for event in locust_adapter.run(settings, recorder, sender, master_bind=bind,
                                        expected_workers=settings.workers, workers_gone=lambda: _exited(children)):
            if isinstance(event, Progress):
                click.echo(format_progress(event), nl=False)
                sys.stdout.flush()
            else:
                stopped = event
    finally:
        _reap(children)
    if stopped is None:
        fail("the run ended without stopping")
    conclusion = conclude(settings, recorder, stopped.started, stopped.stopped)
    report = build_report(settings, conclusion, recorder, stopped, started_at)
    click.echo(format_summary(report), nl=False)
    for path, render in ((options["json_path"], format_json), (options["junit_xml_path"], format_junit),
                         (options["html_path"], format_html)):
        if path is not None:
            path.write_text(render(report), encoding="utf-8")
            click.echo(f"wrote {path}")
    return report.verdict.exit_code


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn_worker(options: dict[str, Any], port: int, argv: Callable[[dict[str, Any]], list[str]],
                  environment: Mapping[str, str]) -> subprocess.Popen[bytes]:
    worker_options = {**options, "workers": 0, "master": False, "worker": True, "master_host": "127.0.0.1",
                      "master_port": port, "html_path": None, "json_path": None, "junit_xml_path": None}
    # The secret travels in the environment (or as the file's path), never on a command line.
    return subprocess.Popen(argv(worker_options), env={**os.environ, **environment}, stdout=subprocess.DEVNULL)


def _exited(children: list[subprocess.Popen[bytes]]) -> str | None:
    codes = [child.poll() for child in children]
    if any(code is not None for code in codes):
        return f"a local worker exited (codes {codes}) before the run started; its error is above"
    return None


def _reap(children: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + WORKER_EXIT_TIMEOUT
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
