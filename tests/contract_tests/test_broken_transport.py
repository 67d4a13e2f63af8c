"""PSPs that break HTTP itself get findings with a reproduction, within a bound; toolkit errors exit 2 with reports."""

from __future__ import annotations

import dataclasses
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from raw_psps import (
    Behaviour,
    broken_gzip,
    closes_without_saying,
    http09_garbage,
    plain_http_on_a_tls_port,
    problem_400,
    raw_psp,
    reset_mid_answer,
    trickle,
)

from card_callback import test as test_cli
from contract_tests import runner
from contract_tests.catalogue import CHECKS
from contract_tests.models import Outgoing
from contract_tests.transport import http_transport

DEADLINE = 1.0
# The first request alone, then one round of lanes, then the in-flight ones drain: each is bounded by the
# deadline plus the grace the runner gives a late answer; generation takes a few seconds more.
BOUND_SECONDS = 4 * (DEADLINE + 2.0) + 20


def run_cli(url: str, tmp_path: Path) -> tuple[Any, dict[str, Any], ET.Element, float]:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    started = time.monotonic()
    result = CliRunner().invoke(test_cli.test, [url, "--max-examples", "1", "--seed", "3", "--deadline", str(DEADLINE),
                                               "--junit-xml", str(junit), "--json-report", str(report)])
    elapsed = time.monotonic() - started
    assert isinstance(result.exception, SystemExit), result.output  # no traceback, just an exit code
    assert "Traceback" not in result.output
    return result, json.loads(report.read_text(encoding="utf-8")), ET.parse(junit).getroot(), elapsed


@pytest.mark.parametrize(
    ("behaviour", "code", "says"),
    [
        (broken_gzip, "CC002", "could not be decoded"),
        (reset_mid_answer, "CC002", "without a complete answer"),
        (http09_garbage, "CC002", "not valid HTTP/1.1"),
        (trickle, "CC003", "no complete answer within"),
    ],
    ids=["broken-gzip", "reset-mid-answer", "http09-garbage", "one-byte-a-second"],
)
def test_a_psp_that_breaks_http_gets_a_finding_with_a_reproduction(
    behaviour: Behaviour, code: str, says: str, tmp_path: Path
) -> None:
    with raw_psp(behaviour) as url:
        result, report, junit, elapsed = run_cli(url, tmp_path)
    assert result.exit_code == 1, result.output
    assert elapsed < BOUND_SECONDS
    assert report["verdict"] == "defects"
    outcomes = {c["code"]: c["outcome"] for c in report["checks"]}
    assert outcomes[code] == "failed", outcomes
    failure = next(f for f in report["failures"] if f["code"] == code)
    exchange = failure["exchanges"][0]
    assert exchange["answer"] is None and says in exchange["error"]
    assert exchange["curl"].startswith("curl ") and url in exchange["curl"]
    assert f"{code} defect" in result.output and "reproduce curl" in result.output
    suite = junit.find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


def test_a_kept_alive_connection_the_psp_closed_is_not_blamed_on_it() -> None:
    # Each answer is correct; the PSP then closes the connection without a `Connection: close`, so the next
    # request may race the close on the pooled connection. That race is the sender's: never a finding.
    with raw_psp(closes_without_saying) as url, http_transport() as transport:
        request = Outgoing("POST", url, (("Content-Type", "application/json"),), b"{}")
        answers = [transport.send(request, 5.0) for _ in range(400)]
    assert {answer.status for answer in answers} == {200}


def test_a_failed_tls_handshake_is_a_finding_not_an_unreachable_url(tmp_path: Path) -> None:
    with raw_psp(plain_http_on_a_tls_port, scheme="https") as url:
        result, report, _, _ = run_cli(url, tmp_path)
    assert result.exit_code == 1, result.output
    failure = next(f for f in report["failures"] if f["code"] == "CC002")
    assert "TLS handshake or session failed" in failure["exchanges"][0]["error"]


def test_an_internal_error_ends_the_run_with_exit_2_and_the_reports_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_check(*_args: Any) -> Any:
        raise KeyError("a bug in the suite")

    monkeypatch.setattr(runner, "CHECKS", tuple(dataclasses.replace(check, judge=broken_check)
                                                if check.code == "CC003" else check for check in runner.CHECKS))
    with raw_psp(problem_400) as url:
        result, report, junit, _ = run_cli(url, tmp_path)
    assert result.exit_code == 2, result.output
    assert report["verdict"] == "untested" and report["exitCode"] == 2
    assert report["requests"] > 0
    note = report["notes"][-1]
    assert note.startswith("could not test: internal error") and "KeyError" in note and "\n" not in note
    outcomes = {c["code"]: c["outcome"] for c in report["checks"]}
    assert outcomes["CC002"] == "passed" and outcomes["CC003"] == "skipped"  # judged before the error, not after
    assert "RESULT: could not test (stopped before the end: see the note)" in result.output and note in result.output
    suite = junit.find("testsuite")
    assert suite is not None and len(suite.findall("testcase")) == len(CHECKS)  # every check, judged or not


def test_an_endpoint_nobody_can_connect_to_is_untested(tmp_path: Path) -> None:
    with raw_psp(problem_400) as url:
        pass  # the port is free again: nothing listens there
    result, report, _, _ = run_cli(url, tmp_path)
    assert result.exit_code == 2
    assert report["requests"] == 1 and "cannot connect" in report["notes"][0]
