"""The contract suite as a pytest suite: one test per check, against the reference server or --psp-url.

Without `--psp-url` (or CARD_CALLBACK_PSP_URL) it runs twice against the reference server in-process:
unsigned, and signed with a test secret. With it, once against that URL (see conftest.py for options).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from suite_helpers import TEST_SECRET, option, psp_url, run_suite

from callback_core.secrets import load_secret
from callback_core.spec import Contract, bundled_spec_path, read_document
from contract_tests.cards import DEFAULT_CARDS, CardTriggers
from contract_tests.catalogue import CHECKS
from contract_tests.models import Outcome, Report, Verdict
from contract_tests.runner import DEFAULT_MAX_EXAMPLES
from contract_tests.terminal import format_failure
from contract_tests.transport import asgi_transport, http_transport
from reference_server.app import create_app

REFERENCE_URL = "http://reference.test/psp-makepayment"
REFERENCE_EXAMPLES = 30
# Fixed, so that `make test` is the same run every time and a failure it shows reproduces; --psp-seed varies it.
DEFAULT_SEED = 1


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames:
        targets = ["psp-url"] if psp_url(metafunc.config) else ["reference", "reference-signed"]
        metafunc.parametrize("target", targets, scope="session")


@pytest.fixture(scope="session")
def suite_report(target: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Report:
    config = request.config
    seed_option = option(config, "--psp-seed")
    seed = int(str(seed_option)) if seed_option is not None else DEFAULT_SEED
    strict = bool(option(config, "--psp-strict"))
    deadline = option(config, "--psp-deadline")
    examples = option(config, "--psp-max-examples")
    print(f"\ncontract suite against {target}: seed {seed} (again: --psp-seed {seed})")
    if target == "psp-url":
        url = psp_url(config)
        assert url is not None
        secret_file = option(config, "--psp-hmac-secret-file")
        secret = load_secret(os.environ, Path(str(secret_file)) if secret_file else None)
        contract = Contract.from_file()
        cards_file = option(config, "--psp-test-cards")
        cards = CardTriggers.from_file(Path(str(cards_file)), contract.statuses) if cards_file else DEFAULT_CARDS
        with http_transport() as transport:
            report, _ = run_suite(transport, url, contract, secret=secret, seed=seed, strict=strict,
                                  max_examples=int(str(examples or DEFAULT_MAX_EXAMPLES)),
                                  deadline=float(str(deadline)) if deadline is not None else None, test_cards=cards)
        return report
    tmp = tmp_path_factory.mktemp(target)
    spec = _short_deadline_copy(tmp / "card-callback.yaml")
    secret = TEST_SECRET if target == "reference-signed" else None
    app = create_app(db_path=tmp / "attempts.sqlite3", hmac_secret=secret, spec_path=spec, validate_responses=True)
    with asgi_transport(app) as transport:
        report, _ = run_suite(transport, REFERENCE_URL, Contract.from_file(spec), secret=secret, seed=seed,
                              strict=strict, max_examples=int(str(examples or REFERENCE_EXAMPLES)))
    return report


def _short_deadline_copy(path: Path) -> Path:
    """The bundled document with a 1 s deadline, so the slow-issuer test card answers in under a second."""
    document: dict[str, Any] = read_document(bundled_spec_path())
    contract = Contract.from_dict(document)
    document["paths"][contract.path][contract.method.lower()]["x-response-deadline-seconds"] = 1
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("code", [check.code for check in CHECKS])
def test_check(code: str, suite_report: Report) -> None:
    if suite_report.verdict is Verdict.UNTESTED:
        pytest.fail("; ".join(suite_report.notes) or "tested nothing", pytrace=False)
    result = next(r for r in suite_report.results if r.check.code == code)
    if result.outcome is Outcome.SKIPPED:
        pytest.skip(f"{code}: {result.reason}")
    if result.outcome is Outcome.NOT_EXERCISED:  # a skip that says so: never a pass
        pytest.skip(f"{code} not exercised: {result.reason}")
    if result.outcome is Outcome.FAILED:
        details = "".join(format_failure(f) for f in result.failures)
        pytest.fail(f"{code} {result.check.name} (seed {suite_report.seed}){details}", pytrace=False)
