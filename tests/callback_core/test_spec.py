"""The contract document enforces every rule of the description with a plain validator."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from callback_core.errors import SpecError
from callback_core.spec import Contract


def test_description_example_is_valid(contract: Contract, token_callback: dict[str, Any]) -> None:
    assert contract.request_errors(token_callback) == []


def test_pan_example_is_valid(contract: Contract) -> None:
    assert contract.request_errors(contract.request_examples()["panCallback"]) == []


def _broken(body: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return body


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["networkToken"], _DELETE, "networkToken"),
        (["cardIssuedInCountryCode"], "DNK", "cardIssuedInCountryCode"),
        (["merchantSerialNumber"], "12", "merchantSerialNumber"),
        (["networkToken", "expiryMonth"], "13", "networkToken/expiryMonth"),
        (["paymentInstrument"], "CARD", ""),
        (["pspReference"], _DELETE, "pspReference"),
        (["softDeclineCompletedRedirectUrl"], _DELETE, "softDeclineCompletedRedirectUrl"),
        (["networkToken", "tokenType"], "AMEX", "networkToken/tokenType"),
        (["networkToken", "number"], "1" * 20, "networkToken/number"),
        (["maskedCardNumber"], "4796948512341234", "maskedCardNumber"),
    ],
)
def test_broken_requests_are_rejected(
    contract: Contract, token_callback: dict[str, Any], path: list[str], value: Any, expected: str
) -> None:
    errors = contract.request_errors(_broken(token_callback, path, value))
    assert errors, f"{path} = {value!r} was accepted"
    assert any(expected in error for error in errors), errors


def test_pan_request_without_encrypted_pan_is_rejected(contract: Contract) -> None:
    body = copy.deepcopy(contract.request_examples()["panCallback"])
    del body["encryptedPan"]
    assert any("encryptedPan" in error for error in contract.request_errors(body))


def test_unknown_request_properties_are_allowed(contract: Contract, token_callback: dict[str, Any]) -> None:
    token_callback["amount"] = {"value": 1000, "currency": "NOK"}
    token_callback["cardInfo"] = {"maskedCardNumber": "47969485XXXX1234"}
    token_callback["networkToken"]["somethingNew"] = True
    assert contract.request_errors(token_callback) == []


@pytest.mark.parametrize("name", ["reserve", "capture", "fail", "softDecline"])
def test_response_examples_are_valid(contract: Contract, name: str) -> None:
    assert contract.response_errors(contract.response_examples()[name]) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"status": "SOFT_DECLINE"}, "softDeclineRedirectUrl"),
        ({"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "not a url"}, "uri"),
        ({"status": "FAIL", "errorMessage": "Refused"}, "errorCode"),
        ({"status": "FAIL", "errorCode": "51"}, "errorMessage"),
        ({"status": "RESERVED"}, ""),
        ({"networkTransactionReference": "1"}, ""),
        ({"status": "RESERVE", "networkTransactionReference": 123}, ""),
    ],
)
def test_broken_responses_are_rejected(contract: Contract, body: dict[str, Any], expected: str) -> None:
    errors = contract.response_errors(body)
    assert errors, f"{body} was accepted"
    assert any(expected in error for error in errors), errors


def test_extensions_are_read_from_the_document(contract: Contract) -> None:
    assert contract.deadline_seconds == 20
    assert contract.statuses == ("RESERVE", "CAPTURE", "FAIL", "SOFT_DECLINE")
    assert contract.header_slots == ("Authorization", "X-Ms-Date", "X-Ms-Content-Sha256")
    assert contract.hmac.max_clock_skew_seconds == 300
    assert contract.error_codes_provisional is True
    stolen = contract.error_code("43")
    assert stolen is not None and stolen.retryable is False
    funds = contract.error_code("51")
    assert funds is not None and funds.retryable is True
    assert {400, 401, 409, 413, 415, 500} <= contract.documented_statuses


def test_a_changed_deadline_is_what_the_tools_see(document: dict[str, Any]) -> None:
    document["paths"]["/psp-makepayment"]["post"]["x-response-deadline-seconds"] = 7.5
    assert Contract.from_dict(document).deadline_seconds == 7.5


def test_a_document_without_the_callback_operation_is_refused(document: dict[str, Any]) -> None:
    del document["paths"]["/psp-makepayment"]["post"]["x-response-deadline-seconds"]
    with pytest.raises(SpecError, match="exactly one operation"):
        Contract.from_dict(document)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("merchantSerialNumber", "1234\n"),
        ("cardIssuedInCountryCode", "DK\n"),
        ("maskedCardNumber", "47969485XXXX1234\n"),
    ],
)
def test_patterns_have_openapi_semantics_no_trailing_newline(
    contract: Contract, token_callback: dict[str, Any], field: str, value: str
) -> None:
    # ECMA-262 `$` is the end of the string; Python's would also match before a final newline.
    token_callback[field] = value
    assert any(field in error for error in contract.request_errors(token_callback))


def test_patterns_have_ecma_262_semantics() -> None:
    from callback_core.schemas import pattern_matches

    assert pattern_matches(r"^a\$$", "a$")
    assert not pattern_matches(r"^a\$$", "a$\n")
    assert pattern_matches(r"^[$]x$", "$x")
    assert pattern_matches(r"^\d{4}$", "1234")
    assert not pattern_matches(r"^\d{4}$", "\u0661\u0662\u0663\u0664")  # Python's \d would match these
    assert not pattern_matches(r"^.$", "\r")  # and its `.` this
    assert not pattern_matches(r"^[0-9]$", "\ud800")  # not Unicode text: matches nothing


@pytest.mark.parametrize("instrument", [["TOKEN"], {"type": "TOKEN"}, None, 7])
def test_an_unhashable_or_odd_discriminator_is_an_error_not_a_crash(
    contract: Contract, token_callback: dict[str, Any], instrument: Any
) -> None:
    token_callback["paymentInstrument"] = instrument
    assert contract.request_errors(token_callback)
    assert contract.response_errors({"status": ["RESERVE"]})


def test_is_valid_request_agrees_with_request_errors(contract: Contract, token_callback: dict[str, Any]) -> None:
    assert contract.is_valid_request(token_callback)
    for field, value in [("merchantSerialNumber", "12"), ("paymentInstrument", ["TOKEN"]), ("networkToken", None)]:
        broken = {**token_callback, field: value}
        assert not contract.is_valid_request(broken)
        assert contract.request_errors(broken)


OP = "#/paths/~1psp-makepayment/post"


def _codes(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["paths"]["/psp-makepayment"]["post"]["x-error-codes"]["codes"]  # type: ignore[no-any-return]


def test_v2_codes_are_integers_and_looked_up_as_typed() -> None:
    from callback_core.spec import bundled_document

    v2 = Contract.from_file(bundled_document("card-callback-v2.yaml"))
    assert v2.error_code_types == ("integer",)
    refused = v2.error_code(300)
    assert refused is not None and refused.retryable is True and refused.outcome == "refused-by-issuer"
    # An answer's "300" is not code 300 (the schema refuses it too); nor is True code 1.
    assert v2.error_code("300") is None and v2.error_code(True) is None
    assert all(type(entry.code) is int for entry in v2.error_codes)
    funds = v2.error_code_for("insufficient-funds")
    assert funds is not None and funds.code == 51


def test_v1_keeps_string_codes_with_their_meanings(contract: Contract) -> None:
    assert contract.error_code_types == ("string",)
    assert contract.error_code(51) is None
    assert {entry.outcome: entry.code for entry in contract.error_codes if entry.outcome in (
        "insufficient-funds", "stolen-card", "issuer-unavailable", "three-ds-failed")} == {
        "insufficient-funds": "51", "stolen-card": "43", "issuer-unavailable": "91", "three-ds-failed": "3DS_FAILED"}


def test_a_code_of_another_type_than_error_code_is_one_error_naming_its_place(document: dict[str, Any]) -> None:
    _codes(document)[1]["code"] = 43
    with pytest.raises(SpecError) as raised:
        Contract.from_dict(document, source="draft.yaml")
    assert str(raised.value) == (
        "draft.yaml: x-error-codes code 43 is an integer, but the answer's /errorCode is typed string "
        f"(at {OP}/x-error-codes/codes/1/code)"
    )
    assert raised.value.pointer == f"{OP}/x-error-codes/codes/1/code"


def test_the_error_code_type_is_found_through_its_role_not_its_name(document: dict[str, Any]) -> None:
    # The answer calls it `reason`; the role says so, and the catalogue is held to that field's type.
    fail = document["components"]["schemas"]["FailResponse"]
    fail["properties"]["reason"] = {**fail["properties"].pop("errorCode"), "type": "integer"}
    fail["required"] = [name if name != "errorCode" else "reason" for name in fail["required"]]
    document["paths"]["/psp-makepayment"]["post"]["x-field-roles"]["response"]["errorCode"] = "/reason"
    with pytest.raises(SpecError, match=r'code "05" is a string, but the answer\'s /reason is typed integer'):
        Contract.from_dict(document)
    for index, entry in enumerate(_codes(document)):
        entry["code"] = 100 + index
    assert Contract.from_dict(document).error_code(100) is not None


def test_an_untyped_error_code_admits_string_and_integer_codes(document: dict[str, Any]) -> None:
    del document["components"]["schemas"]["FailResponse"]["properties"]["errorCode"]["type"]
    _codes(document)[0]["code"] = 300
    contract = Contract.from_dict(document)
    assert contract.error_code_types == ()
    assert contract.error_code(300) is not None and contract.error_code("51") is not None


@pytest.mark.parametrize(("change", "message"), [
    ({"code": True}, "needs code (a string or an integer"),
    ({"code": 1.5}, "needs code (a string or an integer"),
    ({"x-outcome": "stolen"}, "x-outcome 'stolen' is not one of insufficient-funds, stolen-card"),
])
def test_a_malformed_entry_is_one_error_naming_its_place(
    document: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    _codes(document)[2].update(change)
    with pytest.raises(SpecError, match=re.escape(message)) as raised:
        Contract.from_dict(document)
    assert raised.value.pointer.startswith(f"{OP}/x-error-codes/codes/2")
    assert str(raised.value).count("\n") == 0
