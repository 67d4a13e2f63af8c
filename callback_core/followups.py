"""What Vipps MobilePay does after an answer: which FAILs the user may retry, and the callbacks that follow."""

from __future__ import annotations

import base64
import copy
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from callback_core import fields
from callback_core.spec import Contract, ErrorCode

SOFT_DECLINE = "SOFT_DECLINE"
FAIL = "FAIL"
CRYPTOGRAM_BYTES = 20  # a TAVV/UCAF cryptogram is 20 bytes, base64 in the callback


class Next(StrEnum):
    """What follows a 200 answer, as the app and Vipps MobilePay act on it."""

    SECOND_CALLBACK = "second callback"  # SOFT_DECLINE: the user completes 3-D Secure, the same attempt comes again
    RETRY = "retry"  # a retryable FAIL: the user may pay again, a new attempt at the same payment
    NOTHING = "nothing"  # a success, a final FAIL, or a status the app does not act on


@dataclass(frozen=True, slots=True)
class ErrorCodeRule:
    """How the app treats the error code of a FAIL: `code` typed as the answer carries it (None: it carries none
    a catalogue could list)."""

    code: str | int | None
    entry: ErrorCode | None  # the catalogue's entry (x-error-codes), None when the catalogue does not list it

    @property
    def listed(self) -> bool:
        return self.entry is not None

    @property
    def retryable(self) -> bool:
        # The catalogue is provisional: a code it does not list (or none at all) is not known to be final, and
        # the app withholds a retry only for codes it knows to be final (docs/report-format.md).
        return self.entry is None or self.entry.retryable


def error_code_rule(contract: Contract, code: Any) -> ErrorCodeRule:
    """The rule for the error code value `code` of a FAIL answer (fields.MISSING or None when absent). Looked up
    as typed: "300" is not code 300 of an integer catalogue."""
    typed = code if isinstance(code, str | int) and not isinstance(code, bool) else None
    return ErrorCodeRule(typed, contract.error_code(typed) if typed is not None else None)


def next_step(contract: Contract, answer: Any) -> Next:
    """What follows the 200 answer whose parsed body is `answer`."""
    status = contract.response_value(answer, fields.STATUS)
    if status == SOFT_DECLINE:
        return Next.SECOND_CALLBACK
    if status == FAIL and error_code_rule(contract, contract.response_value(answer, fields.ERROR_CODE)).retryable:
        return Next.RETRY
    return Next.NOTHING


def fresh_cryptogram(seed: str | None = None) -> str:
    """A new cryptogram (single-use: a careful PSP may refuse one it has seen); drawn at random, or derived from
    `seed` when the caller wants repeatable bodies."""
    raw = hashlib.sha256(seed.encode()).digest() if seed is not None else secrets.token_bytes(CRYPTOGRAM_BYTES)
    return base64.b64encode(raw[:CRYPTOGRAM_BYTES]).decode("ascii")


def second_callback(contract: Contract, first: Mapping[str, Any], *, cryptogram: str) -> dict[str, Any]:
    """The callback after the user completed 3-D Secure: the first one again, the same attempt id, with a fresh
    cryptogram when it carries one (a PAN callback comes again as it was)."""
    return _changed(contract, first, [_refresh(contract, fields.CRYPTOGRAM, cryptogram)])


def retry(
    contract: Contract, previous: Mapping[str, Any], *, attempt_id: str, cryptogram: str,
    completion_url: str | None = None,
) -> dict[str, Any]:
    """A user's new attempt at the same payment: the same payment reference, a new attempt id, a fresh cryptogram
    when the body carries one; `completion_url` replaces the soft-decline return URL when given (it may name
    the attempt)."""
    changes = [_put(contract, fields.ATTEMPT_ID, attempt_id), _refresh(contract, fields.CRYPTOGRAM, cryptogram)]
    if completion_url is not None:
        changes.append(_refresh(contract, fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL, completion_url))
    return _changed(contract, previous, changes)


def another_card(contract: Contract, body: Mapping[str, Any], *, last4: str, seed: str) -> dict[str, Any]:
    """`body` paid with another card of the same user: the masked card number and the token number end in `last4`,
    and an encrypted PAN is replaced by one derived from `seed`."""

    def masked(data: dict[str, Any]) -> bool:
        value = contract.request_value(data, fields.MASKED_CARD_NUMBER)
        return isinstance(value, str) and len(value) > 4 and _put(contract, fields.MASKED_CARD_NUMBER,
                                                                   value[:-4] + last4)(data)

    def token(data: dict[str, Any]) -> bool:
        value = contract.request_value(data, fields.TOKEN_NUMBER)
        return isinstance(value, str) and len(value) > 4 and value.isdigit() and _put(
            contract, fields.TOKEN_NUMBER, value[:-4] + last4)(data)

    pan = base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode("ascii").rstrip("=")
    return _changed(contract, body, [masked, token, _refresh(contract, fields.ENCRYPTED_PAN, pan)])


Change = Callable[[dict[str, Any]], bool]  # edits a body in place; False when it had nothing to edit


def _put(contract: Contract, role: str, value: Any) -> Change:
    def change(data: dict[str, Any]) -> bool:
        found = contract.request_role(role)
        return found is not None and fields.set_at(data, found.pointer, value)

    return change


def _refresh(contract: Contract, role: str, value: str) -> Change:
    """Replace the role's value only where the body carries one as a string (no cryptogram is added to a PAN
    callback)."""
    put = _put(contract, role, value)
    return lambda data: isinstance(contract.request_value(data, role), str) and put(data)


def _changed(contract: Contract, body: Mapping[str, Any], changes: list[Change]) -> dict[str, Any]:
    """A copy of `body` with each change that keeps a valid body valid (a document that constrains a field more
    tightly keeps its value); a body already invalid (a file sent on purpose) gets every change."""
    out = copy.deepcopy(dict(body))
    valid = contract.is_valid_request(out)
    for change in changes:
        trial = copy.deepcopy(out)
        if change(trial) and (not valid or contract.is_valid_request(trial)):
            out = trial
    return out
