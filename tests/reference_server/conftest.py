"""Fixtures for the reference server tests: callbacks to send, a short-deadline document."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from callback_core.spec import Contract


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def callback(token_callback: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """A fresh callback: the description's example with the given last four digits and attempt id."""

    def make(last4: str = "1234", attempt_id: str = "attempt-1", **changes: Any) -> dict[str, Any]:
        body = copy.deepcopy(token_callback)
        body["maskedCardNumber"] = f"47969485XXXX{last4}"
        body["authorizationAttemptId"] = attempt_id
        body.update(changes)
        return body

    return make


@pytest.fixture
def short_deadline_spec(tmp_path: Path, document: dict[str, Any], contract: Contract) -> Path:
    """A copy of the contract whose deadline is 1 s: the slow issuer is answered after 0.75 s."""
    document["paths"][contract.path][contract.method.lower()]["x-response-deadline-seconds"] = 1
    path = tmp_path / "short-deadline.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path
