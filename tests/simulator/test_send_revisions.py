"""`card-callback send --spec` on both documents: bodies in the document's shape, follow-ups, masking, auth header."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from simulator_helpers import run_json, run_send, serve_in_thread

from callback_core import fields
from callback_core.spec import Contract, bundled_document, bundled_spec_path
from reference_server.app import create_app

V1 = bundled_spec_path()
V2 = bundled_document("card-callback-v2.yaml")
AUTH_VALUE = "auth-value-for-tests-7d2e"


@pytest.fixture(scope="module")
def v2_reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reference server on the v2 document, requiring the auth header value."""
    app = create_app(db_path=tmp_path_factory.mktemp("v2") / "state.sqlite", spec_path=V2,
                     auth_header_value=AUTH_VALUE)
    with serve_in_thread(app, lifespan="on") as base_url:
        yield f"{base_url}/psp-makepayment"


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    path = tmp_path / "auth-header"
    path.write_text(AUTH_VALUE + "\n", encoding="utf-8")
    return path


def _sent(report: dict[str, Any], index: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = report["attempts"][index]["request"]["body"]
    return body


@pytest.mark.parametrize(("last4", "outcome"), [("1234", "RESERVE"), ("0002", "CAPTURE"), ("0043", "FAIL")])
def test_card_last4_sends_the_nested_shape(v2_reference: str, auth_file: Path, last4: str, outcome: str) -> None:
    code, report = run_json(v2_reference, "--spec", str(V2), "--card-last4", last4,
                            "--auth-header-file", str(auth_file))
    assert code == 0, report
    assert report["outcome"] == outcome
    body = _sent(report)
    assert body["cardInfo"]["maskedCardNumber"].endswith(last4)
    assert body["cardInfo"]["cardDataType"] == "TOKEN"
    assert "maskedCardNumber" not in body and "paymentInstrument" not in body


def test_soft_decline_second_callback_and_retry_follow_the_roles(v2_reference: str, auth_file: Path) -> None:
    code, report = run_json(v2_reference, "--spec", str(V2), "--card-last4", "3000",
                            "--auth-header-file", str(auth_file))
    assert code == 0, report
    assert [a["outcome"] for a in report["attempts"]] == ["SOFT_DECLINE", "RESERVE"]
    first, second = _sent(report, 0), _sent(report, 1)
    assert first["authorizationAttemptId"] == second["authorizationAttemptId"]
    assert first["cardInfo"]["networkToken"]["cryptogram"] == second["cardInfo"]["networkToken"]["cryptogram"] == "***"
    assert report["attempts"][1]["kind"] == "second callback after 3-D Secure"
    code, report = run_json(v2_reference, "--spec", str(V2), "--card-last4", "0051", "--retry",
                            "--auth-header-file", str(auth_file))
    ids = [_sent(report, i)["authorizationAttemptId"] for i in range(len(report["attempts"]))]
    references = {_sent(report, i)["pspReference"] for i in range(len(report["attempts"]))}
    assert len(ids) == 3 and len(set(ids)) == 3 and len(references) == 1
    assert report["attempts"][1]["kind"] == "retry (new authorizationAttemptId)"


def test_the_auth_header_is_sent_and_never_shown(v2_reference: str, auth_file: Path) -> None:
    code, report = run_json(v2_reference, "--spec", str(V2), "--auth-header-file", str(auth_file))
    assert (code, report["outcome"]) == (0, "RESERVE")
    assert report["attempts"][0]["request"]["headers"]["x-card-callback-auth"] == "***"
    text = run_send(v2_reference, "--spec", str(V2), "--auth-header-file", str(auth_file)).output
    assert AUTH_VALUE not in json.dumps(report) and AUTH_VALUE not in text
    code, report = run_json(v2_reference, "--spec", str(V2))
    assert (code, report["httpStatus"]) == (1, 401)


def test_an_auth_header_value_needs_a_document_with_the_slot(auth_file: Path) -> None:
    result = run_send("http://127.0.0.1:9/cb", "--auth-header-file", str(auth_file))
    assert result.exit_code == 2
    assert "declares no x-card-callback-auth-header" in result.stderr


@pytest.mark.parametrize("document", [V1, V2], ids=["v1", "v2"])
@pytest.mark.parametrize("example", ["tokenCallback", "panCallback"])
def test_every_card_data_role_is_masked_in_both_outputs(
    v2_reference: str, auth_file: Path, document: Path, example: str
) -> None:
    contract = Contract.from_file(document)
    sent = contract.request_examples()[example]
    roles = [role for role in contract.request_roles.values() if role.card_data]
    assert {role.name for role in roles} == {fields.TOKEN_NUMBER, fields.CRYPTOGRAM, fields.ENCRYPTED_PAN}
    present = [role for role in roles if isinstance(fields.get_at(sent, role.pointer), str)]
    assert present, "each example carries some card data"
    # Any URL will do: masking does not depend on the answer (a refused connection is answered too).
    code, report = run_json("http://127.0.0.1:9/cb", "--spec", str(document), "--example", example,
                            "--deadline", "2")
    text = run_send("http://127.0.0.1:9/cb", "--spec", str(document), "--example", example, "--deadline", "2").output
    shown = _sent(report)
    for role in present:
        value = fields.get_at(sent, role.pointer)
        assert fields.get_at(shown, role.pointer) == fields.mask_value(value), role
        assert value not in json.dumps(report) and value not in text, role


@pytest.mark.parametrize(("document", "other"),
                         [(V1, "v2/request-0002-capture.json"), (V2, "request-0002-capture.json")],
                         ids=["v2-body-under-v1", "v1-body-under-v2"])
def test_a_body_of_the_other_revision_is_masked_too(document: Path, other: str) -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "payloads" / other
    body = json.loads(path.read_text(encoding="utf-8"))
    token = body.get("networkToken") or body["cardInfo"]["networkToken"]
    result = run_send("http://127.0.0.1:9/cb", "--spec", str(document), "--body-file", str(path), "--deadline", "2",
                      "--json")
    assert "not a valid callback" in result.stderr
    for value in (token["number"], token["cryptogram"]):
        assert value not in result.stderr and value not in result.stdout
    assert token["number"][-4:] in result.stdout


@pytest.mark.parametrize(("last4", "error_code", "retryable"), [("0051", 51, True), ("0043", 43, False)])
def test_a_fail_carries_an_integer_code_of_the_revisions_catalogue(
    v2_reference: str, auth_file: Path, last4: str, error_code: int, retryable: bool
) -> None:
    code, report = run_json(v2_reference, "--spec", str(V2), "--card-last4", last4,
                            "--auth-header-file", str(auth_file))
    assert code == 0, report
    attempt = report["attempts"][0]
    assert (report["outcome"], report["retryable"]) == ("FAIL", retryable)
    # Judged by its typed value: 51 is the catalogue's integer code, not "51".
    assert attempt["errorCode"] == error_code and type(attempt["errorCode"]) is int
    assert f"errorCode {error_code}: " in attempt["detail"]
