"""The terminal, JUnit and JSON renderings of one event stream."""

from __future__ import annotations

import json
import re
import shlex
import xml.etree.ElementTree as ET

from fixture_psps import PATH, Defect, make_psp
from suite_helpers import run_suite

from callback_core.spec import Contract
from contract_tests.catalogue import CHECKS
from contract_tests.events import CheckFinished, Planned, RequestDone, RunFinished, RunStarted
from contract_tests.files import format_json_report, format_junit
from contract_tests.models import Outgoing
from contract_tests.terminal import format_curl, format_event, printable
from contract_tests.transport import asgi_transport

URL = "http://psp.test" + PATH


def _events(contract: Contract, *defects: Defect) -> list[object]:
    with asgi_transport(make_psp(defects=frozenset(defects))) as transport:
        return list(run_suite(transport, URL, contract, seed=9, max_examples=5)[1])


def test_event_stream_order(contract: Contract) -> None:
    events = _events(contract)
    assert isinstance(events[0], RunStarted) and isinstance(events[1], Planned)
    requests = [e for e in events if isinstance(e, RequestDone)]
    assert [e.index for e in requests] == list(range(1, len(requests) + 1))
    assert [e.result.check.code for e in events if isinstance(e, CheckFinished)] == [check.code for check in CHECKS]
    assert isinstance(events[-1], RunFinished)


def test_terminal_output_scrubbed(contract: Contract) -> None:
    events = _events(contract, Defect.SOFT_DECLINE_WITHOUT_URL)
    text = "".join(format_event(e) for e in events)  # type: ignore[arg-type]
    scrubbed = re.sub(r"\d+(\.\d+)? (ms|s)\b", "N ms", text)
    scrubbed = re.sub(r"sha256 [0-9a-f]{16}", "sha256 X", scrubbed)
    lines = scrubbed.splitlines()
    assert lines[0] == f"card-callback test {URL}"
    assert "  seed      9 (the same cases again: --seed 9)" in lines
    # The planned requests, then the follow-ups (second callbacks, retries) their answers asked for.
    planned = next(e.total for e in events if isinstance(e, Planned))
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    total = finished.report.requests
    assert total > planned
    progress = [line for line in lines if re.fullmatch(r"[.ET]+ *\d+/\d+", line)]
    assert progress[-1].endswith(f" {total}/{total}")
    check_lines = [line for line in lines if re.match(r"CC\d{3} \w", line)]
    assert [line[:5] for line in check_lines][:len(CHECKS)] == [check.code for check in CHECKS]
    assert "CC001 valid callbacks get a valid answer" in check_lines[0] and "FAILED" in check_lines[0]
    failure = scrubbed[scrubbed.index("FAILURES"):]
    assert "CC001 defect: valid callback answer does not match the response schema (status 'SOFT_DECLINE')" in failure
    assert "softDeclineRedirectUrl' is a required property" in failure
    assert "  reproduce curl -sS -i -X POST" in failure
    assert any(line.startswith("coverage  answer statuses  ") and "SOFT_DECLINE (" in line for line in lines)
    assert any(line.startswith("          flows            second callbacks (") for line in lines)
    assert lines[-1].startswith("RESULT: defects found (CC001);") and lines[-1].endswith("seed 9")


