"""The server's validator, the suite's and their compiled fast path give one verdict on every body, for every
contract document shipped under openapi/ (a property test over generated bodies)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callback_core.schemas import SchemaValidator, schema_validator
from callback_core.spec import Contract, bundled_spec_path
from reference_server.bodies import StrictJSONBodyValidator, for_one_app
from reference_server.connexion_app import resolved_document
from reference_server.errors import BadRequest

DOCUMENTS = sorted(bundled_spec_path().parent.glob("card-callback*.yaml"))
REQUEST_BODIES = 4_000  # per document: with the answers below, 10,000 bodies in all
RESPONSE_BODIES = 1_000
INT64 = 2**63

EDGE_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 1.5, 49900, 49900.0, INT64 - 1, INT64, -INT64, -INT64 - 1, 2**64, 10**30,
    2**31 - 1, 2**31, "", "1234", "1234\n", "\n1234", "12345678901234", "47969485XXXX1234", "4796948\u0663XXXX1234",
    "\u0661\u0662\u0663\u0664", "\uff11\uff12\uff13\uff14", "\u0967\u0968\u0969\u096a", "DK", "dk", "D\u212a",
    "NOK", "nok", "TOKEN", "PAN", "token", "NetworkToken", "PspReference", "CardCallbackRequest", "RESERVE",
    "CAPTURE", "FAIL", "SOFT_DECLINE", "VISA", "03", "13", "2030", "7", "a\rb", "a\u2028b", "\ud800",
    "https://vipps.no/x?a=1", "not a uri", "http://[::1", "//x", "5001BO8B9NXVVIXCT0HAJU98I512Z", [], {}, [1],
    {"nested": True},
]


def _contract(path: Path) -> Contract:
    return Contract.from_file(path)


def _server_validator(contract: Contract) -> StrictJSONBodyValidator:
    """The body validator the reference server plugs into Connexion, with the schema as Connexion hands it
    over (every $ref resolved)."""
    document = resolved_document(contract.document)
    schema = document["paths"][contract.path][contract.method.lower()]["requestBody"]["content"][
        "application/json"]["schema"]
    validator_class = for_one_app(contract.document)
    return validator_class(schema=schema, required=True, nullable=False, encoding="utf-8", strict_validation=False)


def _server_accepts(validator: StrictJSONBodyValidator, body: Any) -> bool:
    try:
        validator._validate(body)
    except BadRequest:
        return False
    return True


def _subtrees(node: Any) -> list[Any]:
    found = [node]
    if isinstance(node, dict):
        for value in node.values():
            found += _subtrees(value)
    return found


def _property_names(document: Any) -> list[str]:
    names: set[str] = set()
    stack = [document.get("components", {})]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                names.update(node["properties"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(names)


NUMBER_EDGES: list[Any] = [0, 1, -1, 1.0, 1.5, -0.0, 1e300, INT64 - 1, INT64, -INT64, -INT64 - 1, 2**64, 2**31 - 1,
                           2**31, -(2**31) - 1, 10**30]
DIGITS = "0123456789X\u0660\u0663\u0669\uff10\uff19\u0966\u096f"  # ASCII, Arabic-Indic, fullwidth, Devanagari


def mutated(examples: list[dict[str, Any]], names: list[str]) -> st.SearchStrategy[Any]:
    """An example with up to four changes: a field set to an edge value, a piece of another example (the
    other variant of a discriminated object), random JSON, or a field removed or added."""
    pieces = [piece for example in examples for piece in _subtrees(example)]
    values = st.one_of(
        st.sampled_from(NUMBER_EDGES),
        st.sampled_from(EDGE_VALUES).map(copy.deepcopy),
        st.sampled_from(pieces).map(copy.deepcopy),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
        st.text(alphabet=DIGITS, min_size=1, max_size=20),
    )

    @st.composite
    def draw_body(draw: st.DrawFn) -> Any:
        if draw(st.integers(0, 50)) == 0:
            return copy.deepcopy(draw(st.sampled_from(EDGE_VALUES)))  # not an object at all
        body = copy.deepcopy(draw(st.sampled_from(examples)))
        # Mostly one change: a body that is valid but for one edge value is where the two paths could part.
        for _ in range(draw(st.sampled_from([0, 1, 1, 1, 1, 2, 3, 4]))):
            objects = [node for node in _subtrees(body) if isinstance(node, dict)]
            target = objects[draw(st.integers(0, len(objects) - 1))]
            # Mostly a field the object has (a value break), else any field name (a new or moved one).
            keys = list(target) if target and draw(st.integers(0, 3)) else [*names, "x-unknown"]
            key = keys[draw(st.integers(0, len(keys) - 1))]
            if key in target and draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(values)
        return body

    return draw_body()


def _agree(validator: SchemaValidator, body: Any) -> bool:
    full = bool(validator.full.is_valid(body))
    if validator.fast is not None and validator.fast(body):
        assert full, f"the fast path accepts what the full validator refuses: {body!r}"
    return full


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_server_suite_and_fast_path_agree_on_requests(path: Path) -> None:
    contract = _contract(path)
    server = _server_validator(contract)
    examples = [body for body in contract.request_examples().values() if isinstance(body, dict)]
    assert examples and all(contract.is_valid_request(body) for body in examples)
    assert contract.request_validator.fast is not None  # else this test would prove nothing about it
    seen = {True: 0, False: 0}

    @settings(max_examples=REQUEST_BODIES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(mutated(examples, _property_names(contract.document)))
    def agree(body: Any) -> None:
        verdict = _agree(contract.request_validator, body)  # the suite's and the simulator's
        # The server's: its own instance, compiled from the schema as Connexion hands it over.
        assert _agree(server._validator, body) is verdict, contract.request_errors(body)
        seen[verdict] += 1

    agree()
    assert seen[True] > REQUEST_BODIES // 20 and seen[False] > REQUEST_BODIES // 20, seen  # both kinds, many


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_suite_and_fast_path_agree_on_answers(path: Path) -> None:
    contract = _contract(path)
    examples = [body for body in contract.response_examples().values() if isinstance(body, dict)]
    assert contract.response_validator.fast is not None

    @settings(max_examples=RESPONSE_BODIES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(mutated(examples, _property_names(contract.document)))
    def agree(body: Any) -> None:
        _agree(contract.response_validator, body)

    agree()


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({"merchantSerialNumber": "1234\n"}, False),  # ECMA `$` is the end of the string
        ({"merchantSerialNumber": "\u0661\u0662\u0663\u0664"}, False),  # ECMA `[0-9]`/`\d` are ASCII
        ({"merchantSerialNumber": "1234"}, True),
    ],
)
def test_the_one_validator_uses_ecma_regex_semantics(token_callback: dict[str, Any], change: dict[str, Any],
                                                     valid: bool, contract: Contract) -> None:
    body = {**token_callback, **change}
    assert contract.is_valid_request(body) is valid
    assert _server_accepts(_server_validator(contract), body) is valid


def test_int64_and_a_discriminator_are_decided_by_openapi_not_draft_4() -> None:
    document = {"components": {"schemas": {
        "A": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"},
                                                                       "n": {"type": "integer", "format": "int64"}}},
        "B": {"type": "object", "required": ["kind", "b"], "properties": {"kind": {"type": "string"}}},
    }}}
    schema = {"oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}],
              "discriminator": {"propertyName": "kind", "mapping": {"a": "#/components/schemas/A",
                                                                    "b": "#/components/schemas/B"}}}
    validator = schema_validator(document, schema)
    assert validator.is_valid({"kind": "a", "n": INT64 - 1})
    assert not validator.is_valid({"kind": "a", "n": INT64})  # Draft 4 alone (and jsonschema-rs) ignores int64
    # Plain oneOf: exactly one of A and B matches, so Draft 4 accepts; the discriminator says B, which fails.
    assert not validator.is_valid({"kind": "b"})
    assert not validator.is_valid({"kind": "c"})
    for body in ({"kind": "a", "n": INT64}, {"kind": "b"}, {"kind": "c"}):
        assert validator.fast is not None and not validator.fast(body)
    # Rust's `.` takes "\r", ECMA-262's does not: such a pattern is left to the ECMA engine on the fast path too.
    dotted = schema_validator({}, {"type": "string", "pattern": "^.+$"})
    assert dotted.fast is not None and not dotted.fast("a\rb") and not dotted.is_valid("a\rb")
    assert dotted.fast("ab")
    # The same reading next to anyOf, and an implicit name only among the variants (no loop through itself).
    any_of = schema_validator(document, {**{"anyOf": schema["oneOf"]}, "discriminator": schema["discriminator"]})
    assert any_of.is_valid({"kind": "a"}) and not any_of.is_valid({"kind": "b"})
    document["components"]["schemas"]["Self"] = {"oneOf": schema["oneOf"], "discriminator": {"propertyName": "kind"}}
    implicit = schema_validator(document, {"$ref": "#/components/schemas/Self"})
    assert implicit.is_valid({"kind": "A"}) and not implicit.is_valid({"kind": "Self"})
