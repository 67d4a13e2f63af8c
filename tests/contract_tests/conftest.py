"""Options of the contract suite as a pytest suite: `--psp-url` (else the reference server in-process).

    pytest tests/contract_tests/test_contract_suite.py --psp-url https://psp.example.com/callbacks/vipps
    CARD_CALLBACK_PSP_URL=... pytest tests/contract_tests/test_contract_suite.py   # same, from anywhere

The HMAC secret comes from CARD_CALLBACK_HMAC_SECRET or `--psp-hmac-secret-file`, as for the CLI.
"""

from __future__ import annotations

import pytest
from suite_helpers import PSP_URL_ENV


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("card-callback", "card-callback contract suite")
    group.addoption("--psp-url", default=None,
                    help=f"The PSP's callback URL to test (default: ${PSP_URL_ENV}, else the reference server "
                         "in-process).")
    group.addoption("--psp-hmac-secret-file", default=None,
                    help="File with the HMAC secret (default: $CARD_CALLBACK_HMAC_SECRET; neither: unsigned).")
    group.addoption("--psp-max-examples", type=int, default=None,
                    help="Generated valid callbacks (default: 30 against the reference server, the CLI's default "
                         "against a URL).")
    group.addoption("--psp-deadline", type=float, default=None, help="Deadline in seconds (default: the document's).")
    group.addoption("--psp-seed", type=int, default=None, help="Generation seed (default: random, printed).")
    group.addoption("--psp-strict", action="store_true", default=False, help="SHOULD rules fail too.")
