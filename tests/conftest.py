"""Shared fixtures: the bundled contract document, as a Contract and as a fresh dict."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from callback_core.spec import Contract, bundled_spec_path, read_document

_DOCUMENT = read_document(bundled_spec_path())


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract.from_dict(_DOCUMENT, source=str(bundled_spec_path()))


@pytest.fixture
def document() -> dict[str, Any]:
    """A private deep copy of the bundled document, free to mutate."""
    return copy.deepcopy(_DOCUMENT)


@pytest.fixture
def token_callback(contract: Contract) -> dict[str, Any]:
    """The public description's example request (comma fixed), as a fresh dict."""
    return copy.deepcopy(contract.request_examples()["tokenCallback"])
