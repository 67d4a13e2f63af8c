"""`lint_payload` locates each problem of a payload file by a JSON pointer into that payload."""

from __future__ import annotations

import json
from typing import Any

from callback_core.lint import format_problem, lint_payload
from callback_core.spec import Contract


def _lines(contract: Contract, name: str, body: Any) -> list[str]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return [format_problem(p) for p in lint_payload(contract, name, raw)]


def test_document_examples_are_clean_payloads(contract: Contract) -> None:
    for body in contract.request_examples().values():
        assert _lines(contract, "request-example.json", body) == []
    for body in contract.response_examples().values():
        assert _lines(contract, "response-example.json", body) == []


def test_request_field_problem_names_its_place(contract: Contract, token_callback: dict[str, Any]) -> None:
    token_callback["networkToken"]["expiryMonth"] = "13"
    assert _lines(contract, "request-x.json", token_callback) == [
        "#/networkToken/expiryMonth: '13' does not match '^(0[1-9]|1[0-2])$'"
    ]


def test_request_checked_against_its_instrument(contract: Contract, token_callback: dict[str, Any]) -> None:
    del token_callback["networkToken"]
    assert _lines(contract, "request-x.json", token_callback) == ["#: 'networkToken' is a required property"]


def test_response_rules_per_status(contract: Contract) -> None:
    assert _lines(contract, "response-x.json", {"status": "SOFT_DECLINE"}) == [
        "#: 'softDeclineRedirectUrl' is a required property"
    ]
    assert _lines(contract, "response-x.json", {"status": "MAYBE"}) != []


def test_fail_code_must_be_in_the_catalogue(contract: Contract) -> None:
    body = {"status": "FAIL", "errorCode": "300", "errorMessage": "Refused by Issuer"}
    assert _lines(contract, "response-x.json", body) == ["#/errorCode: error code '300' is not in x-error-codes"]


def test_a_request_is_not_a_response(contract: Contract, token_callback: dict[str, Any]) -> None:
    assert _lines(contract, "response-x.json", token_callback) != []
    assert _lines(contract, "request-x.json", {"status": "RESERVE"}) != []


def test_unreadable_payloads(contract: Contract) -> None:
    assert _lines(contract, "request-x.json", b"{")[0].startswith("#: is not valid JSON")
    assert _lines(contract, "request-x.json", b"\xff") == ["#: is not UTF-8"]
    assert _lines(contract, "response-x.json", b'{"status":"FAIL","status":"RESERVE"}') == [
        "#: key 'status' appears more than once in one object"
    ]


def test_file_name_decides_the_schema(contract: Contract) -> None:
    assert _lines(contract, "payload.json", {"status": "RESERVE"}) == [
        "#: a payload file name must start with 'request-' or 'response-'"
    ]
