"""One structured log line per callback (attempt id, outcome, latency), and never card data."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from reference_helpers import CRYPTOGRAM, ENCRYPTED_PAN, TOKEN_NUMBER, client_for

pytestmark = pytest.mark.anyio


def _callback_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "reference_server.callbacks"]


async def test_one_line_per_callback_with_id_outcome_latency(
    tmp_path: Path, token_callback: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fail = {**token_callback, "authorizationAttemptId": "log-2", "maskedCardNumber": "47969485XXXX0051"}
    async with client_for(tmp_path) as client:
        await client.post("/psp-makepayment", json=token_callback)
        await client.post("/psp-makepayment", json=token_callback)
        await client.post("/psp-makepayment", json=fail)
        await client.post("/psp-makepayment", content=b"{", headers={"content-type": "application/json"})
        await client.get("/attempts/log-2")  # not a callback: no line
    lines = _callback_lines(caplog)
    assert [(x["authorizationAttemptId"], x["httpStatus"], x["outcome"], x["replay"]) for x in lines] == [
        ("3030303thisisaguid", 200, "RESERVE", False),
        ("3030303thisisaguid", 200, "RESERVE", True),
        ("log-2", 200, "FAIL", False),
        (None, 400, "rejected", None),
    ]
    assert lines[2]["errorCode"] == "51"
    assert all(isinstance(x["latencyMs"], float) and x["latencyMs"] >= 0 for x in lines)


async def test_no_card_data_reaches_any_log(
    tmp_path: Path, token_callback: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad_number = {**token_callback, "authorizationAttemptId": "log-3",
                  "networkToken": {**token_callback["networkToken"], "number": TOKEN_NUMBER + "X"}}
    conflict = {**token_callback, "pspReference": "other"}
    soft = {**token_callback, "authorizationAttemptId": "log-4", "maskedCardNumber": "47969485XXXX3000"}
    async with client_for(tmp_path) as client:
        await client.post("/psp-makepayment", json=token_callback)
        await client.post("/psp-makepayment", json=bad_number)
        await client.post("/psp-makepayment", json=conflict)
        await client.post("/psp-makepayment", json={**token_callback, "paymentInstrument": "OTHER"})
        await client.post("/psp-makepayment", json=soft)
        await client.post("/psp-makepayment", content=json.dumps([token_callback]).encode(),
                          headers={"content-type": "application/json"})
    async with client_for(tmp_path, hmac_secret="s3cret", db_path=tmp_path / "signed.sqlite3") as client:
        await client.post("/psp-makepayment", json=token_callback)
    assert len(_callback_lines(caplog)) == 7
    text = "\n".join(caplog.text.splitlines() + [r.getMessage() for r in caplog.records])
    for secret in (TOKEN_NUMBER, CRYPTOGRAM, ENCRYPTED_PAN, "s3cret"):
        assert secret not in text
