"""Follow-ups planned from answers, as Vipps MobilePay sends them, and `--test-cards` files."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from callback_core.spec import Contract
from contract_tests.cards import DEFAULT_CARDS, CardTrigger, CardTriggers
from contract_tests.cases import Planner, encode
from contract_tests.errors import OptionError
from contract_tests.flows import FOLLOWED_PER_FLOW, Flows
from contract_tests.generation import Generated
from contract_tests.models import Answer, Card, Exchange, Outgoing, Probe, Role, Source

EMPTY = Generated(valid=(), invalid=())


def flows(contract: Contract, cards: CardTriggers = DEFAULT_CARDS) -> Flows:
    counter = itertools.count()
    return Flows(Planner(contract, EMPTY, lambda: f"id-{next(counter)}", cards), cards)


def answered(body: dict[str, Any], answer: Any, *, role: Role = Role.VALID, status: int = 200) -> Exchange:
    probe = Probe("generated callback #50", role, encode(body), source=Source.GENERATED)
    reply = Answer(status, (("content-type", "application/json"),), json.dumps(answer).encode())
    return Exchange(probe, Outgoing("POST", "http://psp.test/cb", (), probe.body), reply, 0.01)


def test_a_soft_decline_gets_the_second_callback(contract: Contract, token_callback: dict[str, Any]) -> None:
    first = answered(token_callback, {"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://p.example/3ds"})
    [second] = flows(contract).follow_up(first)
    body = json.loads(second.body)
    assert second.role is Role.SECOND_CALLBACK and second.after is first
    assert body["authorizationAttemptId"] == token_callback["authorizationAttemptId"]
    assert body["networkToken"]["cryptogram"] != token_callback["networkToken"]["cryptogram"]
    assert {**body, "networkToken": None} == {**token_callback, "networkToken": None}
    assert contract.request_errors(body) == []


def test_a_pan_callback_gets_the_same_body_again(contract: Contract) -> None:
    pan = contract.request_examples()["panCallback"]
    first = answered(pan, {"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://p.example/3ds"})
    [second] = flows(contract).follow_up(first)
    assert json.loads(second.body) == pan


def followed(probe: Probe, answer: Any) -> Exchange:
    reply = Answer(200, (("content-type", "application/json"),), json.dumps(answer).encode())
    return Exchange(probe, Outgoing("POST", "http://psp.test/cb", (), probe.body), reply, 0.01)


def test_a_retryable_fail_gets_the_users_retries_of_the_same_payment(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    fail = {"status": "FAIL", "errorCode": "51", "errorMessage": "Insufficient funds"}
    first = answered(token_callback, fail)
    plan = flows(contract)
    [same] = plan.follow_up(first)
    # The same card failed again: the user tries another card. Had it gone through, the user would stop.
    [other] = plan.follow_up(followed(same, fail))
    assert plan.follow_up(followed(same, {"status": "RESERVE"})) == []
    assert plan.follow_up(followed(other, fail)) == []
    assert (same.card, other.card) == (Card.SAME, Card.OTHER)
    for retry in (same, other):
        body = json.loads(retry.body)
        assert retry.role is Role.RETRY and retry.after is first
        assert body["pspReference"] == token_callback["pspReference"]
        assert body["authorizationAttemptId"] != token_callback["authorizationAttemptId"]
        assert body["networkToken"]["cryptogram"] != token_callback["networkToken"]["cryptogram"]
        assert contract.request_errors(body) == []
    assert json.loads(same.body)["authorizationAttemptId"] != json.loads(other.body)["authorizationAttemptId"]
    assert json.loads(same.body)["maskedCardNumber"] == token_callback["maskedCardNumber"]
    other_card = json.loads(other.body)
    assert other_card["maskedCardNumber"][-4:] not in {"1234", *(c.last4 for c in DEFAULT_CARDS.cards)}
    assert other_card["networkToken"]["number"] != token_callback["networkToken"]["number"]


@pytest.mark.parametrize(("answer", "role", "status"), [
    ({"status": "FAIL", "errorCode": "43", "errorMessage": "Stolen"}, Role.VALID, 200),  # not retryable: no retry
    ({"status": "RESERVE"}, Role.VALID, 200),
    # A copy's answer is the first one's, already followed; an invalid callback is no payment.
    ({"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://p.example/3ds"}, Role.REPEAT, 200),
    ({"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://p.example/3ds"}, Role.AT_ONCE, 200),
    ({"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://p.example/3ds"}, Role.INVALID, 200),
    ({"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://p.example/3ds"}, Role.VALID, 400),
])
def test_nothing_follows_other_answers(
    contract: Contract, token_callback: dict[str, Any], answer: Any, role: Role, status: int
) -> None:
    assert flows(contract).follow_up(answered(token_callback, answer, role=role, status=status)) == []


@pytest.mark.parametrize("role", [Role.VALID, Role.BASELINE, Role.EXTENDED])
def test_any_valid_first_attempt_is_followed_up_to_the_bound(
    contract: Contract, token_callback: dict[str, Any], role: Role
) -> None:
    plan = flows(contract)
    soft = {"status": "SOFT_DECLINE", "softDeclineRedirectUrl": "https://p.example/3ds"}
    fail = {"status": "FAIL", "errorCode": "51", "errorMessage": "Insufficient funds"}
    for _ in range(FOLLOWED_PER_FLOW):
        assert [p.role for p in plan.follow_up(answered(token_callback, soft, role=role))] == [Role.SECOND_CALLBACK]
    assert plan.follow_up(answered(token_callback, soft, role=role)) == []  # the bound, for this flow only
    for _ in range(FOLLOWED_PER_FLOW):
        [retry] = plan.follow_up(answered(token_callback, fail, role=role))
        assert plan.follow_up(followed(retry, fail)) != []  # a retry's own follow-up is not counted
    assert plan.follow_up(answered(token_callback, fail, role=role)) == []


def test_an_error_code_the_catalogue_does_not_list_is_retried(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    first = answered(token_callback, {"status": "FAIL", "errorCode": "PSP-77", "errorMessage": "Declined"})
    assert [p.role for p in flows(contract).follow_up(first)] == [Role.RETRY]


def test_test_cards_are_followed_and_labelled_with_what_they_promise(contract: Contract) -> None:
    cards = CardTriggers.from_file(Path(__file__).parents[2] / "examples" / "test-cards.yaml", contract.statuses)
    assert cards == CardTriggers(DEFAULT_CARDS.cards, cards.source)
    probes = flows(contract, cards).planner.plan(signed=False)
    test_cards = {p.label: p.test_card for p in probes if p.source is Source.TEST_CARD}
    assert test_cards["test card ...3000 (SOFT_DECLINE expected)"] == CardTrigger("3000", "SOFT_DECLINE")
    examples = {p.label for p in probes if p.source is Source.EXAMPLE and p.role is Role.VALID}
    assert examples == {"document example tokenCallback", "document example panCallback"}
    assert all(p.first_attempt for p in probes if p.source is not None)


@pytest.mark.parametrize(("text", "message"), [
    ("cards: []", "needs a non-empty list `cards`"),
    ("cards:\n  - last4: 0051\n    status: FAIL", "four digits in quotes"),
    ("cards:\n  - last4: '12a4'\n    status: FAIL", 'last4 must be four digits, not "12a4"'),
    ("cards:\n  - last4: '0051'\n    status: DECLINE", "status must be one of RESERVE, CAPTURE, FAIL, SOFT_DECLINE"),
    ("cards:\n  - {last4: '0051', status: FAIL}\n  - {last4: '0051', status: FAIL}", "listed twice"),
    ("{cards: [", "is neither YAML nor JSON"),
])
def test_a_bad_test_card_file_is_one_clear_line(contract: Contract, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cards.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OptionError) as raised:
        CardTriggers.from_file(path, contract.statuses)
    assert message in str(raised.value)
    assert str(raised.value).startswith(f"--test-cards {path}:")
    assert "\n" not in str(raised.value)


def test_a_json_test_card_file_works(contract: Contract, tmp_path: Path) -> None:
    path = tmp_path / "cards.json"
    path.write_text(json.dumps({"cards": [{"last4": "7777", "status": "SOFT_DECLINE"}]}), encoding="utf-8")
    cards = CardTriggers.from_file(path, contract.statuses)
    assert cards.with_status("SOFT_DECLINE")[0].last4 == "7777"
    assert cards.plain_card() not in {"7777"}
