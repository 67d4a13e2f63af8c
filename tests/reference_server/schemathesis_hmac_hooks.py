"""Schemathesis hooks: HMAC-sign every request the way Vipps MobilePay signs card callbacks.

Usage (the secret comes from the environment, as for the server):

    CARD_CALLBACK_HMAC_SECRET=... SCHEMATHESIS_HOOKS=tests/reference_server/schemathesis_hmac_hooks.py \
        schemathesis run openapi/card-callback.yaml --url http://127.0.0.1:8080 --checks all

A `requests` auth object runs after Schemathesis serialized the case, so it signs the exact bytes and
request target that go on the wire (signing in an `@schemathesis.auth()` provider happens before
serialization and breaks on some bodies; see FACTS.md).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import requests
import schemathesis

from callback_core.secrets import load_secret
from callback_core.signing import http_date, sign


class HmacAuth(requests.auth.AuthBase):
    """Adds X-Ms-Date, X-Ms-Content-Sha256 and Authorization to a prepared request."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            # http.client sends str bodies as ISO-8859-1; sign those very bytes.
            body = body.encode("latin-1", errors="replace")
        host = request.headers.get("Host") or requests.utils.urlparse(request.url).netloc
        headers = sign(
            self.secret,
            method=request.method or "POST",
            path_and_query=request.path_url,  # the target as sent: percent-encoded path plus query
            host=host,
            body=body,
            date=http_date(datetime.now(UTC)),
        )
        request.headers.update(headers.as_dict())
        return request


_secret = load_secret(os.environ)
if _secret:
    schemathesis.auth.set_from_requests(HmacAuth(_secret))
