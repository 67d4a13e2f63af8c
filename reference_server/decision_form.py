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

    Every current browser sends Origin with a form POST, so a post carrying a foreign Origin (or `null`, as
    from a sandboxed frame) did not come from this page. Without Origin, Sec-Fetch-Site decides where a
    browser sent it. A request with neither comes from no current browser: a script or an old client,
    which cannot be made to post on a user's behalf the way a page can, so the form's token alone decides.
    """
    origin = headers.get("origin")
    if origin is not None:
        if _origin(origin) != own_origin:
            return "the decision was posted from another origin; only the 3-D Secure page itself may post it"
        return None
    site = headers.get("sec-fetch-site")
    if site is not None and site.strip().lower() != "same-origin":
        return "the decision was posted from another site; only the 3-D Secure page itself may post it"
    return None


def _origin(value: str) -> str | None:
    text = value.strip()
    if not text.startswith(("http://", "https://")):
        return None  # `null` and anything else a browser would not write for a page of this server
    try:
        return origin_of(text)
    except ValueError:
        return None
