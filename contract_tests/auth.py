"""Turn a planned request into the exact one sent: sign the real bytes and add the auth header, or spoil either."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta

import httpx

from callback_core import signing
from callback_core.auth_header import REDACTED, AuthHeader
from callback_core.spec import HmacScheme
from contract_tests.models import Outgoing, Probe, Tamper, Variation

# Over the allowed skew by a margin that no plausible clock difference between the suite and the PSP covers.
STALE_MARGIN_SECONDS = 120


def target_parts(url: str) -> tuple[str, str]:
    """The Host header and the raw path-and-query that httpx sends for `url` (what gets signed)."""
    parsed = httpx.URL(url)
    host = parsed.netloc.decode("ascii")
    path_and_query = parsed.raw_path.decode("ascii")
    return host, path_and_query


def prepare(
    probe: Probe, url: str, secret: str | None, scheme: HmacScheme, now: datetime, auth: AuthHeader | None = None
) -> Outgoing:
    """The request for `probe`: signed over its exact bytes when there is a secret (and not tampered), carrying
    the auth header value when one is given (and not spoiled)."""
    host, path_and_query = target_parts(url)
    headers: list[tuple[str, str]] = [("Host", host)]
    if probe.content_type is not None:
        headers.append(("Content-Type", probe.content_type))
    headers.append(("Accept", "application/json, application/problem+json"))
    if auth is not None and probe.tamper is not Tamper.NO_AUTH_HEADER:
        headers.append((auth.name, wrong_value(auth.value) if probe.tamper is Tamper.WRONG_AUTH_HEADER else auth.value))
    if secret is not None and probe.tamper is not Tamper.UNSIGNED:
        headers += _signature_headers(probe, secret, scheme, host, path_and_query, now)
    if probe.variation is Variation.LOWER_CASE_HEADERS:
        # As HTTP/2 sends every name (RFC 9113); the HTTP/1.1 client keeps the case it is given.
        headers = [(name.lower(), value) for name, value in headers]
    return Outgoing(method="POST", url=url, headers=tuple(headers), body=probe.body)


def _signature_headers(
    probe: Probe, secret: str, scheme: HmacScheme, host: str, path_and_query: str, now: datetime
) -> list[tuple[str, str]]:
    tamper = probe.tamper
    signed_body = probe.signed_body if probe.signed_body is not None else probe.body
    beyond = timedelta(seconds=scheme.max_clock_skew_seconds + STALE_MARGIN_SECONDS)
    moment = {Tamper.STALE_DATE: now - beyond, Tamper.FUTURE_DATE: now + beyond}.get(tamper, now)
    key = _other_secret(secret) if tamper is Tamper.WRONG_SECRET else secret
    sign_path = path_and_query.split("?")[0].rstrip("/") + "/other" if tamper is Tamper.WRONG_PATH else path_and_query
    sign_host = "psp.card-callback.invalid" if tamper is Tamper.WRONG_HOST else host
    signed = signing.sign(key, method="POST", path_and_query=sign_path, host=sign_host, body=signed_body,
                          date=signing.http_date(moment), scheme=scheme)
    content_sha256 = signed.content_sha256
    authorization = signed.authorization
    if tamper is Tamper.BODY_CHANGED_REHASHED:
        content_sha256 = signing.content_sha256(probe.body)
    if tamper is Tamper.BAD_SIGNATURE:
        prefix = signing.auth_prefix(scheme)
        authorization = prefix + _flip(authorization[len(prefix) :])
    values = {
        scheme.date_header: signed.date,
        scheme.content_sha256_header: content_sha256,
        scheme.authorization_header: authorization,
    }
    dropped = {
        Tamper.NO_AUTHORIZATION: scheme.authorization_header,
        Tamper.NO_DATE: scheme.date_header,
        Tamper.NO_CONTENT_SHA256: scheme.content_sha256_header,
    }.get(tamper)
    return [(name, value) for name, value in values.items() if name != dropped]


def redacted(request: Outgoing, auth: AuthHeader | None) -> Outgoing:
    """`request` as reports show it: the auth header's real value (a secret) replaced by a mark."""
    if auth is None:
        return request
    headers = tuple((name, REDACTED if name.lower() == auth.name.lower() and value == auth.value else value)
                    for name, value in request.headers)
    return Outgoing(request.method, request.url, headers, request.body)


def wrong_value(value: str) -> str:
    """A value of the same length that differs from `value` in every position (no prefix comparison accepts it),
    drawn from a fixed stream so that the report shows nothing of the real one beyond its length."""
    stream = hashlib.sha256(b"card-callback wrong auth header").hexdigest()
    out = []
    for index, char in enumerate(value or "x"):
        candidate = stream[index % len(stream)]
        out.append(candidate if candidate != char else ("g" if char != "g" else "h"))
    return "".join(out)


def _other_secret(secret: str) -> str:
    # A key of its own from the OS's random source: nothing about the real secret can be learnt from a
    # signature made with it (the reports print that signature), and it never equals the real one.
    while True:
        key = secrets.token_urlsafe(max(32, len(secret)))
        if key != secret:
            return key


def _flip(sig: str) -> str:
    """The same-length base64 signature of other bytes."""
    raw = bytearray(base64.b64decode(sig))
    raw[0] ^= 0xFF
    return base64.b64encode(bytes(raw)).decode("ascii")
