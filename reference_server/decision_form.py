"""The 3-D Secure decision form's guard against cross-site posts: a token bound to the attempt, and the Origin."""

from __future__ import annotations

import base64
import hashlib
import hmac

from starlette.datastructures import Headers

from reference_server.redirects import origin_of

TOKEN_FIELD = "token"
_PURPOSE = b"card-callback 3-D Secure decision\n"


class DecisionTokens:
    """The token the page's form carries: HMAC-SHA256 of the attempt id under the server's stored key.

    Bound to the attempt (a token of one session decides no other) and kept across restarts with the
    sessions themselves, since the key lives in the same database.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the decision form key must have at least 16 bytes")
        self._key = key

    def token(self, attempt_id: str) -> str:
        mac = hmac.new(self._key, _PURPOSE + attempt_id.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")

    def matches(self, attempt_id: str, token: object) -> bool:
        """Whether `token` is this attempt's, compared in constant time (any bytes, never an exception)."""
        if not isinstance(token, str):
            return False
        return hmac.compare_digest(self.token(attempt_id).encode("ascii"), token.encode("utf-8", "replace"))


def cross_site_refusal(headers: Headers, own_origin: str) -> str | None:
    """Why a decision post is refused as cross-site, or None.

    - An Origin naming a real origin must be this server's.
    - Sec-Fetch-Site, when sent, must be `same-origin`. Browsers set it themselves, whatever the page's
      referrer policy, and it is what tells the page's own post apart: under the page's
      `Referrer-Policy: no-referrer` a browser sends `Origin: null` even for its own form.
    - `Origin: null` without Sec-Fetch-Site is refused (a sandboxed frame, or an old browser under that
      policy), since nothing tells where it came from.
    - With neither header the post comes from no current browser but a script, which cannot be made to
      post on a user's behalf the way a page can: the form's token alone decides.
    """
    origin = headers.get("origin")
    opaque = origin is not None and origin.strip().lower() == "null"
    if origin is not None and not opaque and _origin(origin) != own_origin:
        return "the decision was posted from another origin; only the 3-D Secure page itself may post it"
    site = headers.get("sec-fetch-site")
    if site is not None:
        if site.strip().lower() != "same-origin":
            return "the decision was posted from another site; only the 3-D Secure page itself may post it"
    elif opaque:
        return "the decision was posted from an opaque origin (Origin: null); only the 3-D Secure page may post it"
    return None


def _origin(value: str) -> str | None:
    text = value.strip()
    if not text.startswith(("http://", "https://")):
        return None  # `null` and anything else a browser would not write for a page of this server
    try:
        return origin_of(text)
    except ValueError:
        return None
