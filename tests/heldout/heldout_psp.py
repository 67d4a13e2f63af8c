"""A PSP built to the held-out revision (card-callback-heldout.yaml), written from its text alone.

It shares nothing with the toolkit (no validator, no signing code, no field roles): it is what a PSP
engineer would write from that document, with its field names, its integer catalogue, its headers.
`make_heldout_psp()` is careful; each `Defect` plants one way of breaking it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PATH = "/v3/vipps/card-authorisations"
CREDENTIAL_HEADER = "X-Callback-Credential"
SIGNATURE_HEADER, TIMESTAMP_HEADER, DIGEST_HEADER = "X-Vmp-Signature", "X-Vmp-Timestamp", "X-Vmp-Body-Digest"
SIGNED = "x-vmp-timestamp;host;x-vmp-body-digest"
MAX_SKEW_SECONDS = 300
INT64_MAX = 2**63 - 1
# The revision's catalogue, as this PSP maps its acquirer's answers onto it.
CODES = {"insufficient-funds": 4101, "stolen": 4207, "three-ds": 4450}


class Defect(StrEnum):
    IGNORE_CREDENTIAL = "ignore-credential"  # never checks X-Callback-Credential
    IGNORE_SIGNATURE = "ignore-signature"  # never checks the HMAC headers
    STRING_ERROR_CODE = "string-error-code"  # "4101" where errorCode is an integer
    REFUSE_RETRIES = "refuse-retries"  # 409 to a new attempt of a payment that already failed
    READS_V2_SHAPE = "reads-v2-shape"  # still reads cardInfo.maskedCardNumber: a KeyError, HTTP 500
    TOKEN_ONLY = "token-only"  # refuses ENCRYPTED_CARD_NUMBER instruments with 400
    CLOSED_OBJECTS = "closed-objects"  # refuses properties it does not know with 400
    SECOND_CALLBACK_CONFLICT = "second-callback-conflict"  # 409 to the second callback after a soft decline
    CLOSED_EXPIRY = "closed-expiry"  # refuses unknown properties only in the deepest object, schemeToken.validTo
    REFUSES_RECURRING = "refuses-recurring"  # 400 to the optional paymentContext RECURRING_CIT
    LAX_KIND = "lax-kind"  # takes any instrumentKind other than ENCRYPTED_CARD_NUMBER for a token


_ANY = re.compile(r".+", re.S)
_URL = re.compile(
    r"(?:https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|http://(?:localhost|127(?:\.(?:25[0-5]|2[0-4][0-9]"
    r"|1[0-9]{2}|[1-9]?[0-9])){3}|\[::1\]))(?::[0-9]{1,5})?(?:[/?#]\S*)?"
)
_TOP = {"pspReference": _ANY, "authorizationAttemptId": _ANY, "merchantSerialNumber": re.compile(r"[0-9]{4,6}"),
        "softDeclineCompletedRedirectUrl": _URL}
_CARD = {"maskedNumber": re.compile(r"[0-9]{6,8}X{1,9}[0-9]{4}"), "product": _ANY,
         "issuerCountry": re.compile(r"[A-Z]{2}")}
_TOKEN = {"tokenNumber": re.compile(r"[0-9]{1,19}"), "tokenCryptogram": _ANY}
_TOKEN_OPTIONAL = {"scheme": re.compile(r"VISA|MASTERCARD"), "eciIndicator": re.compile(r"[0-9]{1,2}"),
                   "par": re.compile(r"[A-Z0-9]{29}")}
_EXPIRY = {"month": re.compile(r"0[1-9]|1[0-2]"), "year": re.compile(r"[0-9]{4}")}
_KNOWN = {
    "": {*_TOP, "paymentContext", "amount", "instrument"},
    "amount": {"minorUnits", "currency"},
    "instrument": {"instrumentKind", "card", "schemeToken", "encryptedCardNumber"},
    "card": set(_CARD),
    "schemeToken": {*_TOKEN, *_TOKEN_OPTIONAL, "validTo"},
    "validTo": set(_EXPIRY),
}


def invalid_reason(body: Any, *, closed: frozenset[str] = frozenset(), lax_kind: bool = False) -> str | None:
    """Why a callback is invalid against the held-out revision, field by field."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    reason = _strings(body, _TOP, True, "")
    if reason:
        return reason
    if "paymentContext" in body and body["paymentContext"] not in ("EPAYMENT", "RECURRING_CIT"):
        return "paymentContext is not valid"
    amount = body.get("amount")
    if not isinstance(amount, dict):
        return "amount is required and must be an object"
    units = amount.get("minorUnits")
    if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= INT64_MAX:
        return "amount.minorUnits must be an integer from 1"
    if not isinstance(amount.get("currency"), str) or not re.fullmatch(r"[A-Z]{3}", amount["currency"]):
        return "amount.currency must be an ISO 4217 code"
    instrument = body.get("instrument")
    if not isinstance(instrument, dict):
        return "instrument is required and must be an object"
    kind = instrument.get("instrumentKind")
    if kind not in ("SCHEME_TOKEN", "ENCRYPTED_CARD_NUMBER") and not lax_kind:
        return "instrument.instrumentKind is not valid"
    card = instrument.get("card")
    if not isinstance(card, dict):
        return "instrument.card is required and must be an object"
    reason = _strings(card, _CARD, True, "instrument.card.")
    if reason:
        return reason
    if "encryptedCardNumber" in instrument and not (
            isinstance(instrument["encryptedCardNumber"], str) and instrument["encryptedCardNumber"]):
        return "instrument.encryptedCardNumber is not valid"
    if kind == "ENCRYPTED_CARD_NUMBER" and "encryptedCardNumber" not in instrument:
        return "instrument.encryptedCardNumber is required for ENCRYPTED_CARD_NUMBER"
    if kind != "ENCRYPTED_CARD_NUMBER" and "schemeToken" not in instrument:
        return "instrument.schemeToken is required for SCHEME_TOKEN"
    if "schemeToken" in instrument:
        token = instrument["schemeToken"]
        if not isinstance(token, dict):
            return "instrument.schemeToken must be an object"
        reason = _strings(token, _TOKEN, True, "instrument.schemeToken.") or _strings(
            token, _TOKEN_OPTIONAL, False, "instrument.schemeToken.")
        if reason:
            return reason
        expiry = token.get("validTo")
        if not isinstance(expiry, dict):
            return "instrument.schemeToken.validTo is required and must be an object"
        reason = _strings(expiry, _EXPIRY, True, "instrument.schemeToken.validTo.")
        if reason:
            return reason
    return _unknown(body, closed)


