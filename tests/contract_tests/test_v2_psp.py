"""A correct PSP built to the nested-cardInfo revision passes the suite run on that document; planted defects fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from suite_helpers import failed_codes, outcomes, run_against_app, serve
from v2_psp import PATH, V2Defect, make_v2_psp

from callback_core.auth_header import AuthHeader
from callback_core.spec import Contract, bundled_document, read_document
from card_callback.cli import main
from contract_tests.models import Outcome, Report, Severity, Verdict
from reference_server.app import create_app

URL = "http://psp.test" + PATH
AUTH = AuthHeader("X-Card-Callback-Auth", "value-the-psp-chose-0b9e")


@pytest.fixture(scope="module")
def v2() -> Contract:
    return Contract.from_file(bundled_document("card-callback-v2.yaml"))


def _defects(report: Report) -> set[str]:
    """The codes with a defect (warnings left out)."""
    return {f.code for f in report.failures if f.severity is Severity.DEFECT}


@pytest.mark.parametrize("seed", range(1, 11))
def test_correct_v2_psp_conforms_over_seeds(v2: Contract, seed: int) -> None:
    report = run_against_app(make_v2_psp(), URL, v2, seed=seed, max_examples=6)
    assert report.verdict is Verdict.CONFORMS, [f.title for f in report.failures]
    assert outcomes(report)["CC001"] is Outcome.PASSED
    # The flows ran on the nested shape too: the second callback and the retries were sent and answered.
    assert outcomes(report)["CC009"] is Outcome.PASSED and outcomes(report)["CC010"] is Outcome.PASSED


def test_the_auth_header_is_probed_when_its_value_is_given(v2: Contract) -> None:
    report = run_against_app(make_v2_psp(auth_value=AUTH.value), URL, v2, auth=AUTH)
    assert _defects(report) == set(), [f.title for f in report.failures]
    assert outcomes(report)["CC013"] is Outcome.PASSED
    shown = [value for result in report.results for failure in result.failures for ex in failure.exchanges
             for _, value in ex.request.headers]
    assert AUTH.value not in shown


def test_a_psp_ignoring_the_auth_header_fails_cc009_only(v2: Contract) -> None:
    psp = make_v2_psp(auth_value=AUTH.value, defects=frozenset({V2Defect.IGNORE_AUTH_HEADER}))
    report = run_against_app(psp, URL, v2, auth=AUTH)
    assert _defects(report) == {"CC013"}
    titles = {f.title for r in report.results for f in r.failures}
    assert any(title.startswith("the auth header missing: answered 200") for title in titles), titles
    assert any(title.startswith("a wrong auth header value: answered 200") for title in titles), titles
    for failure in report.failures:
        for ex in failure.exchanges:
            assert AUTH.value not in dict(ex.request.headers).values()


def test_without_the_value_a_psp_requiring_it_is_not_passed(v2: Contract) -> None:
    report = run_against_app(make_v2_psp(auth_value=AUTH.value), URL, v2)
    assert report.verdict is Verdict.UNTESTED
    assert any("CARD_CALLBACK_AUTH_HEADER" in note for note in report.notes), report.notes


def test_a_psp_still_reading_the_flat_shape_fails(v2: Contract) -> None:
    report = run_against_app(make_v2_psp(defects=frozenset({V2Defect.READS_FLAT_CARD_NUMBER})), URL, v2)
    assert "CC002" in failed_codes(report)


@pytest.mark.e2e
def test_cli_test_spec_v2_with_auth_header_file(tmp_path: Path) -> None:
    value_file = tmp_path / "auth-header"
    value_file.write_text(AUTH.value, encoding="utf-8")
    v2_path = bundled_document("card-callback-v2.yaml")
    app = create_app(db_path=tmp_path / "ref.sqlite3", spec_path=v2_path, auth_header_value=AUTH.value)
    report_path = tmp_path / "report.json"
    with serve(app) as base:
        result = CliRunner().invoke(main, ["test", f"{base}/psp-makepayment", "--spec", str(v2_path),
                                           "--auth-header-file", str(value_file), "--max-examples", "3",
                                           "--json-report", str(report_path)], env={"CARD_CALLBACK_HMAC_SECRET": ""})
    assert result.exit_code == 0, result.output[-3000:]
    assert re.search(r"CC013 the auth header is verified \.+ PASSED", result.output)
    assert AUTH.value not in result.output and AUTH.value not in report_path.read_text(encoding="utf-8")


def test_a_psp_answering_the_public_examples_integer_300_conforms(v2: Contract) -> None:
    # {"status": "FAIL", "errorCode": 300, "errorMessage": "Refused by Issuer"}: the one public example of the API.
    psp = make_v2_psp(fail_codes={"0051": 300, "0043": 300})
    report = run_against_app(psp, URL, v2, seed=3, max_examples=6)
    assert report.verdict is Verdict.CONFORMS, [f.title for f in report.failures]
    assert outcomes(report)["CC010"] is Outcome.PASSED  # 300 is retryable: the user's retries were sent


def test_a_psp_answering_string_codes_fails_cc001(v2: Contract) -> None:
    report = run_against_app(make_v2_psp(defects=frozenset({V2Defect.STRING_ERROR_CODE})), URL, v2, seed=3,
                             max_examples=6)
    assert _defects(report) == {"CC001"}
    why = [ex.answer.body.decode() for f in report.failures for ex in f.exchanges if ex.answer is not None]
    assert any('"errorCode":"51"' in body.replace(" ", "") for body in why), why


@pytest.mark.e2e
@pytest.mark.parametrize(("defects", "exit_code"), [(frozenset(), 0), (frozenset({V2Defect.STRING_ERROR_CODE}), 1)])
def test_cli_test_spec_v2_passes_integer_codes_and_fails_string_codes(
    tmp_path: Path, defects: frozenset[V2Defect], exit_code: int
) -> None:
    v2_path = bundled_document("card-callback-v2.yaml")
    with serve(make_v2_psp(defects=defects, fail_codes={"0051": 300})) as base:
        result = CliRunner().invoke(main, ["test", f"{base}{PATH}", "--spec", str(v2_path), "--max-examples", "3",
                                           "--seed", "5"], env={"CARD_CALLBACK_HMAC_SECRET": ""})
    assert result.exit_code == exit_code, result.output[-3000:]
    verdict = r"CC001 valid callbacks get a valid answer \.+ " + ("PASSED" if exit_code == 0 else "FAILED")
    assert re.search(verdict, result.output), result.output[-3000:]
    if exit_code:
        assert re.search(r"RESULT: defects found \(CC001\)", result.output), result.output[-3000:]


def test_the_reference_on_a_catalogue_of_other_integer_codes_conforms(tmp_path: Path) -> None:
    # Codes this project never shipped and no x-outcome: the server picks its cards' codes by retryability,
    # and the suite judges its answers, the retries after a retryable FAIL and the 3-D Secure round trip.
    document = read_document(bundled_document("card-callback-v2.yaml"))
    operation = document["paths"]["/psp-makepayment"]["post"]
    operation["x-error-codes"]["codes"] = [
        {"code": 7, "meaning": "Declined by the issuer.", "retryable": True},
        {"code": 12, "meaning": "Lost or stolen card.", "retryable": False},
        {"code": 901, "meaning": "Issuer unreachable, outcome unknown.", "retryable": False},
    ]
    for example in operation["responses"]["200"]["content"]["application/json"]["examples"].values():
        if "errorCode" in example["value"]:
            example["value"]["errorCode"] = 7
    spec = tmp_path / "other-codes.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    contract = Contract.from_file(spec)
    app = create_app(db_path=tmp_path / "ref.sqlite3", spec_path=spec, validate_responses=True)
    report = run_against_app(app, "http://psp.test/psp-makepayment", contract, seed=2, max_examples=6)
    assert report.verdict is Verdict.CONFORMS, [f.title for f in report.failures]
    assert outcomes(report)["CC009"] is Outcome.PASSED and outcomes(report)["CC010"] is Outcome.PASSED
