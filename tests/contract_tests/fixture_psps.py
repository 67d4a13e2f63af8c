"""Fixture PSPs, written from the document's prose and independently of the reference server.

`make_psp()` is a careful PSP; each `Defect` plants one way of breaking the contract, for one check, and
each `Quirk` is a way of being correct that a suite could mistake for a defect.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PATH = "/callbacks/vipps/card"  # deliberately not the document's example path


class Defect(StrEnum):
    FAIL_WITHOUT_ERROR_CODE = "fail-without-error-code"  # CC001
    TEXT_PLAIN_ANSWER = "text-plain-answer"  # CC001
    SOFT_DECLINE_WITHOUT_URL = "soft-decline-without-url"  # CC001
    HTTP_SOFT_DECLINE_URL = "http-soft-decline-url"  # CC001: its 3-D Secure page on plain http to a network host
    CRASH_ON_MALFORMED_JSON = "crash-on-malformed-json"  # CC002
    SLOW = "slow"  # CC003
    RESERVE_EVERYTHING = "reserve-everything"  # CC004
    REJECT_UNKNOWN_FIELDS = "reject-unknown-fields"  # CC005
    IGNORE_SIGNATURE = "ignore-signature"  # CC006
    NOT_IDEMPOTENT = "not-idempotent"  # CC007
    ACCEPT_STALE_DATE = "accept-stale-date"  # CC008
    RACY_IDEMPOTENCY = "racy-idempotency"  # CC012: "seen before?", then the issuer, then "store"
    BUSY_WHILE_IN_FLIGHT = "busy-while-in-flight"  # CC012 (a SHOULD): 409 to a copy still being authorized
    PYTHON_DOLLAR = "python-dollar"  # CC004: re.match("^...$") lets "1234\n" through
    SECOND_CALLBACK_CONFLICT = "second-callback-conflict"  # CC009: 409 to the second callback
    SOFT_DECLINE_LOOP = "soft-decline-loop"  # CC009 (SHOULD): SOFT_DECLINE again to the second callback
    RETRY_CONFLICT = "retry-conflict"  # CC010: 409 to a new attempt for a payment it has seen
    RETRY_OLD_ANSWER = "retry-old-answer"  # CC010: a new attempt gets the payment's first answer
    ECHO_CARD_DATA = "echo-card-data"  # CC011 (SHOULD): the 400 detail quotes the whole callback
    # How PSPs mishandle what real senders vary (CC014, CC006, CC008):
    HASH_REPARSED_BODY = "hash-reparsed-body"  # hashes JSON.stringify(JSON.parse(body)), as Vipps's JS sample
    CASE_SENSITIVE_DATE = "case-sensitive-date"  # headers["X-Ms-Date"] on the names as sent (needs raw_host)
    ACCEPT_FUTURE_DATE = "accept-future-date"  # refuses only dates too far in the past
    CHARSET_REFUSED = "charset-refused"  # 415 unless Content-Type is exactly application/json
    ASCII_ONLY = "ascii-only"  # decodes the body as ASCII: 500 on any other byte
    SMALL_BUFFER = "small-buffer"  # a 5 KiB read buffer: 500 on anything larger


class Quirk(StrEnum):
    RANDOM_OUTCOME = "random-outcome"  # each attempt's outcome drawn at random, as an issuer's may be
    UNPROCESSABLE = "unprocessable"  # 422 instead of 400 for invalid callbacks
    CHARSET = "charset"  # application/json; charset=utf-8
    EXTRA_ANSWER_FIELDS = "extra-answer-fields"  # fields the response schema does not name
    NO_TRANSACTION_REFERENCE = "no-transaction-reference"  # networkTransactionReference is optional
    CONNECTION_CLOSE = "connection-close"  # Connection: close on every answer
    HALF_SOFT_DECLINED = "half-soft-declined"  # every other first callback needs 3-D Secure
    GZIP = "gzip"  # every answer gzip-compressed (Content-Encoding: gzip)
    PRETTY_ANSWERS = "pretty-answers"  # answers as indented JSON
    OWN_RULE_DECLINES = "own-rule-declines"  # declines by its own rule (the payment reference), not by test cards


_STRING = re.compile(r".+", re.S)
_TOP = {
    "pspReference": _STRING,
    "authorizationAttemptId": _STRING,
    "merchantSerialNumber": re.compile(r"[0-9]{4,6}"),
    "maskedCardNumber": re.compile(r"[0-9]{6,8}X{1,9}[0-9]{4}"),
    "cardType": _STRING,
    "cardIssuedInCountryCode": re.compile(r"[A-Z]{2}"),
    "paymentInstrument": re.compile(r"TOKEN|PAN"),
    # https to a host name or IPv4 address, or http to a loopback host only (the document's description)
    "softDeclineCompletedRedirectUrl": re.compile(
        r"(?:https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|http://(?:localhost|127(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}|\[::1\]))(?::[0-9]{1,5})?(?:[/?#]\S*)?"
    ),
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


def invalid_reason(body: Any, python_dollar: bool = False) -> str | None:
    """Why a callback is invalid, checked field by field from the document's prose."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    for fields, required in ((_TOP, True), (_OPTIONAL_TOP, False)):
        reason = _fields(body, fields, required, "", python_dollar)
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
        return (_fields(token, _TOKEN, True, "networkToken.", python_dollar)
                or _fields(token, _OPTIONAL_TOKEN, False, "networkToken.", python_dollar))
    return None


