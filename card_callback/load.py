"""The `card-callback load URL` command: its options, checked here; the run happens in a process of its own."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from callback_core.auth_header import AUTH_HEADER_ENV
from callback_core.secrets import SECRET_ENV
from card_callback.common import Spec, fail, html_option, json_option, junit_xml_option, spec_option
from contract_tests.errors import OptionError
from contract_tests.load.settings import DEFAULT_RATE, RATE_MAX, check_numbers, parse_duration, parse_rate

# Set in the process that runs the load (Locust's gevent must patch the standard library before anything
# else loads, so `card-callback load` re-executes itself as `python -m card_callback.load_process`).
IN_LOAD_PROCESS = "CARD_CALLBACK_LOAD_PROCESS"


@click.command("load")
@click.argument("url")
@spec_option
@click.option("--users", type=int, default=50, show_default=True,
              help="Concurrent users, each with one callback in flight (Vipps's concurrency).")
@click.option("--spawn-rate", type=float, help="Users started per second (default: all within one second).")
@click.option("--rate", help=f"Callbacks per second to send in all, or {RATE_MAX} (each user sends again as soon "
              f"as it has its answer; the generator may then be the limit). Default {DEFAULT_RATE:g}/s: a small share "
              "of what one load process can sign and judge (docs/performance.md), so the PSP, not the generator, "
              "is what a default run judges.")
@click.option("--test-cards", type=click.Path(dir_okay=False, path_type=Path),
              help="Your PSP's test cards (the format of `test --test-cards`, e.g. examples/test-cards.yaml): one "
                   "new callback in five carries one, so SOFT_DECLINE and FAIL and their follow-ups are loaded too.")
@click.option("--duration", default="60s", show_default=True, help="How long to send: 60, 60s, 2m, 1h.")
@click.option("--deadline", type=float, help="Seconds an answer may take (default: the document's).")
@click.option("--seed", type=int, help="Seed for generating the callbacks (default: random, printed).")
@click.option("--strict", is_flag=True, help="Treat SHOULD rules of the answers as defects.")
@json_option()
@junit_xml_option()
@html_option()
@click.option("--hmac-secret-file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Read the HMAC secret from this file (else ${SECRET_ENV}; neither: requests are not signed).")
@click.option("--auth-header-file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Read the cardCallbackAuthHeader value from this file (else ${AUTH_HEADER_ENV}); sent on every "
                   "callback in the header the document names.")
@click.option("--workers", type=int, default=0, show_default=True,
              help="Run K local worker processes under a Locust master (0: one process). With --master: the "
                   "number of workers to wait for; with --worker: how many share the load (sizes the pool).")
@click.option("--master", is_flag=True, help="Be the master for workers started on other hosts (--worker).")
@click.option("--master-bind", default="*:5557", show_default=True,
              help="With --master: the interface and port workers connect to.")
@click.option("--worker", is_flag=True, help="Join a master (--master-host) and send its share of the load.")
@click.option("--master-host", default="127.0.0.1", show_default=True, help="With --worker: the master's host.")
@click.option("--master-port", type=int, default=5557, show_default=True, help="With --worker: the master's port.")
def load(url: str, **options: Any) -> None:
    """Send unique, signed callbacks to URL at Vipps's concurrency and judge every answer.

    Every answer calling for one gets its follow-up, as Vipps MobilePay sends it: the second callback after a
    SOFT_DECLINE, the user's retries after a retryable FAIL.

    Exit 0: every answer valid, p99.9 and max under the deadline at the requested load; 1: defects under
    load; 2: the run could not produce the load (the generator saturated, too few users for the rate) or could
    not test at all.
    """
    check_options(url, options)
    if os.environ.get(IN_LOAD_PROCESS) == "1":
        # Imported here, and only here: it loads Locust, which this process must not (see IN_LOAD_PROCESS).
        from card_callback.load_run import run_load

        sys.exit(run_load(url, options, _process_argv, {IN_LOAD_PROCESS: "1"}))
    _reexecute(url, options)


def check_options(url: str, options: dict[str, Any]) -> None:
    """Validate what can be checked before the load process starts, with one clear line."""
    if options["master"] and options["worker"]:
        fail("--master and --worker exclude each other")
    if options["master"] and options["workers"] < 1:
        fail("--master needs --workers K: the number of workers to wait for")
    if not url.startswith(("http://", "https://")):
        fail(f"URL must be an absolute http(s) URL, not {url!r}")
    cards = options["test_cards"]
    if cards is not None and not cards.is_file():
        fail(f"--test-cards: {cards} is not a file")
    try:
        check_numbers(users=options["users"], spawn_rate=options["spawn_rate"],
                      duration=parse_duration(options["duration"]), rate=parse_rate(options["rate"]),
                      deadline=options["deadline"], workers=options["workers"])
    except OptionError as exc:
        fail(str(exc))


def command_line(url: str, options: dict[str, Any]) -> list[str]:
    """The options as arguments again (for the load process and the workers it starts)."""
    args = [url]
    for param in load.params:
        if not isinstance(param, click.Option) or param.name is None or param.name not in options:
            continue
        value = options[param.name]
        if isinstance(value, Spec):
            value = value.given  # the other process reads the document itself
        flag = param.opts[0]
        if param.is_flag:
            if value:
                args.append(flag)
        elif value is not None:
            args += [flag, str(value)]
    return args


def _process_argv(url: str, options: dict[str, Any]) -> list[str]:
    """The command that runs a load process (this one again, or a local worker) with `options`."""
    return [sys.executable, "-m", "card_callback.load_process", *command_line(url, options)]


def _reexecute(url: str, options: dict[str, Any]) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, _process_argv(url, options), {**os.environ, IN_LOAD_PROCESS: "1"})


COMMANDS: list[click.Command] = [load]
