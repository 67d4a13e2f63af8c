"""`card-callback send --spec` on a document in a reviewer's editing styles reaches every test card's outcome.

The document (tests/documents/composed-revision.yaml) has its request body, answers and parameters in
`components`, card variants as `allOf` of a shared base chosen by an implicit discriminator mapping, an `anyOf`
without a discriminator and a nullable answer field.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from simulator_helpers import run_json, serve_in_thread

from callback_core import fields
from callback_core.spec import Contract
from reference_server.app import create_app

COMPOSED = Path(__file__).resolve().parents[1] / "documents" / "composed-revision.yaml"
AUTH_VALUE = "auth-value-for-tests-31c9"


@pytest.fixture(scope="module")
def composed_reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(db_path=tmp_path_factory.mktemp("composed") / "state.sqlite", spec_path=COMPOSED,
                     auth_header_value=AUTH_VALUE)
    with serve_in_thread(app, lifespan="on") as base_url:
        yield f"{base_url}{Contract.from_file(COMPOSED).path}"


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    path = tmp_path / "auth-header"
    path.write_text(AUTH_VALUE, encoding="utf-8")
    return path


@pytest.mark.parametrize(("last4", "outcomes"), [
    ("1234", ["RESERVE"]), ("0002", ["CAPTURE"]), ("0051", ["FAIL"]), ("0043", ["FAIL"]), ("0091", ["FAIL"]),
    ("3000", ["SOFT_DECLINE", "RESERVE"]),
])
def test_every_test_card_reaches_its_outcome(composed_reference: str, auth_file: Path, last4: str,
                                             outcomes: list[str]) -> None:
    contract = Contract.from_file(COMPOSED)
    code, report = run_json(composed_reference, "--spec", str(COMPOSED), "--card-last4", last4,
                            "--auth-header-file", str(auth_file))
    assert code == 0, report
    assert [attempt["outcome"] for attempt in report["attempts"]] == outcomes
    sent = report["attempts"][0]["request"]["body"]
    masked = contract.request_role(fields.MASKED_CARD_NUMBER)
    assert masked is not None and str(fields.get_at(sent, masked.pointer)).endswith(last4)
    if outcomes == ["FAIL"]:
        answer = report["attempts"][0]["answer"]["body"]
        # A code of the catalogue, in its type (v2 types them as integers).
        assert contract.error_code(contract.response_value(answer, fields.ERROR_CODE)) is not None
