"""Card 3000: SOFT_DECLINE to the server's 3-D Secure page, then the second callback (in-process)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from reference_helpers import client_for, decide, form_token

pytestmark = pytest.mark.anyio
Make = Callable[..., dict[str, Any]]
COMPLETED = "https://vipps.example/mobileintercept?transactionId=1&responsecode=OK"


def _second(body: dict[str, Any]) -> dict[str, Any]:
    fresh = {**body, "networkToken": {**body["networkToken"], "cryptogram": "FreshCryptogram2=="}}
    return fresh


async def _soft_decline(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    response = await client.post("/psp-makepayment", json=body)
    assert response.status_code == 200
    assert response.json()["status"] == "SOFT_DECLINE"
    return response


@pytest.mark.parametrize(
    ("decision", "status", "code"), [("approve", "RESERVE", None), ("reject", "FAIL", "3DS_FAILED")]
)
async def test_round_trip(tmp_path: Path, callback: Make, decision: str, status: str, code: str | None) -> None:
    body = callback("3000", "sd-1", softDeclineCompletedRedirectUrl=COMPLETED)
    async with client_for(tmp_path) as client:
        first = await _soft_decline(client, body)
        url = first.json()["softDeclineRedirectUrl"]
        assert url == "https://psp.test/3ds/sd-1"
        page = await client.get(url)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<meta name="generator" content="card-callback reference server">' in page.text
        assert len(re.findall(r"<form\b", page.text)) == 1 and 'method="post"' in page.text
        assert f'name="decision" value="{decision}"' in page.text
        token = form_token(page.text)
        posted = await decide(client, url, decision, token)
        assert posted.status_code == 303
        assert posted.headers["location"] == COMPLETED
        second = await client.post("/psp-makepayment", json=_second(body))
        assert second.status_code == 200
        assert second.json()["status"] == status
        assert second.json().get("errorCode") == code
        # Replays of either callback get their own answer again, byte for byte.
        assert (await client.post("/psp-makepayment", json=_second(body))).content == second.content
        assert (await client.post("/psp-makepayment", json=body)).content == first.content
        # A third, different callback is refused, and the session is closed.
        third = {**_second(body), "networkToken": {**body["networkToken"], "cryptogram": "Third=="}}
        assert (await client.post("/psp-makepayment", json=third)).status_code == 409
        assert (await decide(client, url, decision, token)).status_code == 409
        assert "closed" in (await client.get(url)).text
        attempt = (await client.get("/attempts/sd-1")).json()
        assert attempt["threeDSecure"]["state"] == "closed"
        assert attempt["threeDSecure"]["decision"] == decision
        assert [c["answer"]["status"] for c in attempt["callbacks"]] == ["SOFT_DECLINE", status]


async def test_never_completed_fails(tmp_path: Path, callback: Make) -> None:
    body = callback("3000", "sd-2")
    async with client_for(tmp_path) as client:
        await _soft_decline(client, body)
        second = await client.post("/psp-makepayment", json=_second(body))
    assert second.json() == {
        "status": "FAIL",
        "errorCode": "3DS_FAILED",
        "errorMessage": second.json()["errorMessage"],
    }


@pytest.mark.parametrize("again", ["approve", "reject"])
async def test_a_session_is_decided_once(tmp_path: Path, callback: Make, again: str) -> None:
    body = callback("3000", "sd-3", softDeclineCompletedRedirectUrl=COMPLETED)
    async with client_for(tmp_path) as client:
        url = (await _soft_decline(client, body)).json()["softDeclineRedirectUrl"]
        token = form_token((await client.get(url)).text)
        assert (await decide(client, url, "approve", token)).status_code == 303
        before = (await client.get("/attempts/sd-3")).json()["threeDSecure"]
        second = await decide(client, url, again, token)
        assert second.status_code == 409
        assert second.headers["content-type"] == "application/problem+json"
        assert "already decided (approve)" in second.json()["detail"]
        assert "location" not in second.headers
        assert (await decide(client, url, "maybe", token)).status_code == 400
        assert "Decision recorded: approve" in (await client.get(url)).text
        assert (await client.get("/attempts/sd-3")).json()["threeDSecure"] == before
        assert (await client.post("/psp-makepayment", json=_second(body))).json()["status"] == "RESERVE"


async def test_second_callback_must_be_about_the_same_payment(tmp_path: Path, callback: Make) -> None:
    body = callback("3000", "sd-4")
    async with client_for(tmp_path) as client:
        await _soft_decline(client, body)
        other = {**_second(body), "pspReference": "someone-else"}
        response = await client.post("/psp-makepayment", json=other)
    assert response.status_code == 409
    assert "pspReference" in response.json()["detail"]


async def test_three_ds_page_only_for_soft_declined_attempts(tmp_path: Path, callback: Make) -> None:
    async with client_for(tmp_path) as client:
        await client.post("/psp-makepayment", json=callback("1234", "plain-1"))
        assert (await client.get("/3ds/plain-1")).status_code == 404
        assert (await client.get("/3ds/unknown")).status_code == 404
        # Where the 3-D Secure pages are (https: this server is not on loopback); a forged token is refused first.
        refused = await decide(client, "https://psp.test/3ds/unknown", "approve", "not-a-token")
        assert refused.status_code == 403 and "token" in refused.json()["detail"]


async def test_attempt_ids_with_reserved_characters_get_a_working_page(tmp_path: Path, callback: Make) -> None:
    body = callback("3000", "a/b c?d%e", softDeclineCompletedRedirectUrl=COMPLETED)
    async with client_for(tmp_path) as client:
        url = (await _soft_decline(client, body)).json()["softDeclineRedirectUrl"]
        assert url == "https://psp.test/3ds/a%2Fb%20c%3Fd%25e"
        assert (await client.get(url)).status_code == 200
        assert (await decide(client, url, "approve")).headers["location"] == COMPLETED
        assert (await client.post("/psp-makepayment", json=_second(body))).json()["status"] == "RESERVE"


async def test_page_url_follows_the_host_header(tmp_path: Path, callback: Make) -> None:
    async with client_for(tmp_path) as client:
        response = await client.post(
            "/psp-makepayment", json=callback("3000", "sd-5"), headers={"host": "psp.example.com:8443"}
        )
        bogus = await client.post(
            "/psp-makepayment", json=callback("3000", "sd-6"), headers={"host": "evil.example/path?x"}
        )
        local = {
            host: (await client.post("/psp-makepayment", json=callback("3000", f"sd-{host}"),
                                     headers={"host": host})).json()["softDeclineRedirectUrl"]
            for host in ("127.0.0.1:8080", "localhost", "[::1]:9000")
        }
    # Plain http to a network host is what the document forbids: the server is taken to sit behind TLS.
    assert response.json()["softDeclineRedirectUrl"] == "https://psp.example.com:8443/3ds/sd-5"
    # On loopback, local runs stay on plain http.
    assert local == {
        "127.0.0.1:8080": "http://127.0.0.1:8080/3ds/sd-127.0.0.1%3A8080",
        "localhost": "http://localhost/3ds/sd-localhost",
        "[::1]:9000": "http://[::1]:9000/3ds/sd-%5B%3A%3A1%5D%3A9000",
    }
    # A Host header that is not a host name is not trusted into the URL.
    assert "evil" not in bogus.json()["softDeclineRedirectUrl"]


async def test_three_ds_page_refuses_bad_requests_with_4xx(tmp_path: Path, callback: Make) -> None:
    async with client_for(tmp_path) as client:
        url = (await _soft_decline(client, callback("3000", "sd-7"))).json()["softDeclineRedirectUrl"]
        no_type = await client.post(url, content=b"decision=approve")
        as_json = await client.post(url, json={"decision": "approve"})
        put = await client.put(url, data={"decision": "approve"})
    assert no_type.status_code == 400
    assert as_json.status_code == 415
    assert put.status_code == 405
    assert put.headers["allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize("host", ["psp.example.com:99999", "[::::]", "[1.2.3]"])
async def test_a_host_header_that_makes_no_valid_url_is_not_used(tmp_path: Path, callback: Make, host: str) -> None:
    async with client_for(tmp_path) as client:
        answer = await client.post("/psp-makepayment", json=callback("3000", "sd-host"), headers={"host": host})
        decision = await client.post("/3ds/sd-host", data={"decision": "approve", "token": "x"},
                                     headers={"host": host, "Origin": "https://psp.example.com"})
    # Still a valid answer (validated against the document here), on the address the server was reached at.
    assert answer.status_code == 200
    assert answer.json()["softDeclineRedirectUrl"] == "https://psp.test/3ds/sd-host"
    assert decision.status_code == 403
