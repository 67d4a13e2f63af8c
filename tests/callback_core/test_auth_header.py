"""The cardCallbackAuthHeader slot: the header the document names, the value's sources, the constant-time check."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from callback_core.auth_header import AUTH_HEADER_ENV, AuthHeader, auth_header_name, load_auth_header
from callback_core.errors import SecretError, SpecError
from callback_core.lint import Level, lint
from callback_core.spec import Contract, bundled_document, read_document

V2 = bundled_document("card-callback-v2.yaml")


@pytest.fixture
def v2_document() -> dict[str, Any]:
    return copy.deepcopy(read_document(V2))


def test_the_revision_lints_clean() -> None:
    assert [f for f in lint(read_document(V2)) if f.level is Level.ERROR] == []


def test_the_v2_document_names_its_header_and_the_first_none(contract: Contract) -> None:
    assert auth_header_name(Contract.from_file(V2)) == "X-Card-Callback-Auth"
    assert auth_header_name(contract) is None


def test_the_value_comes_from_a_file_first_then_the_environment(tmp_path: Path) -> None:
    v2 = Contract.from_file(V2)
    value_file = tmp_path / "value"
    value_file.write_text("from-file\n", encoding="utf-8")
    assert load_auth_header(v2, {AUTH_HEADER_ENV: "from-env"}, value_file) == AuthHeader(
        "X-Card-Callback-Auth", "from-file")
    assert load_auth_header(v2, {AUTH_HEADER_ENV: "from-env"}) == AuthHeader("X-Card-Callback-Auth", "from-env")
    assert load_auth_header(v2, {AUTH_HEADER_ENV: ""}) is None
    assert load_auth_header(v2, {}) is None


def test_a_value_that_cannot_travel_in_a_header_is_refused_without_being_shown() -> None:
    v2 = Contract.from_file(V2)
    for bad in ("with\nnewline", " padded", "blåbær"):
        with pytest.raises(SecretError, match="printable ASCII") as caught:
            load_auth_header(v2, {AUTH_HEADER_ENV: bad})
        assert bad not in str(caught.value)


def test_a_value_file_for_a_document_without_the_slot_is_an_error(contract: Contract, tmp_path: Path) -> None:
    value_file = tmp_path / "value"
    value_file.write_text("value", encoding="utf-8")
    with pytest.raises(SpecError, match="declares no x-card-callback-auth-header"):
        load_auth_header(contract, {}, value_file)
    # The environment is shared by runs on several documents: one without the slot does not use it.
    assert load_auth_header(contract, {AUTH_HEADER_ENV: "value"}) is None


def test_the_check_accepts_only_the_exact_value_and_never_shows_it() -> None:
    auth = AuthHeader("X-Card-Callback-Auth", "s3cret-value")
    assert auth.accepts("s3cret-value")
    for wrong in (None, "", "s3cret-valu", "s3cret-value ", "S3CRET-VALUE", "s3cret-välue"):
        assert not auth.accepts(wrong), wrong
    assert auth.refusal(None) == "the X-Card-Callback-Auth header is missing"
    assert "s3cret" not in (auth.refusal("nope") or "") and "s3cret" not in repr(auth)


def test_the_linter_refuses_a_slot_that_is_not_a_declared_header(v2_document: dict[str, Any]) -> None:
    operation = v2_document["paths"]["/psp-makepayment"]["post"]
    operation["x-card-callback-auth-header"]["header"] = "X-Not-Declared"
    problems = lint(v2_document)
    assert [p.message for p in problems if "x-card-callback-auth-header" in p.pointer] == [
        "x-card-callback-auth-header names 'X-Not-Declared', which is not a declared header parameter"]
    with pytest.raises(SpecError):
        auth_header_name(Contract.from_dict(v2_document))
