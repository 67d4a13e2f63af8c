"""Small test PSPs for the simulator: well-behaved, broken, slow, signing-aware, and soft-declining ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from callback_core.errors import SignatureError
from callback_core.signing import verify

HMAC_SECRET = "test-psp-secret/with+base64-looking=chars"
GENERATOR_TAG = '<meta name="generator" content="card-callback reference server">'


@dataclass
class TestPsp:
    """What the test PSPs received (for assertions), and where they listen."""

    __test__ = False

    base_url: str
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    completion_urls: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(body) for where, _, body in self.received if where == path]

    def reset(self) -> None:
        self.received.clear()
        self.completion_urls.clear()
        self.decisions.clear()


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse(
        {"title": "error", "status": status, "detail": detail}, status, media_type="application/problem+json"
    )


def make_app(state: TestPsp) -> Starlette:
    async def record(request: Request) -> dict[str, Any]:
        body = await request.body()
        state.received.append((request.url.path, dict(request.headers), body))
        return json.loads(body)  # type: ignore[no-any-return]

    async def answer(request: Request) -> Response:
        kind = request.path_params["kind"]
        data = await record(request)
        if kind == "500":
            return _problem(500, "database unavailable")
        if kind == "400":
            return _problem(400, "merchantSerialNumber is not known")
        if kind == "slow":
            # Slower than any test deadline; stop early once the simulator has hung up.
            for _ in range(40):
                if await request.is_disconnected():
                    return Response(status_code=499)
                await asyncio.sleep(0.05)
            return JSONResponse({"status": "RESERVE"})
        if kind == "trickle":
            return StreamingResponse(_trickle(), media_type="application/json")
        if kind == "broken-json":
            return Response('{"status": "RESER', media_type="application/json")
        if kind == "invalid":
            return JSONResponse({"status": "FAIL"})
        if kind == "unknown-code":
            return JSONResponse({"status": "FAIL", "errorCode": "ZZ", "errorMessage": "Try another card"})
        if kind == "echo":
            token = data["networkToken"]
            message = f"token {token['number']} with cryptogram {token['cryptogram']} refused"
            return JSONResponse({"status": "FAIL", "errorCode": "05", "errorMessage": message})
        return JSONResponse({"status": kind.upper(), "networkTransactionReference": "123456789012345"})

    async def cards(request: Request) -> Response:
        flavour = request.path_params["flavour"]
        data = await record(request)
        attempt = data["authorizationAttemptId"]
        last4 = data["maskedCardNumber"][-4:]
        if attempt in state.decisions:
            if state.decisions[attempt] == "approve":
                return JSONResponse({"status": "RESERVE"})
            return JSONResponse({"status": "FAIL", "errorCode": "3DS_FAILED", "errorMessage": "3-D Secure failed"})
        if last4 == "0051":
            return JSONResponse({"status": "FAIL", "errorCode": "51", "errorMessage": "Insufficient funds"})
        if last4 == "0043":
            return JSONResponse({"status": "FAIL", "errorCode": "43", "errorMessage": "Stolen card"})
        if last4 == "3000":
            state.completion_urls[attempt] = data["softDeclineCompletedRedirectUrl"]
            url = f"{state.base_url}/3ds/{flavour}/{attempt}"
            return JSONResponse({"status": "SOFT_DECLINE", "softDeclineRedirectUrl": url})
        return JSONResponse({"status": "RESERVE"})

    async def three_ds_page(request: Request) -> Response:
        flavour = request.path_params["flavour"]
        head = GENERATOR_TAG if flavour == "ref" else '<meta name="generator" content="Some ACS 2.1">'
        if flavour == "no-form":
            return HTMLResponse(f"<html><head>{head}</head><body>Wait...</body></html>")
        # Like a real page: a hidden field that must come back, and two buttons for the decision.
        return HTMLResponse(
            f"<!doctype html><html><head>{head}<title>3-D Secure</title></head><body>"
            '<form method="post"><input type="hidden" name="session" value="s-1">'
            '<button type="submit" name="decision" value="approve">Approve</button>'
            '<button type="submit" name="decision" value="reject">Reject</button></form></body></html>'
        )

    async def three_ds_post(request: Request) -> Response:
        flavour = request.path_params["flavour"]
        attempt = request.path_params["attempt"]
        form = await request.form()
        if form.get("session") != "s-1":
            return _problem(400, "session field missing")
        state.decisions[attempt] = str(form["decision"])
        location = state.completion_urls[attempt]
        if flavour == "wrong-redirect":
            location = "https://psp.example/done"
        return Response(status_code=303, headers={"Location": location})

    async def hmac_checked(request: Request) -> Response:
        body = await request.body()
        state.received.append((request.url.path, dict(request.headers), body))
        try:
            verify(
                HMAC_SECRET,
                method=request.method,
                path_and_query=request.scope["raw_path"].decode("ascii")
                + (f"?{request.scope['query_string'].decode('ascii')}" if request.scope["query_string"] else ""),
                headers=request.headers,
                body=body,
                now=datetime.now(UTC),
                max_skew_seconds=300,
            )
        except SignatureError as exc:
            return _problem(401, str(exc))
        return JSONResponse({"status": "RESERVE"})

    return Starlette(
        routes=[
            Route("/answer/{kind}", answer, methods=["POST"]),
            Route("/cards/{flavour}", cards, methods=["POST"]),
            Route("/3ds/{flavour}/{attempt}", three_ds_page, methods=["GET"]),
            Route("/3ds/{flavour}/{attempt}", three_ds_post, methods=["POST"]),
            Route("/hmac/{rest:path}", hmac_checked, methods=["POST"]),
        ]
    )


async def _trickle() -> AsyncIterator[bytes]:
    # Each byte arrives well within a per-read timeout; only a total deadline catches this PSP.
    for char in '{"status": "RESERVE"}':
        await asyncio.sleep(0.15)
        yield char.encode()
