"""With a secret, every callback must be signed (raw path and query, raw body, fresh date); else 401."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from reference_helpers import client_for

from callback_core.signing import http_date, sign

pytestmark = pytest.mark.anyio
SECRET = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
NOW = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)


def _signed(body: bytes, *, target: str = "/psp-makepayment", host: str = "psp.test",
            date: datetime = NOW, secret: str = SECRET) -> dict[str, str]:
    headers = sign(secret, method="POST", path_and_query=target, host=host, body=body, date=http_date(date))
    return {**headers.as_dict(), "content-type": "application/json"}


async def test_signed_callback_is_answered(tmp_path: Path, token_callback: dict[str, Any]) -> None:
    body = json.dumps(token_callback).encode()
    async with client_for(tmp_path, hmac_secret=SECRET, now=lambda: NOW) as client:
        response = await client.post("/psp-makepayment", content=body, headers=_signed(body))
    assert response.status_code == 200
    assert response.json()["status"] == "RESERVE"


async def test_signature_covers_the_raw_path_and_query(tmp_path: Path, token_callback: dict[str, Any]) -> None:
    body = json.dumps(token_callback).encode()
    target = "/psp-makepayment?ref=a%2Fb&x=%C3%A6"
    async with client_for(tmp_path, hmac_secret=SECRET, now=lambda: NOW) as client:
        raw = await client.post(target, content=body, headers=_signed(body, target=target))
        decoded = await client.post(target, content=body,
                                    headers=_signed(body, target="/psp-makepayment?ref=a/b&x=æ"))
    assert raw.status_code == 200
    assert decoded.status_code == 401


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda h, b: (h.pop("Authorization"), b)[1], "authorization header is missing"),
        (lambda h, b: (h.pop("X-Ms-Date"), b)[1], "x-ms-date header is missing"),
        (lambda h, b: (h.pop("X-Ms-Content-Sha256"), b)[1], "x-ms-content-sha256 header is missing"),
        (lambda h, b: (h.update(Authorization="Bearer token"), b)[1], "Authorization must be"),
        (lambda h, b: b.replace(b"123456", b"654321"), "does not match the body"),
        (lambda h, b: (h.update(_signed(b, date=NOW - timedelta(minutes=6))), b)[1], "away from the server's clock"),
        (lambda h, b: (h.update(_signed(b, secret="wrong")), b)[1], "signature does not match"),
        (lambda h, b: (h.update(_signed(b, host="other.example")), b)[1], "signature does not match"),
    ],
    ids=["no authorization", "no date", "no content hash", "other scheme", "body changed", "stale date",
         "wrong secret", "other host"],
)
async def test_bad_signatures_get_401_with_the_reason(
    tmp_path: Path, token_callback: dict[str, Any], tamper: Any, reason: str
) -> None:
    body = json.dumps(token_callback).encode()
    headers = _signed(body)
    body = tamper(headers, body)
    async with client_for(tmp_path, hmac_secret=SECRET, now=lambda: NOW) as client:
        response = await client.post("/psp-makepayment", content=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert reason in response.json()["detail"]
    assert SECRET not in response.text


async def test_unsigned_bad_input_is_refused_as_unsigned(tmp_path: Path) -> None:
    async with client_for(tmp_path, hmac_secret=SECRET, now=lambda: NOW) as client:
        response = await client.post("/psp-makepayment", content=b"[not json", headers={"content-type": "text/plain"})
    assert response.status_code == 401


async def test_without_a_secret_no_signature_is_needed(tmp_path: Path, token_callback: dict[str, Any]) -> None:
    async with client_for(tmp_path, hmac_secret="") as client:
        response = await client.post("/psp-makepayment", json=token_callback)
    assert response.status_code == 200
