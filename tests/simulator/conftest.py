"""Fixtures for the simulator: the small test PSPs served on loopback, and no secret from the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simulator_helpers import serve_in_thread
from simulator_psps import TestPsp, make_app


@pytest.fixture(scope="module")
def psp() -> Iterator[TestPsp]:
    """The small test PSPs (500, slow, broken JSON, soft decline, HMAC...), one server per module."""
    state = TestPsp(base_url="")
    with serve_in_thread(make_app(state)) as base_url:
        state.base_url = base_url
        yield state


@pytest.fixture(autouse=True)
def _no_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A secret in the developer's environment must not silently sign the tests' callbacks.
    monkeypatch.delenv("CARD_CALLBACK_HMAC_SECRET", raising=False)
