"""An independent correct PSP passes every check; each planted defect fails exactly its own check."""

from __future__ import annotations

import pytest
from fastapi_psp import PATH as FASTAPI_PATH
from fastapi_psp import make_fastapi_psp
from fixture_psps import PATH, Defect, make_psp
from suite_helpers import TEST_SECRET, failed_codes, outcomes, run_against_app

from callback_core.spec import Contract
from contract_tests.models import Outcome, Severity, Verdict

URL = "http://psp.test" + PATH


def test_correct_psp_without_signing_conforms(contract: Contract) -> None:
    report = run_against_app(make_psp(), URL, contract)
    assert report.verdict is Verdict.CONFORMS, report.failures
    assert outcomes(report) == {
        "CC001": Outcome.PASSED, "CC002": Outcome.PASSED, "CC003": Outcome.PASSED, "CC004": Outcome.PASSED,
        "CC005": Outcome.PASSED, "CC006": Outcome.SKIPPED, "CC007": Outcome.PASSED, "CC008": Outcome.SKIPPED,
        "CC012": Outcome.PASSED,
        "CC009": Outcome.PASSED, "CC010": Outcome.PASSED, "CC011": Outcome.PASSED, "CC013": Outcome.SKIPPED,
        "CC014": Outcome.PASSED,
    }
    skipped = {r.check.code: r.reason for r in report.results if r.outcome is Outcome.SKIPPED}
    assert all("no HMAC secret" in (skipped[code] or "") for code in ("CC006", "CC008"))
    assert "declares no auth header" in (skipped["CC013"] or "")


def test_correct_psp_with_signing_conforms_even_strictly(contract: Contract) -> None:
    report = run_against_app(make_psp(secret=TEST_SECRET), URL, contract, secret=TEST_SECRET, strict=True)
    assert report.verdict is Verdict.CONFORMS, report.failures
    assert {code: o for code, o in outcomes(report).items() if o is not Outcome.PASSED} == {"CC013": Outcome.SKIPPED}


def test_callback_url_with_a_query_string_is_signed_as_sent(contract: Contract) -> None:
    report = run_against_app(make_psp(secret=TEST_SECRET), URL + "?psp=demo&x=%2F", contract, secret=TEST_SECRET)
    assert report.verdict is Verdict.CONFORMS, report.failures


@pytest.mark.parametrize(
    ("defect", "code"),
    [
        (Defect.FAIL_WITHOUT_ERROR_CODE, "CC001"),
        (Defect.TEXT_PLAIN_ANSWER, "CC001"),
        (Defect.SOFT_DECLINE_WITHOUT_URL, "CC001"),
        (Defect.HTTP_SOFT_DECLINE_URL, "CC001"),
        (Defect.CRASH_ON_MALFORMED_JSON, "CC002"),
        (Defect.RESERVE_EVERYTHING, "CC004"),
        (Defect.REJECT_UNKNOWN_FIELDS, "CC005"),
        (Defect.RACY_IDEMPOTENCY, "CC012"),
    ],
    ids=str,
)
def test_planted_defect_fails_exactly_its_check(contract: Contract, defect: Defect, code: str) -> None:
    report = run_against_app(make_psp(defects=frozenset({defect})), URL, contract)
    assert report.verdict is Verdict.DEFECTS
    assert failed_codes(report) == {code}
    assert all(f.exchanges for f in report.failures)


def test_rejecting_unknown_fields_is_caught_even_when_every_answer_is_broken(contract: Contract) -> None:
    # Every 200 is text/plain (a CC001 defect), so no baseline answer is "valid"; refusing extras must still show.
    app = make_psp(defects=frozenset({Defect.TEXT_PLAIN_ANSWER, Defect.REJECT_UNKNOWN_FIELDS}))
    report = run_against_app(app, URL, contract)
    assert failed_codes(report) == {"CC001", "CC005"}


def test_slow_psp_fails_the_deadline_check_and_stops_early(contract: Contract) -> None:
    app = make_psp(defects=frozenset({Defect.SLOW}), slow_seconds=0.25)
    report = run_against_app(app, URL, contract, deadline=0.2)
    assert failed_codes(report) == {"CC003"}
    assert report.requests == 3
    assert any("missed the deadline" in note for note in report.notes)