def _strings(obj: dict[str, Any], fields: dict[str, re.Pattern[str]], required: bool, prefix: str) -> str | None:
    for name, pattern in fields.items():
        if name not in obj:
            if required:
                return f"{prefix}{name} is required"
            continue
        if not isinstance(obj[name], str) or not pattern.fullmatch(obj[name]):
            return f"{prefix}{name} is not valid"
    return None


def _unknown(body: dict[str, Any], closed: frozenset[str]) -> str | None:
    """Properties this PSP does not know, in the objects named in `closed` (a careful PSP closes none)."""
    objects = {"": body, "amount": body["amount"], "instrument": body["instrument"],
               "card": body["instrument"]["card"]}
    if "schemeToken" in body["instrument"]:
        objects["schemeToken"] = body["instrument"]["schemeToken"]
        objects["validTo"] = body["instrument"]["schemeToken"]["validTo"]
    for name, obj in objects.items():
        if name not in closed:
            continue
        extra = set(obj) - _KNOWN[name]
        if extra:
            return f"unknown properties in {name or 'the body'}: {', '.join(sorted(extra))}"
    return None


def signature_problem(request: Request, raw: bytes, secret: str, now: datetime) -> str | None:
    """Why the X-Vmp-* signature does not hold, or None: the scheme of the document's x-hmac-signing."""
    given = request.headers.get(SIGNATURE_HEADER)
    stamp = request.headers.get(TIMESTAMP_HEADER)
    digest = request.headers.get(DIGEST_HEADER)
    if not given or not stamp or not digest:
        return "signature headers missing"
    expected_digest = base64.b64encode(hashlib.sha256(raw).digest()).decode()
    if not hmac.compare_digest(digest, expected_digest):
        return "body digest does not match"
    try:
        signed_at = parsedate_to_datetime(stamp)
    except (TypeError, ValueError):
        return "timestamp is not an HTTP date"
    if signed_at.tzinfo is None or abs((now - signed_at).total_seconds()) > MAX_SKEW_SECONDS:
        return "timestamp outside the allowed skew"
    path = request.scope["raw_path"].decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    message = f"POST\n{path}{'?' + query if query else ''}\n{stamp};{request.headers.get('host', '')};{digest}"
    mac = base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(given, f"HMAC-SHA256 SignedHeaders={SIGNED}&Signature={mac}"):
        return "signature does not match"
    return None


