"""Each flow check (CC009-CC011) and CC005 on hand-made exchanges: what it fails, what it only warns about."""

from __future__ import annotations

import json
from typing import Any

import pytest

from callback_core.spec import Contract
from contract_tests.checks import Context, unknown_fields_ignored
from contract_tests.flow_checks import CC009, CC010, card_data_not_echoed, retry_answered, second_callback_answered
from contract_tests.models import Answer, Card, Exchange, Group, GroupKind, Outgoing, Probe, Role, Severity

URL = "http://psp.test/callback"


def exchange(role: Role, body: Any, status: int, answer: Any, *, after: Exchange | None = None,
             label: str = "case", group: Group | None = None, media: str = "application/json",
             card: Card | None = None) -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer_raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
    probe = Probe(label, role, raw, group=group, after=after, card=card)
    request = Outgoing("POST", URL, (("Content-Type", "application/json"),), raw)
    return Exchange(probe, request, Answer(status, (("content-type", media),), answer_raw), 0.01)


def ctx(contract: Contract, *, strict: bool = False, signed: bool = False) -> Context:
    return Context(contract=contract, deadline=20.0, signed=signed, strict=strict)


def with_cryptogram(body: dict[str, Any], value: str) -> dict[str, Any]:
    return {**body, "networkToken": {**body["networkToken"], "cryptogram": value}}


SOFT = {"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://psp.example/3ds/1"}
FAIL_51 = {"status": "FAIL", "errorCode": "51", "errorMessage": "Insufficient funds"}


# CC009 ----------------------------------------------------------------------------------------------------------

def soft_declined(token_callback: dict[str, Any]) -> Exchange:
    return exchange(Role.VALID, token_callback, 200, SOFT, label="test card ...3000")


def test_cc009_a_409_to_the_second_callback_is_a_defect(contract: Contract, token_callback: dict[str, Any]) -> None:
    first = soft_declined(token_callback)
    second = exchange(Role.SECOND_CALLBACK, with_cryptogram(token_callback, "fresh"), 409, {"status": 409},
                      after=first)
    judged, findings = second_callback_answered([first, second], ctx(contract))
    assert judged == 1
    assert [f.severity for f in findings] == [Severity.DEFECT]
    assert "409" in findings[0].title and findings[0].exchanges == (first, second)


def test_cc009_fail_or_reserve_passes(contract: Contract, token_callback: dict[str, Any]) -> None:
    first = soft_declined(token_callback)
    for answer in (FAIL_51, {"status": "RESERVE"}):
        second = exchange(Role.SECOND_CALLBACK, with_cryptogram(token_callback, "fresh"), 200, answer, after=first)
        assert second_callback_answered([first, second], ctx(contract, strict=True)) == (1, [])


