"""Field roles: declared in the document, inferred from well-known names, card data marked in the schema."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from callback_core import fields
from callback_core.errors import SpecError
from callback_core.spec import Contract

DOCUMENTS = Path(__file__).parent / "documents"


def test_declared_roles_point_at_the_document_fields(contract: Contract) -> None:
    example = contract.request_examples()["tokenCallback"]
    assert contract.request_value(example, fields.ATTEMPT_ID) == example["authorizationAttemptId"]
    assert contract.request_value(example, fields.CRYPTOGRAM) == example["networkToken"]["cryptogram"]
    assert not any(role.inferred for role in contract.request_roles.values())


def test_card_data_is_what_the_document_marks(contract: Contract) -> None:
    assert set(contract.card_data_pointers) == {"/networkToken/number", "/networkToken/cryptogram", "/encryptedPan"}
    marked = {name for name, role in contract.request_roles.items() if role.card_data}
    assert marked == {fields.TOKEN_NUMBER, fields.CRYPTOGRAM, fields.ENCRYPTED_PAN}


def test_undeclared_roles_are_inferred_at_the_same_places(contract: Contract) -> None:
    document = copy.deepcopy(dict(contract.document))
    del document["paths"][contract.path]["post"][fields.ROLES_EXTENSION]
    inferred = Contract.from_dict(document)
    assert {n: r.pointer for n, r in inferred.request_roles.items()} == {
        n: r.pointer for n, r in contract.request_roles.items()}
    assert all(role.inferred for role in inferred.request_roles.values())


def test_moved_fields_are_followed_into_a_discriminated_sub_object() -> None:
    contract = Contract.from_file(DOCUMENTS / "nested-card-info.yaml")
    pointers = {n: r.pointer for n, r in contract.request_roles.items()}
    assert pointers[fields.MASKED_CARD_NUMBER] == "/cardInfo/maskedCardNumber"
    assert pointers[fields.CARD_DATA_TYPE] == "/cardInfo/cardDataType"
    assert pointers[fields.CRYPTOGRAM] == "/cardInfo/networkToken/cryptogram"
    assert pointers[fields.ATTEMPT_ID] == "/authorizationAttemptId"
    # Nothing is marked x-card-data there, so the well-known card-data roles are card data.
    assert set(contract.card_data_pointers) == {
        "/cardInfo/networkToken/number", "/cardInfo/networkToken/cryptogram", "/cardInfo/encryptedPan"}
    assert fields.AMOUNT not in contract.request_roles


@pytest.mark.parametrize("roles", [["/x"], {"request": {"attemptId": "attemptId"}}, {"requests": {}}])
def test_a_malformed_role_declaration_is_refused_with_its_place(contract: Contract, roles: Any) -> None:
    document = copy.deepcopy(dict(contract.document))
    document["paths"][contract.path]["post"][fields.ROLES_EXTENSION] = roles
    with pytest.raises(SpecError) as raised:
        Contract.from_dict(document)
    assert fields.ROLES_EXTENSION in raised.value.pointer


def test_pointers_read_write_and_delete_nested_fields() -> None:
    body: dict[str, Any] = {"a/b": {"c~d": 1}, "x": "y"}
    assert fields.get_at(body, "/a~1b/c~0d") == 1
    assert fields.get_at(body, "/a~1b/missing") is fields.MISSING
    assert fields.get_at(body, "/x/deeper") is fields.MISSING
    assert fields.set_at(body, "/a~1b/new", 2) and body["a/b"]["new"] == 2
    assert not fields.set_at(body, "/absent/new", 3) and "absent" not in body
    assert fields.delete_at(body, "/x") and "x" not in body
    assert not fields.delete_at(body, "/x")


def test_masking_hides_every_card_data_value_and_nothing_else(contract: Contract) -> None:
    example = contract.request_examples()["tokenCallback"]
    shown = fields.masked(example, contract.card_data_pointers)
    text = repr(shown)
    for value in fields.card_values(example, contract.card_data_pointers):
        assert value not in text
    assert shown["networkToken"]["number"].endswith(example["networkToken"]["number"][-4:])
    assert shown["maskedCardNumber"] == example["maskedCardNumber"]
    assert example["networkToken"]["cryptogram"] in repr(example)  # the original is left alone
