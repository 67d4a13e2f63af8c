"""Canaries for the private APIs the suite uses (contract_tests/hypothesis_adapter.py and schemathesis_adapter.py):
each fails loudly, naming what moved, when an installed version differs from the pin or an internal is gone."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import pytest

from callback_core.spec import Contract
from contract_tests import hypothesis_adapter, schemathesis_adapter


def _pinned(distribution: str) -> str:
    """The exact pin of `distribution` in pyproject's runtime dependencies."""
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in pyproject["project"]["dependencies"]:
        name, _, pin = requirement.partition("==")
        if name.split("[")[0].strip().lower() == distribution:
            return pin.strip()
    pytest.fail(f"{distribution} has no exact pin (==) in pyproject's dependencies")


@pytest.mark.parametrize(
    ("distribution", "adapter_version"),
    [("hypothesis", hypothesis_adapter.PINNED_VERSION), ("schemathesis", schemathesis_adapter.PINNED_VERSION)],
)
def test_the_installed_version_is_the_one_the_adapter_was_read_from(distribution: str, adapter_version: str) -> None:
    assert _pinned(distribution) == adapter_version, f"pyproject and the {distribution} adapter disagree"
    assert version(distribution) == adapter_version, (
        f"{distribution} {version(distribution)} is installed, the adapter was written for {adapter_version}: "
        "re-read its internals, then move the pin and PINNED_VERSION together"
    )


def test_hypothesis_local_constants_internals_are_where_the_adapter_patches_them() -> None:
    from hypothesis.internal.conjecture import providers

    assert hypothesis_adapter.internals_present(), (
        "hypothesis.internal.conjecture.providers._get_local_constants / CONSTANTS_CACHE or "
        "hypothesis.internal.constants_ast.Constants moved: --seed would stop reproducing runs"
    )
    original = providers._get_local_constants
    with hypothesis_adapter.library_constants_only():
        assert providers._get_local_constants is not original
        assert not providers._get_local_constants()  # no local constants while generating
    assert providers._get_local_constants is original


def test_schemathesis_coverage_phase_is_callable_as_the_adapter_calls_it(contract: Contract) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_dict(dict(contract.document))
    parameters = inspect.signature(schema.iter_coverage_cases).parameters
    assert {"generation_modes", "generation_config"} <= set(parameters), "iter_coverage_cases changed its keywords"
    operation = schema[contract.path][contract.method]
    bodies = [case.body for case in schemathesis_adapter.coverage_cases(schema, operation)]
    assert len(bodies) > 10 and any(isinstance(body, dict) and contract.is_valid_request(body) for body in bodies)
