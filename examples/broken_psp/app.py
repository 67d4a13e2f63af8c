"""A deliberately broken PSP card-callback endpoint in FastAPI: five mistakes real endpoints make."""

# Each mistake is marked `DEFECT n`; examples/broken_psp/README.md lists the check code the contract
# suite reports for each. Do not copy this code into a real endpoint.

from __future__ import annotations

import json
import os
import socket
import zlib
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

CALLBACK_PATH = os.environ.get("PSP_CALLBACK_PATH", "/callbacks/vipps")
SECRET = os.environ.get("CARD_CALLBACK_HMAC_SECRET") or None


class NetworkToken(BaseModel):
    # DEFECT 1 (forward compatibility): unknown fields are refused, so the next revision of the
    # callback (`amount`, `cardInfo`) would be answered 422 instead of being authorized.
    model_config = ConfigDict(extra="forbid")

    number: str
    cryptogram: str
    expiryMonth: str
    expiryYear: str
    tokenType: str | None = None
    eci: str | None = None
    paymentAccountReference: str | None = None


class Callback(BaseModel):
    model_config = ConfigDict(extra="forbid")  # DEFECT 1 again, on the body itself

    # DEFECT 2 (invalid callbacks accepted): plain strings, no patterns, no check that the
    # instrument's card data is there; a malformed callback is authorized.
    pspReference: str
    authorizationAttemptId: str
    merchantSerialNumber: str
    maskedCardNumber: str
    cardType: str
    cardIssuedInCountryCode: str
    paymentInstrument: str
    softDeclineCompletedRedirectUrl: str
    networkToken: NetworkToken | None = None
    encryptedPan: str | None = None


app = FastAPI(title="broken PSP")


@app.post(CALLBACK_PATH)
async def card_callback(request: Request) -> JSONResponse:
    if SECRET is not None and "authorization" not in request.headers:
        # DEFECT 3 (signature not verified): the header must be there, but nobody checks it.
        raise HTTPException(status_code=401, detail="missing signature")
    # DEFECT 4 (5xx on bad input): json.loads raises on a body that is not JSON, and the exception
    # becomes a 500, which Vipps MobilePay treats as final for the paying user.
    payload: Any = json.loads(await request.body())
    try:
        callback = Callback.model_validate(payload)
    except ValidationError as exc:
        return JSONResponse({"detail": exc.errors(include_input=False, include_url=False)}, status_code=422)
    if callback.maskedCardNumber.endswith("0051"):
        # DEFECT 5 (answer not per the contract): errorCode must be a string of the catalogue; this
        # one is a number, as in an example from another Vipps MobilePay API.
        return JSONResponse({"status": "FAIL", "errorCode": 51, "errorMessage": "Insufficient funds"})
    reference = f"{zlib.crc32(callback.authorizationAttemptId.encode()):08x}"
    return JSONResponse({"status": "RESERVE", "networkTransactionReference": reference})


def main() -> None:
    """Serve on HOST:PORT (default 127.0.0.1:8082; PORT=0 picks a free port) and say where."""
    host = os.environ.get("HOST", "127.0.0.1")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(os.environ.get("PORT", "8082"))))
    print(f"listening on http://{host}:{sock.getsockname()[1]}{CALLBACK_PATH}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main()
