"""Helpers for the contract-suite tests: run the suite in-process, serve an ASGI app on a free port."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from callback_core.auth_header import AuthHeader
from callback_core.spec import Contract
from contract_tests.cards import DEFAULT_CARDS, CardTriggers
from contract_tests.events import Event, RunFinished
from contract_tests.models import Outcome, Report
from contract_tests.runner import Settings, document_sha256, run
from contract_tests.transport import Transport, asgi_transport

PSP_URL_ENV = "CARD_CALLBACK_PSP_URL"
TEST_SECRET = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
SMALL = 12  # generated valid callbacks per run in these tests: enough to exercise every check, fast


def run_suite(
    transport: Transport,
    url: str,
    contract: Contract,
    *,
    secret: str | None = None,
    seed: int = 1,
    max_examples: int = SMALL,
    deadline: float | None = None,
    strict: bool = False,
    test_cards: CardTriggers = DEFAULT_CARDS,
    auth: AuthHeader | None = None,
    fail_on_not_exercised: bool = False,
) -> tuple[Report, list[Event]]:
    settings = Settings(url=url, contract=contract, spec_sha256=document_sha256(contract.source.encode()),
                        seed=seed, deadline=deadline, max_examples=max_examples, strict=strict, secret=secret,
                        test_cards=test_cards, auth=auth, fail_on_not_exercised=fail_on_not_exercised)
    events = list(run(settings, transport))
    last = events[-1]
    assert isinstance(last, RunFinished)
    return last.report, events


def run_against_app(app: Any, url: str, contract: Contract, **options: Any) -> Report:
    with asgi_transport(app) as transport:
        return run_suite(transport, url, contract, **options)[0]


def failed_codes(report: Report) -> set[str]:
    return {r.check.code for r in report.results if r.outcome is Outcome.FAILED}


def outcomes(report: Report) -> dict[str, Outcome]:
    return {r.check.code: r.outcome for r in report.results}


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 and a port the OS picks; yields http://127.0.0.1:PORT."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-test-psp", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test PSP did not start within 15 s")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def option(config: pytest.Config, name: str) -> object:
    """An option's value; None when this conftest was loaded after the command line was parsed."""
    try:
        return config.getoption(name)
    except ValueError:
        return None


def psp_url(config: pytest.Config) -> str | None:
    value = option(config, "--psp-url")
    return str(value) if value else os.environ.get(PSP_URL_ENV) or None
