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

from callback_core import fields, followups
from callback_core.schema_model import branches_of, is_object_schema, parts_of, properties_of
from callback_core.spec import Contract
from simulator.errors import NotAnObject, SimulatorError, UnknownExample

# A `.invalid` host (RFC 2606) never resolves: the URL is only compared with the PSP's redirect, never
# fetched, and the simulator can tell its own completion URLs from anyone else's.
COMPLETION_URL = "https://simulator.card-callback.invalid/mobileintercept"
DEFAULT_LAST4 = "1234"  # no test card: the reference server answers RESERVE
_ATTEMPT_PARAMETER = "attempt"  # the query parameter of the simulator's own completion URLs
MAX_SAMPLE_DEPTH = 16  # a recursive schema must not make an endless sample
_TOKEN_BIN = "489537"  # a Visa-like token range; the digits are made up


@dataclass(frozen=True, slots=True)
class Callback:
    """One callback as it will be sent: the exact body bytes, the parsed object when it is one, and the
    attempt id and completion URL found in it through the document's roles."""

    body: bytes
    data: Mapping[str, Any] | None
    warnings: tuple[str, ...] = ()
    attempt_id: str | None = None
    completion_url: str | None = None


def _text(contract: Contract, data: Any, role: str) -> str | None:
    value = contract.request_value(data, role)
    return value if isinstance(value, str) else None


def _set(contract: Contract, data: dict[str, Any], role: str, value: Any) -> bool:
    found = contract.request_role(role)
    return found is not None and fields.set_at(data, found.pointer, value)


def _callback(
    contract: Contract, body: bytes, data: Mapping[str, Any] | None, warnings: tuple[str, ...] = ()
) -> Callback:
    return Callback(
        body,
        data,
        warnings,
        attempt_id=_text(contract, data, fields.ATTEMPT_ID) if data is not None else None,
        completion_url=_text(contract, data, fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL) if data is not None else None,
    )


def from_data(contract: Contract, data: Mapping[str, Any]) -> Callback:
    """A callback whose bytes are the compact UTF-8 JSON of `data`."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _callback(contract, body, copy.deepcopy(dict(data)))


def from_example(contract: Contract, name: str) -> Callback:
    """The document's request example `name`, sent as it is written."""
    examples = contract.request_examples()
    if name not in examples:
        raise UnknownExample(name, tuple(examples))
    return from_data(contract, examples[name])


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
    # A validator's message may quote the whole body, card data included (a body of another revision, say).
    values = card_strings(contract, data)
    warnings = tuple(f"not a valid callback: {_scrubbed(problem, values)}" for problem in problems)
    if warnings:
        warnings += ("sending it anyway",)
    return _callback(contract, raw, data, warnings)


def card_strings(contract: Contract, data: Any) -> list[str]:
    """Card-data strings in `data`, longest first: at the document's card-data pointers, and under the same
    property names anywhere else (a body of another revision keeps its card data elsewhere)."""
    found = set(fields.card_values(data, contract.card_data_pointers))
    names = {fields.split_pointer(pointer)[-1] for pointer in contract.card_data_pointers if pointer}
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in names and isinstance(value, str) and len(value) >= 4:
                    found.add(value)
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(found, key=len, reverse=True)


def _scrubbed(text: str, values: list[str]) -> str:
    for value in values:
        text = text.replace(value, fields.mask_value(value))
    return text


