"""Render a run for people (text) and machines (JSON), card data masked; pure functions returning text."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from callback_core import fields
from callback_core.fields import mask_value, scrub
from callback_core.spec import Contract
from simulator.callbacks import card_strings
from simulator.session import Attempt, Run, ThreeDSStep

MAX_TEXT = 2000  # of a non-JSON answer body in a report
_LONG_DIGITS = re.compile(r"\d{12,19}")


def mask_callback(contract: Contract, data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with every card-data field of the document (x-card-data, found through the roles) masked, and
    card data under the same names elsewhere (a body of another revision sent with --body-file)."""
    masked: dict[str, Any] = fields.masked(copy.deepcopy(dict(data)), contract.card_data_pointers)
    out: dict[str, Any] = _mask_leaves(masked, set(card_strings(contract, data)))
    return out


def _mask_leaves(node: Any, values: set[str]) -> Any:
    if isinstance(node, dict):
        return {key: _mask_leaves(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_mask_leaves(value, values) for value in node]
    return mask_value(node) if isinstance(node, str) and node in values else node


def card_values(contract: Contract, run: Run) -> list[str]:
    """Every card-data value sent in the run, to scrub from answers a PSP may have echoed them in."""
    found: set[str] = set()
    for attempt in run.attempts:
        data = _json(attempt.sent.body)
        if isinstance(data, dict):
            found.update(card_strings(contract, data))
    return sorted(found, key=len, reverse=True)


def run_to_dict(contract: Contract, run: Run) -> dict[str, Any]:
    """The `--json` object: outcome, retryable, httpStatus, elapsedMs, userMessage, attempts."""
    values = card_values(contract, run)
    return {
        "outcome": str(run.verdict.outcome),
        "retryable": run.verdict.retryable,
        "httpStatus": run.http_status,
        "elapsedMs": round(run.elapsed_ms),
        "userMessage": scrub(run.verdict.user_message, values),
        "attempts": [_attempt_dict(contract, attempt, values) for attempt in run.attempts],
    }


def format_json(contract: Contract, run: Run) -> str:
    return json.dumps(run_to_dict(contract, run), indent=2, ensure_ascii=False)


def _attempt_dict(contract: Contract, attempt: Attempt, values: list[str]) -> dict[str, Any]:
    answer = attempt.answer
    verdict = attempt.verdict
    out: dict[str, Any] = {
        "kind": attempt.kind,
        "request": {
            "method": attempt.sent.method,
            "url": attempt.sent.url,
            "headers": dict(attempt.sent.headers),
            "body": _body(contract, attempt.sent.body, values, request=True),
        },
        "answer": {
            "httpStatus": answer.http_status,
            "elapsedMs": round(answer.elapsed_ms),
            "timedOut": answer.timed_out,
            "contentType": answer.content_type,
            "body": _body(contract, answer.body, values, request=False) if answer.body else None,
        },
        "outcome": str(verdict.outcome),
        "retryable": verdict.retryable,
        "detail": scrub(verdict.detail, values),
    }
    if verdict.error_code is not None:
        out["errorCode"] = verdict.error_code
    if verdict.soft_decline_url is not None:
        out["softDeclineRedirectUrl"] = scrub(verdict.soft_decline_url, values)
    if attempt.three_ds is not None:
        out["threeDSecure"] = _three_ds_dict(attempt.three_ds, values)
    return out


def _three_ds_dict(step: ThreeDSStep, values: list[str]) -> dict[str, Any]:
    return {
        "pageUrl": scrub(step.page_url, values),
        "referenceServer": step.reference_server,
        "decision": step.decision,
        "httpStatus": step.post_status,
        "location": None if step.location is None else scrub(step.location, values),
        "completed": step.completed,
        "detail": scrub(step.detail, values),
    }


def _body(contract: Contract, raw: bytes, values: list[str], *, request: bool) -> Any:
    data = _json(raw)
    if request and isinstance(data, dict):
        return mask_callback(contract, data)
    text = scrub(raw.decode("utf-8", "replace"), values)
    if request:
        # A hand-written body that is not an object may still hold a card number somewhere.
        text = _LONG_DIGITS.sub(lambda m: mask_value(m.group()), text)
    parsed = _json(text.encode("utf-8"))
    if parsed is not None:
        return parsed
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"... ({len(raw)} bytes)"


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def format_text(contract: Contract, run: Run) -> str:
    """A readable account: each attempt, the 3-D Secure step, and what the user ends up seeing."""
    values = card_values(contract, run)
    lines: list[str] = []
    for number, attempt in enumerate(run.attempts, start=1):
        lines += _attempt_lines(contract, number, attempt, values)
    verdict = run.verdict
    lines += [
        "",
        f"outcome:   {verdict.outcome}",
        f"retryable: {'yes' if verdict.retryable else 'no'}",
        f"user sees: {scrub(verdict.user_message, values)}",
    ]
    if run.attempts and verdict is not run.attempts[-1].verdict:
        lines.append(f"why:       {scrub(verdict.detail, values)}")
    lines.append(f"elapsed:   {round(run.elapsed_ms)} ms in {len(run.attempts)} callback(s)")
    return "\n".join(lines)


def _attempt_lines(contract: Contract, number: int, attempt: Attempt, values: list[str]) -> list[str]:
    sent = attempt.sent
    data = _json(sent.body)
    role = contract.request_role(fields.ATTEMPT_ID)
    found = contract.request_value(data, fields.ATTEMPT_ID) if isinstance(data, dict) else None
    attempt_id = None if found is fields.MISSING else found
    signing = "HMAC-signed" if sent.signed else "unsigned"
    answer = attempt.answer
    got = (
        "no answer in time"
        if answer.timed_out
        else f"HTTP {answer.http_status}"
        if answer.http_status is not None
        else "no answer"
    )
    lines = [
        f"#{number} {attempt.kind}: {sent.method} {sent.url} "
        f"({signing}, {role.property_name if role else fields.ATTEMPT_ID} {attempt_id})",
        f"   {got} after {round(answer.elapsed_ms)} ms -> {attempt.verdict.outcome}: "
        + scrub(attempt.verdict.detail, values),
    ]
    if attempt.verdict.outcome == "FAIL":
        lines.append(f"   errorMessage: {scrub(attempt.verdict.user_message, values)}")
    if attempt.verdict.soft_decline_url:
        lines.append(f"   softDeclineRedirectUrl: {scrub(attempt.verdict.soft_decline_url, values)}")
    step = attempt.three_ds
    if step is not None:
        lines.append(f"   3-D Secure: {scrub(step.detail, values)}")
    return lines
