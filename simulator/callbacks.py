"""Build callbacks: a document example, a file's bytes, or a fresh one for a test card; and follow-ups."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from callback_core.spec import Contract
from simulator.errors import NotAnObject, SimulatorError, UnknownExample

# A `.invalid` host (RFC 2606) never resolves: the URL is only compared with the PSP's redirect, never
# fetched, and the simulator can tell its own completion URLs from anyone else's.
COMPLETION_URL = "https://simulator.card-callback.invalid/mobileintercept"
DEFAULT_LAST4 = "1234"  # no test card: the reference server answers RESERVE
MERCHANT_SERIAL_NUMBER = "123456"
_TOKEN_BIN = "489537"  # a Visa-like token range; the digits are made up


@dataclass(frozen=True, slots=True)
class Callback:
    """One callback as it will be sent: the exact body bytes, and the parsed object when it is one."""

    body: bytes
    data: Mapping[str, Any] | None
    warnings: tuple[str, ...] = ()

    @property
    def attempt_id(self) -> str | None:
        value = self.data.get("authorizationAttemptId") if self.data else None
        return value if isinstance(value, str) else None

    @property
    def completion_url(self) -> str | None:
        value = self.data.get("softDeclineCompletedRedirectUrl") if self.data else None
        return value if isinstance(value, str) else None


def from_data(data: Mapping[str, Any]) -> Callback:
    """A callback whose bytes are the compact UTF-8 JSON of `data`."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Callback(body=body, data=copy.deepcopy(dict(data)))


def from_example(contract: Contract, name: str) -> Callback:
    """The document's request example `name`, sent as it is written."""
    examples = contract.request_examples()
    if name not in examples:
        raise UnknownExample(name, tuple(examples))
    return from_data(examples[name])


def from_bytes(contract: Contract, raw: bytes) -> Callback:
    """A body from a file, kept byte for byte; what is wrong with it becomes warnings, not a refusal.

    A PSP engineer may send a broken callback on purpose to see the endpoint's answer.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Callback(raw, None, (f"the body is not UTF-8 (byte {exc.start}); sending it anyway",))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Callback(raw, None, (f"the body is not JSON ({exc.msg} at line {exc.lineno}); sending it anyway",))
    if not isinstance(data, dict):
        return Callback(raw, None, ("the body is not a JSON object; sending it anyway",))
    problems = contract.request_errors(data)
    warnings = tuple(f"not a valid callback: {problem}" for problem in problems)
    if warnings:
        warnings += ("sending it anyway",)
    return Callback(raw, data, warnings)


def for_card(last4: str, *, now: datetime) -> Callback:
    """A fresh, valid network-token callback for the test card whose number ends in `last4`."""
    if not (len(last4) == 4 and last4.isascii() and last4.isdigit()):
        raise SimulatorError(f"--card-last4 must be four digits, not {last4!r}")
    attempt_id = str(uuid.uuid4())
    return from_data(
        {
            "pspReference": uuid.uuid4().hex[:18],
            "authorizationAttemptId": attempt_id,
            "merchantSerialNumber": MERCHANT_SERIAL_NUMBER,
            "softDeclineCompletedRedirectUrl": completion_url(attempt_id),
            "maskedCardNumber": f"47969485XXXX{last4}",
            "cardType": "VISA-DEBIT",
            "cardIssuedInCountryCode": "NO",
            "paymentInstrument": "TOKEN",
            "networkToken": {
                "number": _token_number(),
                "cryptogram": fresh_cryptogram(),
                "expiryMonth": "12",
                "expiryYear": str(now.year + 3),
                "tokenType": "VISA",
                "eci": "07",
                "paymentAccountReference": _par(last4),
            },
        }
    )


def completion_url(attempt_id: str) -> str:
    return f"{COMPLETION_URL}?{urlencode({'authorizationAttemptId': attempt_id})}"


def is_completion_url(url: str) -> bool:
    """Whether `url` is a completion URL this simulator made (the PSP redirected where it was told)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" == COMPLETION_URL and bool(
        parse_qs(parts.query).get("authorizationAttemptId")
    )


def fresh_cryptogram() -> str:
    # A TAVV/UCAF cryptogram is 20 bytes, base64 in the callback.
    return base64.b64encode(secrets.token_bytes(20)).decode("ascii")


def second_callback(first: Callback) -> Callback:
    """The callback after a soft decline: same body and authorizationAttemptId, a fresh cryptogram."""
    data = _object(first, "the second callback after 3-D Secure")
    token = data.get("networkToken")
    if isinstance(token, dict):
        token["cryptogram"] = fresh_cryptogram()
    return from_data(data)


def retry_callback(previous: Callback) -> Callback:
    """The callback when the user retries: same payment (pspReference), a new authorizationAttemptId."""
    data = _object(previous, "a retry")
    new_id = str(uuid.uuid4())
    data["authorizationAttemptId"] = new_id
    if isinstance(data.get("softDeclineCompletedRedirectUrl"), str) and is_completion_url(
        data["softDeclineCompletedRedirectUrl"]
    ):
        data["softDeclineCompletedRedirectUrl"] = completion_url(new_id)
    token = data.get("networkToken")
    if isinstance(token, dict):
        token["cryptogram"] = fresh_cryptogram()
    return from_data(data)


def _object(callback: Callback, purpose: str) -> dict[str, Any]:
    if callback.data is None:
        raise NotAnObject(f"cannot build {purpose}: the body sent is not a JSON object")
    return copy.deepcopy(dict(callback.data))


def _token_number() -> str:
    digits = _TOKEN_BIN + "".join(secrets.choice("0123456789") for _ in range(9))
    return digits + _luhn_digit(digits)


def _luhn_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _par(last4: str) -> str:
    # A PAR is stable for a card across tokens, so it is derived from the card, not drawn.
    tail = base64.b32encode(hashlib.sha256(f"card-{last4}".encode()).digest()).decode("ascii")
    return ("5001" + tail)[:29]
