"""Fixture PSPs, written from the document's prose and independently of the reference server.

`make_psp()` is a careful PSP; each `Defect` plants one way of breaking the contract, for one check.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PATH = "/callbacks/vipps/card"  # deliberately not the document's example path


class Defect(StrEnum):
    FAIL_WITHOUT_ERROR_CODE = "fail-without-error-code"  # CC001
    TEXT_PLAIN_ANSWER = "text-plain-answer"  # CC001
    SOFT_DECLINE_WITHOUT_URL = "soft-decline-without-url"  # CC001
    CRASH_ON_MALFORMED_JSON = "crash-on-malformed-json"  # CC002
    SLOW = "slow"  # CC003
    RESERVE_EVERYTHING = "reserve-everything"  # CC004
    REJECT_UNKNOWN_FIELDS = "reject-unknown-fields"  # CC005
    IGNORE_SIGNATURE = "ignore-signature"  # CC006
    NOT_IDEMPOTENT = "not-idempotent"  # CC007
    ACCEPT_STALE_DATE = "accept-stale-date"  # CC008
    RACY_IDEMPOTENCY = "racy-idempotency"  # CC012: "seen before?", then the issuer, then "store"
    BUSY_WHILE_IN_FLIGHT = "busy-while-in-flight"  # CC012 (a SHOULD): 409 to a copy still being authorized


_STRING = re.compile(r".+", re.S)
_TOP = {
    "pspReference": _STRING,
    "authorizationAttemptId": _STRING,
    "merchantSerialNumber": re.compile(r"[0-9]{4,6}"),
    "maskedCardNumber": re.compile(r"[0-9]{6,8}X{1,9}[0-9]{4}"),
    "cardType": _STRING,
    "cardIssuedInCountryCode": re.compile(r"[A-Z]{2}"),
    "paymentInstrument": re.compile(r"TOKEN|PAN"),
    "softDeclineCompletedRedirectUrl": re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S+"),
}
_OPTIONAL_TOP = {"encryptedPan": _STRING}
_TOKEN = {
    "number": re.compile(r"[0-9]{1,19}"),
    "cryptogram": _STRING,
    "expiryMonth": re.compile(r"0[1-9]|1[0-2]"),
    "expiryYear": re.compile(r"[0-9]{4}"),
}
_OPTIONAL_TOKEN = {
    "tokenType": re.compile(r"VISA|MASTERCARD"),
    "eci": re.compile(r"[0-9]{1,2}"),
    "paymentAccountReference": re.compile(r"[A-Z0-9]{29}"),
}


def invalid_reason(body: Any) -> str | None:
    """Why a callback is invalid, checked field by field from the document's prose."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    for fields, required in ((_TOP, True), (_OPTIONAL_TOP, False)):
        reason = _fields(body, fields, required, "")
        if reason:
            return reason
    if "networkToken" in body and body["networkToken"] is None:
        return "networkToken must be an object"
    token = body.get("networkToken")
    if body["paymentInstrument"] == "TOKEN" and token is None:
        return "networkToken is required for TOKEN"
    if body["paymentInstrument"] == "PAN" and "encryptedPan" not in body:
        return "encryptedPan is required for PAN"
    if token is not None:
        if not isinstance(token, dict):
            return "networkToken must be an object"
        return _fields(token, _TOKEN, True, "networkToken.") or _fields(token, _OPTIONAL_TOKEN, False, "networkToken.")
    return None


def _fields(obj: dict[str, Any], fields: dict[str, re.Pattern[str]], required: bool, prefix: str) -> str | None:
    for name, pattern in fields.items():
        if name not in obj:
            if required:
                return f"{prefix}{name} is required"
            continue
        value = obj[name]
        if not isinstance(value, str) or not pattern.fullmatch(value):
            return f"{prefix}{name} is not valid"
    return None


def _decide(body: dict[str, Any], base_url: str) -> dict[str, Any]:
    last4 = body["maskedCardNumber"][-4:]
    if last4 == "0002":
        return {"status": "CAPTURE"}
    if last4 == "0051":
        return {"status": "FAIL", "errorCode": "51", "errorMessage": "Insufficient funds"}
    if last4 == "0043":
        return {"status": "FAIL", "errorCode": "43", "errorMessage": "Stolen card"}
    if last4 == "3000":
        return {"status": "SOFT_DECLINE", "softDeclineRedirectUrl": f"{base_url}/3ds/{uuid.uuid4().hex}"}
    return {"status": "RESERVE"}


