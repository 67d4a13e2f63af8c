"""simulate() in-process through httpx.MockTransport: the flow between attempts, without sockets."""

from __future__ import annotations

import json

import httpx

from callback_core.spec import Contract
from simulator.callbacks import from_bytes
from simulator.session import Settings, ThreeDSMode, simulate_sync
from simulator.verdict import Outcome

PAGE = (
    '<meta name="generator" content="card-callback reference server">'
    '<form method="post"><button name="decision" value="approve">OK</button></form>'
)


def _soft_declining_psp(completion: str) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cb":
            return httpx.Response(200, json={"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://psp/3ds/1"})
        if request.method == "GET":
            return httpx.Response(200, html=PAGE)
        return httpx.Response(303, headers={"Location": completion})

    return httpx.MockTransport(handle)


def test_a_body_that_is_not_an_object_stops_at_the_soft_decline(contract: Contract) -> None:
    callback = from_bytes(contract, b"[1, 2]")
    settings = Settings(url="http://psp/cb", deadline_seconds=2, complete_3ds=ThreeDSMode.APPROVE)
    run = simulate_sync(contract, callback, settings, transport=_soft_declining_psp("https://x/done"))
    assert run.verdict.outcome is Outcome.SOFT_DECLINE
    assert "no softDeclineCompletedRedirectUrl" in run.verdict.detail
    assert len(run.attempts) == 1


def test_a_body_without_a_completion_url_stops_at_the_soft_decline(contract: Contract) -> None:
    callback = from_bytes(contract, json.dumps({"paymentInstrument": "TOKEN"}).encode())
    settings = Settings(url="http://psp/cb", deadline_seconds=2)
    run = simulate_sync(contract, callback, settings, transport=_soft_declining_psp("https://x/done"))
    assert run.verdict.outcome is Outcome.SOFT_DECLINE
    assert "nothing to return to" in run.verdict.detail