def test_json_report_matches_the_documented_format(contract: Contract) -> None:
    finished = _events(contract, Defect.CRASH_ON_MALFORMED_JSON)[-1]
    assert isinstance(finished, RunFinished)
    data = json.loads(format_json_report(finished.report))
    assert set(data) == {"format", "verdict", "exitCode", "target", "document", "seed", "options", "startedAt",
                         "durationSeconds", "requests", "latency", "notes", "notExercised", "coverage", "checks",
                         "failures", "exchangesRecorded", "exchanges"}
    assert data["notExercised"] == []
    assert data["document"]["version"] == "1"
    coverage = data["coverage"]
    assert set(coverage) == {"answerStatuses", "errorCodes", "httpStatuses", "flows", "mutatedFields"}
    statuses = coverage["answerStatuses"]
    assert set(statuses) == {"seen", "documented", "neverSeen", "undocumented"}
    assert statuses["documented"] == list(contract.statuses)
    assert "RESERVE" in statuses["seen"] and statuses["undocumented"] == []
    assert set(statuses["seen"]) | set(statuses["neverSeen"]) == set(statuses["documented"])
    assert coverage["httpStatuses"]["seen"]["500"] >= 1 and 500 not in coverage["httpStatuses"]["undocumented"]
    assert sum(coverage["httpStatuses"]["seen"].values()) == data["requests"]
    assert set(coverage["flows"]) == {"secondCallbacks", "retriesSameCard", "retriesOtherCard", "concurrentCopies",
                                      "repeats"}
    assert coverage["mutatedFields"]["neverMutated"] == []
    assert data["format"] == "card-callback-report/1"
    assert (data["verdict"], data["exitCode"]) == ("defects", 1)
    failure = data["failures"][0]
    assert set(failure) == {"code", "severity", "title", "detail", "count", "replay", "exchanges"}
    assert failure["code"] == "CC002" and failure["severity"] == "defect"
    exchange = failure["exchanges"][0]
    assert set(exchange) == {"id", "case", "role", "request", "answer", "error", "elapsedSeconds", "curl"}
    assert exchange["answer"]["status"] == 500


def test_junit_has_a_test_case_per_check_and_survives_control_characters(contract: Contract) -> None:
    finished = _events(contract, Defect.CRASH_ON_MALFORMED_JSON)[-1]
    assert isinstance(finished, RunFinished)
    root = ET.fromstring(format_junit(finished.report))
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name", "")[:5] for c in cases] == [check.code for check in CHECKS]
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("type") == "CC002"
    assert "curl" in (failure.text or "")
    skipped = [c.get("name", "")[:5] for c in cases if c.find("skipped") is not None]
    assert skipped == ["CC006", "CC008", "CC013"]  # no secret, no auth header slot
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert properties["failOnNotExercised"] == "false" and properties["document.version"] == "1"
    assert "RESERVE=" in properties["coverage.answerStatuses"]
    assert "500=" in properties["coverage.httpStatuses"] and properties["coverage.fieldsNeverMutated"] == ""
    assert properties["coverage.flows"].startswith("secondCallbacks=")


def test_curl_quotes_any_body_and_drops_curls_own_content_type() -> None:
    body = "{\"a\": \"it's \\u00e6 $HOME `x` \\n\"}\n@file"
    request = Outgoing("POST", "http://h:1/cb?a=1&b=2", (("Host", "h:1"), ("X-Ms-Date", "Thu, 30 Mar 2023")),
                       body.encode())
    words = shlex.split(format_curl(request))
    assert words[words.index("--data-raw") + 1] == body
    assert "http://h:1/cb?a=1&b=2" in words
    assert "Content-Type:" in words and "Host: h:1" not in words


def test_hidden_characters_are_escaped_on_screen_and_exact_in_curl(tmp_path: object) -> None:
    body = '{"cardType":"\x1b[2J\u0085\u202e-x","note":"it\'s"}'
    request = Outgoing("POST", "http://h:1/cb", (("Host", "h:1"),), body.encode())
    curl = format_curl(request)
    assert "\x1b" not in curl and "\u0085" not in curl and "$'" in curl
    import subprocess

    # bash turns the $'...' word back into the exact bytes.
    echoed = subprocess.run(["bash", "-c", "printf %s " + curl.split("--data-raw ", 1)[1]], capture_output=True,
                            check=True).stdout
    assert echoed == body.encode()
    shown = printable("body: " + body + "\nnext line")
    assert shown == "body: {\"cardType\":\"\\x1b[2J\\x85\\u202e-x\",\"note\":\"it's\"}\nnext line"