def test_psp_ignoring_the_signature_fails_cc006_for_every_tampering(contract: Contract) -> None:
    app = make_psp(secret=TEST_SECRET, defects=frozenset({Defect.IGNORE_SIGNATURE}))
    report = run_against_app(app, URL, contract, secret=TEST_SECRET)
    assert failed_codes(report) == {"CC006"}
    titles = " | ".join(f.title for f in report.failures if f.code == "CC006")
    for tamper in ("no signature headers", "a wrong signature", "the body changed after signing",
                   "signed with a wrong secret", "signed for another path", "signed for another host"):
        assert tamper in titles


@pytest.mark.parametrize(("defect", "code"), [(Defect.ACCEPT_STALE_DATE, "CC008")], ids=str)
def test_should_rules_warn_and_fail_only_when_strict(contract: Contract, defect: Defect, code: str) -> None:
    app = make_psp(secret=TEST_SECRET, defects=frozenset({defect}))
    lenient = run_against_app(app, URL, contract, secret=TEST_SECRET)
    assert lenient.verdict is Verdict.CONFORMS
    assert outcomes(lenient)[code] is Outcome.WARNING
    assert {f.code for f in lenient.failures} == {code}
    assert all(f.severity is Severity.WARNING for f in lenient.failures)

    strict = run_against_app(make_psp(secret=TEST_SECRET, defects=frozenset({defect})), URL, contract,
                             secret=TEST_SECRET, strict=True)
    assert strict.verdict is Verdict.DEFECTS
    assert failed_codes(strict) == {code}


def test_signing_psp_without_a_secret_tested_nothing(contract: Contract) -> None:
    report = run_against_app(make_psp(secret=TEST_SECRET), URL, contract)
    assert report.verdict is Verdict.UNTESTED
    assert report.verdict.exit_code == 2
    assert any("tested nothing" in note and "401" in note for note in report.notes)
    assert {r.outcome for r in report.results} == {Outcome.SKIPPED}


def test_wrong_secret_is_a_signature_defect_not_untested(contract: Contract) -> None:
    report = run_against_app(make_psp(secret=TEST_SECRET), URL, contract, secret="not-the-secret")
    assert report.verdict is Verdict.DEFECTS
    assert "CC006" in failed_codes(report)
    assert any(f.title.startswith("a correctly signed callback was refused with 401") for f in report.failures)


@pytest.mark.parametrize("seed", [3, 4])
def test_fastapi_pydantic_psp_conforms(contract: Contract, seed: int) -> None:
    report = run_against_app(make_fastapi_psp(), "http://psp.test" + FASTAPI_PATH, contract, seed=seed)
    assert report.verdict is Verdict.CONFORMS, report.failures
    # pydantic reads null in an optional field as absent: a lenient break, a warning only.
    assert all(f.severity is Severity.WARNING and f.code == "CC004" for f in report.failures), report.failures


def test_null_optional_fields_in_answers_only_warn(contract: Contract) -> None:
    report = run_against_app(make_fastapi_psp(write_nulls=True), "http://psp.test" + FASTAPI_PATH, contract)
    assert report.verdict is Verdict.CONFORMS
    assert outcomes(report)["CC001"] is Outcome.WARNING
    assert all("null for optional field" in f.title for f in report.failures if f.code == "CC001")
    assert {f.code for f in report.failures} <= {"CC001", "CC004"}


def test_reauthorizing_a_repeated_callback_warns_under_cc007_and_fails_cc012(contract: Contract) -> None:
    report = run_against_app(make_psp(defects=frozenset({Defect.NOT_IDEMPOTENT})), URL, contract)
    assert outcomes(report)["CC007"] is Outcome.WARNING
    assert failed_codes(report) == {"CC012"}


def test_refusing_a_copy_still_in_flight_is_no_double_authorization(contract: Contract) -> None:
    for strict in (False, True):
        report = run_against_app(make_psp(defects=frozenset({Defect.BUSY_WHILE_IN_FLIGHT})), URL, contract,
                                 strict=strict)
        assert outcomes(report)["CC012"] is Outcome.PASSED, report.failures
        assert report.verdict is Verdict.CONFORMS, report.failures


def test_double_authorization_under_concurrency_names_both_answers(contract: Contract) -> None:
    report = run_against_app(make_psp(defects=frozenset({Defect.RACY_IDEMPOTENCY})), URL, contract)
    [failure, *_] = [f for f in report.failures if f.code == "CC012"]
    assert "authorized more than once" in failure.title
    first, second = failure.exchanges
    assert first.request.body == second.request.body
    assert first.answer is not None and second.answer is not None and first.answer.body != second.answer.body
