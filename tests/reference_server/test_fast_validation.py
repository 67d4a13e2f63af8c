"""The server's compiled validators: the body's fast path (see test_validator_agreement) and the cached header ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from connexion.validators import ParameterValidator
from reference_helpers import client_for

from callback_core.schemas import SchemaValidator
from callback_core.spec import Contract
from reference_server.bodies import for_one_app
from reference_server.connexion_app import parameter_validator_for_one_app, resolved_document


def _server_validator(contract: Contract) -> SchemaValidator:
    # Connexion hands the body validator the request schema with every $ref resolved.
    document = resolved_document(contract.document)
    operation = document["paths"][contract.path][contract.method.lower()]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    body_validator = for_one_app(contract.document)
    return body_validator(schema=schema, required=True, nullable=False, encoding="utf-8",
                          strict_validation=False)._validator


def test_fast_path_compiles_for_the_bundled_document(contract: Contract) -> None:
    assert _server_validator(contract).fast is not None


def test_fast_path_accepts_every_request_example(contract: Contract) -> None:
    fast = _server_validator(contract).fast
    assert fast is not None
    for name, example in contract.request_examples().items():
        assert fast(example), name


def test_a_pattern_dollar_is_the_end_of_the_string(contract: Contract, token_callback: dict[str, Any]) -> None:
    body = {**token_callback, "merchantSerialNumber": "1234\n"}
    assert not _server_validator(contract).is_valid(body)


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
