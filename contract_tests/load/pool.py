"""The pool of unique callbacks, built before the clock starts so that generation is never the PSP's latency."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from callback_core.spec import Contract
from contract_tests.cases import Planner, encode
from contract_tests.errors import GenerationError
from contract_tests.generation import generate

# Distinct shapes to start from: Schemathesis's draws plus the document's examples. Enough variety for a PSP's
# branches; every callback in the pool is still unique (fresh ids and cryptogram on each).
BASE_EXAMPLES = 20


def build_pool(
    contract: Contract, *, seed: int, size: int, new_id: Callable[[], str] = lambda: str(uuid.uuid4())
) -> list[bytes]:
    """`size` valid callbacks, each a new attempt with a fresh payment reference and cryptogram, as sent."""
    generated = generate(contract, seed=seed, max_examples=BASE_EXAMPLES, invalid_examples=0)
    planner = Planner(contract, generated, new_id)
    bases = [*planner.examples.values(), *(planner.clean(body) for body in generated.valid)]
    bases = [body for body in bases if contract.is_valid_request(body)]
    if not bases:
        raise GenerationError(f"{contract.source} has no valid request example and Schemathesis generated none")
    pool: list[bytes] = []
    seen: set[bytes] = set()
    while len(pool) < size:
        before = len(pool)
        for base in bases:
            fresh = planner.fresh(base)
            body = encode(fresh)
            # A document may constrain the identifiers so that no fresh value is valid: never send one twice.
            if body not in seen and contract.is_valid_request(fresh):
                seen.add(body)
                pool.append(body)
                if len(pool) == size:
                    break
        if len(pool) == before:
            raise GenerationError("cannot make unique callbacks: no fresh attempt id, payment reference or "
                                  "cryptogram the document accepts")
    return pool
