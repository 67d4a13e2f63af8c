"""The money-losing flows on fixture PSPs: each planted defect is caught by the check named for it, correct
PSPs whose outcomes vary per attempt pass over seeds 1-10, and a run that never reached a flow says so."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fixture_psps import PATH, Defect, Quirk, make_psp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from suite_helpers import TEST_SECRET, failed_codes, outcomes, run_against_app

from callback_core.spec import Contract
from contract_tests import runner
from contract_tests.cards import CardTrigger, CardTriggers
from contract_tests.files import format_json_report, format_junit
from contract_tests.generation import Generated
from contract_tests.models import Outcome, Severity, Verdict
from contract_tests.terminal import format_verdict

URL = "http://psp.test" + PATH
SWEEP_EXAMPLES = 3  # generated valid callbacks per sweep run; the coverage phase adds its ~250 cases anyway
_GENERATED: dict[tuple[str, int, int, int], Generated] = {}


@pytest.fixture
def generate_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Generation is a pure function of the document and seed: draw each seed once for the whole sweep."""
    original = runner.generate

    def memo(contract: Contract, *, seed: int, max_examples: int, invalid_examples: int) -> Generated:
        key = (contract.source, seed, max_examples, invalid_examples)
        if key not in _GENERATED:
            _GENERATED[key] = original(contract, seed=seed, max_examples=max_examples,
                                       invalid_examples=invalid_examples)
        return _GENERATED[key]

    monkeypatch.setattr(runner, "generate", memo)
    yield


@pytest.mark.parametrize(("defect", "code", "should"), [
    (Defect.SECOND_CALLBACK_CONFLICT, "CC009", False),
    (Defect.SOFT_DECLINE_LOOP, "CC009", True),
    (Defect.RETRY_CONFLICT, "CC010", False),
    (Defect.RETRY_OLD_ANSWER, "CC010", False),
    (Defect.ECHO_CARD_DATA, "CC011", True),
    (Defect.PYTHON_DOLLAR, "CC004", False),
], ids=str)
@pytest.mark.parametrize("strict", [False, True], ids=["plain", "strict"])
def test_each_flow_defect_is_caught_by_the_check_named_for_it(
    contract: Contract, defect: Defect, code: str, should: bool, strict: bool, generate_once: None
) -> None:
    report = run_against_app(make_psp(defects=frozenset({defect})), URL, contract, strict=strict,
                             max_examples=SWEEP_EXAMPLES)
    assert {f.code for f in report.failures} == {code}, report.failures
    if should and not strict:
        assert report.verdict is Verdict.CONFORMS
        assert outcomes(report)[code] is Outcome.WARNING
    else:
        assert report.verdict is Verdict.DEFECTS
        assert failed_codes(report) == {code}
    assert all(f.exchanges for f in report.failures)


def test_a_trailing_newline_accepted_is_shown_as_such(contract: Contract, generate_once: None) -> None:
    report = run_against_app(make_psp(defects=frozenset({Defect.PYTHON_DOLLAR})), URL, contract,
                             max_examples=SWEEP_EXAMPLES)
    shown = " ".join(f"{f.detail} {f.exchanges[0].probe.label}" for f in report.failures)
    assert "trailing newline" in shown


def _conforms(report: Any) -> None:
    assert report.verdict is Verdict.CONFORMS, [(f.code, f.title) for f in report.failures
                                                if f.severity is Severity.DEFECT]


_FORMAT_QUIRKS = frozenset({Quirk.UNPROCESSABLE, Quirk.CHARSET, Quirk.EXTRA_ANSWER_FIELDS,
                            Quirk.NO_TRANSACTION_REFERENCE, Quirk.CONNECTION_CLOSE})


@pytest.mark.parametrize("quirks", [
    _FORMAT_QUIRKS | {Quirk.RANDOM_OUTCOME},
    _FORMAT_QUIRKS | {Quirk.HALF_SOFT_DECLINED},
], ids=["random-outcome", "half-soft-declined"])
def test_correct_psps_conform_over_seeds_1_to_10(
    contract: Contract, quirks: frozenset[Quirk], generate_once: None
) -> None:
    # Every quirk of a correct PSP the suite must not mistake for a defect, on top of an outcome that varies
    # per attempt (which once failed correct PSPs by chance) or of many soft declines. --strict only ever
    # raises warnings to defects, so a strict pass is a plain pass too.
    for seed, secret in itertools.product(range(1, 11), (None, TEST_SECRET)):
        _conforms(run_against_app(make_psp(secret=secret, quirks=quirks), URL, contract, seed=seed, strict=True,
                                  secret=secret, max_examples=SWEEP_EXAMPLES))


@pytest.mark.parametrize(("defect", "code"), [(Defect.RETRY_CONFLICT, "CC010"),
                                              (Defect.SECOND_CALLBACK_CONFLICT, "CC009")], ids=str)
