"""The reference server answers the description's example, each test card, replays and conflicts."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reference_helpers import client_for

from callback_core.spec import Contract
from reference_server.cards import Behaviour, load_cards

pytestmark = pytest.mark.anyio
Make = Callable[..., dict[str, Any]]


async def test_description_example_is_reserved(tmp_path: Path, token_callback: dict[str, Any]) -> None:
    async with client_for(tmp_path) as client:
        response = await client.post("/psp-makepayment", json=token_callback)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["status"] == "RESERVE"
    assert answer["networkTransactionReference"].isdigit()


async def test_every_request_example_of_the_document_is_answered(tmp_path: Path, contract: Contract) -> None:
    async with client_for(tmp_path) as client:
        for name, example in contract.request_examples().items():
            response = await client.post("/psp-makepayment", json=example)
            assert response.status_code == 200, name
            assert response.json()["status"] == "RESERVE", name


@pytest.mark.parametrize(
    ("last4", "status", "code", "retryable"),
    [
        ("0002", "CAPTURE", None, None),
        ("0051", "FAIL", "51", True),
        ("0043", "FAIL", "43", False),
        ("1234", "RESERVE", None, None),
        ("9999", "RESERVE", None, None),
    ],
)
async def test_each_test_card_has_its_outcome(
    tmp_path: Path, callback: Make, contract: Contract, last4: str, status: str, code: str | None,
    retryable: bool | None,
) -> None:
    async with client_for(tmp_path) as client:
        response = await client.post("/psp-makepayment", json=callback(last4))
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == status
    if code is None:
        assert answer["networkTransactionReference"]
    else:
        assert answer["errorCode"] == code and answer["errorMessage"]
        entry = contract.error_code(code)
        assert entry is not None and entry.retryable is retryable


def test_every_card_code_is_in_the_catalogue(contract: Contract) -> None:
    cards = load_cards(contract)
    codes = [c.error_code for c in cards.cards if c.error_code] + [cards.three_ds_failed_code]
    assert codes and all(contract.error_code(code) is not None for code in codes)
    assert {c.last4: c.behaviour for c in cards.cards} == {
        "0002": Behaviour.CAPTURE, "0051": Behaviour.FAIL, "0043": Behaviour.FAIL,
        "3000": Behaviour.SOFT_DECLINE, "0091": Behaviour.SLOW_ISSUER,
    }


async def test_slow_issuer_fails_before_the_deadline_and_records_the_late_outcome(
    tmp_path: Path, callback: Make, short_deadline_spec: Path, contract: Contract
) -> None:
    async with client_for(tmp_path, spec_path=short_deadline_spec, issuer_delay_seconds=1.3) as client:
        started = time.monotonic()
        response = await client.post("/psp-makepayment", json=callback("0091", "slow-1"))
        elapsed = time.monotonic() - started
        answer = response.json()
        assert response.status_code == 200
        assert answer["status"] == "FAIL" and answer["errorCode"] == "91"
        entry = contract.error_code("91")
        assert entry is not None and not entry.retryable
        assert 0.6 < elapsed < 1.0, elapsed  # deadline 1 s minus a 25 % margin
        pending = (await client.get("/attempts/slow-1")).json()
        assert pending["lateOutcome"] is None
        await asyncio.sleep(1.0)  # the issuer answers 1.3 s after the callback arrived
        looked_up = (await client.get("/attempts/slow-1")).json()
        assert looked_up["lateOutcome"]["status"] == "RESERVE"
        # A replay still gets the answer that was sent, not the late outcome.
        again = await client.post("/psp-makepayment", json=callback("0091", "slow-1"))
        assert again.content == response.content


async def test_issuer_in_time_gives_its_own_outcome(tmp_path: Path, callback: Make, short_deadline_spec: Path) -> None:
    async with client_for(tmp_path, spec_path=short_deadline_spec, issuer_delay_seconds=0.05) as client:
        response = await client.post("/psp-makepayment", json=callback("0091", "quick-1"))
        assert response.json()["status"] == "RESERVE"
        assert (await client.get("/attempts/quick-1")).json()["lateOutcome"] is None


async def test_identical_callback_gets_identical_bytes_whatever_the_key_order(
    tmp_path: Path, callback: Make
) -> None:
    body = callback("1234", "same-1")
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2).encode()
    async with client_for(tmp_path) as client:
        first = await client.post("/psp-makepayment", json=body)
        second = await client.post(
            "/psp-makepayment", content=reordered, headers={"content-type": "application/json"}
        )
    assert first.status_code == second.status_code == 200
    assert first.content == second.content


async def test_twenty_concurrent_copies_make_one_authorization(tmp_path: Path, callback: Make) -> None:
    body = callback("1234", "burst-1")
    async with client_for(tmp_path) as client:
        responses = await asyncio.gather(*(client.post("/psp-makepayment", json=body) for _ in range(20)))
        attempt = (await client.get("/attempts/burst-1")).json()
    assert {r.status_code for r in responses} == {200}
    # The network reference is random per authorization: one value means one authorization.
    assert len({r.content for r in responses}) == 1
    assert len(attempt["callbacks"]) == 1


async def test_different_body_under_an_answered_attempt_is_a_conflict(tmp_path: Path, callback: Make) -> None:
    async with client_for(tmp_path) as client:
        assert (await client.post("/psp-makepayment", json=callback("1234", "dup-1"))).status_code == 200
        changed = callback("1234", "dup-1", pspReference="another-payment")
        response = await client.post("/psp-makepayment", json=changed)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "already answered" in response.json()["detail"]


async def test_operator_look_up_shows_ids_answer_and_no_card_data(tmp_path: Path, callback: Make) -> None:
    body = callback("0051", "look-1")
    async with client_for(tmp_path) as client:
        sent = await client.post("/psp-makepayment", json=body)
        response = await client.get("/attempts/look-1")
        missing = await client.get("/attempts/nobody")
    attempt = response.json()
    assert response.status_code == 200
    assert attempt["maskedCardNumber"] == "47969485XXXX0051"
    assert attempt["pspReference"] == body["pspReference"]
    assert attempt["callbacks"][0]["answer"] == sent.json()
    for secret in (body["networkToken"]["number"], body["networkToken"]["cryptogram"], body["encryptedPan"]):
        assert secret not in response.text
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_undeclared_method_is_405_with_allow(tmp_path: Path) -> None:
    async with client_for(tmp_path, hmac_secret="s3cret") as client:
        response = await client.get("/psp-makepayment")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == "application/problem+json"


async def test_swagger_ui_shows_the_callback_contract(tmp_path: Path, contract: Contract) -> None:
    async with client_for(tmp_path) as client:
        ui = await client.get("/ui/")
        served = await client.get("/openapi.json")
    assert ui.status_code == 200 and "swagger-ui" in ui.text.lower()
    assert served.json()["info"]["title"] == contract.document["info"]["title"]
    assert contract.path in served.json()["paths"]
