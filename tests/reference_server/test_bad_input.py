"""Bad input never gets a 5xx: each class gets its own 4xx problem+json, and the server keeps serving."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from reference_helpers import CRYPTOGRAM, ENCRYPTED_PAN, TOKEN_NUMBER, client_for

pytestmark = pytest.mark.anyio
JSON = {"content-type": "application/json"}


def _example_bytes(token_callback: dict[str, Any]) -> bytes:
    return json.dumps(token_callback).encode()


# (name, body bytes, headers, expected status, words of the expected detail)
CASES: list[tuple[str, Callable[[bytes], bytes], dict[str, str], int, str]] = [
    ("malformed JSON", lambda ok: ok[:-5], JSON, 400, "not valid JSON"),
    ("not UTF-8", lambda ok: ok.replace(b'"DK"', b'"\xff\xfe"'), JSON, 400, "not valid UTF-8"),
    ("latin-1 text", lambda ok: ok.replace(b'"DK"', "\"Dé\"".encode("latin-1")), JSON, 400, "not valid UTF-8"),
    ("wrong Content-Type", lambda ok: ok, {"content-type": "text/plain"}, 415, "application/json"),
    ("form Content-Type", lambda ok: ok, {"content-type": "application/x-www-form-urlencoded"}, 415,
     "application/json"),
    ("missing Content-Type", lambda ok: ok, {}, 415, "missing"),
    ("non-UTF-8 charset", lambda ok: ok, {"content-type": "application/json; charset=latin-1"}, 415, "utf-8"),
    ("compressed body", lambda ok: gzip.compress(ok), {**JSON, "content-encoding": "gzip"}, 415, "Content-Encoding"),
    ("empty body", lambda ok: b"", JSON, 400, "empty"),
    ("whitespace body", lambda ok: b"  \n ", JSON, 400, "empty"),
    ("JSON array", lambda ok: b"[" + ok + b"]", JSON, 400, "must be of type object"),
    ("JSON null", lambda ok: b"null", JSON, 400, "must be of type object"),
    ("JSON string", lambda ok: b'"hello"', JSON, 400, "must be of type object"),
    ("nesting 100,000 deep", lambda ok: b"[" * 100_000 + b"]" * 100_000, JSON, 413, "larger than"),
    ("deep under the size limit", lambda ok: ok[:-1] + b',"x":' + b"[" * 5000 + b"]" * 5000 + b"}", JSON, 400,
     "nested deeper"),
    ("over the size limit", lambda ok: ok[:-1] + b',"pad":"' + b"x" * 70_000 + b'"}', JSON, 413, "larger than"),
    ("raw NUL byte", lambda ok: ok.replace(b'"DK"', b'"D\x00K"'), JSON, 400, "not valid JSON"),
    ("escaped NUL breaking a pattern", lambda ok: ok.replace(b'"DK"', b'"D\\u0000K"'), JSON, 400,
     "must match the pattern"),
    ("unpaired surrogate", lambda ok: ok.replace(b'"DK"', b'"\\ud800"'), JSON, 400, "surrogate"),
    ("duplicate keys", lambda ok: ok[:-1] + b',"pspReference":"again"}', JSON, 400, "repeats the key"),
    ("huge integer", lambda ok: ok[:-1] + b',"x":' + b"9" * 5000 + b"}", JSON, 400, "longer than"),
    ("huge float", lambda ok: ok[:-1] + b',"x":1e999999}', JSON, 400, "out of range"),
    ("NaN", lambda ok: ok[:-1] + b',"x":NaN}', JSON, 400, "NaN"),
    ("byte order mark", lambda ok: b"\xef\xbb\xbf" + ok, JSON, 400, "not valid JSON"),
]


@pytest.mark.parametrize(("name", "mutate", "headers", "status", "words"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_class(
    tmp_path: Path, token_callback: dict[str, Any], name: str, mutate: Callable[[bytes], bytes],
    headers: dict[str, str], status: int, words: str,
) -> None:
    async with client_for(tmp_path) as client:
        response = await client.post("/psp-makepayment", content=mutate(_example_bytes(token_callback)),
                                     headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status
        assert words in problem["detail"]
        # The server keeps serving.
        after = await client.post("/psp-makepayment", json={**token_callback, "authorizationAttemptId": "after"})
        assert after.status_code == 200


async def test_deep_nesting_within_a_large_limit_is_refused_by_depth(
    tmp_path: Path, token_callback: dict[str, Any]
) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    body = _example_bytes(token_callback)[:-1] + b',"x":' + deep + b"}"
    async with client_for(tmp_path, max_body_bytes=1_000_000) as client:
        response = await client.post("/psp-makepayment", content=body, headers=JSON)
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]


async def test_oversized_chunked_body_is_refused_without_reading_it_all(
    tmp_path: Path, token_callback: dict[str, Any]
) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(10_000):  # bounded: at most 10 MB if the server kept reading
            sent += 1
            yield b" " * 1024

    async with client_for(tmp_path) as client:
        response = await client.post("/psp-makepayment", content=endless(), headers=JSON)
    assert response.status_code == 413
    assert sent < 100  # it stopped soon after 64 KiB


async def test_chunked_body_within_the_limit_is_accepted(tmp_path: Path, token_callback: dict[str, Any]) -> None:
    raw = _example_bytes(token_callback)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 100):
            yield raw[start:start + 100]

    async with client_for(tmp_path) as client:
        response = await client.post("/psp-makepayment", content=chunks(), headers=JSON)
    assert response.status_code == 200
    assert response.json()["status"] == "RESERVE"


async def test_escaped_nul_where_the_schema_allows_it_is_accepted_and_kept(
    tmp_path: Path, token_callback: dict[str, Any]
) -> None:
    # Valid JSON and valid against the document: refusing it is what Schemathesis reports as ST202.
    body = {**token_callback, "pspReference": "ref\u0000with-nul", "unknown\u0000key": "x\u0000y"}
    db = tmp_path / "attempts.sqlite3"
    async with client_for(tmp_path, db_path=db) as client:
        first = await client.post("/psp-makepayment", json=body)
    async with client_for(tmp_path, db_path=db) as client:  # a restarted server answers the replay alike
        replay = await client.post("/psp-makepayment", json=body)
    assert first.status_code == 200, first.text
    assert replay.json() == first.json()


async def test_schema_errors_name_field_and_rule(tmp_path: Path, token_callback: dict[str, Any]) -> None:
    async with client_for(tmp_path) as client:
        missing = await client.post("/psp-makepayment", json={k: v for k, v in token_callback.items()
                                                             if k != "merchantSerialNumber"})
        pattern = await client.post("/psp-makepayment", json={**token_callback, "merchantSerialNumber": "12"})
        instrument = await client.post("/psp-makepayment", json={**token_callback, "paymentInstrument": "CARD"})
        pan_missing = await client.post("/psp-makepayment", json={
            **{k: v for k, v in token_callback.items() if k != "encryptedPan"}, "paymentInstrument": "PAN"})
    assert "'merchantSerialNumber' is required" in missing.json()["detail"]
    assert "'merchantSerialNumber': must match the pattern ^[0-9]{4,6}$" in pattern.json()["detail"]
    assert "'paymentInstrument': must be one of TOKEN, PAN" in instrument.json()["detail"]
    assert "'encryptedPan' is required" in pan_missing.json()["detail"]


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b["networkToken"].update(number=TOKEN_NUMBER + "X"),
        lambda b: b["networkToken"].update(number=TOKEN_NUMBER + "0" * 5),
        lambda b: b["networkToken"].update(cryptogram=[CRYPTOGRAM]),
        lambda b: b.update(encryptedPan={"value": ENCRYPTED_PAN}),
        lambda b: b.update(networkToken=f"{TOKEN_NUMBER} {CRYPTOGRAM}"),
        lambda b: b.update(paymentInstrument="OTHER"),
        lambda b: b.update(maskedCardNumber=TOKEN_NUMBER),
        lambda b: b.update(pspReference=[TOKEN_NUMBER, CRYPTOGRAM, ENCRYPTED_PAN]),
    ],
    ids=["number pattern", "number too long", "cryptogram type", "encryptedPan type", "networkToken type",
         "discriminator", "masked number", "reference type"],
)
async def test_problem_details_never_echo_card_data(
    tmp_path: Path, token_callback: dict[str, Any], change: Callable[[dict[str, Any]], None]
) -> None:
    change(token_callback)
    async with client_for(tmp_path) as client:
        response = await client.post("/psp-makepayment", json=token_callback)
    assert response.status_code == 400
    for secret in (TOKEN_NUMBER, CRYPTOGRAM, ENCRYPTED_PAN):
        assert secret not in response.text