def _fields(
    obj: dict[str, Any], fields: dict[str, re.Pattern[str]], required: bool, prefix: str, python_dollar: bool
) -> str | None:
    for name, pattern in fields.items():
        if name not in obj:
            if required:
                return f"{prefix}{name} is required"
            continue
        value = obj[name]
        matches = (re.match(f"^(?:{pattern.pattern})$", value, re.S) if python_dollar and isinstance(value, str)
                   else isinstance(value, str) and pattern.fullmatch(value))
        if not matches:
            return f"{prefix}{name} is not valid"
    return None


def _decide(body: dict[str, Any], base_url: str, quirks: frozenset[Quirk]) -> dict[str, Any]:
    attempt_hash = hashlib.sha256(body["authorizationAttemptId"].encode()).digest()
    soft_decline = {"status": "SOFT_DECLINE", "softDeclineRedirectUrl": f"{base_url}/3ds/{uuid.uuid4().hex}"}
    if Quirk.RANDOM_OUTCOME in quirks:
        return random.Random(attempt_hash).choice([
            {"status": "RESERVE"}, {"status": "CAPTURE"}, soft_decline,
            {"status": "FAIL", "errorCode": "51", "errorMessage": "Insufficient funds"},
            {"status": "FAIL", "errorCode": "05", "errorMessage": "Do not honour"},
            {"status": "FAIL", "errorCode": "43", "errorMessage": "Stolen card"},
        ])
    if Quirk.HALF_SOFT_DECLINED in quirks and attempt_hash[0] % 2:
        return soft_decline
    if Quirk.OWN_RULE_DECLINES in quirks:
        # A sandbox with test cards of its own: a payment's outcome follows from its reference, whatever the card;
        # a user's retry (the same payment) is declined again.
        return [soft_decline, {"status": "FAIL", "errorCode": "51", "errorMessage": "Insufficient funds"},
                {"status": "FAIL", "errorCode": "43", "errorMessage": "Stolen card"},
                {"status": "RESERVE"}][hashlib.sha256(body["pspReference"].encode()).digest()[0] % 4]
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


HEADERS_AS_SENT = "headers-as-sent"  # scope["extensions"] key under which raw_host passes the names as sent


