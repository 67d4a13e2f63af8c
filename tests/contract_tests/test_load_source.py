"""The load mode's callbacks: built lazily and unique, test cards in the mix, follow-ups from the PSP's answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from callback_core import fields
from callback_core.spec import Contract
from contract_tests.cards import CardTrigger, CardTriggers
from contract_tests.errors import OptionError
from contract_tests.load import source as source_module
from contract_tests.load.judging import judge
from contract_tests.load.settings import DEFAULT_RATE, parse_rate
from contract_tests.load.source import TEST_CARD_SHARE, Callback, CallbackSource, Kind
from contract_tests.load.stats import Recorder

JSON = (("content-type", "application/json"),)
CARDS = CardTriggers((CardTrigger("3000", "SOFT_DECLINE"), CardTrigger("0051", "FAIL")), "cards.yaml")


def value(contract: Contract, body: bytes, role: str) -> Any:
    return contract.request_value(json.loads(body), role)


def test_callbacks_never_run_out_and_each_is_a_unique_valid_attempt(contract: Contract) -> None:
    source = CallbackSource(contract, seed=3)
    bodies = [source.next().body for _ in range(3000)]
    assert len(set(bodies)) == 3000
    parsed = [json.loads(raw) for raw in bodies]
    assert all(contract.is_valid_request(body) for body in parsed[:300])
    for role in (fields.ATTEMPT_ID, fields.PSP_REFERENCE):
        assert len({contract.request_value(body, role) for body in parsed}) == 3000
    cryptograms = [c for body in parsed if isinstance(c := contract.request_value(body, fields.CRYPTOGRAM), str)]
    assert cryptograms and len(set(cryptograms)) == len(cryptograms)


def test_test_cards_take_turns_in_one_callback_of_five(contract: Contract) -> None:
    source = CallbackSource(contract, seed=3, cards=CARDS)
    last4 = [value(contract, source.next().body, fields.MASKED_CARD_NUMBER)[-4:] for _ in range(10 * TEST_CARD_SHARE)]
    carded = [digits for digits in last4 if digits in ("3000", "0051")]
    assert len(carded) == 10 and set(carded) == {"3000", "0051"}
    assert CallbackSource(contract, seed=3).next().kind is Kind.FIRST


def answer(status: str, code: str | int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status, "networkTransactionReference": "n-1"}
    if code is not None:
        out["errorCode"] = code
    return out


def test_a_soft_decline_is_followed_by_the_second_callback_of_the_same_attempt(contract: Contract) -> None:
    source = CallbackSource(contract, seed=3)
    first = source.next()
    assert source.answered(first, 200, answer("SOFT_DECLINE")) is Kind.SECOND_CALLBACK
    second = source.next()
    assert second.kind is Kind.SECOND_CALLBACK
    assert value(contract, second.body, fields.ATTEMPT_ID) == value(contract, first.body, fields.ATTEMPT_ID)
    if isinstance(value(contract, first.body, fields.CRYPTOGRAM), str):
        assert value(contract, second.body, fields.CRYPTOGRAM) != value(contract, first.body, fields.CRYPTOGRAM)
    # A second callback answered SOFT_DECLINE again is not followed: that loop is the PSP's defect to report.
    assert source.answered(second, 200, answer("SOFT_DECLINE")) is None and source.next().kind is Kind.FIRST


def test_a_retryable_fail_is_retried_with_the_same_card_then_another(contract: Contract) -> None:
    source = CallbackSource(contract, seed=3)
    first = source.next()
    assert source.answered(first, 200, answer("FAIL", "51")) is Kind.RETRY_SAME_CARD
    retry = source.next()
    assert value(contract, retry.body, fields.PSP_REFERENCE) == value(contract, first.body, fields.PSP_REFERENCE)
    assert value(contract, retry.body, fields.ATTEMPT_ID) != value(contract, first.body, fields.ATTEMPT_ID)
    masked = value(contract, first.body, fields.MASKED_CARD_NUMBER)
    assert value(contract, retry.body, fields.MASKED_CARD_NUMBER) == masked
    assert source.answered(retry, 200, answer("FAIL", "51")) is Kind.RETRY_OTHER_CARD
    other = source.next()
    assert value(contract, other.body, fields.MASKED_CARD_NUMBER) != masked
    assert source.answered(other, 200, answer("FAIL", "51")) is None  # the user stops there


def test_final_codes_and_successes_are_not_followed(contract: Contract) -> None:
    source = CallbackSource(contract, seed=3)
    first = source.next()
    final = next(entry.code for entry in contract.error_codes if not entry.retryable)
    assert source.answered(first, 200, answer("FAIL", final)) is None
    assert source.answered(first, 200, answer("RESERVE")) is None
    assert source.answered(first, 409, answer("FAIL", "51")) is None
    unknown = source.answered(first, 200, answer("FAIL", "not-in-the-catalogue"))
    assert unknown is Kind.RETRY_SAME_CARD and not source.next().code_listed


def test_waiting_follow_ups_are_bounded(contract: Contract, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_module, "MAX_WAITING_FOLLOW_UPS", 2)
    source = CallbackSource(contract, seed=3)
    firsts = [source.next() for _ in range(3)]
    kinds = [source.answered(callback, 200, answer("SOFT_DECLINE")) for callback in firsts]
    assert kinds == [Kind.SECOND_CALLBACK, Kind.SECOND_CALLBACK, None] and source.dropped == 1


@pytest.mark.parametrize(("kind", "code"), [(Kind.SECOND_CALLBACK, "CC009"), (Kind.RETRY_SAME_CARD, "CC010")])
def test_a_refused_follow_up_is_a_flow_defect(contract: Contract, kind: Kind, code: str) -> None:
    j = judge(contract, 1.0, body=b"{}", status=409, headers=JSON, answer_body=b'{"title":"conflict"}',
              elapsed=0.01, error=None, timed_out=False, kind=kind)
    assert [d[0] for d in j.defects][:1] == [code] and "409" in j.defects[0][1]
    ordinary = judge(contract, 1.0, body=b"{}", status=409, headers=JSON, answer_body=b'{"title":"conflict"}',
                     elapsed=0.01, error=None, timed_out=False)
    assert code not in [d[0] for d in ordinary.defects]


def test_a_refused_retry_after_an_unlisted_code_only_warns_unless_strict(contract: Contract) -> None:
    options: dict[str, Any] = {"body": b"{}", "status": 409, "headers": JSON, "answer_body": b"{}", "elapsed": 0.01,
                               "error": None, "timed_out": False, "kind": Kind.RETRY_SAME_CARD, "code_listed": False}
    lenient = judge(contract, 1.0, **options)
    assert "CC010" not in [d[0] for d in lenient.defects] and lenient.warning and "x-error-codes" in lenient.warning
    assert "CC010" in [d[0] for d in judge(contract, 1.0, strict=True, **options).defects]


def test_a_signed_follow_up_refused_with_401_is_the_signatures_matter(contract: Contract) -> None:
    j = judge(contract, 1.0, body=b"{}", status=401, headers=JSON, answer_body=b"{}", elapsed=0.01, error=None,
              timed_out=False, kind=Kind.SECOND_CALLBACK, signed=True)
    assert "CC009" not in [d[0] for d in j.defects]


def test_answers_calling_for_a_follow_up_are_handed_back_parsed(contract: Contract) -> None:
    soft = json.dumps(answer("SOFT_DECLINE") | {"softDeclineRedirectUrl": "https://psp.example/3ds"}).encode()
    j = judge(contract, 1.0, body=b"{}", status=200, headers=JSON, answer_body=soft, elapsed=0.01, error=None,
              timed_out=False)
    assert j.outcome == "SOFT_DECLINE" and isinstance(j.answer, dict)
    reserve = judge(contract, 1.0, body=b"{}", status=200, headers=JSON, answer_body=json.dumps(answer("RESERVE"))
                    .encode(), elapsed=0.01, error=None, timed_out=False)
    assert reserve.answer is None


def test_follow_up_counts_travel_from_workers_to_the_master() -> None:
    recorder = Recorder()
    recorder.followed(Kind.SECOND_CALLBACK, "RESERVE")
    recorder.followed(Kind.SECOND_CALLBACK, "RESERVE")
    recorder.follow_ups_dropped = 3
    merged = Recorder()
    merged.merge(Recorder.from_wire(json.loads(json.dumps(recorder.drain().to_wire()))))
    assert merged.follow_ups[(str(Kind.SECOND_CALLBACK), "RESERVE")] == 2 and merged.follow_ups_dropped == 3
    assert not recorder.follow_ups and recorder.follow_ups_dropped == 0


def test_rates() -> None:
    assert parse_rate(None) == DEFAULT_RATE and parse_rate("max") is None and parse_rate(" MAX ") is None
    assert parse_rate("300") == 300.0
    with pytest.raises(OptionError, match="--rate must be a number of callbacks per second or max"):
        parse_rate("fast")


def test_callbacks_are_plain_values() -> None:
    assert Callback(b"{}") == Callback(b"{}", Kind.FIRST, True)


def test_v2_integer_codes_are_looked_up_as_answered() -> None:
    from callback_core.spec import bundled_document

    v2 = Contract.from_file(bundled_document("card-callback-v2.yaml"))
    source = CallbackSource(v2, seed=3)
    first = source.next()
    assert source.answered(first, 200, answer("FAIL", 43)) is None  # 43 is final in v2's catalogue
    assert source.answered(first, 200, answer("FAIL", 300)) is Kind.RETRY_SAME_CARD
    assert source.next().code_listed
    second = source.next()
    # "43" is no code of an integer catalogue: the app would offer a retry, and the suite cannot call it final.
    assert source.answered(second, 200, answer("FAIL", "43")) is Kind.RETRY_SAME_CARD
    assert not source.next().code_listed
