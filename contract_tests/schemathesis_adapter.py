"""Every use of a Schemathesis API that is not documented as public, in one place: pinned in pyproject,
watched by a canary test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# The exact version this was read from (pyproject pins the same); tests/contract_tests/test_adapters.py
# fails loudly when an install differs or the method moves.
PINNED_VERSION = "4.32.5"


def coverage_cases(schema: Any, operation: Any) -> Iterator[Any]:
    """The cases of Schemathesis's coverage phase for `operation`, positive and negative.

    `schemathesis run` drives this phase through `BaseSchema.iter_coverage_cases`, which the Python API
    does not document; the pytest plugin runs it only inside pytest.
    """
    from schemathesis import GenerationMode

    cases: Iterator[Any] = schema.iter_coverage_cases(
        operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=schema.config.generation_for(operation=operation),
    )
    return cases
