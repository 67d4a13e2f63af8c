"""The schema model: RFC 6901 pointers, `$ref` chains and cycles, and the one schema walk."""

from __future__ import annotations

from typing import Any

import pytest

from callback_core import fields
from callback_core.errors import SpecError
from callback_core.schema_model import (
    SchemaModel,
    dotted,
    join_pointer,
    location,
    model_for,
    split_pointer,
)
from callback_core.spec import Contract, resolve_pointer


def _document() -> dict[str, Any]:
    ref = "#/components/schemas/"
    return {
        "paths": {"/a/b": {"post": {"x": 1}}},
        "components": {"schemas": {
            "Body": {"$ref": ref + "BodyAlias"},
            "BodyAlias": {"$ref": ref + "Card"},
            "Card": {"oneOf": [{"$ref": ref + "TOKEN"}, {"$ref": ref + "PAN"}],
                     "discriminator": {"propertyName": "kind"}},
            "Base": {"type": "object", "required": ["kind", "last4"],
                     "properties": {"kind": {"type": "string"}, "last4": {"type": "string"}}},
            "TOKEN": {"allOf": [{"$ref": ref + "Base"}, {"required": ["token"], "properties": {
                "token": {"type": "object", "properties": {"number": {"type": "string"}}}}}]},
            "PAN": {"allOf": [{"$ref": ref + "Base"}, {"properties": {"pan": {"type": "string", "nullable": True}}}]},
            "Loop": {"$ref": ref + "Loop2"},
            "Loop2": {"$ref": ref + "Loop"},
            "a/b~c": {"type": "string"},
        }},
    }


def test_pointers_escape_and_split_as_rfc_6901_says() -> None:
    assert join_pointer(["a/b", "c~d", "e"]) == "/a~1b/c~0d/e"
    assert split_pointer("/a~1b/c~0d/e") == ("a/b", "c~d", "e")
    assert split_pointer("/~01") == ("~1",)  # ~0 first would turn it into "/"
    assert split_pointer("") == ()
    assert location(("paths", "/a/b", "post")) == "#/paths/~1a~1b/post"
    assert dotted("/cardInfo/maskedCardNumber") == "cardInfo.maskedCardNumber" and dotted("") == "(body)"
    with pytest.raises(ValueError, match="starts with '/'"):
        split_pointer("a/b")
    # The names other modules import keep working: they are the model's.
    assert fields.split_pointer is split_pointer and fields.join_pointer is join_pointer


def test_references_resolve_through_chains_and_escaped_names() -> None:
    model = SchemaModel(_document())
    assert model.resolve({"$ref": "#/components/schemas/Body"}) is model.document["components"]["schemas"]["Card"]
    assert model.follow({"$ref": "#/components/schemas/Body"}).location == "#/components/schemas/Card"
    assert model.lookup("#/components/schemas/a~1b~0c") == {"type": "string"}
    assert model.at("#/paths/~1a~1b/post") == {"x": 1}
    assert resolve_pointer(model.document, "#/paths/~1a~1b/post") == {"x": 1}


def test_a_dangling_or_circular_reference_names_its_place() -> None:
    model = SchemaModel(_document(), source="doc.yaml")
    with pytest.raises(SpecError) as dangling:
        model.follow({"$ref": "#/components/schemas/Nowhere"}, "#/paths/~1a~1b/post/requestBody")
    assert dangling.value.pointer == "#/paths/~1a~1b/post/requestBody"
    assert "'#/components/schemas/Nowhere'" in str(dangling.value) and "points nowhere" in str(dangling.value)
    assert "Loop2" not in dangling.value.reason  # the library's message (the whole document) is not passed on
    with pytest.raises(SpecError, match="circular"):
        model.resolve({"$ref": "#/components/schemas/Loop"})
    with pytest.raises(SpecError, match="only local references"):
        model.lookup("other.yaml#/x")
    found = {where: why for where, _, why in model.dangling()}
    assert set(found) == {"#/components/schemas/Loop/$ref", "#/components/schemas/Loop2/$ref"}


def test_the_walk_follows_all_of_parts_and_variants_with_an_implicit_mapping() -> None:
    model = SchemaModel(_document())
    body = {"$ref": "#/components/schemas/Body"}
    pointers = [prop.pointer for prop in model.walk(body)]
    assert {"/kind", "/last4", "/token", "/token/number", "/pan"} == set(pointers)
    variants = model.variants(body)
    assert [v.location for v in variants] == ["#/components/schemas/TOKEN", "#/components/schemas/PAN"]
    # No mapping, no enum: the values are the component names (OpenAPI's implicit mapping).
    assert [v.values for v in variants] == [frozenset({"TOKEN"}), frozenset({"PAN"})]
    assert variants[0].schema["required"] == ["kind", "last4", "token"]  # allOf folded in
    discriminator = model.discriminator(body)
    assert discriminator is not None and discriminator.target("PAN") == "#/components/schemas/PAN"
    assert model.property_schema(variants[1].schema, "pan")["nullable"] is True


def test_one_model_per_document_and_a_contract_shares_it() -> None:
    document = _document()
    assert model_for(document) is model_for(document)
    assert model_for(document) is not model_for(_document())


def test_the_shipped_documents_walk_as_before(contract: Contract) -> None:
    pointers = {prop.pointer for prop in contract.request_properties}
    assert {"/networkToken/cryptogram", "/encryptedPan", "/paymentInstrument"} <= pointers
    # One model per document object while it is kept (the cache is bounded: a long test run may have replaced
    # the session contract's entry, so identity is asked of two look-ups in a row).
    assert contract.model.document is contract.document
    assert model_for(contract.document) is model_for(contract.document)
