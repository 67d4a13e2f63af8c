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

SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"
AUTH_PREFIX = f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature="


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


def string_to_sign(method: str, path_and_query: str, date: str, host: str, body_hash: str) -> str:
    # `\n` only: a `\r\n` here would produce a different, wrong signature.
    return f"{method.upper()}\n{path_and_query}\n{date};{host};{body_hash}"


def signature(secret: str, message: str) -> str:
    # The secret looks like base64 but is used as written (its UTF-8 bytes), never decoded.
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(
    secret: str, *, method: str, path_and_query: str, host: str, body: bytes, date: str
) -> SignedHeaders:
    """The headers that sign one request. `path_and_query` is the raw (not percent-decoded) target."""
    body_hash = content_sha256(body)
    sig = signature(secret, string_to_sign(method, path_and_query, date, host, body_hash))
    return SignedHeaders(date=date, content_sha256=body_hash, authorization=AUTH_PREFIX + sig)


def verify(
    secret: str,
    *,
    method: str,
    path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    max_skew_seconds: int,
) -> None:
    """Raise SignatureError with the precise reason unless the request is signed with `secret`.

    `headers` must be case-insensitive (Starlette's Headers, httpx's Headers) or lower-cased.
    """
    date = _header(headers, "x-ms-date")
    claimed_hash = _header(headers, "x-ms-content-sha256")
    authorization = _header(headers, "authorization")
    host = _header(headers, "host")
    if not authorization.startswith(AUTH_PREFIX):
        raise SignatureError(
            f"Authorization must be 'HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature=...'"
        )
    try:
        signed_at = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise SignatureError("X-Ms-Date is not an HTTP date") from None
    if signed_at.tzinfo is None:
        raise SignatureError("X-Ms-Date has no time zone (use GMT)")
    skew = abs((now - signed_at).total_seconds())
    if skew > max_skew_seconds:
        raise SignatureError(f"X-Ms-Date is {int(skew)} s away from the server's clock (limit {max_skew_seconds} s)")
    actual_hash = content_sha256(body)
    if not hmac.compare_digest(claimed_hash.encode("ascii", "replace"), actual_hash.encode("ascii")):
        raise SignatureError("X-Ms-Content-Sha256 does not match the body received")
    expected = signature(secret, string_to_sign(method, path_and_query, date, host, actual_hash))
    given = authorization[len(AUTH_PREFIX) :]
    if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii")):
        raise SignatureError("the signature does not match (wrong secret, or the request was changed)")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if not value:
        raise SignatureError(f"the {name} header is missing")
    return value
