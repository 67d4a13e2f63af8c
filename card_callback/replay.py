"""The `card-callback replay REPORT.json` command: send a report's recorded exchanges again and judge them."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import click

from callback_core.auth_header import AUTH_HEADER_ENV, load_auth_header
from callback_core.errors import CardCallbackError
from callback_core.secrets import SECRET_ENV, load_secret
from card_callback.common import EXIT_DEFECTS, EXIT_NOT_RUN, EXIT_OK, Spec, fail, spec_option
from contract_tests.models import CheckResult, Context, Outcome, Severity
from contract_tests.replay import Recording, judge, replay_command, retarget, send
from contract_tests.runner import Settings
from contract_tests.terminal import format_check_line, format_failure, printable
from contract_tests.transport import http_transport

EPILOG = """\b
Exit status:
  0  every replayed exchange now holds: no check fails
  1  a check still fails
  2  could not replay (unreadable report, bad options, unreachable target, or a check that failed in the
     report cannot be judged now, e.g. CC006 without the HMAC secret)"""


@click.command("replay", epilog=EPILOG)
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--url", help="Send to this URL instead: its scheme, host, port and path replace the recorded "
              "ones (the recorded query stays unless URL has one).")
@click.option("--only-failures", is_flag=True,
              help="Send only the failures' exchanges (and those they follow), not every exchange recorded.")
@spec_option
@click.option("--hmac-secret-file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Read the HMAC secret from this file (else ${SECRET_ENV}; neither: requests are not signed). "
              "Requests are signed afresh, with the current date.")
@click.option("--auth-header-file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Read the cardCallbackAuthHeader value from this file (else ${AUTH_HEADER_ENV}): the report "
              "shows it redacted, so replay needs it again. Never printed.")
def replay(report: Path, url: str | None, only_failures: bool, spec: Spec, hmac_secret_file: Path | None,
           auth_header_file: Path | None) -> None:
    """Send the exchanges a `test --json` report recorded again, and judge the answers with the same checks.

    Follow-ups (a second callback, a retry) and the copies a check compares go in their recorded order, one
    after another, and are judged against this replay's answers.
    """
    recording = _recording(report)
    contract = spec.contract
    try:
        secret = load_secret(os.environ, hmac_secret_file)
        auth = load_auth_header(contract, os.environ, auth_header_file)
        target = retarget(recording.target, url)
        Settings(url=target, contract=contract, spec_sha256="", seed=0).validate()
    except CardCallbackError as exc:
        fail(str(exc))
    chosen = recording.select(only_failures=only_failures)
    if not chosen:
        click.echo(f"{report}: no failures recorded, nothing to replay")
        sys.exit(EXIT_OK)
    click.echo(f"card-callback replay {report}\n  target    {target}\n"
               f"  sending   {len(chosen)} of {len(recording.exchanges)} recorded exchanges"
               f"{' (the failures and what they follow)' if only_failures else ''}, "
               f"{'signed afresh' if secret else 'unsigned'}")
    if not only_failures and not recording.complete:
        click.echo("  note      the report recorded only the failures' exchanges (the run was too large to keep all)")
    if recording.signed and secret is None:
        click.echo(f"  note      the run was signed; without the secret ({SECRET_ENV} or --hmac-secret-file) the "
                   "requests go unsigned and CC006/CC008 are not judged")
    if recording.authenticated and auth is None:
        click.echo(f"  note      the run sent the auth header value; without it ({AUTH_HEADER_ENV} or "
                   "--auth-header-file) the requests go without it and CC013 is not judged")
    if hashlib.sha256(spec.path.read_bytes()).hexdigest() != recording.document_sha256:
        click.echo(f"  note      {spec.path} is not the document the report was made with")
    try:
        with http_transport() as transport:
            exchanges = list(send(chosen, url=target, contract=contract, secret=secret, auth=auth,
                                  deadline=recording.deadline, transport=transport))
    except CardCallbackError as exc:
        fail(str(exc))
    if all(ex.unreachable for ex in exchanges):
        fail(f"could not replay: {next((ex.error for ex in exchanges if ex.error), 'no answer')}")
    ctx = Context(contract=contract, deadline=recording.deadline, signed=secret is not None,
                  strict=recording.strict, authenticated=auth is not None)
    results = judge(exchanges, ctx)
    sys.exit(_show(results, recording, replay_command(str(report), only_failures=only_failures)))


def _recording(report: Path) -> Recording:
    try:
        data = json.loads(report.read_bytes())
    except OSError as exc:
        fail(f"cannot read {report}: {exc.strerror or exc}")
    except ValueError as exc:
        fail(f"{report} is not JSON: {exc}")
    try:
        return Recording.from_report(data)
    except CardCallbackError as exc:
        fail(f"{report}: {exc}")


def _show(results: tuple[CheckResult, ...], recording: Recording, command: str) -> int:
    """Print a line per check and each failure in full; the exit code."""
    for result in results:
        note = result.reason or f"({result.judged} judged)"
        click.echo(format_check_line(result.check.code, result.check.name, result.outcome, note), nl=False)
    failed = [r for r in results if r.outcome is Outcome.FAILED]
    for result in results:
        for failure in result.failures:
            if failure.severity is Severity.DEFECT:
                click.echo(format_failure(failure, command), nl=False)
    # A check that failed in the report and cannot be judged now has not been shown to hold.
    unjudged = sorted(code for code in recording.failed_codes
                      if any(r.check.code == code and not r.judged for r in results))
    if failed:
        click.echo(f"\nRESULT: still failing ({', '.join(r.check.code for r in failed)})")
        return EXIT_DEFECTS
    if unjudged:
        click.echo(printable(f"\nRESULT: could not judge {', '.join(unjudged)}, which failed in the report"))
        return EXIT_NOT_RUN
    click.echo("\nRESULT: holds: every replayed exchange passes its checks")
    return EXIT_OK


COMMANDS: list[click.Command] = [replay]
