"""Building callbacks: generated ones are valid and fresh; files are kept byte for byte; follow-ups."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from callback_core import fields
from callback_core.spec import Contract, bundled_document, read_document
from simulator.callbacks import (
    for_card,
    from_bytes,
    from_example,
    is_completion_url,
    retry_callback,
    second_callback,
)
from simulator.errors import NotAnObject, SimulatorError

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def _luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@pytest.mark.parametrize("last4", ["0002", "0051", "0043", "3000", "0091", "1234"])
def test_generated_callback_is_valid_and_ends_in_the_card(contract: Contract, last4: str) -> None:
    callback = for_card(contract, last4, now=NOW)
    assert callback.data is not None
    assert contract.request_errors(callback.data) == []
    assert callback.data["maskedCardNumber"].endswith(last4)
    token = callback.data["networkToken"]
    assert _luhn_ok(token["number"])
    assert token["expiryYear"] == "2029"
    assert is_completion_url(callback.data["softDeclineCompletedRedirectUrl"])
    assert callback.attempt_id in callback.data["softDeclineCompletedRedirectUrl"]


def test_generated_callbacks_are_fresh_but_the_card_is_stable(contract: Contract) -> None:
    one, two = for_card(contract, "0051", now=NOW).data, for_card(contract, "0051", now=NOW).data
    assert one is not None and two is not None
    for key in ("authorizationAttemptId", "pspReference"):
        assert one[key] != two[key]
    assert one["networkToken"]["cryptogram"] != two["networkToken"]["cryptogram"]
    assert one["networkToken"]["paymentAccountReference"] == two["networkToken"]["paymentAccountReference"]


@pytest.mark.parametrize("last4", ["123", "12345", "12a4", "１２３４"])
def test_last4_must_be_four_ascii_digits(contract: Contract, last4: str) -> None:
    with pytest.raises(SimulatorError, match="four digits"):
        for_card(contract, last4, now=NOW)


def test_second_callback_keeps_the_attempt_and_renews_the_cryptogram(contract: Contract) -> None:
    first = for_card(contract, "3000", now=NOW)
    second = second_callback(contract, first)
    assert first.data is not None and second.data is not None
    assert second.attempt_id == first.attempt_id
    assert second.completion_url == first.completion_url
    assert second.data["networkToken"]["cryptogram"] != first.data["networkToken"]["cryptogram"]
    without_cryptogram = {k: v for k, v in second.data.items() if k != "networkToken"}
    assert without_cryptogram == {k: v for k, v in first.data.items() if k != "networkToken"}


def test_retry_is_a_new_attempt_of_the_same_payment(contract: Contract) -> None:
    first = for_card(contract, "0051", now=NOW)
    retry = retry_callback(contract, first)
    assert first.data is not None and retry.data is not None
    assert retry.attempt_id != first.attempt_id
    assert retry.data["pspReference"] == first.data["pspReference"]
    assert retry.completion_url is not None and retry.attempt_id is not None
    assert retry.attempt_id in retry.completion_url


def test_retry_keeps_a_foreign_completion_url(contract: Contract) -> None:
    example = from_example(contract, "tokenCallback")
    assert retry_callback(contract, example).completion_url == example.completion_url


def test_body_file_bytes_are_kept_and_problems_become_warnings(contract: Contract) -> None:
    raw = b'{ "pspReference": "x", "paymentInstrument": "TOKEN" }'
    callback = from_bytes(contract, raw)
    assert callback.body == raw
    assert any("authorizationAttemptId" in warning for warning in callback.warnings)
    assert from_bytes(contract, b"\xff\xfe").warnings[0].startswith("the body is not UTF-8")
    assert from_bytes(contract, b"{oops").warnings[0].startswith("the body is not JSON")
    not_object = from_bytes(contract, b"[1]")
    assert not_object.data is None
    with pytest.raises(NotAnObject):
        retry_callback(contract, not_object)


def test_example_is_sent_as_written(contract: Contract) -> None:
    callback = from_example(contract, "tokenCallback")
    assert callback.data == contract.request_examples()["tokenCallback"]
    assert callback.warnings == ()
    assert from_bytes(contract, callback.body).warnings == ()


def test_a_card_callback_for_the_nested_revision_is_valid_and_fresh() -> None:
    v2 = Contract.from_file(bundled_document("card-callback-v2.yaml"))
    callback = for_card(v2, "3000", now=NOW)
    assert callback.data is not None and callback.warnings == ()
    assert v2.request_errors(callback.data) == []
    card = callback.data["cardInfo"]
    assert card["maskedCardNumber"].endswith("3000") and "encryptedPan" not in card
    assert _luhn_ok(card["networkToken"]["number"])
    assert callback.attempt_id == callback.data["authorizationAttemptId"]
    assert callback.completion_url == callback.data["softDeclineCompletedRedirectUrl"]
    second = second_callback(v2, callback)
    retry = retry_callback(v2, callback)
    assert second.data is not None and retry.data is not None
    assert second.attempt_id == callback.attempt_id
    assert second.data["cardInfo"]["networkToken"]["cryptogram"] != card["networkToken"]["cryptogram"]
    assert retry.attempt_id != callback.attempt_id and retry.data["pspReference"] == callback.data["pspReference"]
    assert retry.completion_url is not None and retry.attempt_id is not None
    assert retry.attempt_id in retry.completion_url


@pytest.mark.parametrize("name", ["card-callback.yaml", "card-callback-v2.yaml"])
def test_a_draft_without_request_examples_still_gets_a_valid_callback(name: str) -> None:
    document = copy.deepcopy(read_document(bundled_document(name)))
    contract = Contract.from_dict(document)
    media = document["paths"][contract.path][contract.method.lower()]["requestBody"]["content"]["application/json"]
    del media["examples"]
    draft = Contract.from_dict(document, source="draft.yaml")
    callback = for_card(draft, "0043", now=NOW)
    assert callback.data is not None and callback.warnings == ()
    assert draft.request_errors(callback.data) == []
    assert str(draft.request_value(callback.data, fields.MASKED_CARD_NUMBER)).endswith("0043")
    assert isinstance(draft.request_value(callback.data, fields.CRYPTOGRAM), str)
    assert draft.request_value(callback.data, fields.ENCRYPTED_PAN) is fields.MISSING