def _problem(status: int, title: str) -> Response:
    return JSONResponse({"title": title, "status": status}, status_code=status, media_type="application/problem+json")


def _verify(request: Request, body: bytes, secret: str, now: datetime, check_date: bool) -> str | None:
    """The webhook HMAC scheme, implemented from its description."""
    date = request.headers.get("x-ms-date")
    claimed = request.headers.get("x-ms-content-sha256")
    authorization = request.headers.get("authorization")
    if not (date and claimed and authorization):
        return "signature headers missing"
    if check_date:
        try:
            signed_at = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return "bad date"
        if abs((now - signed_at).total_seconds()) > 300:
            return "stale date"
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if not hmac.compare_digest(digest, claimed):
        return "content hash mismatch"
    target = request.scope["raw_path"].decode() + (
        "?" + request.scope["query_string"].decode() if request.scope["query_string"] else ""
    )
    message = f"POST\n{target}\n{date};{request.headers['host']};{digest}"
    expected = base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(authorization,
                               f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={expected}"):
        return "bad signature"
    return None


def make_psp(
    *,
    secret: str | None = None,
    defects: frozenset[Defect] = frozenset(),
    slow_seconds: float = 0.0,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Starlette:
    answers: dict[str, tuple[bytes, dict[str, Any]]] = {}
    in_flight: set[str] = set()

    async def callback(request: Request) -> Response:
        if Defect.SLOW in defects:
            await asyncio.sleep(slow_seconds)
        raw = await request.body()
        if secret is not None and Defect.IGNORE_SIGNATURE not in defects:
            reason = _verify(request, raw, secret, now(), check_date=Defect.ACCEPT_STALE_DATE not in defects)
            if reason:
                return _problem(401, reason)
        if Defect.RESERVE_EVERYTHING in defects:
            return JSONResponse({"status": "RESERVE"})
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _problem(415, "expected application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            if Defect.CRASH_ON_MALFORMED_JSON in defects:
                raise
            return _problem(400, "malformed JSON")
        reason = invalid_reason(body)
        if reason:
            return _problem(400, reason)
        if Defect.REJECT_UNKNOWN_FIELDS in defects and set(body) - set(_TOP) - set(_OPTIONAL_TOP) - {"networkToken"}:
            return _problem(400, "unknown fields")
        attempt = body["authorizationAttemptId"]
        if attempt in in_flight and Defect.BUSY_WHILE_IN_FLIGHT in defects:
            return _problem(409, "this authorizationAttemptId is being authorized")
        if attempt in answers and Defect.NOT_IDEMPOTENT not in defects:
            previous_raw, previous = answers[attempt]
            if previous_raw == raw:
                return _answer(previous, defects)
            if previous["status"] != "SOFT_DECLINE":
                return _problem(409, "authorizationAttemptId already used")
        if defects & {Defect.RACY_IDEMPOTENCY, Defect.BUSY_WHILE_IN_FLIGHT}:
            in_flight.add(attempt)
            await asyncio.sleep(0.05)  # the issuer's round trip, between "seen before?" and "store"
            in_flight.discard(attempt)
        base = f"{request.url.scheme}://{request.headers['host']}"
        answer = {**_decide(body, base), "networkTransactionReference": uuid.uuid4().hex}
        answers[attempt] = (raw, answer)
        return _answer(answer, defects)

    return Starlette(routes=[Route(PATH, callback, methods=["POST"])])


def _answer(answer: dict[str, Any], defects: frozenset[Defect]) -> Response:
    answer = dict(answer)
    if Defect.FAIL_WITHOUT_ERROR_CODE in defects and answer["status"] == "FAIL":
        answer.pop("errorCode")
    if Defect.SOFT_DECLINE_WITHOUT_URL in defects and answer["status"] == "SOFT_DECLINE":
        answer.pop("softDeclineRedirectUrl")
    if Defect.TEXT_PLAIN_ANSWER in defects:
        return Response(json.dumps(answer), media_type="text/plain")
    return JSONResponse(answer)
