"""Documents in a reviewer's editing styles are served, and the suite finds the reference conforming.

`v1-in-components.yaml` is the shipped v1 with its request body (through a chain of `$ref`), answers and
parameters moved into `components`; `composed-revision.yaml` is the shipped v2 with, besides, the card variants
written as `allOf` of a shared base chosen by an implicit discriminator mapping, the amount an `anyOf` without a
discriminator and a nullable answer field. Before the schema model, serving the first crashed at start-up.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient
from suite_helpers import outcomes, run_against_app

from callback_core import fields
from callback_core.auth_header import AuthHeader
from callback_core.spec import Contract
from contract_tests.models import Outcome, Verdict
from reference_server.app import create_app

DOCUMENTS = Path(__file__).resolve().parents[1] / "documents"
AUTH = AuthHeader("X-Card-Callback-Auth", "value-the-psp-chose-5c21")


@pytest.mark.parametrize("name", ["v1-in-components.yaml", "composed-revision.yaml"])
def test_the_reference_served_from_the_document_conforms(tmp_path: Path, name: str) -> None:
    spec = DOCUMENTS / name
    contract = Contract.from_file(spec)
    auth = AUTH if contract.operation.get("x-card-callback-auth-header") else None
    app = create_app(db_path=tmp_path / "state.sqlite3", spec_path=spec, auth_header_value=auth.value if auth else None)
    report = run_against_app(app, "http://psp.test" + contract.path, contract, auth=auth)
    assert report.verdict is Verdict.CONFORMS, [f.title for f in report.failures]
    found = outcomes(report)
    # Valid callbacks were answered, invalid ones refused, and the soft-decline flow ran to its second callback.
    assert found["CC001"] is Outcome.PASSED and found["CC002"] is Outcome.PASSED and found["CC009"] is Outcome.PASSED


def test_invalid_bodies_are_refused_by_the_composed_schema(tmp_path: Path) -> None:
    """The server validates the body as written (allOf parts, implicit mapping), naming the field."""
    spec = DOCUMENTS / "composed-revision.yaml"
    contract = Contract.from_file(spec)
    app = create_app(db_path=tmp_path / "state.sqlite3", spec_path=spec, auth_header_value=AUTH.value)
    body = contract.request_examples()["tokenCallback"]
    card_info = contract.request_role("cardInfo")
    token = contract.request_role("networkToken")
    data_type = contract.request_role("cardDataType")
    assert card_info is not None and token is not None and data_type is not None
    without_token = {**body, card_info.property_name: {
        k: v for k, v in body[card_info.property_name].items() if k != token.property_name}}
    unknown_type = {**body, card_info.property_name: {**body[card_info.property_name],
                                                      data_type.property_name: "CHEQUE"}}
    with TestClient(app) as client:
        headers = {AUTH.name: AUTH.value}
        assert client.post(contract.path, json=body, headers=headers).status_code == 200
        refused = client.post(contract.path, json=without_token, headers=headers)
        assert refused.status_code == 400 and token.property_name in refused.text
        refused = client.post(contract.path, json=unknown_type, headers=headers)
        assert refused.status_code == 400 and "TOKEN" in refused.text and "PAN" in refused.text
    assert fields.get_at(unknown_type, data_type.pointer) == "CHEQUE"
