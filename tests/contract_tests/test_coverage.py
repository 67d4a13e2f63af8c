"""Coverage: what a run reached, counted from its exchanges; and --fail-on-not-exercised."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from fixture_psps import PATH, make_psp
from suite_helpers import run_suite

from callback_core.spec import Contract
from contract_tests.cards import CardTrigger, CardTriggers
from contract_tests.coverage import CoverageCounter, Flow, mutated_field, request_fields
from contract_tests.files import format_json_report, format_junit
from contract_tests.models import Answer, Card, Coverage, Exchange, Outcome, Outgoing, Probe, Role, Verdict
from contract_tests.terminal import format_coverage, format_verdict
from contract_tests.transport import asgi_transport

URL = "http://psp.test" + PATH
JSON = (("content-type", "application/json"),)


def _exchange(label: str, role: Role, status: int | None = 200, body: Any = None,
              card: Card | None = None) -> Exchange:
    probe = Probe(label, role, b"{}", card=card)
    request = Outgoing("POST", URL, (), b"{}")
    if status is None:
        return Exchange(probe, request, None, 20.5, error="no answer", timed_out=True)
    raw = json.dumps(body).encode() if body is not None else b""
    return Exchange(probe, request, Answer(status, JSON, raw), 0.01)


def test_answers_are_counted_by_the_status_and_error_code_roles(contract: Contract) -> None:
    counter = CoverageCounter(contract)
    for ex in [
        _exchange("a", Role.VALID, body={"status": "RESERVE"}),
        _exchange("b", Role.VALID, body={"status": "RESERVE"}),
        _exchange("c", Role.VALID, body={"status": "FAIL", "errorCode": "51", "errorMessage": "x"}),
        _exchange("d", Role.VALID, body={"status": "FAIL", "errorCode": 300, "errorMessage": "x"}),
        _exchange("e", Role.VALID, body={"status": "PENDING"}),
        _exchange("f", Role.INVALID, 400, {"title": "Bad Request", "status": 400}),
        _exchange("g", Role.INVALID, 422, {"detail": []}),
        _exchange("h", Role.VALID, None),
    ]:
        counter.add(ex)
    coverage = counter.result()
    assert coverage.answer_statuses == (("RESERVE", 2), ("FAIL", 2), ("PENDING", 1))
    assert coverage.unseen_answer_statuses == ("CAPTURE", "SOFT_DECLINE")
    assert coverage.undocumented_answer_statuses == ("PENDING",)
    # A 4xx body's `status` (problem+json's HTTP status) is not an answer status.
    assert "400" not in dict(coverage.answer_statuses)
    # Counted as answered: 300 (an integer) is no code of this document's string catalogue.
    assert coverage.error_codes == (("51", 1), (300, 1))
    assert coverage.unknown_error_codes == (300,)
    assert "51" not in coverage.unseen_error_codes and "05" in coverage.unseen_error_codes
    assert coverage.http_statuses == ((200, 5), (400, 1), (422, 1))
    assert coverage.undocumented_http_statuses == (422,)
    assert 401 in coverage.unused_http_statuses and 200 not in coverage.unused_http_statuses


def test_flows_are_counted_with_zero_for_those_never_run(contract: Contract) -> None:
    counter = CoverageCounter(contract)
    for ex in [
        _exchange("second callback after SOFT_DECLINE to test card ...3000", Role.SECOND_CALLBACK,
                  body={"status": "RESERVE"}),
        _exchange("retry", Role.RETRY, body={"status": "FAIL"}, card=Card.SAME),
        _exchange("retry", Role.RETRY, body={"status": "RESERVE"}, card=Card.OTHER),
        _exchange("retry", Role.RETRY, 409, {}, card=Card.SAME),
        *[_exchange(f"callback #1 sent 4 times at once (copy {n})", Role.AT_ONCE, body={"status": "RESERVE"})
          for n in range(1, 5)],
    ]:
        counter.add(ex)
    flows = dict(counter.result().flows)
    assert flows == {Flow.SECOND_CALLBACK: 1, Flow.RETRY_SAME_CARD: 2, Flow.RETRY_OTHER_CARD: 1,
                     Flow.CONCURRENT_COPIES: 4, Flow.REPEATS: 0}
    assert list(flows) == ["secondCallbacks", "retriesSameCard", "retriesOtherCard", "concurrentCopies", "repeats"]


def test_the_broken_field_is_read_from_an_invalid_callback() -> None:
    def field(label: str, role: Role = Role.INVALID) -> str | None:
        return mutated_field(Probe(label, role, b""))

    assert field("tokenCallback with networkToken.cryptogram: missing") == "networkToken.cryptogram"
    assert field("tokenCallback with merchantSerialNumber: does not match ^[0-9]{4,6}$") == "merchantSerialNumber"
    assert field("panCallback with cardInfo.cardDataType TOKEN without networkToken") == "cardInfo.cardDataType"
    assert field("tokenCallback with eci: trailing newline", Role.INVALID_SHOULD) == "eci"
    assert field("malformed JSON (cut short)") is None
    assert field("generated invalid body #3") is None
    assert field("tokenCallback with pspReference: missing", Role.VALID) is None


def test_a_run_counts_every_request_field_it_broke_and_what_the_psp_answered(contract: Contract) -> None:
    with asgi_transport(make_psp()) as transport:
        report, _ = run_suite(transport, URL, contract, max_examples=5)
    coverage = report.coverage
    # The label format of Planner.invalid and mutations.py, read back: every field of the document is broken.
    assert {name for name, _ in coverage.mutated_fields} == set(request_fields(contract))
    assert coverage.unmutated_fields == ()
    assert {"RESERVE", "CAPTURE", "FAIL", "SOFT_DECLINE"} <= dict(coverage.answer_statuses).keys()
    flows = dict(coverage.flows)
    assert flows[Flow.SECOND_CALLBACK] >= 1 and flows[Flow.RETRY_SAME_CARD] >= 1 and flows[Flow.CONCURRENT_COPIES] >= 2
    assert sum(count for _, count in coverage.http_statuses) == report.requests
    text = format_coverage(coverage)
    assert "answer statuses  RESERVE (" in text and "second callbacks (" in text
    assert f"{len(request_fields(contract))} of {len(request_fields(contract))} request fields broken" in text


def _without_soft_decline(contract: Contract, fail_on_not_exercised: bool) -> Any:
    cards = CardTriggers((CardTrigger("0051", "FAIL"),), "cards.yaml")
    with asgi_transport(make_psp()) as transport:
        return run_suite(transport, URL, contract, max_examples=5, test_cards=cards,
                         fail_on_not_exercised=fail_on_not_exercised)[0]


def test_fail_on_not_exercised_turns_a_flow_never_reached_into_a_defect(contract: Contract) -> None:
    lenient = _without_soft_decline(contract, False)
    assert lenient.verdict is Verdict.CONFORMS
    assert [r.check.code for r in lenient.not_exercised] == ["CC009"]
    assert format_verdict(lenient).startswith("RESULT: conforms; not exercised: CC009;")

    gated = _without_soft_decline(contract, True)
    assert gated.verdict is Verdict.DEFECTS and gated.verdict.exit_code == 1
    # The check still says what happened; the verdict says what the gate made of it.
    assert {r.check.code: r.outcome for r in gated.results}["CC009"] is Outcome.NOT_EXERCISED
    assert format_verdict(gated).startswith(
        "RESULT: defects found (not exercised with --fail-on-not-exercised: CC009);")
    data = json.loads(format_json_report(gated))
    assert data["verdict"] == "defects" and data["options"]["failOnNotExercised"] is True
    assert data["notExercised"] == ["CC009"]
    suite = ET.fromstring(format_junit(gated)).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    case = next(c for c in suite.iter("testcase") if c.get("name", "").startswith("CC009"))
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "not-exercised"


def test_the_terminal_keeps_coverage_short() -> None:
    assert format_coverage(Coverage()) == "coverage  nothing: no request was answered\n"
    many = Coverage(http_statuses=((400, 9),), request_fields=tuple(f"f{n}" for n in range(9)),
                    mutated_fields=(("f0", 9),))
    assert "1 of 9 request fields broken by invalid callbacks; never: f1, f2, f3, f4, f5, and 3 more" in (
        format_coverage(many))


def test_an_integer_catalogues_codes_are_counted_as_its_own() -> None:
    from callback_core.spec import bundled_document

    v2 = Contract.from_file(bundled_document("card-callback-v2.yaml"))
    counter = CoverageCounter(v2)
    for label, code in (("a", 300), ("b", 43), ("c", "43")):
        counter.add(_exchange(label, Role.VALID, body={"status": "FAIL", "errorCode": code, "errorMessage": "x"}))
    coverage = counter.result()
    assert coverage.error_codes == ((300, 1), (43, 1), ("43", 1))
    assert coverage.unknown_error_codes == ("43",)  # the string, not v2's integer 43
    assert 300 not in coverage.unseen_error_codes and 51 in coverage.unseen_error_codes