def _decide(last4: str, base_url: str, code: Any) -> dict[str, Any]:
    if last4 == "0002":
        return {"status": "CAPTURE", "networkTransactionReference": uuid.uuid4().hex}
    if last4 == "0051":
        # No network transaction for a decline: the document lets the reference be null.
        return {"status": "FAIL", "errorCode": code("insufficient-funds"), "errorMessage": "Insufficient funds",
                "networkTransactionReference": None}
    if last4 == "0043":
        return {"status": "FAIL", "errorCode": code("stolen"), "errorMessage": "The card cannot be used"}
    if last4 == "3000":
        return {"status": "SOFT_DECLINE", "softDeclineRedirectUrl": f"{base_url}/3ds/{uuid.uuid4().hex}"}
    return {"status": "RESERVE", "networkTransactionReference": uuid.uuid4().hex}


def _problem(status: int, title: str) -> Response:
    return JSONResponse({"title": title, "status": status}, status_code=status, media_type="application/problem+json")


def make_heldout_psp(
    *, credential: str | None = None, secret: str | None = None, defects: frozenset[Defect] = frozenset(),
) -> Starlette:
    """A PSP on the held-out revision; `credential` and `secret` switch on the checks a careful PSP makes."""
    answers: dict[str, tuple[bytes, dict[str, Any]]] = {}
    failed_payments: set[str] = set()

    def code(meaning: str) -> Any:
        value = CODES[meaning]
        return str(value) if Defect.STRING_ERROR_CODE in defects else value

    async def callback(request: Request) -> Response:
        raw = await request.body()
        if credential is not None and Defect.IGNORE_CREDENTIAL not in defects:
            given = request.headers.get(CREDENTIAL_HEADER)
            if given is None or not hmac.compare_digest(given.encode(), credential.encode()):
                return _problem(401, "credential missing or wrong")
        if secret is not None and Defect.IGNORE_SIGNATURE not in defects:
            problem = signature_problem(request, raw, secret, datetime.now(UTC))
            if problem:
                return _problem(401, problem)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _problem(415, "expected application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            return _problem(400, "malformed JSON")
        closed = frozenset(_KNOWN) if Defect.CLOSED_OBJECTS in defects else frozenset()
        closed |= {"validTo"} if Defect.CLOSED_EXPIRY in defects else set()
        reason = invalid_reason(body, closed=closed, lax_kind=Defect.LAX_KIND in defects)
        if reason:
            return _problem(400, reason)
        instrument = body["instrument"]
        if Defect.REFUSES_RECURRING in defects and body.get("paymentContext") == "RECURRING_CIT":
            return _problem(400, "recurring payments are not supported")
        if Defect.TOKEN_ONLY in defects and instrument["instrumentKind"] != "SCHEME_TOKEN":
            return _problem(400, "only scheme tokens are accepted")
        masked = (body["cardInfo"]["maskedCardNumber"] if Defect.READS_V2_SHAPE in defects
                  else instrument["card"]["maskedNumber"])
        attempt, payment = body["authorizationAttemptId"], body["pspReference"]
        if attempt in answers:
            previous_raw, previous = answers[attempt]
            if previous_raw == raw:
                return JSONResponse(previous)
            if previous["status"] != "SOFT_DECLINE" or Defect.SECOND_CALLBACK_CONFLICT in defects:
                return _problem(409, "authorizationAttemptId already answered")
            # The second callback after a soft decline: this PSP's 3-D Secure page was never completed.
            answer = {"status": "FAIL", "errorCode": code("three-ds"), "errorMessage": "3-D Secure not completed"}
            answers[attempt] = (raw, answer)
            return JSONResponse(answer)
        if Defect.REFUSE_RETRIES in defects and payment in failed_payments:
            return _problem(409, "this payment already failed")
        answer = _decide(masked[-4:], f"https://{request.headers['host']}", code)
        if answer["status"] == "FAIL":
            failed_payments.add(payment)
        answers[attempt] = (raw, answer)
        return JSONResponse(answer)

    return Starlette(routes=[Route(PATH, callback, methods=["POST"])])
