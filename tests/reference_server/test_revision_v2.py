"""The reference server on the nested-cardInfo revision: test cards, soft decline, other version, auth header."""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from reference_helpers import client_for, decide, serve_process

from callback_core.spec import Contract, bundled_document, bundled_spec_path
from reference_server import create_app
from reference_server.errors import ConfigError

V2 = bundled_document("card-callback-v2.yaml")
PATH = "/psp-makepayment"
AUTH_VALUE = "psp-chosen-value-4f1c"


@pytest.fixture
def v2_contract() -> Contract:
    return Contract.from_file(V2)


def v2_callback(contract: Contract, last4: str = "1234", attempt_id: str = "v2-attempt-1") -> dict[str, Any]:
    body = copy.deepcopy(contract.request_examples()["tokenCallback"])
    body["authorizationAttemptId"] = attempt_id
    body["cardInfo"]["maskedCardNumber"] = f"47969485XXXX{last4}"
    return body


@pytest.mark.anyio
@pytest.mark.parametrize(("last4", "status", "code"), [
    ("1234", "RESERVE", None), ("0002", "CAPTURE", None), ("0051", "FAIL", 51), ("0043", "FAIL", 43),
])
async def test_test_cards_are_read_from_the_nested_card_number(
    tmp_path: Path, v2_contract: Contract, last4: str, status: str, code: int | None
) -> None:
    async with client_for(tmp_path, spec_path=V2) as client:
        answer = await client.post(PATH, json=v2_callback(v2_contract, last4))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == status
    # The revision types errorCode as an integer: the FAIL carries the integer code of its catalogue.
    assert answer.json().get("errorCode") == code and type(answer.json().get("errorCode")) is type(code)


