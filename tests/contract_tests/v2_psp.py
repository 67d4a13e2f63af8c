"""A PSP built to the nested-cardInfo revision (openapi/card-callback-v2.yaml), written from its text alone.

It shares nothing with the reference server or the toolkit's validators: it is what a PSP engineer would
write from the document. `make_v2_psp()` is careful; each `V2Defect` plants one way of breaking it.
"""

from __future__ import annotations

import hmac
import json
import re
import uuid
from enum import StrEnum
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PATH = "/vipps/v2/card-callback"
AUTH_HEADER = "X-Card-Callback-Auth"  # the header the v2 document assumes for cardCallbackAuthHeader
INT64_MAX = 2**63 - 1


class V2Defect(StrEnum):
    IGNORE_AUTH_HEADER = "ignore-auth-header"  # CC013
    READS_FLAT_CARD_NUMBER = "reads-flat-card-number"  # CC002: a PSP still reading the first document's shape
    STRING_ERROR_CODE = "string-error-code"  # CC001: "51" where the revision's errorCode is an integer


_ANY = re.compile(r".+", re.S)
_TOP = {
    "pspReference": _ANY,
    "authorizationAttemptId": _ANY,
    "merchantSerialNumber": re.compile(r"[0-9]{4,6}"),
    # https to a host name or IPv4 address, or http to a loopback host only (the document's description)
    "softDeclineCompletedRedirectUrl": re.compile(
        r"(?:https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|http://(?:localhost|127(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}|\[::1\]))(?::[0-9]{1,5})?(?:[/?#]\S*)?"
    ),
}
_CARD = {
    "maskedCardNumber": re.compile(r"[0-9]{6,8}X{1,9}[0-9]{4}"),
    "cardType": _ANY,
    "cardIssuedInCountryCode": re.compile(r"[A-Z]{2}"),
    "cardDataType": re.compile(r"TOKEN|PAN"),
}
_TOKEN = {
    "number": re.compile(r"[0-9]{1,19}"),
    "cryptogram": _ANY,
    "expiryMonth": re.compile(r"0[1-9]|1[0-2]"),
    "expiryYear": re.compile(r"[0-9]{4}"),
}
_OPTIONAL_TOKEN = {
    "tokenType": re.compile(r"VISA|MASTERCARD"),
    "eci": re.compile(r"[0-9]{1,2}"),
    "paymentAccountReference": re.compile(r"[A-Z0-9]{29}"),
}


def invalid_reason(body: Any) -> str | None:
    """Why a v2 callback is invalid, field by field as the document describes it."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    reason = _strings(body, _TOP, True, "")
    if reason:
        return reason
    amount = body.get("amount")
    if not isinstance(amount, dict):
        return "amount is required and must be an object"
    value = amount.get("value")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT64_MAX:
        return "amount.value must be an integer from 1 to 2^63-1 (minor units)"
    if not isinstance(amount.get("currency"), str) or not re.fullmatch(r"[A-Z]{3}", amount["currency"]):
        return "amount.currency must be an ISO 4217 code"
    card = body.get("cardInfo")
    if not isinstance(card, dict):
        return "cardInfo is required and must be an object"
    reason = _strings(card, _CARD, True, "cardInfo.")
    if reason:
        return reason
    if "encryptedPan" in card and not (isinstance(card["encryptedPan"], str) and card["encryptedPan"]):
        return "cardInfo.encryptedPan is not valid"
    if card["cardDataType"] == "PAN" and "encryptedPan" not in card:
        return "cardInfo.encryptedPan is required for PAN"
    if card["cardDataType"] == "TOKEN" and "networkToken" not in card:
        return "cardInfo.networkToken is required for TOKEN"
    if "networkToken" in card:
        token = card["networkToken"]
        if not isinstance(token, dict):
            return "cardInfo.networkToken must be an object"
        return _strings(token, _TOKEN, True, "cardInfo.networkToken.") or _strings(
            token, _OPTIONAL_TOKEN, False, "cardInfo.networkToken.")
    return None


def _strings(obj: dict[str, Any], fields: dict[str, re.Pattern[str]], required: bool, prefix: str) -> str | None:
    for name, pattern in fields.items():
        if name not in obj:
            if required:
                return f"{prefix}{name} is required"
            continue
        if not isinstance(obj[name], str) or not pattern.fullmatch(obj[name]):
            return f"{prefix}{name} is not valid"
    return None


# The codes of the revision's catalogue this PSP answers with: integers, as its errorCode is typed.
FAIL_CODES = {"0051": 51, "0043": 43, "3ds": 301}


def _decide(last4: str, base_url: str, codes: dict[str, Any]) -> dict[str, Any]:
    if last4 == "0002":
        return {"status": "CAPTURE"}
    if last4 == "0051":
        return {"status": "FAIL", "errorCode": codes["0051"], "errorMessage": "Insufficient funds"}
    if last4 == "0043":
        return {"status": "FAIL", "errorCode": codes["0043"], "errorMessage": "Stolen card"}
    if last4 == "3000":
        return {"status": "SOFT_DECLINE", "softDeclineRedirectUrl": f"{base_url}/3ds/{uuid.uuid4().hex}"}
    return {"status": "RESERVE"}


def _problem(status: int, title: str) -> Response:
    return JSONResponse({"title": title, "status": status}, status_code=status, media_type="application/problem+json")


def make_v2_psp(
    *, auth_value: str | None = None, defects: frozenset[V2Defect] = frozenset(),
    fail_codes: dict[str, Any] | None = None,
) -> Starlette:
    """`fail_codes` overrides FAIL_CODES by card ("0051", "0043") or "3ds" (the FAIL after 3-D Secure)."""
    answers: dict[str, tuple[bytes, dict[str, Any]]] = {}
    codes = {**FAIL_CODES, **(fail_codes or {})}
    if V2Defect.STRING_ERROR_CODE in defects:
        codes = {card: str(code) for card, code in codes.items()}

    async def callback(request: Request) -> Response:
        if auth_value is not None and V2Defect.IGNORE_AUTH_HEADER not in defects:
            given = request.headers.get(AUTH_HEADER)
            if given is None or not hmac.compare_digest(given.encode(), auth_value.encode()):
                return _problem(401, "auth header missing or wrong")
        raw = await request.body()
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _problem(415, "expected application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            return _problem(400, "malformed JSON")
        reason = invalid_reason(body)
        if reason:
            return _problem(400, reason)
        card = body["cardInfo"]
        masked = body["maskedCardNumber"] if V2Defect.READS_FLAT_CARD_NUMBER in defects else card["maskedCardNumber"]
        attempt = body["authorizationAttemptId"]
        if attempt in answers:
            previous_raw, previous = answers[attempt]
            if previous_raw == raw:
                return JSONResponse(previous)
            if previous["status"] != "SOFT_DECLINE":
                return _problem(409, "authorizationAttemptId already used")
            # The second callback after a soft decline: this PSP's 3-D Secure page was never completed.
            answer = {"status": "FAIL", "errorCode": codes["3ds"], "errorMessage": "3-D Secure not completed"}
            answers[attempt] = (raw, answer)
            return JSONResponse(answer)
        base = f"https://{request.headers['host']}"  # the document wants its 3-D Secure page on https
        answer = {**_decide(masked[-4:], base, codes), "networkTransactionReference": uuid.uuid4().hex}
        answers[attempt] = (raw, answer)
        return JSONResponse(answer)

    return Starlette(routes=[Route(PATH, callback, methods=["POST"])])
