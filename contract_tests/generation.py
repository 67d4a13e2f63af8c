"""Callbacks from the document with Schemathesis: fuzzed (positive and negative mode) and its coverage phase."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from callback_core.spec import Contract
from contract_tests.errors import GenerationError
from contract_tests.hypothesis_adapter import library_constants_only
from contract_tests.mutations import invalid_without_formats
from contract_tests.schemathesis_adapter import coverage_cases

# Strings longer than this are left out of valid callbacks: the document sets no maxLength, but a careful
# PSP may still cap field sizes (and answer 413 or 400), which is not a contract breach worth reporting.
MAX_STRING_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Generated:
    """What Schemathesis drew for one seed: valid bodies (with any unknown properties it added) and invalid ones."""

    valid: tuple[dict[str, Any], ...]
    invalid: tuple[bytes, ...]


def generate(contract: Contract, *, seed: int, max_examples: int, invalid_examples: int) -> Generated:
    """Deterministic for a given seed, document and Schemathesis and Hypothesis versions, whatever else the
    process has loaded (the CLI and pytest draw the same cases for a seed)."""
    import schemathesis
    from schemathesis import GenerationMode

    try:
        config = schemathesis.Config.from_dict(
            # NUL bytes and generated security headers say nothing about the callback contract: the suite
            # signs (or not) every request itself.
            {"generation": {"allow-x00": False, "with-security-parameters": False}}
        )
        schema = schemathesis.openapi.from_dict(copy.deepcopy(dict(contract.document)), config=config)
        operation = schema[contract.path][contract.method]
    except Exception as exc:  # Schemathesis raises many kinds; any of them means no generation.
        raise GenerationError(f"Schemathesis cannot load {contract.source}: {exc}") from None
    with library_constants_only():  # every use of Hypothesis below, fuzzing and the coverage phase alike
        valid = [case.body for case in _draw(operation.as_strategy(GenerationMode.POSITIVE), seed, max_examples)]
        invalid = (
            [case.body for case in _draw(operation.as_strategy(GenerationMode.NEGATIVE), seed, invalid_examples)]
            if invalid_examples else []
        )
        covered_valid, covered_invalid = _coverage(schema, operation, contract)
    return Generated(
        valid=_unique(b for b in [*valid, *covered_valid] if _usable_valid(contract, b)),
        invalid=_unique_bytes(b for b in map(_as_bytes, [*invalid, *covered_invalid]) if _usable_invalid(contract, b)),
    )


def _coverage(schema: Any, operation: Any, contract: Contract) -> tuple[list[Any], list[Any]]:
    """Schemathesis's coverage phase: the document's examples with one value changed at a time, to boundary
    values (valid) or to each way of breaking it (invalid). Deterministic and cheap, as in `schemathesis run`."""
    try:
        cases = coverage_cases(schema, operation)
        bodies = [case.body for case in cases if case.method.upper() == contract.method]
    except Exception as exc:  # Schemathesis raises many kinds; any of them means no coverage cases.
        raise GenerationError(f"Schemathesis could not derive coverage cases: {type(exc).__name__}: {exc}") from None
    valid: list[Any] = []
    invalid: list[Any] = []
    for body in bodies:
        (valid if isinstance(body, dict) and contract.is_valid_request(body) else invalid).append(body)
    return valid, invalid


def _draw(strategy: Any, seed: int, count: int) -> list[Any]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    drawn: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=False,
        print_blob=False,
    )
    @fixed_seed(seed)
    @given(strategy)
    def collect(case: Any) -> None:
        drawn.append(case)

    try:
        collect()
    except Exception as exc:
        raise GenerationError(f"Schemathesis could not generate callbacks: {type(exc).__name__}: {exc}") from None
    return drawn


def _usable_valid(contract: Contract, body: Any) -> bool:
    return (
        isinstance(body, dict)
        and contract.is_valid_request(body)
        and _strings_fit(body)
    )


def _strings_fit(node: Any) -> bool:
    if isinstance(node, str):
        return len(node) <= MAX_STRING_LENGTH
    if isinstance(node, dict):
        return all(_strings_fit(k) and _strings_fit(v) for k, v in node.items())
    if isinstance(node, list):
        return all(_strings_fit(v) for v in node)
    if isinstance(node, float):
        return math.isfinite(node)
    return True


def _as_bytes(body: Any) -> bytes | None:
    if isinstance(body, bytes):
        return body
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):
        return None


def _usable_invalid(contract: Contract, body: bytes | None) -> bool:
    """Only bodies that are truly invalid, and UTF-8: the sender never sends other bytes, so a PSP that
    trips over them has no defect worth a report."""
    if body is None:
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if "\x00" in text:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return True
    return not contract.is_valid_request(data) and invalid_without_formats(contract, data)


def _unique(bodies: Any) -> tuple[dict[str, Any], ...]:
    return tuple(_dedupe(bodies, lambda b: json.dumps(b, sort_keys=True)))


def _unique_bytes(bodies: Any) -> tuple[bytes, ...]:
    return tuple(_dedupe(bodies, lambda b: b))


def _dedupe(items: Any, key: Callable[[Any], Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out
