"""A second correct PSP in another style: FastAPI and pydantic models, 422 for invalid callbacks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

PATH = "/vipps/card-callback"
Str = Annotated[str, Field(min_length=1, strict=True)]


def _pattern(regex: str) -> Any:
    return Annotated[str, Field(pattern=regex, strict=True)]


class NetworkToken(BaseModel):
    model_config = ConfigDict(extra="ignore")
    number: _pattern(r"^[0-9]{1,19}$")  # type: ignore[valid-type]
    cryptogram: Str
    expiryMonth: _pattern(r"^(0[1-9]|1[0-2])$")  # type: ignore[valid-type]  # noqa: N815
    expiryYear: _pattern(r"^[0-9]{4}$")  # type: ignore[valid-type]  # noqa: N815
    tokenType: Literal["VISA", "MASTERCARD"] | None = None  # noqa: N815
    eci: _pattern(r"^[0-9]{1,2}$") | None = None  # type: ignore[valid-type]
    paymentAccountReference: _pattern(r"^[A-Z0-9]{29}$") | None = None  # type: ignore[valid-type]  # noqa: N815


class Common(BaseModel):
    model_config = ConfigDict(extra="ignore")
    pspReference: Str  # noqa: N815
    authorizationAttemptId: Str  # noqa: N815
    merchantSerialNumber: _pattern(r"^[0-9]{4,6}$")  # type: ignore[valid-type]  # noqa: N815
    maskedCardNumber: _pattern(r"^[0-9]{6,8}X{1,9}[0-9]{4}$")  # type: ignore[valid-type]  # noqa: N815
    cardType: Str  # noqa: N815
    cardIssuedInCountryCode: _pattern(r"^[A-Z]{2}$")  # type: ignore[valid-type]  # noqa: N815
    # https to a host name or IPv4 address, or http to a loopback host only (the document's description)
    softDeclineCompletedRedirectUrl: _pattern(  # type: ignore[valid-type]  # noqa: N815
        r"^(?:https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|http://(?:localhost|127(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}|\[::1\]))(?::[0-9]{1,5})?(?:[/?#]\S*)?$"
    )


class TokenCallback(Common):
    paymentInstrument: Literal["TOKEN"]  # noqa: N815
    networkToken: NetworkToken  # noqa: N815
    encryptedPan: Str | None = None  # noqa: N815


class PanCallback(Common):
    paymentInstrument: Literal["PAN"]  # noqa: N815
    encryptedPan: Str  # noqa: N815
    networkToken: NetworkToken | None = None  # noqa: N815


class Answer(BaseModel):
    status: str
    networkTransactionReference: str | None = None  # noqa: N815
    errorCode: str | None = None  # noqa: N815
    errorMessage: str | None = None  # noqa: N815
    softDeclineRedirectUrl: str | None = None  # noqa: N815


def make_fastapi_psp(*, write_nulls: bool = False) -> FastAPI:
    app = FastAPI()
    seen: dict[str, list[tuple[dict[str, Any], Answer]]] = {}  # per attempt id: each callback and its answer

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 quotes the input, card data included; the document's Problem never does.
        where = "; ".join(".".join(map(str, e["loc"])) + ": " + e["msg"] for e in exc.errors())
        return JSONResponse({"title": "Unprocessable Content", "status": 422, "detail": where}, status_code=422,
                            media_type="application/problem+json")

    @app.post(PATH)
    async def callback(
        body: Annotated[TokenCallback | PanCallback, Field(discriminator="paymentInstrument")],
    ) -> JSONResponse:
        data = body.model_dump()
        earlier = seen.setdefault(body.authorizationAttemptId, [])
        answer = next((a for d, a in earlier if d == data), None)
        if answer is None and earlier:
            if len(earlier) > 1 or earlier[0][1].status != "SOFT_DECLINE":
                return JSONResponse({"title": "Conflict", "status": 409}, status_code=409,
                                    media_type="application/problem+json")
            # The second callback after 3-D Secure, which this PSP never saw completed.
            answer = Answer(status="FAIL", errorCode="3DS_FAILED", errorMessage="3-D Secure not completed")
        if answer is None:
            last4 = body.maskedCardNumber[-4:]
            if last4 == "0051":
                answer = Answer(status="FAIL", errorCode="51", errorMessage="Insufficient funds")
            elif last4 == "3000":
                answer = Answer(status="SOFT_DECLINE", softDeclineRedirectUrl="https://psp.example/3ds/x")
            else:
                answer = Answer(status="RESERVE", networkTransactionReference=f"ntr-{len(seen)}")
        if all(d != data for d, _ in earlier):
            earlier.append((data, answer))
        return JSONResponse(answer.model_dump(exclude_none=not write_nulls))

    return app
