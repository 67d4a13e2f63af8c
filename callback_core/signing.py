"""The Vipps MobilePay HMAC-SHA256 request-signing scheme: sign, and verify in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from callback_core.errors import SignatureError
from callback_core.spec import HmacScheme

# The published scheme (webhooks' request authentication); a document's `x-hmac-signing` may rename its
# headers and list other signed headers, and both sides then build everything from that.
VIPPS_SCHEME = HmacScheme(
    status="announced",
    algorithm="HMAC-SHA256",
    signed_headers=("x-ms-date", "host", "x-ms-content-sha256"),
    max_clock_skew_seconds=300,
    authorization_header="Authorization",
    date_header="X-Ms-Date",
    content_sha256_header="X-Ms-Content-Sha256",
)


def auth_prefix(scheme: HmacScheme = VIPPS_SCHEME) -> str:
    """`HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=`, from the scheme."""
    return f"{scheme.algorithm} SignedHeaders={';'.join(scheme.signed_headers)}&Signature="


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The three headers that carry a signature."""

    date: str
    content_sha256: str
    authorization: str

    def as_dict(self, scheme: HmacScheme | None = None) -> dict[str, str]:
        names = (
            (scheme.date_header, scheme.content_sha256_header, scheme.authorization_header)
            if scheme
            else ("X-Ms-Date", "X-Ms-Content-Sha256", "Authorization")
        )
        return dict(zip(names, (self.date, self.content_sha256, self.authorization), strict=True))


def http_date(moment: datetime) -> str:
    """An RFC 7231 HTTP date (`Thu, 30 Mar 2023 08:38:32 GMT`)."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def content_sha256(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def string_to_sign(
    method: str, path_and_query: str, date: str, host: str, body_hash: str, scheme: HmacScheme = VIPPS_SCHEME
) -> str:
    """`METHOD\n{path and query}\n` and the signed headers' values in the scheme's order, joined by `;`."""
    values = {"host": host, scheme.date_header.lower(): date, scheme.content_sha256_header.lower(): body_hash}
    # `\n` only: a `\r\n` here would produce a different, wrong signature.
    return f"{method.upper()}\n{path_and_query}\n" + ";".join(values[name] for name in scheme.signed_headers)


def signature(secret: str, message: str) -> str:
    # The secret looks like base64 but is used as written (its UTF-8 bytes), never decoded.
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(
    secret: str,
    *,
    method: str,
    path_and_query: str,
    host: str,
    body: bytes,
    date: str,
    scheme: HmacScheme = VIPPS_SCHEME,
) -> SignedHeaders:
    """The headers that sign one request. `path_and_query` is the raw (not percent-decoded) target."""
    body_hash = content_sha256(body)
    sig = signature(secret, string_to_sign(method, path_and_query, date, host, body_hash, scheme))
    return SignedHeaders(date=date, content_sha256=body_hash, authorization=auth_prefix(scheme) + sig)


def verify(
    secret: str,
    *,
    method: str,
    path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    max_skew_seconds: int,
    scheme: HmacScheme = VIPPS_SCHEME,
) -> None:
    """Raise SignatureError with the precise reason unless the request is signed with `secret`.

    `headers` must be case-insensitive (Starlette's Headers, httpx's Headers) or lower-cased.
    """
    date = _header(headers, scheme.date_header)
    claimed_hash = _header(headers, scheme.content_sha256_header)
    authorization = _header(headers, scheme.authorization_header)
    host = _header(headers, "host")
    prefix = auth_prefix(scheme)
    if not authorization.startswith(prefix):
        raise SignatureError(f"{scheme.authorization_header} must be '{prefix}...'")
    try:
        signed_at = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise SignatureError(f"{scheme.date_header} is not an HTTP date") from None
    if signed_at.tzinfo is None:
        raise SignatureError(f"{scheme.date_header} has no time zone (use GMT)")
    skew = abs((now - signed_at).total_seconds())
    if skew > max_skew_seconds:
        raise SignatureError(
            f"{scheme.date_header} is {int(skew)} s away from the server's clock (limit {max_skew_seconds} s)"
        )
    actual_hash = content_sha256(body)
    if not hmac.compare_digest(claimed_hash.encode("ascii", "replace"), actual_hash.encode("ascii")):
        raise SignatureError(f"{scheme.content_sha256_header} does not match the body received")
    expected = signature(secret, string_to_sign(method, path_and_query, date, host, actual_hash, scheme))
    given = authorization[len(prefix) :]
    if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii")):
        raise SignatureError("the signature does not match (wrong secret, or the request was changed)")


def _header(headers: Mapping[str, str], name: str) -> str:
    name = name.lower()
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if not value:
        raise SignatureError(f"the {name} header is missing")
    return value
