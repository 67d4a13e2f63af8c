"""The `send` and `sign` commands: play Vipps MobilePay's side of one card callback."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import click
import httpx

from callback_core.auth_header import AUTH_HEADER_ENV, AuthHeader, load_auth_header
from callback_core.errors import CardCallbackError
from callback_core.secrets import SECRET_ENV, load_secret
from callback_core.signing import SignedHeaders, http_date, sign
from callback_core.spec import Contract
from card_callback.common import EXIT_DEFECTS, EXIT_OK, Spec, fail, spec_option
from simulator.callbacks import DEFAULT_LAST4, Callback, for_card, from_bytes, from_example
from simulator.report import format_json, format_text
from simulator.session import DEFAULT_MAX_RETRIES, Settings, ThreeDSMode, simulate_sync
from simulator.transport import signing_target
from simulator.vectors import generate_vectors, render

SEND_EPILOG = f"""\b
Exit status:
  0  the PSP answered within the contract (RESERVE, CAPTURE, FAIL or SOFT_DECLINE)
  1  the answer was final: ERROR (HTTP 500 or other non-200, invalid body, no answer) or TIMEOUT
  2  bad options or unreadable input (nothing was sent)

\b
The callback is HMAC-signed when a secret is configured ({SECRET_ENV} or --hmac-secret-file).
With --json, elapsedMs is the whole run; each attempt has its own.
"""


def _secret(secret_file: Path | None) -> str | None:
    try:
        return load_secret(os.environ, secret_file)
    except CardCallbackError as exc:
        fail(str(exc))


def _auth_header(contract: Contract, value_file: Path | None) -> AuthHeader | None:
    try:
        return load_auth_header(contract, os.environ, value_file)
    except CardCallbackError as exc:
        fail(str(exc))


def _target(url: str) -> tuple[str, str]:
    """The Host and raw path-and-query of `url`, or one clear line when it cannot be sent to."""
    if not url.lower().startswith(("http://", "https://")):
        fail(f"the URL must be http:// or https://, not {url!r}")
    try:
        return signing_target(url)
    except KeyError:
        fail(f"the URL {url!r} has no host")
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        fail(f"invalid URL {url!r}: {exc}")


def _build(contract: Contract, card_last4: str | None, example: str | None, body_file: Path | None) -> Callback:
    chosen = [
        name
        for name, value in (("--card-last4", card_last4), ("--example", example), ("--body-file", body_file))
        if value is not None
    ]
    if len(chosen) > 1:
        fail(f"choose one of {', '.join(chosen)}")
    try:
        if example is not None:
            return from_example(contract, example)
        if body_file is not None:
            try:
                raw = body_file.read_bytes()
            except OSError as exc:
                fail(f"cannot read {body_file}: {exc.strerror or exc}")
            return from_bytes(contract, raw)
        return for_card(contract, card_last4 or DEFAULT_LAST4, now=datetime.now(UTC))
    except CardCallbackError as exc:
        fail(str(exc))


@click.command("send", epilog=SEND_EPILOG)
@click.argument("url")
@click.option("--card-last4", metavar="NNNN", help=f"Generate a callback for this test card (default {DEFAULT_LAST4}).")
@click.option("--example", metavar="NAME", help="Send a request example of the document (e.g. tokenCallback).")
@click.option(
    "--body-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Send this file's bytes as they are (an invalid callback is sent anyway, with a warning).",
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Answer deadline (default: the document's x-response-deadline-seconds).",
)
@click.option(
    "--retry",
    is_flag=True,
    help=f"After a retryable FAIL, retry as the user may (new authorizationAttemptId, "
    f"at most {DEFAULT_MAX_RETRIES} times).",
)
@click.option(
    "--complete-3ds",
    "complete_3ds",
    type=click.Choice([m.value for m in ThreeDSMode]),
    default="auto",
    show_default=True,
    help="After SOFT_DECLINE: auto completes (approve) only the reference server's 3-D Secure page; "
    "approve/reject posts that decision on any page following the same protocol; off stops there.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--hmac-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Read the HMAC secret from this file (default: ${SECRET_ENV}; unset: unsigned).",
)
@click.option(
    "--auth-header-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Send the cardCallbackAuthHeader value in this file (default: ${AUTH_HEADER_ENV}; unset: not sent) in "
    "the header the document names. Reports show it redacted.",
)
@spec_option
def send_command(
    url: str,
    card_last4: str | None,
    example: str | None,
    body_file: Path | None,
    deadline: float | None,
    retry: bool,
    complete_3ds: str,
    as_json: bool,
    hmac_secret_file: Path | None,
    auth_header_file: Path | None,
    spec: Spec,
) -> None:
    """Send one card callback to URL as Vipps MobilePay would, and judge the answer as the app does."""
    _target(url)
    contract = spec.contract
    callback = _build(contract, card_last4, example, body_file)
    settings = Settings(
        url=url,
        deadline_seconds=deadline if deadline is not None else contract.deadline_seconds,
        secret=_secret(hmac_secret_file),
        retry=retry,
        complete_3ds=ThreeDSMode(complete_3ds),
        auth=_auth_header(contract, auth_header_file),
    )
    for warning in callback.warnings:
        click.echo(f"warning: {warning}", err=True)
    run = simulate_sync(contract, callback, settings)
    click.echo(format_json(contract, run) if as_json else format_text(contract, run))
    sys.exit(EXIT_OK if run.verdict.outcome.answered else EXIT_DEFECTS)


def format_signed_headers(headers: SignedHeaders, contract: Contract) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.as_dict(contract.hmac).items())


@click.command("sign")
@spec_option
@click.option("--url", help="The full callback URL (its Host and raw path and query are signed).")
@click.option(
    "--body-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The body; its bytes are signed exactly as they are in the file.",
)
@click.option("--date", "date", metavar="HTTP-DATE", help="The X-Ms-Date to sign (default: now).")
@click.option("--method", default="POST", show_default=True, help="The HTTP method in the signed string.")
@click.option(
    "--hmac-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Read the HMAC secret from this file (default: ${SECRET_ENV}).",
)
@click.option(
    "--vectors",
    "vectors_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Instead of signing, write HMAC test vectors (valid and invalid signed requests) to this file, under the "
    "header names of the document's x-hmac-signing; see docs/hmac-vectors.md.",
)
def sign_command(
    spec: Spec, url: str | None, body_file: Path | None, date: str | None, method: str,
    hmac_secret_file: Path | None, vectors_file: Path | None,
) -> None:
    """Print the headers that sign a request: the date, the content hash and the signature, under the names the
    document's x-hmac-signing gives them (X-Ms-Date, X-Ms-Content-Sha256, Authorization in the bundled one); or
    write test vectors for a verifier (--vectors)."""
    if vectors_file is not None:
        _write_vectors(spec.contract, vectors_file, given=[
            name for name, value in (("--url", url), ("--body-file", body_file), ("--date", date),
                                     ("--hmac-secret-file", hmac_secret_file)) if value is not None])
        return
    if url is None or body_file is None:
        fail("sign needs --url and --body-file (or --vectors FILE)")
    host, path_and_query = _target(url)
    secret = _secret(hmac_secret_file)
    if secret is None:
        fail(f"no HMAC secret: set {SECRET_ENV} or pass --hmac-secret-file")
    if date is not None:
        try:
            valid = parsedate_to_datetime(date).tzinfo is not None
        except (TypeError, ValueError):
            valid = False
        if not valid:
            fail(f"--date must be an HTTP date such as 'Thu, 30 Mar 2023 08:38:32 GMT', not {date!r}")
    try:
        body = body_file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {body_file}: {exc.strerror or exc}")
    contract = spec.contract
    headers = sign(
        secret,
        method=method,
        path_and_query=path_and_query,
        host=host,
        body=body,
        date=date or http_date(datetime.now(UTC)),
        scheme=contract.hmac,
    )
    click.echo(format_signed_headers(headers, contract))


def _write_vectors(contract: Contract, path: Path, given: list[str]) -> None:
    if given:
        fail(f"--vectors writes fixed test vectors (their own secrets, dates and bodies); drop {', '.join(given)}")
    vectors = generate_vectors(contract.hmac)
    try:
        path.write_text(render(vectors), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    click.echo(f"wrote {len(vectors['vectors'])} HMAC test vectors to {path}")


COMMANDS: list[click.Command] = [send_command, sign_command]