@pytest.mark.anyio
async def test_pan_example_is_reserved(tmp_path: Path, v2_contract: Contract) -> None:
    async with client_for(tmp_path, spec_path=V2) as client:
        answer = await client.post(PATH, json=v2_contract.request_examples()["panCallback"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "RESERVE"


@pytest.mark.anyio
async def test_soft_decline_then_second_callback_after_approval(tmp_path: Path, v2_contract: Contract) -> None:
    first = v2_callback(v2_contract, "3000", "v2-soft-1")
    async with client_for(tmp_path, spec_path=V2) as client:
        answer = await client.post(PATH, json=first)
        assert answer.json()["status"] == "SOFT_DECLINE"
        decided = await decide(client, answer.json()["softDeclineRedirectUrl"], "approve")
        assert decided.status_code == 303
        assert decided.headers["location"] == first["softDeclineCompletedRedirectUrl"]
        second = copy.deepcopy(first)
        second["cardInfo"]["networkToken"]["cryptogram"] = "AnotherFreshCryptogram="
        after = await client.post(PATH, json=second)
        assert after.json()["status"] == "RESERVE"
        # The second callback must be for the same card: the nested number is compared too.
        other_card = copy.deepcopy(first)
        other_card["authorizationAttemptId"] = "v2-soft-2"
        await client.post(PATH, json=other_card)
        changed = copy.deepcopy(other_card)
        changed["cardInfo"]["maskedCardNumber"] = "47969485XXXX9999"
        conflict = await client.post(PATH, json=changed)
        assert conflict.status_code == 409
        assert "cardInfo/maskedCardNumber" in conflict.json()["detail"]
        view = (await client.get("/attempts/v2-soft-1")).json()
    assert view["authorizationAttemptId"] == "v2-soft-1"
    assert view["maskedCardNumber"] == "47969485XXXX3000"


@pytest.mark.anyio
async def test_identical_callback_gets_the_stored_answer(tmp_path: Path, v2_contract: Contract) -> None:
    body = v2_callback(v2_contract)
    async with client_for(tmp_path, spec_path=V2) as client:
        first = await client.post(PATH, json=body)
        again = await client.post(PATH, json=body)
    assert first.content == again.content


@pytest.mark.anyio
async def test_a_body_of_the_other_version_gets_400_never_500(tmp_path: Path, v2_contract: Contract) -> None:
    v1_body = Contract.from_file(bundled_spec_path()).request_examples()["tokenCallback"]
    async with client_for(tmp_path, spec_path=V2) as client:
        old_on_new = await client.post(PATH, json=v1_body)
    async with client_for(tmp_path, db_path=tmp_path / "v1.sqlite3") as client:
        new_on_old = await client.post(PATH, json=v2_contract.request_examples()["tokenCallback"])
    assert old_on_new.status_code == 400, old_on_new.text
    assert "'cardInfo'" in old_on_new.json()["detail"]
    assert new_on_old.status_code == 400, new_on_old.text
    assert "'paymentInstrument' is required" in new_on_old.json()["detail"]


@pytest.mark.anyio
async def test_card_data_stays_out_of_logs_and_errors(
    tmp_path: Path, v2_contract: Contract, caplog: pytest.LogCaptureFixture
) -> None:
    body = v2_callback(v2_contract)
    token = body["cardInfo"]["networkToken"]
    broken = copy.deepcopy(body)
    broken["cardInfo"]["networkToken"]["expiryMonth"] = "13"
    caplog.set_level(logging.INFO)
    async with client_for(tmp_path, spec_path=V2) as client:
        ok = await client.post(PATH, json=body)
        bad = await client.post(PATH, json=broken)
    assert ok.status_code == 200 and bad.status_code == 400
    assert "cardInfo/networkToken/expiryMonth" in bad.json()["detail"]
    for secret in (token["number"], token["cryptogram"]):
        assert secret not in bad.text
        assert secret not in caplog.text
    assert '"authorizationAttemptId": "v2-attempt-1"' in caplog.text


@pytest.mark.anyio
async def test_auth_header_is_required_when_configured(tmp_path: Path, v2_contract: Contract) -> None:
    body = v2_callback(v2_contract)
    async with client_for(tmp_path, spec_path=V2, auth_header_value=AUTH_VALUE) as client:
        missing = await client.post(PATH, json=body)
        wrong = await client.post(PATH, json=body, headers={"X-Card-Callback-Auth": AUTH_VALUE[:-1] + "X"})
        right = await client.post(PATH, json=body, headers={"X-Card-Callback-Auth": AUTH_VALUE})
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "X-Card-Callback-Auth header is missing" in missing.json()["detail"]
    assert AUTH_VALUE not in wrong.text


def test_an_auth_header_value_needs_a_document_with_the_slot(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="declares no x-card-callback-auth-header"):
        create_app(db_path=tmp_path / "a.sqlite3", auth_header_value=AUTH_VALUE)


@pytest.mark.e2e
def test_serve_spec_and_auth_header_file_from_the_command_line(tmp_path: Path, v2_contract: Contract) -> None:
    value_file = tmp_path / "auth-header"
    value_file.write_text(AUTH_VALUE + "\n", encoding="utf-8")
    with serve_process(tmp_path, tmp_path / "cli.sqlite3", "--spec", str(V2), "--auth-header-file",
                       str(value_file)) as server:
        body = v2_callback(v2_contract, "0002", "v2-cli-1")
        refused = httpx.post(server.callback_url, json=body, timeout=10)
        answered = httpx.post(server.callback_url, json=body, headers={"X-Card-Callback-Auth": AUTH_VALUE},
                              timeout=10)
        printed = "\n".join(server.stdout)
    assert (refused.status_code, answered.status_code) == (401, 200)
    assert answered.json()["status"] == "CAPTURE"
    assert f"document:      {V2}" in printed
    assert f"auth header:   X-Card-Callback-Auth required (value from {value_file})" in printed
    assert AUTH_VALUE not in printed and AUTH_VALUE not in "\n".join(server.log_lines())


@pytest.mark.anyio
async def test_a_revision_that_renames_the_attempt_id_is_followed(tmp_path: Path) -> None:
    # A revision the toolkit has never seen: the attempt id renamed, declared through x-field-roles only.
    text = V2.read_text(encoding="utf-8").replace("authorizationAttemptId", "attemptRef")
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(text, encoding="utf-8")
    contract = Contract.from_file(renamed)
    body = copy.deepcopy(contract.request_examples()["tokenCallback"])
    body["attemptRef"] = "renamed-1"
    body["cardInfo"]["maskedCardNumber"] = "47969485XXXX0051"
    async with client_for(tmp_path, spec_path=renamed) as client:
        first = await client.post(PATH, json=body)
        again = await client.post(PATH, json=body)
        changed = copy.deepcopy(body)
        changed["cardInfo"]["maskedCardNumber"] = "47969485XXXX1234"
        conflict = await client.post(PATH, json=changed)
        view = await client.get("/attempts/renamed-1")  # validated against reference-server.yaml
    assert first.json()["errorCode"] == 51 and again.content == first.content
    assert conflict.status_code == 409 and "this attemptRef was already answered" in conflict.json()["detail"]
    assert view.status_code == 200 and view.json()["authorizationAttemptId"] == "renamed-1"
