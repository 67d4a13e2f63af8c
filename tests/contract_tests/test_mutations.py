"""Mutations reach every field, nested and discriminated ones included, and break numbers too."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from callback_core.schemas import validator_for
from callback_core.spec import Contract, bundled_document
from contract_tests.mutations import Leniency, _number_breaks, known_properties, mutations

NESTED = Path(__file__).resolve().parents[1] / "documents" / "nested-revision.yaml"


@pytest.fixture(scope="module")
def nested() -> Contract:
    return Contract.from_file(NESTED)


def _leaves(body: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in body.items():
        where = f"{prefix}{key}"
        yield where
        if isinstance(value, Mapping):
            yield from _leaves(value, where + ".")


@pytest.mark.parametrize("example", ["token", "pan"])
def test_every_field_of_a_nested_callback_is_broken(nested: Contract, example: str) -> None:
    body = nested.request_examples()[example]
    labels = {m.label.split(":")[0] for m in mutations(nested, body)}
    # Before mutations followed `oneOf` under a property, nothing inside `cardInfo` was broken.
    assert set(_leaves(body)) <= labels
    assert any(label.startswith("cardInfo.networkToken.") for label in labels) is (example == "token")


def test_mutations_of_a_nested_callback_are_refused_by_the_document(nested: Contract) -> None:
    full = validator_for(nested.document, nested.request_schema)
    for example in nested.request_examples().values():
        found = list(mutations(nested, example))
        assert len(found) > 50
        for mutation in found:
            assert list(full.iter_errors(mutation.body)), mutation.label


def test_discriminated_sub_object_claims_the_other_variant(nested: Contract) -> None:
    token = nested.request_examples()["token"]
    found = {m.label: m.body for m in mutations(nested, token)}
    switched = found["cardInfo.cardDataType PAN without encryptedPan"]
    assert switched["cardInfo"]["cardDataType"] == "PAN" and "networkToken" in switched["cardInfo"]
    pan = nested.request_examples()["pan"]
    assert "cardInfo.cardDataType TOKEN without networkToken" in {m.label for m in mutations(nested, pan)}


def test_numbers_are_broken_below_the_minimum_beyond_int64_and_as_fractions(nested: Contract) -> None:
    found = {m.label: m for m in mutations(nested, nested.request_examples()["token"])}
    assert found["amount.value: below minimum 1"].body["amount"]["value"] == 0
    assert found["amount.value: fractional"].body["amount"]["value"] == 1.5
    beyond = found["amount.value: above int64 (9223372036854775808)"]
    assert beyond.body["amount"]["value"] == 2**63 and beyond.format_only
    # Only the format forbids it, so a PSP that accepts it is warned, not failed (JSON Schema formats are optional).
    assert Leniency(nested).only_lenient_breaks(beyond.body)
    assert not Leniency(nested).only_lenient_breaks(found["amount.value: fractional"].body)


def test_number_bounds_in_both_styles() -> None:
    breaks = {label: value for label, value, _ in _number_breaks(
        {"type": "integer", "format": "int32", "minimum": 10, "exclusiveMinimum": True, "maximum": 99})}
    assert breaks == {"below minimum 10": 10, "above maximum 99": 100, "fractional": 10.5}
    breaks = {label: value for label, value, _ in _number_breaks(
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1})}
    assert breaks == {"not above exclusiveMinimum 0": 0, "not below exclusiveMaximum 1": 1}
    assert [label for label, _, _ in _number_breaks({"type": "integer", "format": "int32"})] == [
        "above int32 (2147483648)", "fractional"]


def test_known_properties_include_the_chosen_branch(nested: Contract) -> None:
    known = known_properties(nested, nested.request_examples()["pan"])
    # Objects are named by their JSON pointers.
    assert "encryptedPan" in known["/cardInfo"] and "/cardInfo/networkToken" not in known
    assert known["/amount"] == {"value", "currency"}


def test_the_flat_document_keeps_its_instrument_rule_and_nested_token(contract: Contract) -> None:
    examples = contract.request_examples()
    token = {m.label for m in mutations(contract, examples["tokenCallback"])}
    pan = {m.label for m in mutations(contract, examples["panCallback"])}
    # The body's own discriminator is switched as before, with its old labels.
    assert "paymentInstrument PAN without encryptedPan" in token
    assert "paymentInstrument TOKEN without networkToken" in pan
    assert {"networkToken.number: missing", "networkToken.eci: wrong type (int)"} <= token
    assert not any("fractional" in label for label in token | pan)  # it has no numbers


def test_every_field_of_the_shipped_revision_is_broken() -> None:
    v2 = Contract.from_file(bundled_document("card-callback-v2.yaml"))
    for body in v2.request_examples().values():
        labels = {m.label.split(":")[0] for m in mutations(v2, body)}
        assert set(_leaves(body)) <= labels
