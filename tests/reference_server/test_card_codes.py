"""The test cards name outcomes; their codes come from the served document's catalogue, whatever its codes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from reference_helpers import client_for, decide, serve_process

from callback_core.spec import Contract, bundled_document, read_document
from card_callback.cli import main
from reference_server.cards import CARDS_FILE, Behaviour, format_card_codes, load_cards
from reference_server.errors import ConfigError

V2 = bundled_document("card-callback-v2.yaml")
PATH = "/psp-makepayment"
# A catalogue this project has never shipped: integers, no x-outcome, two final codes and two retryable ones.
OTHER_CODES = [
    {"code": 7, "meaning": "Declined by the issuer.", "retryable": True},
    {"code": 12, "meaning": "Lost or stolen card.", "retryable": False},
    {"code": 33, "meaning": "Try again later.", "retryable": True},
    {"code": 901, "meaning": "Issuer unreachable, outcome unknown.", "retryable": False},
]


def _document(codes: list[dict[str, Any]], error_code_type: str = "integer") -> dict[str, Any]:
    document = read_document(V2)
    document["paths"][PATH]["post"]["x-error-codes"]["codes"] = copy.deepcopy(codes)
    document["components"]["schemas"]["FailResponse"]["properties"]["errorCode"]["type"] = error_code_type
    # The examples follow the catalogue, as a reviewer editing it would keep them.
    for example in document["paths"][PATH]["post"]["responses"]["200"]["content"]["application/json"][
            "examples"].values():
        if "errorCode" in example["value"]:
            example["value"]["errorCode"] = codes[0]["code"]
    return document


def _write(tmp_path: Path, document: dict[str, Any], name: str = "revision.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _callback(contract: Contract, last4: str, attempt_id: str) -> dict[str, Any]:
    body = copy.deepcopy(contract.request_examples()["tokenCallback"])
    body["authorizationAttemptId"] = attempt_id
    body["cardInfo"]["maskedCardNumber"] = f"47969485XXXX{last4}"
    return body


def test_v2_cards_answer_the_codes_declaring_their_meaning() -> None:
    cards = load_cards(Contract.from_file(V2))
    assert {card.last4: card.error_code for card in cards.cards if card.error_code is not None} == {
        "0051": 51, "0043": 43, "0091": 91,
    }
    assert cards.three_ds_failed_code == 301


def test_without_x_outcome_codes_are_picked_by_retryability_and_kept_apart() -> None:
    contract = Contract.from_dict(_document(OTHER_CODES))
    cards = load_cards(contract)
    picked = {card.last4: card.error_code for card in cards.cards if card.error_code is not None}
    assert picked == {"0051": 7, "0043": 12, "0091": 901}
    assert cards.three_ds_failed_code == 33
    for card in (*cards.cards, cards.three_ds_failed):
        if card.error_code is not None:
            entry = contract.error_code(card.error_code)
            assert entry is not None and entry.retryable is card.retryable


def test_a_catalogue_with_one_code_still_gives_every_card_a_code() -> None:
    contract = Contract.from_dict(_document([{"code": 300, "meaning": "Refused by issuer.", "retryable": True}]))
    cards = load_cards(contract)
    assert {card.error_code for card in (*cards.cards, cards.three_ds_failed) if card.outcome} == {300}
    assert "no code is final" in "\n".join(format_card_codes(cards))


def test_string_codes_other_than_todays_are_used_as_strings() -> None:
    codes = [{**entry, "code": f"E{entry['code']}"} for entry in OTHER_CODES]
    cards = load_cards(Contract.from_dict(_document(codes, "string")))
    assert {card.last4: card.error_code for card in cards.cards if card.error_code} == {
        "0051": "E7", "0043": "E12", "0091": "E901",
    }


@pytest.mark.anyio
async def test_every_card_reaches_its_outcome_with_an_integer_code_of_the_catalogue(tmp_path: Path) -> None:
    spec = _write(tmp_path, _document(OTHER_CODES))
    contract = Contract.from_file(spec)
    async with client_for(tmp_path, spec_path=spec) as client:  # answers validated against the document
        answers = {last4: (await client.post(PATH, json=_callback(contract, last4, f"a-{last4}"))).json()
                   for last4 in ("0002", "0051", "0043", "3000", "1234")}
        assert (await decide(client, answers["3000"]["softDeclineRedirectUrl"], "reject")).status_code == 303
        second = _callback(contract, "3000", "a-3000")
        second["cardInfo"]["networkToken"]["cryptogram"] = "AFreshCryptogram="
        after = (await client.post(PATH, json=second)).json()
    assert {last4: answer["status"] for last4, answer in answers.items()} == {
        "0002": "CAPTURE", "0051": "FAIL", "0043": "FAIL", "3000": "SOFT_DECLINE", "1234": "RESERVE",
    }
    for answer in (answers["0051"], answers["0043"], after):
        assert answer["status"] == "FAIL" and type(answer["errorCode"]) is int
        assert contract.error_code(answer["errorCode"]) is not None
    assert [answers["0051"]["errorCode"], answers["0043"]["errorCode"], after["errorCode"]] == [7, 12, 33]


def test_a_card_file_naming_a_code_is_refused(tmp_path: Path) -> None:
    cards = tmp_path / "cards.yaml"
    cards.write_text(CARDS_FILE.read_text(encoding="utf-8").replace("outcome: insufficient-funds",
                                                                    'errorCode: "51"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cards\[1\]: name the outcome .* not an errorCode"):
        load_cards(Contract.from_file(V2), cards)


def test_a_card_file_with_an_unknown_outcome_is_refused(tmp_path: Path) -> None:
    cards = tmp_path / "cards.yaml"
    cards.write_text(CARDS_FILE.read_text(encoding="utf-8").replace("outcome: stolen-card", "outcome: stolen"),
                     encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cards\[2\]: outcome must be one of insufficient-funds, stolen-card"):
        load_cards(Contract.from_file(V2), cards)


def test_the_card_table_keeps_its_last_four_digits() -> None:
    # The suite's default test cards (contract_tests/cards.py) and examples/test-cards.yaml name these digits.
    cards = load_cards(Contract.from_file(V2))
    assert {c.last4: c.behaviour for c in cards.cards} == {
        "0002": Behaviour.CAPTURE, "0051": Behaviour.FAIL, "0043": Behaviour.FAIL,
        "3000": Behaviour.SOFT_DECLINE, "0091": Behaviour.SLOW_ISSUER,
    }


def test_codes_of_the_wrong_type_are_one_clear_error_exit_2(tmp_path: Path) -> None:
    document = _document(OTHER_CODES)
    document["paths"][PATH]["post"]["x-error-codes"]["codes"][2]["code"] = "33"
    spec = _write(tmp_path, document, "wrong-type.yaml")
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--db", str(tmp_path / "x.sqlite3"),
                                       "--spec", str(spec)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [f'error: {spec}: x-error-codes code "33" is a string, but the answer\'s /errorCode is typed '
                     "integer (at #/paths/~1psp-makepayment/post/x-error-codes/codes/2/code)"]


@pytest.mark.e2e
def test_serve_says_which_code_each_card_answers_with(tmp_path: Path) -> None:
    spec = _write(tmp_path, _document(OTHER_CODES))
    with serve_process(tmp_path, tmp_path / "s.sqlite3", "--spec", str(spec)) as server:
        pass
    printed = "\n".join(server.stdout)  # read once the process is gone and its output drained
    assert "test cards:    ...0051 insufficient funds: FAIL 7 (retryable; no entry declares insufficient-funds" \
        in printed
    assert "...0043 stolen card: FAIL 12 (final; no entry declares stolen-card" in printed
    assert "...0091 issuer unavailable: FAIL 901 (final;" in printed
    assert "3-D Secure failed (...3000, second callback): FAIL 33 (retryable;" in printed
