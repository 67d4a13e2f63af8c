"""Judge one answer as Vipps MobilePay would: success, FAIL (retryable or not), soft decline, or final."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from callback_core import fields, followups
from callback_core.spec import Contract

# The message the app shows when the PSP's answer is final and unusable (HTTP 500, timeout, garbage).
FINAL_MESSAGE = "check the payment status at the merchant you came from"


class Outcome(StrEnum):
    RESERVE = "RESERVE"
    CAPTURE = "CAPTURE"
    FAIL = "FAIL"
    SOFT_DECLINE = "SOFT_DECLINE"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"

    @property
    def answered(self) -> bool:
        """The PSP answered within the contract (one of the document's statuses)."""
        return self not in (Outcome.ERROR, Outcome.TIMEOUT)


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back for one callback: a response, or why none came (`timed_out`, `failure`)."""

    http_status: int | None
    body: bytes
    content_type: str | None
    elapsed_ms: float
    timed_out: bool = False
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """How the app treats an answer; `detail` tells the PSP engineer why."""

    outcome: Outcome
    retryable: bool
    user_message: str
    detail: str
    error_code: str | int | None = None
    soft_decline_url: str | None = None


def final(outcome: Outcome, detail: str) -> Verdict:
    """A final, non-retryable verdict: the user is sent back to the merchant."""
    return Verdict(outcome, False, FINAL_MESSAGE, detail)


def classify(answer: Answer, contract: Contract, *, deadline_seconds: float | None = None) -> Verdict:
    """The verdict on one answer. HTTP 500, any other non-200, an invalid body and a timeout are final."""
    deadline = contract.deadline_seconds if deadline_seconds is None else deadline_seconds
    if answer.timed_out or (answer.http_status is not None and answer.elapsed_ms > deadline * 1000):
        return final(Outcome.TIMEOUT, f"no complete answer within the {deadline:g} s deadline")
    if answer.failure is not None or answer.http_status is None:
        return final(Outcome.ERROR, f"no usable answer: {answer.failure or 'the connection failed'}")
    if answer.http_status != 200:
        return final(Outcome.ERROR, f"HTTP {answer.http_status} instead of 200{_problem_detail(answer.body)}")
    try:
        body = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        return final(Outcome.ERROR, f"the 200 answer is not JSON ({reason})")
    problems = contract.response_errors(body)
    if problems:
        return final(Outcome.ERROR, "the 200 answer is not a valid callback answer: " + "; ".join(problems))
    return _by_status(body, contract)


def _by_status(body: dict[str, Any], contract: Contract) -> Verdict:
    def text(role: str) -> str:
        value = contract.response_value(body, role)
        return "" if value is fields.MISSING else str(value)

    status = text(fields.STATUS)
    if status in (Outcome.RESERVE, Outcome.CAPTURE):
        done = "reserved" if status == Outcome.RESERVE else "captured"
        return Verdict(Outcome(status), False, "Payment approved", f"the payment was {done}")
    if status == Outcome.FAIL:
        # Typed as answered (the schema has admitted it): an integer catalogue's 300 is looked up as 300.
        raw = contract.response_value(body, fields.ERROR_CODE)
        code = raw if isinstance(raw, str | int) and not isinstance(raw, bool) else text(fields.ERROR_CODE)
        rule = followups.error_code_rule(contract, raw)
        if rule.entry is None:
            why = f"errorCode {code!r} is not in the document's catalogue; treated as retryable"
        else:
            why = f"errorCode {code!r}: {rule.entry.meaning} ({'retryable' if rule.retryable else 'not retryable'})"
        return Verdict(Outcome.FAIL, rule.retryable, text(fields.ERROR_MESSAGE), why, error_code=code)
    if status == Outcome.SOFT_DECLINE:
        url = text(fields.SOFT_DECLINE_REDIRECT_URL)
        return Verdict(
            Outcome.SOFT_DECLINE, False, f"Complete 3-D Secure at {url}", "3-D Secure is needed", soft_decline_url=url
        )
    # The document admits a status this simulator does not know how the app treats.
    return final(Outcome.ERROR, f"status {status!r} is in the document but unknown to this simulator")


def _problem_detail(body: bytes) -> str:
    """The `detail` or `title` of a problem+json answer, when there is one (it helps the engineer)."""
    try:
        problem = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    if isinstance(problem, dict):
        text = problem.get("detail") or problem.get("title")
        if isinstance(text, str) and text:
            return f": {text[:300]}"
    return ""