def for_card(contract: Contract, last4: str, *, now: datetime) -> Callback:
    """A fresh, valid network-token callback for the test card whose number ends in `last4`.

    The document owns the shape: the callback is its first network-token request example (the first
    example when none carries a cryptogram), with every identifier and the card data made fresh through
    the field roles, so a revision that moves or adds fields is followed without edits here.
    """
    if not (len(last4) == 4 and last4.isascii() and last4.isdigit()):
        raise SimulatorError(f"--card-last4 must be four digits, not {last4!r}")
    data = _template(contract)
    attempt_id = str(uuid.uuid4())
    masked = _text(contract, data, fields.MASKED_CARD_NUMBER)
    if masked is None or len(masked) <= 4:
        raise SimulatorError(f"{contract.source}: its request examples carry no masked card number to put "
                             f"...{last4} in")
    _set(contract, data, fields.MASKED_CARD_NUMBER, masked[:-4] + last4)
    _set(contract, data, fields.ATTEMPT_ID, attempt_id)
    _set(contract, data, fields.PSP_REFERENCE, uuid.uuid4().hex[:18])
    _set(contract, data, fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL, completion_url(attempt_id))
    if _text(contract, data, fields.CRYPTOGRAM) is not None:
        _set(contract, data, fields.TOKEN_NUMBER, _token_number())
        _set(contract, data, fields.CRYPTOGRAM, fresh_cryptogram())
        _set(contract, data, fields.TOKEN_EXPIRY_MONTH, "12")
        _set(contract, data, fields.TOKEN_EXPIRY_YEAR, str(now.year + 3))
        _set(contract, data, fields.PAYMENT_ACCOUNT_REFERENCE, _par(last4))
    callback = from_data(contract, data)
    problems = contract.request_errors(data)
    if problems:
        # The document constrains a field more tightly than the values made here: say so, send anyway.
        return Callback(callback.body, callback.data, tuple(f"not a valid callback: {p}" for p in problems),
                        callback.attempt_id, callback.completion_url)
    return callback


def _template(contract: Contract) -> dict[str, Any]:
    examples = [body for body in contract.request_examples().values() if isinstance(body, dict)]
    if not examples:
        # A draft may have no request example yet: its schemas' own examples still make one.
        sample = _schema_sample(contract, contract.request_schema, MAX_SAMPLE_DEPTH)
        if not isinstance(sample, dict) or not sample:
            raise SimulatorError(f"{contract.source} has no request example, nor schema examples, to build a "
                                 "callback from")
        examples = [sample]
    with_token = [body for body in examples if isinstance(contract.request_value(body, fields.CRYPTOGRAM), str)]
    chosen = with_token[0] if with_token else examples[0]
    data = copy.deepcopy(chosen)
    # A network-token callback carries no encrypted PAN (the public example's stray one is dropped).
    pan = contract.request_role(fields.ENCRYPTED_PAN)
    if with_token and pan is not None:
        fields.delete_at(data, pan.pointer)
    return data


def _schema_sample(contract: Contract, schema: Any, depth: int) -> Any:
    """A body made of the schema's `example`s (an enum's first value, a oneOf's first branch); MISSING where
    the schema gives nothing to use."""
    node = contract.resolve(schema)
    if depth <= 0 or not isinstance(node, Mapping):
        return fields.MISSING
    if "example" in node:
        return copy.deepcopy(node["example"])
    if node.get("enum"):
        return node["enum"][0]
    branches = branches_of(node)
    if branches:
        return _schema_sample(contract, branches[1][0], depth - 1)
    if not is_object_schema(node):
        return fields.MISSING
    out: dict[str, Any] = {}
    for part in parts_of(node):
        merged = _schema_sample(contract, part, depth - 1)
        if isinstance(merged, dict):
            out.update(merged)
    for name, prop in properties_of(node).items():
        value = _schema_sample(contract, prop, depth - 1)
        if value is not fields.MISSING:
            out[str(name)] = value
    return out


def completion_url(attempt_id: str) -> str:
    return f"{COMPLETION_URL}?{urlencode({_ATTEMPT_PARAMETER: attempt_id})}"


def is_completion_url(url: str) -> bool:
    """Whether `url` is a completion URL this simulator made (the PSP redirected where it was told)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" == COMPLETION_URL and bool(
        parse_qs(parts.query).get(_ATTEMPT_PARAMETER)
    )


def fresh_cryptogram() -> str:
    return followups.fresh_cryptogram()


def second_callback(contract: Contract, first: Callback) -> Callback:
    """The callback after a soft decline: same body and attempt id, a fresh cryptogram."""
    data = _object(first, "the second callback after 3-D Secure")
    return from_data(contract, followups.second_callback(contract, data, cryptogram=fresh_cryptogram()))


def retry_callback(contract: Contract, previous: Callback) -> Callback:
    """The callback when the user retries: same payment (payment reference), a new attempt id."""
    data = _object(previous, "a retry")
    new_id = str(uuid.uuid4())
    url = _text(contract, data, fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL)
    # Only the simulator's own completion URL names the attempt; a URL from the document or a file is kept.
    own = completion_url(new_id) if url is not None and is_completion_url(url) else None
    return from_data(contract, followups.retry(contract, data, attempt_id=new_id, cryptogram=fresh_cryptogram(),
                                               completion_url=own))


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