def test_a_psp_declining_by_its_own_rule_is_followed_without_test_cards(
    contract: Contract, defect: Defect, code: str, generate_once: None
) -> None:
    # None of the built-in test cards means anything to this PSP: only following whatever it answers, for any
    # valid callback, reaches its retries and second callbacks. (About 40 callbacks are followable, each declined
    # with a chance of 1/4 per flow: a run that meets none is not to be expected.)
    report = run_against_app(make_psp(quirks=frozenset({Quirk.OWN_RULE_DECLINES}), defects=frozenset({defect})),
                             URL, contract)
    assert failed_codes(report) == {code}, [(f.code, f.title) for f in report.failures]
    refused = [f for f in report.failures if f.code == code and f.severity is Severity.DEFECT]
    assert refused and all("409" in f.title for f in refused)
    assert sum(f.count for f in refused) > 1  # every refused follow-up is counted, not only the first


def test_a_psp_declining_by_its_own_rule_correctly_conforms_over_seeds_1_to_10(
    contract: Contract, generate_once: None
) -> None:
    judged = {"CC009": 0, "CC010": 0}
    for seed in range(1, 11):
        report = run_against_app(make_psp(quirks=frozenset({Quirk.OWN_RULE_DECLINES})), URL, contract, seed=seed,
                                 strict=True, max_examples=SWEEP_EXAMPLES)
        _conforms(report)
        for result in report.results:
            if result.check.code in judged:
                judged[result.check.code] += result.judged
    assert judged["CC009"] > 10 and judged["CC010"] > 10  # the flows ran, and were answered as they should be


def test_half_soft_declined_reaches_the_second_callback(contract: Contract, generate_once: None) -> None:
    report = run_against_app(make_psp(quirks=frozenset({Quirk.HALF_SOFT_DECLINED})), URL, contract,
                             max_examples=SWEEP_EXAMPLES)
    # Every valid first attempt is followed: about half of them soft-declined.
    assert {r.check.code: r.judged for r in report.results}["CC009"] >= 5


def test_a_psp_that_never_soft_declines_leaves_the_second_callback_not_exercised(
    contract: Contract, generate_once: None
) -> None:
    only_fail = CardTriggers((CardTrigger("0051", "FAIL"),), "test")
    report = run_against_app(make_psp(), URL, contract, test_cards=only_fail, max_examples=SWEEP_EXAMPLES)
    assert report.verdict is Verdict.CONFORMS
    cc009 = next(r for r in report.results if r.check.code == "CC009")
    assert cc009.outcome is Outcome.NOT_EXERCISED
    assert "--test-cards" in (cc009.reason or "") and "SOFT_DECLINE" in (cc009.reason or "")
    assert outcomes(report)["CC010"] is Outcome.PASSED
    assert "not exercised: CC009" in format_verdict(report)
    assert json.loads(format_json_report(report))["notExercised"] == ["CC009"]
    assert 'message="not exercised: no SOFT_DECLINE among ' in format_junit(report)


def test_test_cards_the_psp_answers_otherwise_are_named(contract: Contract, generate_once: None) -> None:
    cards = CardTriggers((CardTrigger("7777", "SOFT_DECLINE"), CardTrigger("0051", "FAIL")), "cards.yaml")
    report = run_against_app(make_psp(), URL, contract, test_cards=cards, max_examples=SWEEP_EXAMPLES)
    assert outcomes(report)["CC009"] is Outcome.NOT_EXERCISED
    assert "test cards answered otherwise than cards.yaml says: ...7777 got RESERVE, not SOFT_DECLINE" in report.notes


def _refusing(status: int, detail: str) -> Starlette:
    async def refuse(request: Request) -> Response:
        return JSONResponse({"title": "refused", "status": status, "detail": detail}, status_code=status,
                            media_type="application/problem+json")

    return Starlette(routes=[Route(PATH, refuse, methods=["POST"])])


@pytest.mark.parametrize(("status", "detail"), [(404, "no such route"), (400, "'paymentInstrument' is required")])
def test_a_psp_that_refuses_every_callback_gets_no_validation_verdict(
    contract: Contract, status: int, detail: str, generate_once: None
) -> None:
    report = run_against_app(_refusing(status, detail), URL, contract, max_examples=SWEEP_EXAMPLES)
    assert report.verdict is Verdict.DEFECTS
    assert failed_codes(report) == {"CC001"}
    for code in ("CC004", "CC005", "CC007", "CC012"):  # identical refusals prove no idempotency either
        result = next(r for r in report.results if r.check.code == code)
        assert result.outcome is Outcome.SKIPPED and "no valid callback was accepted" in (result.reason or "")
    valid = sum(1 for r in report.results if r.check.code == "CC001" for f in r.failures for _ in range(f.count))
    assert f"{valid} of {valid} valid callbacks refused: {status} {detail} ({valid})" in report.notes
