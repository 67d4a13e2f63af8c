"""The jsonschema-rs fast path never accepts a body the Python validator (and its messages) refuses."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from connexion.json_schema import resolve_refs
from connexion.validators import ParameterValidator
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator
from reference_helpers import client_for

from callback_core.spec import Contract
from reference_server.bodies import RequestValidator, fast_validator
from reference_server.connexion_app import parameter_validator_for_one_app

CHECKER = Draft4Validator.FORMAT_CHECKER


def _request_schema(contract: Contract) -> dict[str, Any]:
    # Connexion hands the body validator the request schema with every $ref resolved.
    document = resolve_refs(copy.deepcopy(dict(contract.document)))
    operation = document["paths"][contract.path][contract.method.lower()]
    return operation["requestBody"]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


FIELDS = ["pspReference", "authorizationAttemptId", "merchantSerialNumber", "maskedCardNumber", "cardType",
          "cardIssuedInCountryCode", "paymentInstrument", "softDeclineCompletedRedirectUrl", "encryptedPan",
          "networkToken", "networkToken/number", "networkToken/expiryMonth", "networkToken/expiryYear",
          "networkToken/eci", "networkToken/tokenType", "networkToken/paymentAccountReference", "extra"]
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "1234", "1234\n", "12345678901234", "47969485XXXX1234", "DK", "dk", "TOKEN", "PAN",
                     "VISA", "03", "13", "2030", "7", "https://vipps.no/x?a=1", "not a uri", "http://[::1", "//x",
                     "5001BO8B9NXVVIXCT0HAJU98I512Z", "\u0663\u0663\u0663\u0663"]),
    st.text(max_size=30), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                               max_size=2),
)


def _mutated(body: dict[str, Any], changes: list[tuple[str, Any, bool]]) -> dict[str, Any]:
    result = copy.deepcopy(body)
    for field, value, remove in changes:
        target = result
        *parents, name = field.split("/")
        for parent in parents:
            if not isinstance(target.get(parent), dict):
                target[parent] = {}
            target = target[parent]
        if remove:
            target.pop(name, None)
        else:
            target[name] = value
    return result


def test_fast_path_compiles_for_the_bundled_document(contract: Contract) -> None:
    assert fast_validator(_request_schema(contract), CHECKER) is not None


def test_fast_path_accepts_every_request_example(contract: Contract) -> None:
    fast = fast_validator(_request_schema(contract), CHECKER)
    assert fast is not None
    for name, example in contract.request_examples().items():
        assert fast(example), name


@settings(max_examples=400, deadline=None)
@given(
    example=st.sampled_from(["tokenCallback", "panCallback"]),
    changes=st.lists(st.tuples(st.sampled_from(FIELDS), VALUES, st.booleans()), min_size=1, max_size=3),
)
def test_fast_path_agrees_with_the_python_validator(
    contract: Contract, example: str, changes: list[tuple[str, Any, bool]]
) -> None:
    schema = _request_schema(contract)
    fast = fast_validator(schema, CHECKER)
    assert fast is not None
    body = _mutated(contract.request_examples()[example], changes)
    # The document has no `nullable`, the one place the fast path may refuse more: they agree.
    assert fast(body) == RequestValidator(schema, format_checker=CHECKER).is_valid(body)


def test_a_pattern_dollar_is_the_end_of_the_string(contract: Contract) -> None:
    schema = _request_schema(contract)
    body = _mutated(contract.request_examples()["tokenCallback"], [("merchantSerialNumber", "1234\n", False)])
    assert not RequestValidator(schema, format_checker=CHECKER).is_valid(body)


@pytest.mark.anyio
async def test_the_server_refuses_a_final_newline_after_a_pattern(
    tmp_path: Path, token_callback: dict[str, Any]
) -> None:
    body = {**token_callback, "merchantSerialNumber": "1234\n"}
    async with client_for(tmp_path) as client:
        response = await client.post("/psp-makepayment", json=body)
    assert response.status_code == 400
    assert "'merchantSerialNumber': must match the pattern ^[0-9]{4,6}$" in response.json()["detail"]


HEADER_PARAMS = [
    {"name": "X-Plain", "in": "header", "schema": {"type": "string"}},
    {"name": "X-Required", "in": "header", "required": True, "schema": {"type": "string", "pattern": "^[a-z]+$"}},
    {"name": "X-Count", "in": "header", "schema": {"type": "integer", "minimum": 1}},
    {"name": "X-Nullable", "in": "header", "schema": {"type": "string", "nullable": True, "maxLength": 2}},
]


@pytest.mark.parametrize("param", HEADER_PARAMS, ids=[p["name"] for p in HEADER_PARAMS])
@pytest.mark.parametrize("value", [None, "abc", "ABC", "", "null", 0, 7, "x" * 5])
def test_cached_parameter_validator_agrees_with_connexions(param: dict[str, Any], value: Any) -> None:
    cached = parameter_validator_for_one_app()
    expected = ParameterValidator.validate_parameter("header", value, param)
    assert cached.validate_parameter("header", value, param) == expected
    assert cached.validate_parameter("header", value, param) == expected  # from the cache


def test_cached_parameter_validator_compiles_once_per_parameter_and_app() -> None:
    first, second = parameter_validator_for_one_app(), parameter_validator_for_one_app()
    for _ in range(3):
        first.validate_parameter("header", "abc", HEADER_PARAMS[1])
    assert len(first._compiled) == 1
    assert second._compiled == {}
