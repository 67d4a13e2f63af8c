"""The baseline: a bare Starlette app that parses the callback body and returns fixed JSON."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_ANSWER = json.dumps({"status": "RESERVE", "networkTransactionReference": "123456789"}).encode()


async def callback(request: Request) -> Response:
    json.loads(await request.body())
    return Response(_ANSWER, media_type="application/json")


app = Starlette(routes=[Route("/psp-makepayment", callback, methods=["POST"])])
