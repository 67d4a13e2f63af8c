"""classify(): each answer judged as the app would, from the document's statuses and error catalogue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from callback_core.spec import Contract
from simulator.verdict import FINAL_MESSAGE, Answer, Outcome, classify


def _answer(body: Any, status: int = 200, elapsed_ms: float = 10.0) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(status, raw, "application/json", elapsed_ms)


@pytest.mark.parametrize(
    ("body", "outcome", "retryable", "message"),
    [
        ({"status": "RESERVE"}, Outcome.RESERVE, False, "Payment approved"),
        ({"status": "CAPTURE", "networkTransactionReference": "1"}, Outcome.CAPTURE, False, "Payment approved"),
        ({"status": "FAIL", "errorCode": "51", "errorMessage": "No money"}, Outcome.FAIL, True, "No money"),
        ({"status": "FAIL", "errorCode": "43", "errorMessage": "Stolen"}, Outcome.FAIL, False, "Stolen"),
        ({"status": "FAIL", "errorCode": "91", "errorMessage": "Unknown"}, Outcome.FAIL, False, "Unknown"),
        ({"status": "FAIL", "errorCode": "3DS_FAILED", "errorMessage": "3DS"}, Outcome.FAIL, True, "3DS"),
        (
            {"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://psp.example/3ds/1"},
            Outcome.SOFT_DECLINE,
            False,
            "Complete 3-D Secure at https://psp.example/3ds/1",
        ),
    ],
)
def test_statuses(contract: Contract, body: Any, outcome: Outcome, retryable: bool, message: str) -> None:
    verdict = classify(_answer(body), contract)
    assert (verdict.outcome, verdict.retryable, verdict.user_message) == (outcome, retryable, message)
    assert verdict.outcome.answered


def test_retryable_comes_from_the_document(contract: Contract, document: dict[str, Any]) -> None:
    codes = document["paths"]["/psp-makepayment"]["post"]["x-error-codes"]["codes"]
    next(c for c in codes if c["code"] == "51")["retryable"] = False
    changed = Contract.from_dict(document)
    fail = _answer({"status": "FAIL", "errorCode": "51", "errorMessage": "No money"})
    assert classify(fail, contract).retryable is True
    assert classify(fail, changed).retryable is False


@pytest.mark.parametrize(
    ("answer", "outcome", "detail"),
    [
        (_answer({"status": "RESERVE"}, status=500), Outcome.ERROR, "HTTP 500"),
        (_answer({"status": "RESERVE"}, status=201), Outcome.ERROR, "HTTP 201"),
        (_answer({"status": "RESERVE"}, status=302), Outcome.ERROR, "HTTP 302"),
        (_answer(b"<html>oops</html>"), Outcome.ERROR, "not JSON"),
        (_answer(b"\xff"), Outcome.ERROR, "not JSON (not UTF-8)"),
        (_answer({"status": "FAIL", "errorCode": "51"}), Outcome.ERROR, "errorMessage"),
        (_answer({"status": "SOFT_DECLINE"}), Outcome.ERROR, "softDeclineRedirectUrl"),
        (_answer({"status": "PENDING"}), Outcome.ERROR, "not a valid callback answer"),
        (_answer([]), Outcome.ERROR, "not a valid callback answer"),
        (Answer(None, b"", None, 20000.0, timed_out=True), Outcome.TIMEOUT, "20 s deadline"),
        (_answer({"status": "RESERVE"}, elapsed_ms=20001), Outcome.TIMEOUT, "deadline"),
        (Answer(None, b"", None, 3.0, failure="ConnectError: refused"), Outcome.ERROR, "ConnectError"),
        (Answer(200, b"", None, 3.0, failure="too large"), Outcome.ERROR, "too large"),
    ],
)
def test_final_answers(contract: Contract, answer: Answer, outcome: Outcome, detail: str) -> None:
    verdict = classify(answer, contract)
    assert (verdict.outcome, verdict.retryable, verdict.user_message) == (outcome, False, FINAL_MESSAGE)
    assert detail in verdict.detail
    assert not verdict.outcome.answered


def test_deadline_override(contract: Contract) -> None:
    answer = _answer({"status": "RESERVE"}, elapsed_ms=600)
    assert classify(answer, contract).outcome is Outcome.RESERVE
    assert classify(answer, contract, deadline_seconds=0.5).outcome is Outcome.TIMEOUT


def test_v2_integer_codes_are_judged_by_their_typed_value() -> None:
    from callback_core.spec import bundled_document

    v2 = Contract.from_file(bundled_document("card-callback-v2.yaml"))
    refused = classify(_answer({"status": "FAIL", "errorCode": 300, "errorMessage": "Refused by Issuer"}), v2)
    assert (refused.outcome, refused.retryable, refused.error_code) == (Outcome.FAIL, True, 300)
    assert "errorCode 300: Refused by issuer" in refused.detail
    stolen = classify(_answer({"status": "FAIL", "errorCode": 43, "errorMessage": "Stolen"}), v2)
    assert (stolen.outcome, stolen.retryable) == (Outcome.FAIL, False)
    # A string where the revision types an integer is not a valid answer: final, and says why.
    text = classify(_answer({"status": "FAIL", "errorCode": "300", "errorMessage": "Refused by Issuer"}), v2)
    assert (text.outcome, text.retryable) == (Outcome.ERROR, False)
    assert "'300' is not of type 'integer'" in text.detail