def _verify(
    request: Request, body: bytes, secret: str, now: datetime, check_date: bool,
    defects: frozenset[Defect] = frozenset(),
) -> str | None:
    """The webhook HMAC scheme, implemented from its description."""
    date = request.headers.get("x-ms-date")
    if Defect.CASE_SENSITIVE_DATE in defects:  # a dict of the headers as sent, looked up by one spelling
        date = dict(request.scope.get("extensions", {}).get(HEADERS_AS_SENT, ())).get("X-Ms-Date")
    claimed = request.headers.get("x-ms-content-sha256")
    authorization = request.headers.get("authorization")
    if not (date and claimed and authorization):
        return "signature headers missing"
    if check_date:
        try:
            signed_at = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return "bad date"
        skew = (now - signed_at).total_seconds()
        if skew > 300 or (skew < -300 and Defect.ACCEPT_FUTURE_DATE not in defects):
            return "stale date"
    hashed = body
    if Defect.HASH_REPARSED_BODY in defects:
        try:  # JSON.stringify(JSON.parse(body)): compact, keys in their order, non-ASCII raw
            hashed = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
        except ValueError:
            pass
    digest = base64.b64encode(hashlib.sha256(hashed).digest()).decode()
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
    quirks: frozenset[Quirk] = frozenset(),
    slow_seconds: float = 0.0,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Starlette:
    answers: dict[str, list[tuple[bytes, dict[str, Any]]]] = {}  # per attempt id, every callback answered
    in_flight: set[str] = set()
    payments: dict[str, dict[str, Any]] = {}  # per pspReference, the first answer (for the planted defects)

    def problem(status: int, title: str) -> Response:
        if status == 400 and Quirk.UNPROCESSABLE in quirks:
            status = 422
        return _with_quirks(_problem(status, title), quirks)

    async def callback(request: Request) -> Response:
        if Defect.SLOW in defects:
            await asyncio.sleep(slow_seconds)
        raw = await request.body()
        if Defect.SMALL_BUFFER in defects and len(raw) > 5 * 1024:
            raise BufferError("request body larger than the 5 KiB buffer")
        if Defect.ASCII_ONLY in defects:
            raw.decode("ascii")  # raises on the first non-ASCII byte: a 500
        if secret is not None and Defect.IGNORE_SIGNATURE not in defects:
            reason = _verify(request, raw, secret, now(), check_date=Defect.ACCEPT_STALE_DATE not in defects,
                             defects=defects)
            if reason:
                return problem(401, reason)
        if Defect.RESERVE_EVERYTHING in defects:
            return JSONResponse({"status": "RESERVE"})
        content_type = request.headers.get("content-type", "")
        if Defect.CHARSET_REFUSED in defects and content_type != "application/json":
            return problem(415, "expected application/json")
        if content_type.split(";")[0].strip() != "application/json":
            return problem(415, "expected application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            if Defect.CRASH_ON_MALFORMED_JSON in defects:
                raise
            return problem(400, "malformed JSON")
        reason = invalid_reason(body, python_dollar=Defect.PYTHON_DOLLAR in defects)
        if reason:
            return problem(400, f"{reason}: {raw.decode()}" if Defect.ECHO_CARD_DATA in defects else reason)
        if Defect.REJECT_UNKNOWN_FIELDS in defects and set(body) - set(_TOP) - set(_OPTIONAL_TOP) - {"networkToken"}:
            return problem(400, "unknown fields")
        attempt, payment = body["authorizationAttemptId"], body["pspReference"]
        if attempt in in_flight and Defect.BUSY_WHILE_IN_FLIGHT in defects:
            return problem(409, "this authorizationAttemptId is being authorized")
        earlier = answers.get(attempt, [])
        identical = next((answer for earlier_raw, answer in earlier if earlier_raw == raw), None)
        if identical is not None:
            if Defect.NOT_IDEMPOTENT not in defects:  # the identical callback again: the identical answer
                return _answer(identical, defects, quirks)
            earlier = []  # authorizes the repeat again, as if it had never seen it
        if payment in payments and not earlier:  # a user's new attempt at a payment already answered
            if Defect.RETRY_CONFLICT in defects:
                return problem(409, "pspReference already used")
            if Defect.RETRY_OLD_ANSWER in defects:
                return _answer(payments[payment], defects, quirks)
        if defects & {Defect.RACY_IDEMPOTENCY, Defect.BUSY_WHILE_IN_FLIGHT}:
            in_flight.add(attempt)
            await asyncio.sleep(0.05)  # the issuer's round trip, between "seen before?" and "store"
            in_flight.discard(attempt)
        # Its 3-D Secure page is on https, as the document requires (one defect keeps the scheme it was called on).
        scheme = request.url.scheme if Defect.HTTP_SOFT_DECLINE_URL in defects else "https"
        base = f"{scheme}://{request.headers['host']}"
        if not earlier:
            answer = _decide(body, base, quirks)
        elif len(earlier) == 1 and earlier[0][1]["status"] == "SOFT_DECLINE" \
                and Defect.SECOND_CALLBACK_CONFLICT not in defects:
            # The second callback after 3-D Secure; this PSP hosts no 3-D Secure page, so it was never completed.
            answer = (_decide(body, base, quirks) if Defect.SOFT_DECLINE_LOOP in defects
                      else {"status": "FAIL", "errorCode": "3DS_FAILED", "errorMessage": "3-D Secure not completed"})
        else:
            return problem(409, "authorizationAttemptId already used")
        if Quirk.NO_TRANSACTION_REFERENCE not in quirks:
            answer["networkTransactionReference"] = uuid.uuid4().hex
        answers.setdefault(attempt, []).append((raw, answer))
        payments.setdefault(payment, answer)
        return _answer(answer, defects, quirks)

    middleware = [Middleware(GZipMiddleware, minimum_size=0)] if Quirk.GZIP in quirks else []
    return Starlette(routes=[Route(PATH, callback, methods=["POST"])], middleware=middleware)


def _answer(answer: dict[str, Any], defects: frozenset[Defect], quirks: frozenset[Quirk]) -> Response:
    answer = dict(answer)
    if Defect.FAIL_WITHOUT_ERROR_CODE in defects and answer["status"] == "FAIL":
        answer.pop("errorCode")
    if Defect.SOFT_DECLINE_WITHOUT_URL in defects and answer["status"] == "SOFT_DECLINE":
        answer.pop("softDeclineRedirectUrl")
    if Quirk.EXTRA_ANSWER_FIELDS in quirks:
        answer |= {"pspTransactionId": "t-1", "acquirer": {"name": "example", "traceId": 7}}
    if Defect.TEXT_PLAIN_ANSWER in defects:
        return Response(json.dumps(answer), media_type="text/plain")
    media_type = "application/json; charset=utf-8" if Quirk.CHARSET in quirks else "application/json"
    text = json.dumps(answer, indent=2) + "\n" if Quirk.PRETTY_ANSWERS in quirks else json.dumps(answer)
    return _with_quirks(Response(text, media_type=media_type), quirks)


def _with_quirks(response: Response, quirks: frozenset[Quirk]) -> Response:
    if Quirk.CONNECTION_CLOSE in quirks:
        response.headers["Connection"] = "close"
    return response