def test_cc009_soft_decline_again_warns_and_fails_only_when_strict(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    first = soft_declined(token_callback)
    second = exchange(Role.SECOND_CALLBACK, with_cryptogram(token_callback, "fresh"), 200, SOFT, after=first)
    assert [f.severity for f in second_callback_answered([first, second], ctx(contract))[1]] == [Severity.WARNING]
    assert [f.severity for f in second_callback_answered([first, second], ctx(contract, strict=True))[1]] == [
        Severity.DEFECT]


def test_cc009_soft_decline_again_to_a_byte_identical_callback_only_warns(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    # No cryptogram to refresh: the document's idempotency rule allows the identical answer.
    first = soft_declined(token_callback)
    second = exchange(Role.SECOND_CALLBACK, token_callback, 200, SOFT, after=first)
    findings = second_callback_answered([first, second], ctx(contract, strict=True))[1]
    assert [f.severity for f in findings] == [Severity.WARNING]


def test_cc009_leaves_5xx_and_signed_401_to_other_checks(contract: Contract, token_callback: dict[str, Any]) -> None:
    first = soft_declined(token_callback)
    crashed = exchange(Role.SECOND_CALLBACK, token_callback, 500, b"boom", after=first)
    refused = exchange(Role.SECOND_CALLBACK, token_callback, 401, {"status": 401}, after=first)
    assert second_callback_answered([first, crashed, refused], ctx(contract, signed=True)) == (0, [])


# CC010 ----------------------------------------------------------------------------------------------------------

def retries(token_callback: dict[str, Any], first_answer: Any, status: int, answer: Any) -> list[Exchange]:
    first = exchange(Role.VALID, token_callback, 200, first_answer, label="test card ...0051")
    same = exchange(Role.RETRY, token_callback, status, answer, after=first, label="retry", card=Card.SAME)
    other = exchange(Role.RETRY, token_callback, status, answer, after=first, label="retry", card=Card.OTHER)
    return [first, same, other]


def test_cc010_a_409_to_a_retry_is_a_defect(contract: Contract, token_callback: dict[str, Any]) -> None:
    judged, findings = retry_answered(retries(token_callback, FAIL_51, 409, {"status": 409}), ctx(contract))
    assert judged == 2
    assert {f.severity for f in findings} == {Severity.DEFECT}
    assert {"the same card" in f.title for f in findings} == {True, False}


def test_cc010_an_unlisted_error_code_only_warns_unless_strict(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    unlisted = {"status": "FAIL", "errorCode": "PSP-77", "errorMessage": "Declined"}
    exchanges = retries(token_callback, unlisted, 409, {"status": 409})
    assert {f.severity for f in retry_answered(exchanges, ctx(contract))[1]} == {Severity.WARNING}
    assert {f.severity for f in retry_answered(exchanges, ctx(contract, strict=True))[1]} == {Severity.DEFECT}
    assert all("not in x-error-codes" in f.title for f in retry_answered(exchanges, ctx(contract))[1])


def test_cc010_the_first_answer_replayed_with_its_reference_is_a_defect(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    answer = {**FAIL_51, "networkTransactionReference": "ntr-1"}
    findings = retry_answered(retries(token_callback, answer, 200, answer), ctx(contract))[1]
    assert [f.severity for f in findings] == [Severity.DEFECT]
    assert "first attempt's answer" in findings[0].title


def test_cc010_the_same_fail_again_without_a_reference_is_an_ordinary_outcome(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    assert retry_answered(retries(token_callback, FAIL_51, 200, FAIL_51), ctx(contract, strict=True)) == (2, [])


# What a flow check that judged nothing says the run saw ------------------------------------------------------

def not_exercised(exchanges: list[Exchange], contract: Contract) -> tuple[str, str]:
    cc009, cc010 = CC009.not_exercised, CC010.not_exercised
    assert cc009 is not None and cc010 is not None
    return cc009(exchanges, ctx(contract)), cc010(exchanges, ctx(contract))


def test_not_exercised_says_which_answers_the_psp_gave(contract: Contract, token_callback: dict[str, Any]) -> None:
    stolen = {"status": "FAIL", "errorCode": "43", "errorMessage": "Stolen card"}
    seen = [exchange(Role.VALID, token_callback, 200, {"status": "RESERVE"}) for _ in range(3)]
    seen += [exchange(Role.BASELINE, token_callback, 200, stolen) for _ in range(2)]
    seen += [exchange(Role.INVALID, token_callback, 200, SOFT)]  # not a valid callback: not counted
    seen += [exchange(Role.REPEAT, token_callback, 200, SOFT)]  # a copy: its answer is the first one's
    no_soft, no_retry = not_exercised(seen, contract)
    assert no_soft.startswith("no SOFT_DECLINE among 5 accepted callbacks (RESERVE 3, FAIL 2), so no second "
                              "callback was sent; name a card this PSP soft-declines with --test-cards FILE")
    assert no_retry.startswith('2 FAIL answers, none retryable (error codes "43" (2): x-error-codes calls them final)')
    _, no_fail = not_exercised(seen[:3], contract)
    assert no_fail.startswith("no FAIL among 3 accepted callbacks (RESERVE 3), so no retry was sent")


def test_not_exercised_says_when_the_follow_ups_got_no_judgeable_answer(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    first = soft_declined(token_callback)
    crashed = exchange(Role.SECOND_CALLBACK, token_callback, 500, b"boom", after=first)
    assert second_callback_answered([first, crashed], ctx(contract)) == (0, [])
    assert not_exercised([first, crashed], contract)[0] == (
        "1 SOFT_DECLINE answer followed by 1 second callback, none answered in a way this check can judge (see "
        "CC002, CC003, CC006)")
    refused = [exchange(Role.VALID, token_callback, 404, {"detail": "no route"})]
    assert not_exercised(refused, contract)[1].startswith("no valid callback was accepted (200)")


# CC011 ----------------------------------------------------------------------------------------------------------

def test_cc011_card_data_in_an_answer_warns_and_fails_when_strict(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    number, cryptogram = token_callback["networkToken"]["number"], token_callback["networkToken"]["cryptogram"]
    echo = exchange(Role.INVALID, token_callback, 400, {"detail": f"bad token {number} / {cryptogram}"},
                    media="application/problem+json")
    judged, findings = card_data_not_echoed([echo], ctx(contract))
    assert judged == 1
    assert [f.severity for f in findings] == [Severity.WARNING]
    assert "/networkToken/number" in findings[0].title and "/networkToken/cryptogram" in findings[0].title
    assert [f.severity for f in card_data_not_echoed([echo], ctx(contract, strict=True))[1]] == [Severity.DEFECT]


@pytest.mark.parametrize("text", [
    "ref 15000000000000000001x",  # the digits inside a longer word are not the token number
    "no card data here",
])
def test_cc011_does_not_see_card_data_where_there_is_none(
    contract: Contract, token_callback: dict[str, Any], text: str
) -> None:
    plain = exchange(Role.VALID, token_callback, 200, {"status": "RESERVE", "networkTransactionReference": text})
    assert card_data_not_echoed([plain], ctx(contract, strict=True)) == (1, [])


@pytest.mark.parametrize("broken", ["0" * 40, "5000000000000000001\n", " 5000000000000000001 "])
def test_cc011_a_refused_made_up_value_quoted_back_is_not_card_data(
    contract: Contract, token_callback: dict[str, Any], broken: str
) -> None:
    # Many validators quote the value they refuse; Vipps never sends such a token number.
    body = {**token_callback, "networkToken": {**token_callback["networkToken"], "number": broken}}
    quoted = exchange(Role.INVALID, body, 400, {"detail": f"{broken!r} does not match '^[0-9]{{1,19}}$'"})
    assert card_data_not_echoed([quoted], ctx(contract, strict=True))[1] == []


def test_cc011_finds_json_escaped_and_percent_encoded_card_data(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    body = with_cryptogram(token_callback, "ab/cd+ef==")
    escaped = exchange(Role.INVALID, body, 400, b'{"detail":"cryptogram ab\\/cd+ef== refused"}')
    encoded = exchange(Role.VALID, body, 200, {**SOFT, "softDeclineRedirectUrl": "https://p.example/3ds?c=ab%2Fcd%2Bef%3D%3D"})
    assert len(card_data_not_echoed([escaped, encoded], ctx(contract))[1]) == 2


# CC005 ----------------------------------------------------------------------------------------------------------

def extended_group(token_callback: dict[str, Any], baselines: list[tuple[int, Any]],
                   extended: list[tuple[int, Any]]) -> list[Exchange]:
    out = []
    for (b_status, b_answer), (e_status, e_answer) in zip(baselines, extended, strict=True):
        out.append(exchange(Role.BASELINE, token_callback, b_status, b_answer, group=Group(GroupKind.EXTENDED, 1)))
        out.append(exchange(Role.EXTENDED, {**token_callback, "amount": {"value": 1}}, e_status, e_answer,
                            group=Group(GroupKind.EXTENDED, 1)))
    return out


def test_cc005_a_different_status_across_attempts_is_only_a_warning(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    group = extended_group(token_callback, [(200, {"status": "RESERVE"})] * 2, [(200, FAIL_51)] * 2)
    judged, findings = unknown_fields_ignored(group, ctx(contract, strict=True))
    assert judged == 1
    assert [f.severity for f in findings] == [Severity.WARNING]


def test_cc005_refusing_unknown_fields_is_a_defect_when_both_baselines_were_accepted(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    group = extended_group(token_callback, [(200, {"status": "RESERVE"})] * 2, [(400, {"detail": "unknown"})] * 2)
    assert [f.severity for f in unknown_fields_ignored(group, ctx(contract))[1]] == [Severity.DEFECT]


@pytest.mark.parametrize("baselines, extended", [
    ([(200, {"status": "RESERVE"}), (429, {"detail": "slow down"})], [(400, {})] * 2),  # not proven
    ([(200, {"status": "RESERVE"})] * 2, [(429, {"detail": "slow down"})] * 2),  # a rate limiter's refusal
])
def test_cc005_proves_nothing_from_a_rate_limiter(
    contract: Contract, token_callback: dict[str, Any], baselines: Any, extended: Any
) -> None:
    assert unknown_fields_ignored(extended_group(token_callback, baselines, extended), ctx(contract))[1] == []
