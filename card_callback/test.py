"""The `card-callback test URL` command: run the contract suite against a PSP's callback URL."""

from __future__ import annotations

import os
import secrets as random_source
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from callback_core.auth_header import AUTH_HEADER_ENV, load_auth_header
from callback_core.errors import CardCallbackError
from callback_core.secrets import SECRET_ENV, load_secret
from card_callback.common import Spec, fail, html_option, json_option, junit_xml_option, spec_option
from contract_tests.cards import DEFAULT_CARDS, CardTriggers
from contract_tests.events import Event, RequestDone, RunFinished
from contract_tests.files import format_json_report, format_junit
from contract_tests.flows import FOLLOWED_PER_FLOW
from contract_tests.html_report import format_html
from contract_tests.models import Exchange, Report
from contract_tests.replay import replay_command
from contract_tests.runner import DEFAULT_MAX_EXAMPLES, Settings, document_sha256, run
from contract_tests.terminal import format_event
from contract_tests.transport import http_transport


class TerminalHandler:
    """Prints each event as it comes (progress, check lines, failures with curl and, with --json, replay)."""

    def __init__(self, replay: str | None = None) -> None:
        self.replay = replay

    def handle(self, event: Event) -> None:
        text = format_event(event, replay=self.replay)
        if text:
            click.echo(text, nl=False)
            sys.stdout.flush()


class FileHandler:
    """Writes one rendering of the finished report to a file."""

    def __init__(self, path: Path, render: Callable[[Report], str]) -> None:
        self.path = path
        self.render = render

    def handle(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.path.write_text(self.render(event.report), encoding="utf-8")
            click.echo(f"wrote {self.path}")


class JsonHandler:
    """Writes the JSON report, with the exchanges `card-callback replay` re-sends (gathered as they come)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.exchanges: list[Exchange] = []

    def handle(self, event: Event) -> None:
        if isinstance(event, RequestDone):
            self.exchanges.append(event.exchange)
        elif isinstance(event, RunFinished):
            text = format_json_report(event.report, self.exchanges, replay=replay_command(str(self.path)))
            self.path.write_text(text, encoding="utf-8")
            click.echo(f"wrote {self.path}")


@click.command("test")
@click.argument("url")
@spec_option
@click.option("--deadline", type=float, help="Seconds an answer may take (default: the document's).")
@click.option("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES, show_default=True,
              help="Valid callbacks Schemathesis generates (a quarter as many invalid ones).")
@click.option("--seed", type=int, help="Seed for generation; the same seed gives the same cases (default: random).")
@click.option("--strict", is_flag=True,
              help="Treat SHOULD rules (CC007, CC008, CC011, Content-Type, a soft-decline loop) as defects.")
@junit_xml_option()
@json_option("--json-report")
@html_option()
@click.option("--fail-on-not-exercised", is_flag=True,
              help="Exit 1 when a check could not be exercised (e.g. no SOFT_DECLINE to follow): for CI gates that "
                   "must prove every flow ran.")
@click.option("--hmac-secret-file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Read the HMAC secret from this file (else ${SECRET_ENV}; neither: requests are not signed).")
@click.option("--test-cards", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML or JSON naming this PSP's test cards (last four digits -> status), so the run reaches "
                   "SOFT_DECLINE and FAIL (default: the reference server's cards; see examples/test-cards.yaml). "
                   "Whatever the cards, every valid callback answered SOFT_DECLINE or a retryable FAIL is followed "
                   f"(the second callback; the user's retries), up to {FOLLOWED_PER_FLOW} answers per flow a run.")
@click.option("--auth-header-file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Read the cardCallbackAuthHeader value from this file (else ${AUTH_HEADER_ENV}): every callback "
              "carries it, and CC013 checks that a missing or wrong value gets 401. Never printed.")
def test(url: str, **options: Any) -> None:
    """Test the PSP callback endpoint at URL against the contract.

    URL is the full cardCallbackUrl (any path and query); every request goes to exactly that URL.
    Exit 0: conforms; 1: defects found; 2: could not test (unreachable, bad document or options, or every
    callback refused with 401 while no secret was given).
    """
    # The options, typed, are run_suite's keyword arguments.
    sys.exit(run_suite(url, **options).verdict.exit_code)


def run_suite(
    url: str,
    *,
    spec: Spec,
    deadline: float | None,
    max_examples: int,
    seed: int | None,
    strict: bool,
    junit_xml_path: Path | None,
    json_path: Path | None,
    hmac_secret_file: Path | None,
    test_cards: Path | None,
    auth_header_file: Path | None = None,
    html_path: Path | None = None,
    fail_on_not_exercised: bool = False,
) -> Report:
    contract = spec.contract
    try:
        secret = load_secret(os.environ, hmac_secret_file)
        raw = spec.path.read_bytes() if spec.path.is_file() else b""
        cards = DEFAULT_CARDS if test_cards is None else CardTriggers.from_file(test_cards, contract.statuses)
        settings = Settings(
            url=url, contract=contract, spec_sha256=document_sha256(raw),
            seed=seed if seed is not None else random_source.randbits(32), deadline=deadline,
            max_examples=max_examples, strict=strict, secret=secret, test_cards=cards,
            auth=load_auth_header(contract, os.environ, auth_header_file), fail_on_not_exercised=fail_on_not_exercised,
        ).validate()
    except CardCallbackError as exc:
        fail(str(exc))
    replay = None if json_path is None else replay_command(str(json_path))
    handlers: list[TerminalHandler | FileHandler | JsonHandler] = [TerminalHandler(replay)]
    if junit_xml_path is not None:
        handlers.append(FileHandler(junit_xml_path, format_junit))
    if json_path is not None:
        handlers.append(JsonHandler(json_path))
    if html_path is not None:
        replayed = None if json_path is None else str(json_path)
        handlers.append(FileHandler(html_path, lambda report: format_html(report, replayed)))
    report: Report | None = None
    try:
        with http_transport() as transport:
            for event in run(settings, transport):
                for handler in handlers:
                    handler.handle(event)
                if isinstance(event, RunFinished):
                    report = event.report
    except CardCallbackError as exc:
        fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - run() reports its own failures; this is what is left (a report's I/O)
        fail(f"internal error, could not test: {type(exc).__name__}: {' '.join(str(exc).split())}")
    except KeyboardInterrupt:
        click.echo("\ninterrupted", err=True)
        sys.exit(130)
    if report is None:  # run() always ends with RunFinished; this keeps the type checker honest
        fail("the run ended without a report")
    return report


COMMANDS: list[click.Command] = [test]
