"""What follows an answer, and how the follow-up callbacks are built, on both bundled revisions."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from callback_core import fields, followups
from callback_core.followups import Next
from callback_core.spec import Contract, bundled_document

V2 = Contract.from_file(bundled_document("card-callback-v2.yaml"))


@pytest.mark.parametrize(("answer", "step"), [
    ({"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://psp.example/3ds"}, Next.SECOND_CALLBACK),
    ({"status": "FAIL", "errorCode": "51", "errorMessage": "Insufficient funds"}, Next.RETRY),
    ({"status": "FAIL", "errorCode": "PSP-77", "errorMessage": "Declined"}, Next.RETRY),  # not in the catalogue
    ({"status": "FAIL", "errorMessage": "Declined"}, Next.RETRY),  # no code: not known to be final
    ({"status": "FAIL", "errorCode": "43", "errorMessage": "Stolen card"}, Next.NOTHING),
    ({"status": "RESERVE"}, Next.NOTHING),
    ({"status": "CAPTURE"}, Next.NOTHING),
    ([], Next.NOTHING),
])
def test_what_follows_an_answer(contract: Contract, answer: Any, step: Next) -> None:
    assert followups.next_step(contract, answer) is step


def test_an_error_code_rule_reads_the_catalogue(contract: Contract, document: dict[str, Any]) -> None:
    assert followups.error_code_rule(contract, "43").listed and not followups.error_code_rule(contract, "43").retryable
    unknown = followups.error_code_rule(contract, "PSP-77")
    assert (unknown.code, unknown.listed, unknown.retryable) == ("PSP-77", False, True)
    assert followups.error_code_rule(contract, fields.MISSING).code is None
    # Looked up as typed: the bundled catalogue's codes are strings, v2's integers.
    assert not followups.error_code_rule(contract, 43).listed and followups.error_code_rule(contract, 43).retryable
    assert followups.error_code_rule(V2, 43).listed and not followups.error_code_rule(V2, 43).retryable
    assert followups.next_step(V2, {"status": "FAIL", "errorCode": 43, "errorMessage": "Stolen"}) is Next.NOTHING
    codes = document["paths"]["/psp-makepayment"]["post"]["x-error-codes"]["codes"]
    next(c for c in codes if c["code"] == "51")["retryable"] = False
    changed = Contract.from_dict(document)
    fail = {"status": "FAIL", "errorCode": "51", "errorMessage": "No money"}
    assert followups.next_step(contract, fail) is Next.RETRY
    assert followups.next_step(changed, fail) is Next.NOTHING


def test_a_fresh_cryptogram_is_twenty_bytes_and_new_each_time() -> None:
    drawn = {followups.fresh_cryptogram() for _ in range(5)}
    assert len(drawn) == 5
    assert all(len(base64.b64decode(c)) == followups.CRYPTOGRAM_BYTES for c in drawn)
    assert followups.fresh_cryptogram("a") == followups.fresh_cryptogram("a") != followups.fresh_cryptogram("b")


@pytest.mark.parametrize("revision", ["v1", "v2"])
def test_the_second_callback_is_the_same_attempt_with_a_fresh_cryptogram(
    contract: Contract, revision: str
) -> None:
    doc = contract if revision == "v1" else V2
    first = copy.deepcopy(doc.request_examples()["tokenCallback"])
    second = followups.second_callback(doc, first, cryptogram="ZnJlc2g=")
    assert doc.request_value(second, fields.CRYPTOGRAM) == "ZnJlc2g="
    fields.set_at(second, doc.request_role(fields.CRYPTOGRAM).pointer,  # type: ignore[union-attr]
                  doc.request_value(first, fields.CRYPTOGRAM))
    assert second == first
    assert doc.request_value(first, fields.CRYPTOGRAM) != "ZnJlc2g="  # the first is left as it was
    pan = doc.request_examples()["panCallback"]
    assert followups.second_callback(doc, pan, cryptogram="ZnJlc2g=") == pan  # no cryptogram is added


@pytest.mark.parametrize("revision", ["v1", "v2"])
def test_a_retry_is_a_new_attempt_of_the_same_payment(contract: Contract, revision: str) -> None:
    doc = contract if revision == "v1" else V2
    first = doc.request_examples()["tokenCallback"]
    retry = followups.retry(doc, first, attempt_id="attempt-2", cryptogram="ZnJlc2g=")
    assert doc.request_value(retry, fields.ATTEMPT_ID) == "attempt-2"
    assert doc.request_value(retry, fields.PSP_REFERENCE) == doc.request_value(first, fields.PSP_REFERENCE)
    assert doc.request_value(retry, fields.CRYPTOGRAM) == "ZnJlc2g="
    kept = doc.request_value(retry, fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL)
    assert kept == doc.request_value(first, fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL)
    moved = followups.retry(doc, first, attempt_id="a-3", cryptogram="eA==", completion_url="https://x.example/a-3")
    assert doc.request_value(moved, fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL) == "https://x.example/a-3"
    assert doc.request_errors(retry) == [] and doc.request_errors(moved) == []


@pytest.mark.parametrize("revision", ["v1", "v2"])
def test_another_card_changes_every_card_field(contract: Contract, revision: str) -> None:
    doc = contract if revision == "v1" else V2
    token = doc.request_examples()["tokenCallback"]
    other = followups.another_card(doc, token, last4="4242", seed="s")
    assert str(doc.request_value(other, fields.MASKED_CARD_NUMBER)).endswith("4242")
    assert str(doc.request_value(other, fields.TOKEN_NUMBER)).endswith("4242")
    assert doc.request_value(other, fields.ATTEMPT_ID) == doc.request_value(token, fields.ATTEMPT_ID)
    pan = doc.request_examples()["panCallback"]
    other_pan = followups.another_card(doc, pan, last4="4242", seed="s")
    assert doc.request_value(other_pan, fields.ENCRYPTED_PAN) != doc.request_value(pan, fields.ENCRYPTED_PAN)
    assert doc.request_errors(other) == [] and doc.request_errors(other_pan) == []


def test_a_change_that_would_break_a_valid_body_is_left_out(contract: Contract, document: dict[str, Any]) -> None:
    token = document["components"]["schemas"]["NetworkToken"]
    token["properties"]["cryptogram"]["maxLength"] = 16  # tighter than a fresh 20-byte cryptogram
    tight = Contract.from_dict(document)
    first = tight.request_examples()["tokenCallback"]
    assert tight.request_errors(first) == []
    assert followups.second_callback(tight, first, cryptogram=followups.fresh_cryptogram()) == first
    broken = {**first, "merchantSerialNumber": "x"}  # sent on purpose: every change is made
    assert followups.second_callback(tight, broken, cryptogram="Y" * 40) != broken
