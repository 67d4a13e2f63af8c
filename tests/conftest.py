"""Shared fixtures (the bundled contract document) and the options of the contract suite run as pytest.

    pytest tests/contract_tests --psp-url https://psp.example.com/callbacks/vipps   # any PSP
    pytest tests/contract_tests                                                      # the reference server

The HMAC secret comes from CARD_CALLBACK_HMAC_SECRET or `--psp-hmac-secret-file`, as for the CLI.
"""

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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("card-callback", "card-callback contract suite")
    group.addoption("--psp-url", default=None,
                    help="The PSP's callback URL to test (default: $CARD_CALLBACK_PSP_URL, else the reference server "
                         "in-process).")
    group.addoption("--psp-hmac-secret-file", default=None,
                    help="File with the HMAC secret (default: $CARD_CALLBACK_HMAC_SECRET; neither: unsigned).")
    group.addoption("--psp-max-examples", type=int, default=None,
                    help="Generated valid callbacks (default: 30 against the reference server, the CLI's default "
                         "against a URL).")
    group.addoption("--psp-deadline", type=float, default=None, help="Deadline in seconds (default: the document's).")
    group.addoption("--psp-seed", type=int, default=None,
                    help="Generation seed (default: 1, printed: every run the same, so a failure reproduces).")
    group.addoption("--psp-strict", action="store_true", default=False, help="SHOULD rules fail too.")
    group.addoption("--psp-test-cards", default=None,
                    help="The PSP's test cards, as for `card-callback test --test-cards` (default: the built-in ones).")
